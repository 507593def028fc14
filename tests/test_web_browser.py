"""The web interface in a real headless Chromium: a nämnd user signs in through the OIDC
provider and reads the effect report; axe-core finds no serious or critical violation (WCAG
2.1 A and AA rules) on any page or report; the pages fit 390 px and 1280 px wide without
horizontal scrolling, and print without navigation or clipped tables.

One browser for the whole module; a context (cookie jar) per role. Screenshots of the
effect report go to $IUBLEDGER_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from browser_support import ARGS, axe_source, chromium
from iubledger.api.app import create_app
from iubledger.config import Settings
from web_support import H1_2026, Provider, effect_seed, free_port, oidc_provider, serving, user

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class Site:
    browser: Any
    idp: Provider
    url: str
    axe: str

    def signed_in(self, role_value: str, width: int = 1280) -> Any:
        """A new context and page, signed in through the provider by clicking."""
        context = self.browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        self.idp.claims = user(role_value)
        page.goto(self.url + "/")
        page.get_by_role("link", name="Logga in med din organisations inloggning").click()
        page.wait_for_url(self.url + "/")
        return page

    def violations(self, page: Any) -> list[str]:
        """Serious and critical axe-core violations of the page as loaded."""
        page.evaluate(self.axe)  # Runtime.evaluate: not subject to the page's CSP
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        return [
            f"{page.url}: {v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _initialised_data_dir: Path) -> Iterator[Site]:
    executable = chromium()
    axe = axe_source()
    from playwright.sync_api import sync_playwright

    root = tmp_path_factory.mktemp("web-browser") / "d"
    shutil.copytree(_initialised_data_dir, root)
    settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")
    effect_seed(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with oidc_provider() as idp, pytest.MonkeyPatch.context() as mp:
        mp.setenv("IUBLEDGER_OIDC_CLIENT_SECRET", "test-secret-" + "x" * 20)
        app = create_app(settings, oidc=idp.config(url))
        with serving(app, port), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=ARGS, headless=True)
            installed = subprocess.run(
                [executable, "--version"], capture_output=True, text=True, check=True
            ).stdout
            assert browser.version in installed, "not the system's Chromium"
            try:
                yield Site(browser, idp, url, axe)
            finally:
                browser.close()


def test_a_namnd_user_signs_in_and_reads_the_effect_report(site: Site) -> None:
    page = site.signed_in("IUB.Namnd")
    assert page.get_by_text("Inloggad som nämnd (api-namnd)").is_visible()
    page.get_by_role("link", name="Effekt av besluten").first.click()
    page.get_by_label("Period").select_option(H1_2026)
    page.get_by_role("button", name="Visa").click()
    assert page.get_by_role("heading", name="Effekt av nämndens beslut").is_visible()
    assert page.get_by_text("2026-04-01: version 2").first.is_visible()
    assert page.get_by_role("table").first.is_visible()
    page.context.close()


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_effect_report_fits_the_screen(site: Site, width: int, tmp_path: Path) -> None:
    page = site.signed_in("IUB.Namnd", width)
    page.goto(f"{site.url}/rapporter/effekt?period={H1_2026}")
    assert _overflow(page) <= 0, f"{width} px: the page scrolls sideways"
    target = Path(os.environ.get("IUBLEDGER_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    shot = target / f"effekt-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.context.close()


#: Every page per role, and the reports as their own HTML documents.
PAGES = {
    "IUB.Namnd": [
        "/",
        f"/rapporter/deltagande?period={H1_2026}",
        f"/rapporter/effekt?period={H1_2026}",
        "/beslut",
        "/admin/identitet",  # the refusal page
    ],
    "IUB.Tillsyn": [
        f"/rapporter/efterlevnad?period={H1_2026}",
        "/tillsyn",
        f"/rapporter/deltagande/fil?period={H1_2026}&format=html",
        f"/rapporter/effekt/fil?period={H1_2026}&format=html",
        f"/rapporter/efterlevnad/fil?period={H1_2026}&format=html",
    ],
    "IUB.Admin": ["/admin/identitet", "/admin/gallring"],
}


def test_no_serious_or_critical_accessibility_violation_on_any_page(site: Site) -> None:
    found: list[str] = []
    checked = 0
    for role, paths in PAGES.items():
        page = site.signed_in(role)
        for path in paths:
            if "/fil?" in path:  # a download: load the document itself into the page
                page.set_content(page.context.request.get(site.url + path).text())
            else:
                page.goto(site.url + path)
            found += site.violations(page)
            for width in (390,):
                page.set_viewport_size({"width": width, "height": 900})
                if _overflow(page) > 0:
                    found.append(f"{path}: scrolls sideways at {width} px")
                page.set_viewport_size({"width": 1280, "height": 900})
            checked += 1
        if role == "IUB.Tillsyn":
            page.goto(site.url + "/tillsyn")
            page.get_by_role("button", name="Verifiera loggen nu").click()
            assert page.get_by_text("Loggen är hel").is_visible()
            found += site.violations(page)
            checked += 1
        if role == "IUB.Admin":
            page.goto(site.url + "/admin/identitet")
            page.get_by_role("button", name="Öppna identitet").click()  # browser validation
            page.get_by_label("Deltagandets id").fill("00000000-0000-4000-8000-000000000000")
            page.get_by_label("Skäl till uppslaget").fill("Kontroll av uppslagets registrering")
            page.get_by_label("Jag bekräftar").check()
            page.get_by_role("button", name="Öppna identitet").click()
            found += site.violations(page)  # the refusal page
            checked += 1
        page.context.close()
    context = site.browser.new_context()
    signed_out = context.new_page()
    signed_out.goto(site.url + "/")
    found += site.violations(signed_out)
    context.close()
    assert checked >= 13
    assert not found, "\n".join(found)


def test_print_hides_navigation_and_never_clips_tables(site: Site) -> None:
    page = site.signed_in("IUB.Namnd")
    page.goto(f"{site.url}/rapporter/deltagande?period={H1_2026}")
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Huvudmeny").is_visible()
    overflow = page.evaluate(
        "[...document.querySelectorAll('.tabell')].map(e => getComputedStyle(e).overflowX)"
    )
    assert overflow and set(overflow) == {"visible"}
    # A4 landscape less 12 mm margins is about 1045 CSS px: no table may reach past it.
    page.set_viewport_size({"width": 1045, "height": 740})
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth))"
    )
    assert 0 < widest <= 1045
    pdf = page.pdf(landscape=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    page.context.close()
