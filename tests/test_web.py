"""The web interface: sign-in through OpenID Connect (a provider started in this process),
the same role rules as the API, periods restricted by disclosure control, CSRF on every
form, identity recovery with reason and confirmation, and every report as a file.

The expected access per role is written out here, independently of `roles.PERMISSIONS`.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_support import PERSON
from iubledger.api.app import create_app
from iubledger.config import Settings
from iubledger.reports import perioder
from iubledger.store.ledger import Ledger
from web_support import H1_2026, Provider, effect_seed, oidc_provider, user


@dataclass
class Web:
    client: Any
    idp: Provider
    deltagande: str

    def sign_in(self, role_value: str, **claims: Any) -> httpx.Response:
        """The whole code flow: to the provider, back to the callback."""
        self.client.cookies.clear()
        self.idp.claims = {**user(role_value), **claims}
        to_idp = self.client.get("/logga-in", follow_redirects=False)
        assert to_idp.status_code == 302, to_idp.text
        assert to_idp.headers["location"].startswith(self.idp.url + "/authorize?")
        back = httpx.get(to_idp.headers["location"], follow_redirects=False)
        assert back.status_code == 302, back.text
        callback = back.headers["location"]
        assert callback.startswith("https://testserver/auth/callback?")
        return self.client.get(callback, follow_redirects=False)

    def csrf(self, path: str = "/") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)
        assert found, "no CSRF token on the page"
        return found.group(1)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, _initialised_data_dir: Path) -> Iterator[Web]:
    root = tmp_path_factory.mktemp("web") / "d"
    shutil.copytree(_initialised_data_dir, root)
    settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")
    seeded = effect_seed(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with (
        oidc_provider() as idp,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("IUBLEDGER_OIDC_CLIENT_SECRET", "test-secret-" + "x" * 20)
        app = create_app(settings, oidc=idp.config("https://testserver"))
        with TestClient(app, base_url="https://testserver") as client:
            yield Web(client, idp, seeded["deltagande"])


def test_sign_in_uses_pkce_and_sets_a_strict_session_cookie(web: Web) -> None:
    before = web.idp.pkce_checked
    done = web.sign_in("IUB.Namnd")
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert web.idp.pkce_checked == before + 1
    cookie = done.headers["set-cookie"].lower()
    assert "iubledger_session=" in cookie
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    start = web.client.get("/")
    assert "Inloggad som nämnd (api-namnd)" in start.text
    assert 'href="/rapporter/effekt"' in start.text and "/admin/identitet" not in start.text


def test_without_sign_in_every_page_leads_to_the_start_page(web: Web) -> None:
    web.client.cookies.clear()
    assert "Logga in" in web.client.get("/").text
    for path in ("/rapporter/effekt", "/beslut", "/tillsyn", "/admin/identitet"):
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", path


def test_a_forged_callback_signs_no_one_in(web: Web) -> None:
    web.client.cookies.clear()
    r = web.client.get("/auth/callback?code=forged&state=forged", follow_redirects=False)
    assert r.status_code == 403
    assert "Inloggningen" in r.text
    assert web.client.get("/beslut", follow_redirects=False).status_code == 303


#: Page → the roles (claim values) that may open it. Written out, not read from roles.py.
PAGES = {
    "/rapporter/deltagande": {"IUB.Namnd", "IUB.Tillsyn"},
    "/rapporter/effekt": {"IUB.Namnd", "IUB.Tillsyn"},
    "/rapporter/efterlevnad": {"IUB.Namnd", "IUB.Tillsyn"},
    "/tillsyn": {"IUB.Tillsyn"},
    "/beslut": {"IUB.Namnd", "IUB.Tillsyn", "IUB.Utforare"},
    "/admin/identitet": {"IUB.Admin"},
    "/admin/gallring": {"IUB.Admin"},
}


@pytest.mark.parametrize("role", ["IUB.Namnd", "IUB.Tillsyn", "IUB.Admin", "IUB.Utforare"])
def test_every_page_enforces_the_roles_of_the_api(web: Web, role: str) -> None:
    assert web.sign_in(role).status_code == 303
    start = web.client.get("/").text
    for path, allowed in PAGES.items():
        r = web.client.get(path, follow_redirects=False)
        assert r.status_code == (200 if role in allowed else 403), (role, path, r.status_code)
        assert (f'href="{path}"' in start) == (role in allowed), (role, path)
        for value in PERSON.values():
            assert value not in r.text, (role, path)


def test_a_namnd_sees_only_its_own_katalog(web: Web) -> None:
    web.sign_in("IUB.Namnd.Annan")
    page = web.client.get("/beslut").text
    assert "api-annan/full" in page and "api-namnd/" not in page
    web.sign_in("IUB.Namnd")
    page = web.client.get("/beslut").text
    assert "api-namnd/undantag" in page and "api-annan/" not in page
    assert "dnr 2026.011" in page  # the amendment is in the decision's history


def test_a_namnds_reports_hold_only_its_own_insatser(web: Web) -> None:
    web.sign_in("IUB.Namnd.Annan")
    page = web.client.get("/rapporter/effekt", params={"period": H1_2026}).text
    assert "api-namnd/" not in page and "Inga beslutsändringar" in page
    web.sign_in("IUB.Namnd")
    page = web.client.get("/rapporter/deltagande", params={"period": H1_2026}).text
    assert "api-namnd/undantag" in page and "api-annan/" not in page


def test_the_katalog_may_come_from_a_claim() -> None:
    from iubledger.web.auth import SignInRefused, user_of
    from iubledger.web.settings import Mappning

    config = Provider(url="https://idp.example").config("https://iub.example")
    config = config.model_copy(
        update={"roller": {"IUB.Namnd": Mappning(roll="namnd")}, "katalog_claim": "katalog"}
    )
    found = user_of({**user("IUB.Namnd"), "katalog": "alingsas"}, config)
    assert (found.roll, found.katalog, found.id) == ("namnd", "alingsas", user("x")["oid"])
    with pytest.raises(SignInRefused, match="katalog"):
        user_of(user("IUB.Namnd"), config)


def test_periods_are_the_ended_calendar_periods_only(web: Web) -> None:
    web.sign_in("IUB.Namnd")
    page = web.client.get("/rapporter/effekt").text
    offered = re.findall(r'<option value="([a-z]+:\d{4}-\d{2}-\d{2})"', page)
    first = date(2025, 1, 1)  # the shipped decision's first day is in 2025
    expected = [f"{p.slag}:{p.fran.isoformat()}" for p in perioder.choosable(first, date.today())]
    assert offered and set(offered) <= set(expected)
    for asked in ("kvartal:2026-01-15", "halvar:2026-02-01", "ar:2199-01-01", "manad:2026-01-01"):
        r = web.client.get("/rapporter/effekt", params={"period": asked})
        assert r.status_code == 400, asked
        assert "Perioden kan inte väljas" in r.text


def test_the_namnd_reads_the_effect_report(web: Web) -> None:
    web.sign_in("IUB.Namnd")
    r = web.client.get("/rapporter/effekt", params={"period": H1_2026})
    assert r.status_code == 200
    assert "2026-04-01" in r.text and "Före och efter" in r.text
    assert "Röjandeskydd" in r.text
    assert "<script" not in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_every_form_needs_the_csrf_token(web: Web) -> None:
    web.sign_in("IUB.Tillsyn")
    assert web.client.post("/tillsyn/verifiera", data={}).status_code == 403
    assert web.client.post("/tillsyn/verifiera", data={"csrf": "fel"}).status_code == 403
    ok = web.client.post("/tillsyn/verifiera", data={"csrf": web.csrf("/tillsyn")})
    assert ok.status_code == 200 and "Loggen är hel" in ok.text
    assert web.client.post("/logga-ut", data={}).status_code == 403
    out = web.client.post("/logga-ut", data={"csrf": web.csrf()}, follow_redirects=False)
    assert out.status_code == 303
    assert web.client.get("/tillsyn", follow_redirects=False).status_code == 303


def test_identity_recovery_needs_reason_and_confirmation_and_is_recorded(web: Web) -> None:
    web.sign_in("IUB.Admin")
    token = web.csrf("/admin/identitet")
    form = {"csrf": token, "deltagande": web.deltagande, "skal": "Begäran från IVO, dnr 3.1"}
    refused = web.client.post("/admin/identitet", data=form)
    assert refused.status_code == 422 and "Bekräfta" in refused.text
    assert PERSON["namn"] not in refused.text
    opened = web.client.post("/admin/identitet", data={**form, "bekraftar": "ja"})
    assert opened.status_code == 200, opened.text
    assert PERSON["namn"] in opened.text
    assert opened.headers["cache-control"] == "no-store"
    web.sign_in("IUB.Tillsyn")
    log = web.client.get("/tillsyn").text
    assert "Begäran från IVO, dnr 3.1" in log and "webb:a1b2c3d4" in log
    assert PERSON["namn"] not in log


def test_gallring_needs_reason_and_confirmation_is_recorded_and_final(web: Web) -> None:
    web.sign_in("IUB.Admin")
    token = web.csrf("/admin/gallring")
    form = {"csrf": token, "deltagande": web.deltagande, "skal": "Gallringsfristen har löpt ut"}
    assert web.client.post("/admin/gallring", data={**form, "csrf": "fel"}).status_code == 403
    refused = web.client.post("/admin/gallring", data=form)
    assert refused.status_code == 422 and "Bekräfta" in refused.text
    done = web.client.post("/admin/gallring", data={**form, "bekraftar": "ja"})
    assert done.status_code == 200, done.text
    assert "är gallrat" in done.text and PERSON["namn"] not in done.text
    again = {"csrf": token, "deltagande": web.deltagande, "skal": "Begäran från IVO, dnr 3.1"}
    gone = web.client.post("/admin/identitet", data={**again, "bekraftar": "ja"})
    assert gone.status_code == 422 and PERSON["namn"] not in gone.text
    web.sign_in("IUB.Tillsyn")
    assert "Gallringsfristen har löpt ut" in web.client.get("/tillsyn").text


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"roles": []}, "ingen roll"),
        ({"roles": ["IUB.Namnd", "IUB.Admin"]}, "flera roller"),
        ({"roles": ["IUB.Admin"], "oid": PERSON["personnummer"]}, "användaridentitet"),
    ],
)
def test_sign_in_is_refused_without_exactly_one_role_or_with_a_personnummer(
    web: Web, claims: dict[str, Any], why: str
) -> None:
    r = web.sign_in("IUB.Admin", **claims)
    assert r.status_code == 403 and why in r.text
    assert PERSON["personnummer"] not in r.text
    assert web.client.get("/admin/identitet", follow_redirects=False).status_code == 303


def test_every_report_downloads_as_xlsx_pdf_and_csv_for_excel(web: Web) -> None:
    from openpyxl import load_workbook

    web.sign_in("IUB.Tillsyn")
    for slag, title in (
        ("deltagande", "Deltagande"),
        ("effekt", "Effekt"),
        ("efterlevnad", "fterlevnad"),
    ):
        params = {"period": H1_2026}
        xlsx = web.client.get(f"/rapporter/{slag}/fil", params={**params, "format": "xlsx"})
        assert xlsx.status_code == 200, xlsx.text
        assert "attachment" in xlsx.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
        assert any(title in str(c) for c in cells[:3]), (slag, cells[:3])
        assert any(isinstance(c, int) for c in cells), slag  # numbers stay numbers
        pdf = web.client.get(f"/rapporter/{slag}/fil", params={**params, "format": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), slag
        if shutil.which("pdftotext"):
            text = subprocess.run(
                ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
            ).stdout.decode()
            assert title in text, slag
        csv = web.client.get(f"/rapporter/{slag}/fil", params={**params, "format": "csv-excel"})
        assert csv.content.startswith("\ufeff".encode()), slag
        header = csv.content.decode("utf-8-sig").splitlines()[0]
        assert header == "rapport;avsnitt;insats;rad;kolumn;varde"


def test_the_access_log_names_the_role_never_the_query(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    web.sign_in("IUB.Namnd")
    with caplog.at_level("INFO", logger="iubledger.access"):
        web.client.get("/rapporter/effekt", params={"period": H1_2026})
    line = json.loads(caplog.records[-1].getMessage())
    assert line["route"] == "/rapporter/{slag}" and line["roll"] == "namnd"
    assert line["nyckel_id"] == "webb:" + user("IUB.Namnd")["oid"]
    assert "halvar" not in caplog.text


def test_the_client_secret_comes_from_the_environment_or_a_0600_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iubledger.web.settings import SECRET_ENV, WebConfigError, client_secret

    monkeypatch.delenv(SECRET_ENV, raising=False)
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value\n")
    secret.chmod(0o644)
    config = Provider(url="https://idp.example").config("https://iub.example")
    config = config.model_copy(update={"client_secret_file": str(secret)})
    with pytest.raises(WebConfigError, match="0600") as refused:
        client_secret(config)
    assert "s3cret" not in str(refused.value)
    secret.chmod(0o600)
    assert client_secret(config) == "s3cret-value"
    monkeypatch.setenv(SECRET_ENV, "from-env")
    assert client_secret(config) == "from-env"


def test_a_bad_web_config_is_one_line_naming_the_setting_never_its_value(
    run_cli: Any, ledger: Ledger, tmp_path: Path
) -> None:
    ledger.close()
    bad = tmp_path / "web.json"
    bad.write_text(
        json.dumps(
            {
                "issuer": "ftp://hemligt-varde",
                "client_id": "x",
                "public_url": "https://iub.example",
                "roller": {},
            }
        )
    )
    done = run_cli(["serve", "--web-config", str(bad)])
    assert done.exit_code == 1
    assert "issuer" in done.output and "hemligt" not in done.output
    assert "Traceback" not in done.output


def test_an_unreachable_provider_is_a_page_not_a_traceback(
    tmp_path: Path, _initialised_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from web_support import free_port

    root = tmp_path / "d"
    shutil.copytree(_initialised_data_dir, root)
    settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")
    monkeypatch.setenv("IUBLEDGER_OIDC_CLIENT_SECRET", "x")
    gone = Provider(url=f"http://127.0.0.1:{free_port()}").config("https://testserver")
    with TestClient(create_app(settings, oidc=gone), base_url="https://testserver") as client:
        r = client.get("/logga-in", follow_redirects=False)
    assert r.status_code == 403 and "svarar inte" in r.text
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        start = client.get("/")
        assert start.status_code == 200 and "Inloggning är inte konfigurerad" in start.text
        assert client.get("/logga-in").status_code == 404
