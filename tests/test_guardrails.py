"""G7 lawful decisions, through `Ledger.import_decisions` and `revoke_decision`.

Every refusal below would be an import if its guardrail were removed, and every refusal is
checked to leave the store exactly as it was: no new notification, the same decision index
(both the ledger's cached one and one read afresh from the database).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iubledger.roles import Actor, Forbidden
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import UTESLUTNA_FORMER
from iubledger.services import decisions
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

Fil = dict[str, Any]
BeslutDict = Callable[..., Fil]

#: The insatser 11 kap. 5 § SoL never allows as IUB, written down from DOMAIN.md.
EXCLUDED_BY_LAW = [
    "kontaktperson",
    "kontaktfamilj",
    "kvalificerad_kontaktperson",
    "familjehem",
    "lvm_hem",
    "sarskilt_ungdomshem",
    "jourhem_barn",
    "stodboende_barn",
    "skyddat_boende_barn",
    "hvb_barn",
    "boende_aldre",
    "boende_funktionsnedsattning",
    "heldygnsvard",
    "ekonomiskt_bistand",
]


def sources(*files: Fil) -> list[tuple[str, str]]:
    return [(f"beslut-{n}.json", json.dumps(f, ensure_ascii=False)) for n, f in enumerate(files)]


def state(ledger: Ledger) -> tuple[int | None, dict[str, list[tuple[str, int]]]]:
    """What the store holds: the last notification id and each history's (kind, version)."""

    def shape(index: Any) -> dict[str, list[tuple[str, int]]]:
        return {
            k: [(type(e).__name__, e.version) for e in h]
            for k, h in sorted(index.histories.items())
        }

    fresh = Ledger(ledger.settings)
    try:
        stored = shape(fresh.decision_index())
    finally:
        fresh.close()
    assert shape(ledger.decision_index()) == stored, "cached index differs from the store"
    return ledger.recorder.max_notification_id(), stored


def refused(ledger: Ledger, *files: Fil, actor: Actor | None = None) -> Rejected:
    """Import must raise Rejected and change nothing; returns the error."""
    before = state(ledger)
    kw = {} if actor is None else {"actor": actor}
    with pytest.raises(Rejected) as caught:
        decisions.import_files(ledger, sources(*files), **kw)
    assert state(ledger) == before
    return caught.value


def codes(err: Rejected) -> set[str]:
    return {p.code for p in err.problems}


def insats(fil: Fil, **changes: Any) -> Fil:
    fil["insatser"][0].update(changes)
    return fil


# --- ekonomiskt bistånd and excluded forms (11 kap. 5 § SoL) --------------------------------


def test_the_minimal_file_is_accepted(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    """The baseline every refusal below departs from by one change."""
    result = decisions.import_files(ledger, sources(beslut_dict()))
    assert result.imported == [("testkommun/1", 1)]


def test_economic_needs_refused(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    err = refused(ledger, insats(beslut_dict(), behov="ekonomiska"))
    assert codes(err) == {"ekonomiskt_bistand"}


@pytest.mark.parametrize(
    "namn",
    [
        "Ekonomiskt bistånd till hushåll",
        "Stöd med ekonomiskt bistånd",
        "EKONOMISKT BISTÅND",
        "Ekonomiskt  bistand",
        "Försörjningsstöd",
        "Tillfälligt forsorjningsstod",
    ],
)
def test_economic_aid_by_name_refused(ledger: Ledger, beslut_dict: BeslutDict, namn: str) -> None:
    err = refused(ledger, insats(beslut_dict(), namn=namn))
    assert "ekonomiskt_bistand" in codes(err)


@pytest.mark.parametrize(
    "namn",
    [
        unicodedata.normalize("NFD", "Försörjningsstöd"),
        unicodedata.normalize("NFD", "Ekonomiskt bistånd"),
        "Försörj\u00adningsstöd",
    ],
    ids=["nfd-forsorjningsstod", "nfd-ekonomiskt-bistand", "soft-hyphen"],
)
def test_economic_aid_by_name_refused_in_any_unicode_form(
    ledger: Ledger, beslut_dict: BeslutDict, namn: str
) -> None:
    """Spellings that render the same (decomposed å/ö, a soft hyphen) are caught too."""
    err = refused(ledger, insats(beslut_dict(), namn=namn))
    assert "ekonomiskt_bistand" in codes(err)


def test_the_excluded_set_is_the_one_the_law_lists() -> None:
    assert set(EXCLUDED_BY_LAW) == UTESLUTNA_FORMER


@pytest.mark.parametrize("form", sorted(set(EXCLUDED_BY_LAW) | UTESLUTNA_FORMER))
def test_every_excluded_insatsform_refused(
    ledger: Ledger, beslut_dict: BeslutDict, form: str
) -> None:
    err = refused(ledger, insats(beslut_dict(), insatsform=form))
    assert "utesluten_insats" in codes(err)
    assert [p.field for p in err.problems if p.code == "utesluten_insats"] == [
        "insatser[1].insatsform"
    ]


# --- skyddat boende: only 21+ without accompanying children --------------------------------

ALDER_21 = {"typ": "alder", "fran": 21}
UTAN_BARN = {"typ": "utan_medfoljande_barn"}


@pytest.mark.parametrize(
    "villkor",
    [
        [{"typ": "folkbokford"}],
        [{"typ": "alder", "fran": 18}],
        [ALDER_21],
        [UTAN_BARN],
        [{"typ": "alder", "fran": 18}, UTAN_BARN],
        [{"typ": "alder", "fran": 20}, UTAN_BARN],
        [{"typ": "alder", "till": 64}, UTAN_BARN],
        [{"typ": "nagot_av", "villkor": [ALDER_21, {"typ": "inga_villkor"}]}, UTAN_BARN],
        [ALDER_21, {"typ": "nagot_av", "villkor": [UTAN_BARN, {"typ": "inga_villkor"}]}],
    ],
    ids=[
        "no-age-no-children",
        "18+",
        "21+-only",
        "without-children-only",
        "18+-without-children",
        "20+-without-children",
        "no-lower-bound",
        "age-only-as-an-option",
        "no-children-only-as-an-option",
    ],
)
def test_skyddat_boende_refused_unless_21_and_without_children(
    ledger: Ledger, beslut_dict: BeslutDict, villkor: list[dict[str, Any]]
) -> None:
    err = refused(
        ledger, insats(beslut_dict("deltagardata"), insatsform="skyddat_boende", villkor=villkor)
    )
    assert codes(err) == {"skyddat_boende_21_utan_barn"}


@pytest.mark.parametrize(
    "villkor",
    [
        [ALDER_21, UTAN_BARN],
        [UTAN_BARN, {"typ": "folkbokford"}, {"typ": "alder", "fran": 25, "till": 64}],
    ],
)
def test_skyddat_boende_for_21_without_children_accepted(
    ledger: Ledger, beslut_dict: BeslutDict, villkor: list[dict[str, Any]]
) -> None:
    fil = insats(beslut_dict("deltagardata"), insatsform="skyddat_boende", villkor=villkor)
    assert decisions.import_files(ledger, sources(fil)).imported == [("testkommun/1", 1)]


# --- undantag (14 kap. 5 § SoL) needs särskilda skäl ---------------------------------------


def test_undantag_without_sarskilda_skal_refused(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    fil = beslut_dict("undantag_14_5")
    del fil["insatser"][0]["dokumentation"]["sarskilda_skal"]
    err = refused(ledger, fil)
    assert codes(err) == {"sarskilda_skal_saknas"}
    assert err.problems[0].field == "insatser[1].dokumentation.sarskilda_skal"


@pytest.mark.parametrize("skal", ["", "   ", None])
def test_undantag_with_empty_sarskilda_skal_refused(
    ledger: Ledger, beslut_dict: BeslutDict, skal: str | None
) -> None:
    fil = beslut_dict("undantag_14_5")
    fil["insatser"][0]["dokumentation"]["sarskilda_skal"] = skal
    refused(ledger, fil)


def test_undantag_with_sarskilda_skal_accepted(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    assert decisions.import_files(ledger, sources(beslut_dict("undantag_14_5"))).imported == [
        ("testkommun/1", 1)
    ]


# --- age bands where no identity is documented (14 kap. 4–5 § SoL, G8) ---------------------

IDENTITY_FREE = ("radgivning_14_4", "undantag_14_5", "aggregat")


@pytest.mark.parametrize("bredd", [1, 2, 4])
@pytest.mark.parametrize("regim", IDENTITY_FREE)
def test_narrow_age_bands_refused_where_no_identity_is_documented(
    ledger: Ledger, beslut_dict: BeslutDict, regim: str, bredd: int
) -> None:
    """A band of one year is an exact age: with gender and date it can single a person out."""
    fil = beslut_dict(regim)
    fil["insatser"][0]["dokumentation"]["aldersintervall"] = bredd
    err = refused(ledger, fil)
    assert codes(err) == {"aldersintervall_for_smalt"}
    (problem,) = err.problems
    assert problem.field == "insatser[1].dokumentation.aldersintervall"
    assert problem.message.startswith("insats 1: ")
    assert "minst 5 år" in problem.message
    assert "14 kap. 5 § SoL" in problem.message


@pytest.mark.parametrize("bredd", [5, 10, 20])
@pytest.mark.parametrize("regim", IDENTITY_FREE)
def test_age_bands_of_five_years_or_more_accepted(
    ledger: Ledger, beslut_dict: BeslutDict, regim: str, bredd: int
) -> None:
    fil = beslut_dict(regim)
    fil["insatser"][0]["dokumentation"]["aldersintervall"] = bredd
    assert decisions.import_files(ledger, sources(fil)).imported == [("testkommun/1", 1)]


@pytest.mark.parametrize("regim", ["full_14_3", "deltagardata"])
def test_narrow_age_bands_allowed_where_identity_is_documented(
    ledger: Ledger, beslut_dict: BeslutDict, regim: str
) -> None:
    """Under 14 kap. 3 § the person is documented anyway; the width is the nämnd's choice."""
    fil = beslut_dict(regim)
    fil["insatser"][0]["dokumentation"]["aldersintervall"] = 1
    assert decisions.import_files(ledger, sources(fil)).imported == [("testkommun/1", 1)]


# --- validity over time: no overlap, amendments only forward --------------------------------


def test_overlapping_validity_refused_unless_andring(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    decisions.import_files(ledger, sources(beslut_dict(giltig_fran="2025-08-01")))
    err = refused(ledger, beslut_dict(giltig_fran="2026-01-01"))
    assert codes(err) == {"overlappande_giltighet"}
    result = decisions.import_files(
        ledger, sources(beslut_dict(giltig_fran="2026-01-01", andring=True))
    )
    assert result.imported == [("testkommun/1", 2)]


def test_overlap_with_a_bounded_decision(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    decisions.import_files(ledger, sources(beslut_dict(giltig_till="2025-12-31")))
    err = refused(ledger, beslut_dict(giltig_fran="2025-12-31"))
    assert codes(err) == {"overlappande_giltighet"}
    result = decisions.import_files(ledger, sources(beslut_dict(giltig_fran="2026-01-01")))
    assert result.imported == [("testkommun/1", 2)]


def test_overlap_within_one_import_refused(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    err = refused(ledger, beslut_dict(), beslut_dict(giltig_fran="2026-01-01"))
    assert codes(err) == {"overlappande_giltighet"}
    assert err.source == "beslut-1.json"


def test_another_insats_does_not_overlap(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    decisions.import_files(ledger, sources(beslut_dict()))
    result = decisions.import_files(ledger, sources(beslut_dict(insats_id="2")))
    assert result.imported == [("testkommun/2", 1)]


@pytest.mark.parametrize("giltig_fran", ["2025-08-01", "2025-07-15"], ids=["same-day", "earlier"])
def test_amendment_not_later_than_the_version_in_force_refused(
    ledger: Ledger, beslut_dict: BeslutDict, giltig_fran: str
) -> None:
    decisions.import_files(ledger, sources(beslut_dict(giltig_fran="2025-08-01")))
    err = refused(ledger, beslut_dict(giltig_fran=giltig_fran, andring=True))
    assert codes(err) == {"andring_bakdaterad"}


def test_amendment_compared_with_the_latest_version(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    decisions.import_files(ledger, sources(beslut_dict(giltig_fran="2025-08-01")))
    decisions.import_files(ledger, sources(beslut_dict(giltig_fran="2026-01-01", andring=True)))
    err = refused(ledger, beslut_dict(giltig_fran="2025-10-01", andring=True))
    assert codes(err) == {"andring_bakdaterad"}


def test_amendment_without_a_decision_refused(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    err = refused(ledger, beslut_dict(andring=True))
    assert codes(err) == {"andring_utan_beslut"}


def test_amendment_of_a_revoked_decision_refused(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    decisions.import_files(ledger, sources(beslut_dict(giltig_fran="2025-08-01")))
    decisions.revoke(ledger, "testkommun/1", date(2025, 10, 1), "Insatsen läggs ned.")
    err = refused(ledger, beslut_dict(giltig_fran="2025-11-01", andring=True))
    assert codes(err) == {"andring_av_upphavt_beslut"}


def test_revocation_must_be_after_the_version_in_force(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    decisions.import_files(ledger, sources(beslut_dict(giltig_fran="2025-08-01")))
    before = state(ledger)
    for day in (date(2025, 8, 1), date(2025, 7, 1)):
        with pytest.raises(Rejected) as caught:
            decisions.revoke(ledger, "testkommun/1", day, "x")
        assert codes(caught.value) == {"upphavande_bakdaterat"}
    with pytest.raises(Rejected) as caught:
        decisions.revoke(ledger, "testkommun/okand", date(2025, 9, 1), "x")
    assert codes(caught.value) == {"okant_beslut"}
    assert state(ledger) == before


def test_giltig_fran_before_the_law_refused(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    err = refused(ledger, beslut_dict(beslutsdatum="2025-06-01", giltig_fran="2025-06-30"))
    assert codes(err) == {"fore_lagens_ikrafttradande"}
    assert err.problems[0].field == "giltig_fran"


def test_giltig_fran_on_the_day_the_law_takes_effect_accepted(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = beslut_dict(beslutsdatum="2025-06-01", giltig_fran="2025-07-01")
    assert decisions.import_files(ledger, sources(fil)).imported == [("testkommun/1", 1)]


# --- all or nothing -------------------------------------------------------------------------


def three_insatser(beslut_dict: BeslutDict) -> Fil:
    fil = beslut_dict()
    first = fil["insatser"][0]
    fil["insatser"] = [{**first, "id": str(n)} for n in (1, 2, 3)]
    return fil


def test_one_bad_insats_among_good_ones_imports_nothing(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = three_insatser(beslut_dict)
    fil["insatser"][1]["behov"] = "ekonomiska"
    err = refused(ledger, fil)
    assert [(p.code, p.field) for p in err.problems] == [
        ("ekonomiskt_bistand", "insatser[2].behov")
    ]
    assert "insats 2:" in err.problems[0].message
    fil["insatser"][1]["behov"] = "personliga"
    assert len(decisions.import_files(ledger, sources(fil)).imported) == 3


def second_file_invalid(beslut_dict: BeslutDict) -> dict[str, Fil]:
    unknown_villkor = beslut_dict(insats_id="2")
    unknown_villkor["insatser"][0]["villkor"] = [{"typ": "behovsbedomning"}]
    return {
        "schema": unknown_villkor,
        "guardrail": insats(beslut_dict(insats_id="2"), insatsform="familjehem"),
        "overlap-with-first": beslut_dict(giltig_fran="2026-01-01"),
        "unknown-header-field": {**beslut_dict(insats_id="2"), "okant_falt": 1},
    }


@pytest.mark.parametrize(
    "case", ["schema", "guardrail", "overlap-with-first", "unknown-header-field"]
)
def test_second_file_invalid_imports_nothing(
    ledger: Ledger, beslut_dict: BeslutDict, case: str
) -> None:
    decisions.import_files(ledger, sources(beslut_dict(insats_id="0")))  # the store is not empty
    err = refused(ledger, beslut_dict(), second_file_invalid(beslut_dict)[case])
    assert err.source == "beslut-1.json"


def test_not_json_refused(ledger: Ledger) -> None:
    before = state(ledger)
    with pytest.raises(Rejected) as caught:
        decisions.import_files(ledger, [("trasig.json", "{not json")])
    assert caught.value.source == "trasig.json"
    assert state(ledger) == before


# --- the error names file, insats and rule; the CLI shows it --------------------------------


def test_rejected_names_file_insats_and_rule(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    fil = insats(beslut_dict("deltagardata", insats_id="7.1"), insatsform="lvm_hem")
    err = refused(ledger, fil)
    assert err.source == "beslut-0.json"
    (problem,) = err.problems
    assert problem.code == "utesluten_insats"
    assert "7.1" in problem.message
    text = str(err)
    assert text.startswith("beslut-0.json: ")
    assert "insats 7.1" in text
    assert "[utesluten_insats]" in text
    assert text == f"beslut-0.json: {problem.field}: {problem.message} [{problem.code}]"


def test_the_cli_shows_the_rejection(
    ledger: Ledger,
    beslut_dict: BeslutDict,
    run_cli: Callable[[list[str]], Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fil = beslut_dict("deltagardata", insats_id="7.1")
    fil["insatser"][0]["behov"] = "ekonomiska"
    fil["insatser"][0]["insatsform"] = "ekonomiskt_bistand"
    text = json.dumps(fil, ensure_ascii=False)
    err = refused(ledger, fil)
    assert codes(err) == {"ekonomiskt_bistand", "utesluten_insats"}

    monkeypatch.chdir(tmp_path)
    Path("beslut-0.json").write_text(text, encoding="utf-8")
    result = run_cli(["decisions", "import", "beslut-0.json"])
    assert result.exit_code == 1
    shown = " ".join(result.output.split())
    assert "beslut-0.json" in shown
    for part in str(err).removeprefix("beslut-0.json: ").split("; "):
        assert " ".join(part.split()) in shown
    assert "Traceback" not in result.output
    assert state(ledger)[0] is None


# --- only the nämnd decides (G7) ------------------------------------------------------------

OTHER_NAMND = Actor("namnd", katalog="annan-kommun")
NOT_NAMND = [
    Actor("utforare", organisation="x"),
    Actor("utforare", katalog="testkommun", organisation="samtalsstod"),
    OTHER_NAMND,
    Actor("tillsyn"),
    Actor("namnd"),
]
ACTOR_IDS = ["utforare", "utforare-of-the-insats", "other-namnd", "tillsyn", "namnd-no-katalog"]


@pytest.mark.parametrize("actor", NOT_NAMND, ids=ACTOR_IDS)
def test_only_the_namnd_may_import(ledger: Ledger, beslut_dict: BeslutDict, actor: Actor) -> None:
    before = state(ledger)
    with pytest.raises(Forbidden):
        decisions.import_files(ledger, sources(beslut_dict()), actor=actor)
    assert state(ledger) == before


@pytest.mark.parametrize("actor", NOT_NAMND, ids=ACTOR_IDS)
def test_only_the_namnd_may_revoke(ledger: Ledger, beslut_dict: BeslutDict, actor: Actor) -> None:
    decisions.import_files(ledger, sources(beslut_dict()))
    before = state(ledger)
    with pytest.raises(Forbidden):
        decisions.revoke(ledger, "testkommun/1", date(2025, 10, 1), "x", actor=actor)
    assert state(ledger) == before


def test_the_namnd_of_the_katalog_may_import_amend_and_revoke(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    namnd = Actor("namnd", katalog="testkommun")
    assert decisions.import_files(ledger, sources(beslut_dict()), actor=namnd).imported == [
        ("testkommun/1", 1)
    ]
    amended = decisions.import_files(
        ledger, sources(beslut_dict(giltig_fran="2026-01-01", andring=True)), actor=namnd
    )
    assert amended.imported == [("testkommun/1", 2)]
    assert decisions.revoke(ledger, "testkommun/1", date(2026, 6, 1), "x", actor=namnd) == 3


def test_a_namnd_cannot_slip_another_katalog_into_its_import(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    before = state(ledger)
    with pytest.raises(Forbidden):
        decisions.import_files(
            ledger,
            sources(beslut_dict(), beslut_dict(katalog="annan-kommun")),
            actor=Actor("namnd", katalog="testkommun"),
        )
    assert state(ledger) == before


def test_a_revoked_decision_cannot_be_revoked_again(ledger, beslut_dict):
    """A second revocation could move the end back and strip stored events of their decision."""
    decisions.import_files(ledger, [("fil", json.dumps(beslut_dict()))])
    beslut_id = next(iter(ledger.decision_index().histories))
    decisions.revoke(ledger, beslut_id, date(2026, 1, 1), "upphört")
    before = ledger.recorder.max_notification_id()
    with pytest.raises(Rejected) as err:
        decisions.revoke(ledger, beslut_id, date(2025, 8, 1), "igen")
    assert err.value.problems[0].code == "redan_upphavt"
    assert ledger.recorder.max_notification_id() == before


@pytest.mark.parametrize("namn", ["Kontaktperson för unga", "Kontaktfamilj vid behov"])
def test_excluded_insats_by_name_refused(ledger, beslut_dict, namn):
    fil = beslut_dict()
    fil["insatser"][0]["namn"] = namn
    with pytest.raises(Rejected) as err:
        decisions.import_files(ledger, [("fil", json.dumps(fil))])
    assert "utesluten_insats" in {p.code for p in err.value.problems}
