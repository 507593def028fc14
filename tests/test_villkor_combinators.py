"""Combinators and the built-in kinds added for what real decisions say (11 kap. 5 § SoL).

`alla_av`, `nagot_av` and `inte` nest freely and follow three-valued logic: a fact not
given is doubt (oklart), never a yes or a no. The oracle below orders the outcomes
ej < oklart < uppfyllt (Kleene: and = min, or = max, not = reversal), written apart from
the evaluator.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from iubledger.decisions.villkor import evaluate, holds
from iubledger.schemas.villkor import Fakta, Utfall, Villkor

FAST = hsettings(max_examples=300, deadline=None)
ONE = TypeAdapter(Villkor)
NAMES = ["a", "b", "c", "d"]
RANK = {False: 0, None: 1, True: 2}


def leaf(name: str) -> dict[str, Any]:
    return {"typ": "faktum", "namn": name, "ar": True}


trees = st.recursive(
    st.sampled_from(NAMES).map(leaf),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda vs: {"typ": "alla_av", "villkor": vs}),
        st.lists(inner, min_size=2, max_size=3).map(lambda vs: {"typ": "nagot_av", "villkor": vs}),
        inner.map(lambda v: {"typ": "inte", "villkor": v}),
    ),
    max_leaves=8,
)
worlds = st.fixed_dictionaries({n: st.sampled_from([True, False, None]) for n in NAMES})


def fakta(world: dict[str, bool | None]) -> Fakta:
    return Fakta(deklarerade={k: v for k, v in world.items() if v is not None})


def oracle(tree: dict[str, Any], world: dict[str, bool | None]) -> int:
    match tree["typ"]:
        case "faktum":
            return RANK[world[tree["namn"]]]
        case "alla_av":
            return min(oracle(t, world) for t in tree["villkor"])
        case "nagot_av":
            return max(oracle(t, world) for t in tree["villkor"])
        case "inte":
            return 2 - oracle(tree["villkor"], world)
    raise AssertionError(tree)


def value(tree: dict[str, Any], world: dict[str, bool | None]) -> bool | None:
    return holds(ONE.validate_python(tree), fakta(world))


@FAST
@given(trees, worlds)
def test_every_tree_agrees_with_the_kleene_oracle(
    tree: dict[str, Any], world: dict[str, bool | None]
) -> None:
    assert RANK[value(tree, world)] == oracle(tree, world)


@FAST
@given(trees, trees, worlds)
def test_de_morgan(x: dict[str, Any], y: dict[str, Any], world: dict[str, bool | None]) -> None:
    def inte(t: dict[str, Any]) -> dict[str, Any]:
        return {"typ": "inte", "villkor": t}

    both = {"typ": "alla_av", "villkor": [x, y]}
    either = {"typ": "nagot_av", "villkor": [x, y]}
    assert value(inte(both), world) == value(
        {"typ": "nagot_av", "villkor": [inte(x), inte(y)]}, world
    )
    assert value(inte(either), world) == value(
        {"typ": "alla_av", "villkor": [inte(x), inte(y)]}, world
    )


@FAST
@given(trees, worlds)
def test_double_negation_and_idempotence(x: dict[str, Any], world: dict[str, bool | None]) -> None:
    assert value({"typ": "inte", "villkor": {"typ": "inte", "villkor": x}}, world) == value(
        x, world
    )
    assert value({"typ": "alla_av", "villkor": [x, x]}, world) == value(x, world)
    assert value({"typ": "nagot_av", "villkor": [x, x]}, world) == value(x, world)
    assert value({"typ": "alla_av", "villkor": [x]}, world) == value(x, world)


@FAST
@given(trees, trees, trees, worlds)
def test_commutative_associative_distributive(
    x: dict[str, Any], y: dict[str, Any], z: dict[str, Any], world: dict[str, bool | None]
) -> None:
    def alla(*vs: dict[str, Any]) -> dict[str, Any]:
        return {"typ": "alla_av", "villkor": list(vs)}

    def nagot(*vs: dict[str, Any]) -> dict[str, Any]:
        return {"typ": "nagot_av", "villkor": list(vs)}

    assert value(alla(x, y), world) == value(alla(y, x), world)
    assert value(nagot(x, y), world) == value(nagot(y, x), world)
    assert value(alla(x, alla(y, z)), world) == value(alla(alla(x, y), z), world)
    assert value(alla(x, nagot(y, z)), world) == value(nagot(alla(x, y), alla(x, z)), world)


@FAST
@given(trees, worlds, st.sampled_from(NAMES), st.booleans())
def test_settling_a_doubt_never_changes_a_settled_outcome(
    x: dict[str, Any], world: dict[str, bool | None], name: str, fact: bool
) -> None:
    """Kleene monotonicity: a missing fact gives oklart only where it matters."""
    before = value(x, world)
    after = value(x, {**world, name: fact} if world[name] is None else world)
    assert before is None or after == before


@FAST
@given(trees, worlds)
def test_the_list_of_an_insats_is_alla_av(x: dict[str, Any], world: dict[str, bool | None]) -> None:
    y = {"typ": "inte", "villkor": x}
    listed = evaluate([ONE.validate_python(x), ONE.validate_python(y)], fakta(world))
    combined = value({"typ": "alla_av", "villkor": [x, y]}, world)
    assert (
        listed
        == {True: Utfall.uppfyllda, False: Utfall.ej_uppfyllda, None: Utfall.oklart}[combined]
    )


# --- the built-ins added because they recur ------------------------------------------------


def check(villkor: dict[str, Any], **facts: Any) -> bool | None:
    return holds(ONE.validate_python(villkor), Fakta(**facts))


def test_gender() -> None:
    """ "Kvinnor och icke-binära": a man is not let into the women's group."""
    v = {"typ": "kon", "kon": ["kvinna", "annat"]}
    assert check(v, kon="kvinna") is True
    assert check(v, kon="annat") is True
    assert check(v, kon="man") is False
    assert check(v) is None
    assert check(v, kon="uppgift_saknas") is None


def test_relation_with_the_other_persons_age() -> None:
    """ "Förälder till barn i åldern 3–12": a 22-year-old's parent is not in the target group."""
    v = {"typ": "relation", "roll": "foralder", "fran": 3, "till": 12}
    assert check(v, relationer=[{"roll": "foralder", "alder": 7}]) is True
    assert check(v, relationer=[{"roll": "foralder", "alder": 22}]) is False
    assert check(v, relationer=[{"roll": "syskon", "alder": 7}]) is False
    assert check(v, relationer=[{"roll": "foralder"}]) is None
    assert check(v, relationer=[{"roll": "foralder", "alder": 22}, {"roll": "foralder"}]) is None
    assert check(v) is None
    anhorig = {"typ": "relation", "roll": "anhorig"}
    assert check(anhorig, relationer=[{"roll": "anhorig"}]) is True
    assert check(anhorig, relationer=[]) is False


def test_area_situation_and_document() -> None:
    omrade = {"typ": "omrade", "omraden": ["hisingen", "centrum"]}
    assert check(omrade, omrade="hisingen") is True
    assert check(omrade, omrade="angered") is False
    assert check(omrade) is None
    situation = {"typ": "situation", "situation": "utsatt_for_brott"}
    assert check(situation, situationer=["utsatt_for_brott", "utsatt_for_vald"]) is True
    assert check(situation, situationer=[]) is False
    assert check(situation) is None
    diagnos = {"typ": "handling", "handlingar": ["diagnosintyg"]}
    assert check(diagnos, handlingar=["diagnosintyg"]) is True
    assert check(diagnos, handlingar=["id_handling"]) is False
    assert check(diagnos, handlingar=["diagnosintyg"], handling_oklar=True) is None


def test_synnerliga_skal_below_an_age() -> None:
    """ "Barn under 12 år endast om synnerliga skäl finns"."""
    v = {"typ": "synnerliga_skal", "under_alder": 12}
    assert check(v, alder=12) is True
    assert check(v, alder=11) is None
    assert check(v, alder=11, synnerliga_skal=True) is True
    assert check(v, alder=11, synnerliga_skal=False) is False
    assert check(v, synnerliga_skal=True) is None


def test_negation_as_real_decisions_write_it() -> None:
    """ "Som inte uppbär ekonomiskt bistånd"."""
    v = {"typ": "inte", "villkor": {"typ": "faktum", "namn": "ekonomiskt_bistand", "ar": True}}
    assert check(v, deklarerade={"ekonomiskt_bistand": False}) is True
    assert check(v, deklarerade={"ekonomiskt_bistand": True}) is False
    assert check(v, deklarerade={}) is None


@pytest.mark.parametrize(
    ("villkor", "value", "expected"),
    [
        ({"ar": "hog_franvaro"}, "hog_franvaro", True),
        ({"ar": "hog_franvaro"}, "ej_skolgang", False),
        ({"i": ["hog_franvaro", "ej_skolgang"]}, "ej_skolgang", True),
        ({"i": ["hog_franvaro"]}, "skolgang", False),
        ({"fran": 2, "till": 4}, 3, True),
        ({"fran": 2, "till": 4}, 5, False),
        ({"till": 4}, 4, True),
        ({"fran": date(2025, 1, 1)}, date(2024, 12, 31), False),
        ({"fran": date(2025, 1, 1)}, date(2025, 1, 1), True),
        ({"ar": True}, 1, False),
        ({"ar": 1}, True, False),
        ({"fran": 2}, date(2025, 1, 1), None),
    ],
)
def test_faktum_comparisons(villkor: dict[str, Any], value: Any, expected: bool | None) -> None:
    v = {"typ": "faktum", "namn": "x", **villkor}
    assert check(v, deklarerade={"x": value}) is expected
    assert check(v, deklarerade={}) is None


@pytest.mark.parametrize(
    "villkor",
    [
        {"typ": "faktum", "namn": "x"},
        {"typ": "faktum", "namn": "x", "ar": True, "i": ["a"]},
        {"typ": "faktum", "namn": "x", "fran": 3, "till": 2},
        {"typ": "faktum", "namn": "x", "fran": 3, "till": "2025-01-01"},
        {"typ": "faktum", "namn": "X"},
        {"typ": "kon", "kon": []},
        {"typ": "kon", "kon": ["kvinna", "icke-binar"]},
        {"typ": "relation", "roll": "foralder", "fran": 12, "till": 3},
        {"typ": "alla_av", "villkor": []},
        {"typ": "inte", "villkor": [{"typ": "inga_villkor"}]},
        {"typ": "inte", "villkor": {"typ": "behovsbedomning"}},
        {"typ": "alla_av", "villkor": [{"typ": "nagot_av", "villkor": [{"typ": "okand"}] * 2}]},
    ],
)
def test_malformed_villkor_are_refused(villkor: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ONE.validate_json(json.dumps(villkor))


def test_docs_show_an_example_of_every_kind_and_each_parses() -> None:
    """docs/decisions.md: one example line per villkor form, each valid."""
    from pathlib import Path
    from typing import get_args

    text = (Path(__file__).resolve().parents[1] / "docs" / "decisions.md").read_text()
    block = text.split("Examples of each form:", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    parsed = [ONE.validate_json(line) for line in block.strip().splitlines()]
    (union, *_) = get_args(Villkor)
    assert {type(v) for v in parsed} == set(get_args(union))
