"""The villkor language (11 kap. 5 § SoL): a closed set of checkable facts, three outcomes.

Parsing is closed (an unknown kind or field is an error, never ignored); `evaluate` gives
uppfyllda when every villkor holds, ej_uppfyllda when one fails, otherwise oklart (the
person is referred to the nämnd).
"""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from iubledger.decisions.villkor import evaluate
from iubledger.schemas.base import problems_from
from iubledger.schemas.beslut import BeslutsFil
from iubledger.schemas.villkor import (
    Alder,
    AllaAv,
    BarnIFskola,
    Fakta,
    Faktum,
    Folkbokford,
    ForalderTillBarn,
    GemensamBegaran,
    HandlingUppvisad,
    IngaVillkor,
    Inte,
    KonVillkor,
    NagotAv,
    Omrade,
    Relation,
    Situation,
    SynnerligaSkal,
    UppdragExternPart,
    UtanMedfoljandeBarn,
    Utfall,
    VardnadshavaresSamtycke,
    Villkor,
)

FAST = hsettings(max_examples=150, deadline=None)

ONE = TypeAdapter(Villkor)
MANY = TypeAdapter(list[Villkor])

UPP, EJ, OKL = Utfall.uppfyllda, Utfall.ej_uppfyllda, Utfall.oklart


def v(data: dict[str, Any]) -> Villkor:
    return ONE.validate_python(data)


def outcome(villkor: dict[str, Any] | list[dict[str, Any]], **fakta: Any) -> Utfall:
    items = villkor if isinstance(villkor, list) else [villkor]
    return evaluate([v(d) for d in items], Fakta(**fakta))


# --- parsing: every kind, nothing unknown -----------------------------------------------------

EVERY_KIND: list[tuple[dict[str, Any], type]] = [
    ({"typ": "alder", "fran": 18}, Alder),
    ({"typ": "folkbokford", "vem": "barnet"}, Folkbokford),
    (
        {"typ": "barn_i_skola", "skolformer": ["grundskola"], "arskurs_fran": 0, "arskurs_till": 6},
        BarnIFskola,
    ),
    ({"typ": "foralder_till_barn", "fran": 3, "till": 12}, ForalderTillBarn),
    ({"typ": "gemensam_begaran"}, GemensamBegaran),
    ({"typ": "uppdrag_extern_part", "part": "arbetsgivare"}, UppdragExternPart),
    (
        {"typ": "vardnadshavares_samtycke", "under_alder": 15, "antal": "bada"},
        VardnadshavaresSamtycke,
    ),
    ({"typ": "utan_medfoljande_barn"}, UtanMedfoljandeBarn),
    ({"typ": "inga_villkor"}, IngaVillkor),
    ({"typ": "handling", "handlingar": ["id_handling", "lakarintyg"]}, HandlingUppvisad),
    (
        {"typ": "nagot_av", "villkor": [{"typ": "alder", "till": 6}, {"typ": "gemensam_begaran"}]},
        NagotAv,
    ),
    ({"typ": "kon", "kon": ["kvinna", "annat"]}, KonVillkor),
    ({"typ": "relation", "roll": "syskon", "fran": 12, "till": 21}, Relation),
    ({"typ": "omrade", "omraden": ["hisingen", "centrum"]}, Omrade),
    ({"typ": "situation", "situation": "utsatt_for_brott"}, Situation),
    ({"typ": "synnerliga_skal", "under_alder": 12}, SynnerligaSkal),
    ({"typ": "faktum", "namn": "skolstatus", "i": ["ej_skolgang", "hog_franvaro"]}, Faktum),
    ({"typ": "alla_av", "villkor": [{"typ": "alder", "fran": 18}, {"typ": "folkbokford"}]}, AllaAv),
    ({"typ": "inte", "villkor": {"typ": "faktum", "namn": "ekonomiskt_bistand", "ar": True}}, Inte),
]
KIND_IDS = [d["typ"] for d, _ in EVERY_KIND]


def test_every_kind_of_the_union_is_covered() -> None:
    (union, *_) = get_args(Villkor)
    assert {cls for _, cls in EVERY_KIND} == set(get_args(union))


@pytest.mark.parametrize(("data", "cls"), EVERY_KIND, ids=KIND_IDS)
def test_every_kind_parses_from_json(data: dict[str, Any], cls: type) -> None:
    parsed = ONE.validate_json(json.dumps(data))
    assert type(parsed) is cls
    assert parsed.model_dump(exclude_defaults=True) == data


def test_a_list_of_every_kind_parses_from_json() -> None:
    parsed = MANY.validate_json(json.dumps([d for d, _ in EVERY_KIND]))
    assert [type(p) for p in parsed] == [cls for _, cls in EVERY_KIND]


@pytest.mark.parametrize(
    "data",
    [
        {"typ": "behovsbedomning"},
        {"typ": "behovsbedomning", "beskrivning": "handläggaren bedömer behovet"},
        {"typ": "Alder", "fran": 18},
        {"fran": 18},
    ],
    ids=["unknown", "unknown-with-fields", "wrong-case", "no-typ"],
)
def test_an_unknown_kind_is_an_error(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ONE.validate_json(json.dumps(data))


def test_an_unknown_kind_is_never_ignored_in_a_list_or_inside_nagot_av() -> None:
    known = {"typ": "folkbokford"}
    unknown = {"typ": "behovsbedomning"}
    with pytest.raises(ValidationError):
        MANY.validate_python([known, unknown])
    with pytest.raises(ValidationError):
        ONE.validate_python({"typ": "nagot_av", "villkor": [known, unknown]})


def test_an_unknown_kind_in_a_decision_file_is_refused_without_echoing_it(
    beslut_dict: Any,
) -> None:
    fil = beslut_dict()
    fil["insatser"][0]["villkor"].append({"typ": "behovsbedomning"})
    with pytest.raises(ValidationError) as caught:
        BeslutsFil.model_validate_json(json.dumps(fil))
    problems = problems_from(caught.value)
    assert [(p.code, p.field) for p in problems] == [("union_tag_invalid", "insatser.0.villkor.2")]
    assert "unknown kind" in problems[0].message
    assert "behovsbedomning" not in problems[0].message


@pytest.mark.parametrize(("data", "cls"), EVERY_KIND, ids=KIND_IDS)
def test_unknown_extra_fields_are_refused(data: dict[str, Any], cls: type) -> None:
    with pytest.raises(ValidationError) as caught:
        ONE.validate_python({**data, "bedomning": "handläggaren avgör"})
    assert [e["type"] for e in caught.value.errors()] == ["extra_forbidden"]


def test_an_extra_field_inside_a_nagot_av_member_is_refused() -> None:
    with pytest.raises(ValidationError):
        v(
            {
                "typ": "nagot_av",
                "villkor": [{"typ": "alder", "till": 6, "ungefar": True}, {"typ": "inga_villkor"}],
            }
        )


@pytest.mark.parametrize("typ", ["alder", "foralder_till_barn"])
@pytest.mark.parametrize(
    "bounds",
    [
        {"fran": 21, "till": 15},
        {},
        {"fran": None, "till": None},
        {"fran": -1},
        {"till": 121},
        {"fran": "18"},
        {"fran": 18.0},
    ],
    ids=["fran>till", "neither", "both-null", "negative", "over-120", "string", "float"],
)
def test_range_refused(typ: str, bounds: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        v({"typ": typ, **bounds})


@pytest.mark.parametrize("typ", ["alder", "foralder_till_barn"])
@pytest.mark.parametrize(
    "bounds",
    [{"fran": 18}, {"till": 17}, {"fran": 15, "till": 21}, {"fran": 7, "till": 7}],
    ids=["fran", "till", "both", "single-year"],
)
def test_range_accepted(typ: str, bounds: dict[str, Any]) -> None:
    assert v({"typ": typ, **bounds}).model_dump(exclude_none=True) == {"typ": typ, **bounds}


def test_nagot_av_needs_two_members() -> None:
    with pytest.raises(ValidationError):
        v({"typ": "nagot_av", "villkor": [{"typ": "inga_villkor"}]})


def test_reversed_year_range_is_refused_like_an_age_range() -> None:
    """A reversed year range could never be met; it is refused like a reversed age range."""
    v({"typ": "barn_i_skola", "skolformer": ["grundskola"], "arskurs_fran": 7, "arskurs_till": 7})
    with pytest.raises(ValidationError):
        v(
            {
                "typ": "barn_i_skola",
                "skolformer": ["grundskola"],
                "arskurs_fran": 7,
                "arskurs_till": 3,
            }
        )


# --- evaluate: the three outcomes ------------------------------------------------------------


def test_all_hold_gives_uppfyllda() -> None:
    villkor = [{"typ": "alder", "fran": 18}, {"typ": "folkbokford"}]
    assert outcome(villkor, alder=30, folkbokford_i_kommunen=True) is UPP


def test_any_false_gives_ej_uppfyllda_even_when_another_is_unclear() -> None:
    villkor = [{"typ": "alder", "fran": 18}, {"typ": "folkbokford"}]
    assert outcome(villkor, alder=30, folkbokford_i_kommunen=False) is EJ
    assert outcome(villkor, alder=17) is EJ  # folkbokföring unchecked, age already fails


def test_otherwise_oklart() -> None:
    villkor = [{"typ": "alder", "fran": 18}, {"typ": "folkbokford"}]
    assert outcome(villkor, alder=30) is OKL
    assert outcome(villkor) is OKL


# --- seed-style villkor ----------------------------------------------------------------------

VUXNA_FRAN_18 = {"typ": "alder", "fran": 18}
FRAN_15_TILL_21 = {"typ": "alder", "fran": 15, "till": 21}
FORALDER_3_12 = {"typ": "foralder_till_barn", "fran": 3, "till": 12}
BARNET_FOLKBOKFORT = {"typ": "folkbokford", "vem": "barnet"}
#: Alingsås 3.1.10: the child in förskola, or in grundskola up to årskurs 6.
FORSKOLA_ELLER_LAGSTADIET = {
    "typ": "nagot_av",
    "villkor": [
        {"typ": "barn_i_skola", "skolformer": ["forskola"]},
        {"typ": "barn_i_skola", "skolformer": ["grundskola"], "arskurs_till": 6},
    ],
}
AK_4_TILL_9 = {
    "typ": "barn_i_skola",
    "skolformer": ["grundskola"],
    "arskurs_fran": 4,
    "arskurs_till": 9,
}
SAMTYCKE_BADA_UNDER_15 = {"typ": "vardnadshavares_samtycke", "under_alder": 15, "antal": "bada"}
SAMTYCKE_EN_UNDER_15 = {"typ": "vardnadshavares_samtycke", "under_alder": 15}
ID_ELLER_HYRESAVTAL = {"typ": "handling", "handlingar": ["id_handling", "hyresavtal"]}


@pytest.mark.parametrize(
    ("villkor", "fakta", "expected"),
    [
        # "Vuxna från 18 år"
        (VUXNA_FRAN_18, {"alder": 17}, EJ),
        (VUXNA_FRAN_18, {"alder": 18}, UPP),
        (VUXNA_FRAN_18, {"alder": 120}, UPP),
        (VUXNA_FRAN_18, {}, OKL),
        # "15 till 21 år": both ends inclusive
        (FRAN_15_TILL_21, {"alder": 14}, EJ),
        (FRAN_15_TILL_21, {"alder": 15}, UPP),
        (FRAN_15_TILL_21, {"alder": 21}, UPP),
        (FRAN_15_TILL_21, {"alder": 22}, EJ),
        # "Föräldrar till barn 3-12 år": one child in the range suffices
        (FORALDER_3_12, {"barn_alder": [2]}, EJ),
        (FORALDER_3_12, {"barn_alder": [3]}, UPP),
        (FORALDER_3_12, {"barn_alder": [12]}, UPP),
        (FORALDER_3_12, {"barn_alder": [13]}, EJ),
        (FORALDER_3_12, {"barn_alder": [1, 15, 7]}, UPP),
        (FORALDER_3_12, {"barn_alder": []}, EJ),
        (FORALDER_3_12, {"alder": 35}, OKL),
        # the child, not the parent, folkbokförd in the kommun
        (BARNET_FOLKBOKFORT, {"barn_folkbokford_i_kommunen": True}, UPP),
        (BARNET_FOLKBOKFORT, {"barn_folkbokford_i_kommunen": False}, EJ),
        (BARNET_FOLKBOKFORT, {"folkbokford_i_kommunen": True}, OKL),
        (
            BARNET_FOLKBOKFORT,
            {"folkbokford_i_kommunen": False, "barn_folkbokford_i_kommunen": True},
            UPP,
        ),
        ({"typ": "folkbokford"}, {"barn_folkbokford_i_kommunen": True}, OKL),
        # barn_i_skola with a year range
        (AK_4_TILL_9, {"barn_skolform": "grundskola", "barn_arskurs": 3}, EJ),
        (AK_4_TILL_9, {"barn_skolform": "grundskola", "barn_arskurs": 4}, UPP),
        (AK_4_TILL_9, {"barn_skolform": "grundskola", "barn_arskurs": 9}, UPP),
        (AK_4_TILL_9, {"barn_skolform": "gymnasieskola", "barn_arskurs": 1}, EJ),
        (AK_4_TILL_9, {"barn_skolform": "grundskola"}, OKL),
        (AK_4_TILL_9, {"barn_arskurs": 5}, OKL),
        (FORSKOLA_ELLER_LAGSTADIET, {"barn_skolform": "forskola"}, UPP),
        (FORSKOLA_ELLER_LAGSTADIET, {"barn_skolform": "grundskola", "barn_arskurs": 0}, UPP),
        (FORSKOLA_ELLER_LAGSTADIET, {"barn_skolform": "grundskola", "barn_arskurs": 6}, UPP),
        (FORSKOLA_ELLER_LAGSTADIET, {"barn_skolform": "grundskola", "barn_arskurs": 7}, EJ),
        (FORSKOLA_ELLER_LAGSTADIET, {"barn_skolform": "grundskola"}, OKL),
        (FORSKOLA_ELLER_LAGSTADIET, {"barn_skolform": "gymnasieskola"}, EJ),
        # samarbetssamtal: both parents' joint request
        ({"typ": "gemensam_begaran"}, {"gemensam_begaran": True}, UPP),
        ({"typ": "gemensam_begaran"}, {"gemensam_begaran": False}, EJ),
        ({"typ": "gemensam_begaran"}, {}, OKL),
        # referral from an external party (e.g. the employer)
        (
            {"typ": "uppdrag_extern_part", "part": "arbetsgivare"},
            {"uppdrag_fran_extern_part": True},
            UPP,
        ),
        ({"typ": "uppdrag_extern_part"}, {"uppdrag_fran_extern_part": False}, EJ),
        ({"typ": "uppdrag_extern_part"}, {}, OKL),
        # vårdnadshavares samtycke, both guardians, under 15
        (SAMTYCKE_BADA_UNDER_15, {"alder": 12, "vardnadshavare_samtycker": 2}, UPP),
        (SAMTYCKE_BADA_UNDER_15, {"alder": 12, "vardnadshavare_samtycker": 1}, EJ),
        (SAMTYCKE_BADA_UNDER_15, {"alder": 14, "vardnadshavare_samtycker": 0}, EJ),
        (SAMTYCKE_BADA_UNDER_15, {"alder": 14}, OKL),
        (SAMTYCKE_BADA_UNDER_15, {"vardnadshavare_samtycker": 2}, OKL),
        (SAMTYCKE_BADA_UNDER_15, {"alder": 15}, UPP),
        (SAMTYCKE_BADA_UNDER_15, {"alder": 15, "vardnadshavare_samtycker": 0}, UPP),
        (SAMTYCKE_EN_UNDER_15, {"alder": 12, "vardnadshavare_samtycker": 1}, UPP),
        (SAMTYCKE_EN_UNDER_15, {"alder": 12, "vardnadshavare_samtycker": 0}, EJ),
        # skyddat boende: no accompanying children
        ({"typ": "utan_medfoljande_barn"}, {"medfoljande_barn": False}, UPP),
        ({"typ": "utan_medfoljande_barn"}, {"medfoljande_barn": True}, EJ),
        ({"typ": "utan_medfoljande_barn"}, {}, OKL),
        # "inga villkor": open to all, whatever is known
        ({"typ": "inga_villkor"}, {}, UPP),
        ({"typ": "inga_villkor"}, {"alder": 3, "folkbokford_i_kommunen": False}, UPP),
        # a document shows target-group membership; an unclear one is doubt
        (ID_ELLER_HYRESAVTAL, {"handlingar": ["hyresavtal"]}, UPP),
        (ID_ELLER_HYRESAVTAL, {"handlingar": ["lakarintyg"]}, EJ),
        (ID_ELLER_HYRESAVTAL, {"handlingar": []}, EJ),
        (ID_ELLER_HYRESAVTAL, {}, OKL),
        (ID_ELLER_HYRESAVTAL, {"handlingar": ["id_handling"], "handling_oklar": True}, OKL),
        (ID_ELLER_HYRESAVTAL, {"handling_oklar": True}, OKL),
    ],
)
def test_seed_style_villkor(
    villkor: dict[str, Any], fakta: dict[str, Any], expected: Utfall
) -> None:
    assert outcome(villkor, **fakta) is expected


def test_drogscreening_style_consent_even_at_15_and_over() -> None:
    """Some insatser require consent beyond 15 (DOMAIN.md): under_alder 18 covers 15-17."""
    villkor = [{"typ": "alder", "till": 17}, {"typ": "vardnadshavares_samtycke", "under_alder": 18}]
    assert outcome(villkor, alder=16, vardnadshavare_samtycker=1) is UPP
    assert outcome(villkor, alder=16, vardnadshavare_samtycker=0) is EJ
    assert outcome(villkor, alder=16) is OKL
    assert outcome(villkor, alder=18, vardnadshavare_samtycker=1) is EJ  # too old for the insats


# --- properties ------------------------------------------------------------------------------

SKOLFORMER = ["forskola", "grundskola", "gymnasieskola"]
HANDLINGAR = ["id_handling", "hyresavtal", "lakarintyg", "intyg_extern_part"]


def opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def ranges(draw: st.DrawFn, hi: int = 120) -> dict[str, int]:
    a, b = sorted(draw(st.tuples(st.integers(0, hi), st.integers(0, hi))))
    which = draw(st.sampled_from(["fran", "till", "both"]))
    return (
        {"fran": a}
        if which == "fran"
        else {"till": b}
        if which == "till"
        else {"fran": a, "till": b}
    )


def school_years(d: dict[str, Any]) -> dict[str, Any]:
    """An ordered year range, or one open at either end, or none."""
    out: dict[str, Any] = {"skolformer": d["skolformer"]}
    if d["arskurser"] is not None:
        lo, hi = sorted(d["arskurser"])
        out |= {"arskurs_fran": lo, "arskurs_till": hi}
        out.pop(f"arskurs_{d['oppen']}", None)
    return out


def leaf_villkor() -> st.SearchStrategy[dict[str, Any]]:
    def with_typ(typ: str, s: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict]:
        return s.map(lambda d: {"typ": typ, **{k: x for k, x in d.items() if x is not None}})

    return st.one_of(
        with_typ("alder", ranges()),
        with_typ(
            "folkbokford", st.fixed_dictionaries({"vem": st.sampled_from(["deltagare", "barnet"])})
        ),
        with_typ(
            "barn_i_skola",
            st.fixed_dictionaries(
                {
                    "skolformer": st.lists(
                        st.sampled_from(SKOLFORMER), min_size=1, max_size=3, unique=True
                    ),
                    "arskurser": opt(st.lists(st.integers(0, 12), min_size=2, max_size=2)),
                    "oppen": st.sampled_from(["", "fran", "till"]),
                }
            ).map(school_years),
        ),
        with_typ("foralder_till_barn", ranges(hi=25)),
        st.just({"typ": "gemensam_begaran"}),
        with_typ(
            "uppdrag_extern_part", st.fixed_dictionaries({"part": opt(st.just("arbetsgivare"))})
        ),
        with_typ(
            "vardnadshavares_samtycke",
            st.fixed_dictionaries(
                {"under_alder": st.integers(1, 18), "antal": st.sampled_from(["en", "bada"])}
            ),
        ),
        st.just({"typ": "utan_medfoljande_barn"}),
        st.just({"typ": "inga_villkor"}),
        with_typ(
            "handling",
            st.fixed_dictionaries(
                {"handlingar": st.lists(st.sampled_from(HANDLINGAR), min_size=1, max_size=4)}
            ),
        ),
    )


villkor_dicts = st.recursive(
    leaf_villkor(),
    lambda inner: st.lists(inner, min_size=2, max_size=3).map(
        lambda members: {"typ": "nagot_av", "villkor": members}
    ),
    max_leaves=6,
)
villkor_st = villkor_dicts.map(v)

fakta_fields: dict[str, st.SearchStrategy[Any]] = {
    "alder": opt(st.integers(0, 120)),
    "folkbokford_i_kommunen": opt(st.booleans()),
    "barn_folkbokford_i_kommunen": opt(st.booleans()),
    "barn_alder": opt(st.lists(st.integers(0, 25), max_size=3)),
    "barn_skolform": opt(st.sampled_from(SKOLFORMER)),
    "barn_arskurs": opt(st.integers(0, 12)),
    "gemensam_begaran": opt(st.booleans()),
    "uppdrag_fran_extern_part": opt(st.booleans()),
    "vardnadshavare_samtycker": opt(st.integers(0, 2)),
    "medfoljande_barn": opt(st.booleans()),
    "handlingar": opt(st.lists(st.sampled_from(HANDLINGAR), max_size=3)),
    "handling_oklar": st.booleans(),
}
fakta_dicts = st.fixed_dictionaries(fakta_fields)

#: The facts each kind of villkor reads (written from the docstrings, not the code).
READS: dict[str, set[str]] = {
    "alder": {"alder"},
    "barn_i_skola": {"barn_skolform", "barn_arskurs"},
    "foralder_till_barn": {"barn_alder"},
    "gemensam_begaran": {"gemensam_begaran"},
    "uppdrag_extern_part": {"uppdrag_fran_extern_part"},
    "vardnadshavares_samtycke": {"alder", "vardnadshavare_samtycker"},
    "utan_medfoljande_barn": {"medfoljande_barn"},
    "inga_villkor": set(),
    "handling": {"handlingar"},
}


def reads(d: dict[str, Any]) -> set[str]:
    if d["typ"] == "nagot_av":
        return set().union(*(reads(m) for m in d["villkor"]))
    if d["typ"] == "folkbokford":
        return {"barn_folkbokford_i_kommunen" if d["vem"] == "barnet" else "folkbokford_i_kommunen"}
    return READS[d["typ"]]


@FAST
@given(
    st.lists(villkor_st, max_size=4), villkor_st, fakta_dicts.map(lambda d: Fakta(**d)), st.data()
)
def test_monotonicity(
    base: list[Villkor], extra: Villkor, fakta: Fakta, data: st.DataObject
) -> None:
    """Adding a villkor that holds changes nothing; adding one that fails gives ej_uppfyllda;
    adding an unclear one turns uppfyllda into oklart and leaves the others alone."""
    before = evaluate(base, fakta)
    alone = evaluate([extra], fakta)
    at = data.draw(st.integers(0, len(base)), label="insert at")
    after = evaluate([*base[:at], extra, *base[at:]], fakta)
    if alone is UPP:
        assert after is before
    elif alone is EJ:
        assert after is EJ
    else:
        assert after is (EJ if before is EJ else OKL)


@FAST
@given(st.lists(villkor_st, max_size=4), fakta_dicts.map(lambda d: Fakta(**d)))
def test_inga_villkor_is_a_neutral_element(base: list[Villkor], fakta: Fakta) -> None:
    assert evaluate([*base, IngaVillkor(typ="inga_villkor")], fakta) is evaluate(base, fakta)


@FAST
@given(ranges(), st.integers(0, 120))
def test_alder_matches_an_inline_check(bounds: dict[str, int], age: int) -> None:
    fran, till = bounds.get("fran"), bounds.get("till")
    inside = (fran is None or fran <= age) and (till is None or age <= till)
    result = evaluate([v({"typ": "alder", **bounds})], Fakta(alder=age))
    assert result is (UPP if inside else EJ)
    assert evaluate([v({"typ": "alder", **bounds})], Fakta()) is OKL


@FAST
@given(ranges(hi=25), st.lists(st.integers(0, 25), max_size=4))
def test_foralder_till_barn_matches_an_inline_check(
    bounds: dict[str, int], children: list[int]
) -> None:
    fran, till = bounds.get("fran"), bounds.get("till")
    inside = any((fran is None or fran <= a) and (till is None or a <= till) for a in children)
    result = evaluate([v({"typ": "foralder_till_barn", **bounds})], Fakta(barn_alder=children))
    assert result is (UPP if inside else EJ)


@FAST
@given(villkor_dicts, fakta_dicts)
def test_missing_facts_never_give_ej_uppfyllda(
    villkor: dict[str, Any], fakta: dict[str, Any]
) -> None:
    """With every fact the villkor reads left unchecked, the outcome is never a refusal."""
    unchecked = {**fakta, **dict.fromkeys(reads(villkor))}
    assert evaluate([v(villkor)], Fakta(**unchecked)) is not EJ


@FAST
@given(st.lists(villkor_st, min_size=2, max_size=4), fakta_dicts.map(lambda d: Fakta(**d)))
def test_nagot_av_holds_iff_some_member_holds(members: list[Villkor], fakta: Fakta) -> None:
    each = [evaluate([m], fakta) for m in members]
    result = evaluate([NagotAv(typ="nagot_av", villkor=members)], fakta)
    assert (result is UPP) == any(r is UPP for r in each)
    assert (result is EJ) == all(r is EJ for r in each)
