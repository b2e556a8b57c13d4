"""The random-inspection draw (approvals/supervision/draw.py) against its specification (docs/random-draw.md).

No database: the module is pure. ``reference_draw`` below is an independent re-implementation
written from the document (hex strings, ``Fraction``, full sorts), sharing no code with the module.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.supervision import draw as draw_module
from approvals.supervision.draw import (
    DEFAULT_RATIOS,
    DrawError,
    Target,
    draw,
    export_check,
    export_document,
    export_dumps,
    inspector_pair,
    inspectors_canonical,
    normalise_seed,
    parse_ratio,
    roster_hash,
    sample_size,
    targets_canonical,
)

ROOT = Path(__file__).resolve().parents[2]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class RefusedError(Exception):
    """The reference draw's refusal: a drawn target with fewer than two eligible inspectors."""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reference_draw(*, seed, campaign, targets, inspectors, recusals, ratios):  # type: ignore[no-untyped-def]
    """The documented algorithm, written plainly: returns [(uscc, (first, second)), …] in draw order."""
    seed = seed.strip()
    recused = set(recusals)
    sample = []
    for grade in "ABCD":
        group = sorted((sha(f"{seed}:{campaign}:{uscc}"), uscc) for uscc, g in targets if g == grade)
        if not group:
            continue
        size = math.ceil(Fraction(ratios[grade]) * len(group))
        for _, uscc in group[:size]:
            ranked = sorted(
                (sha(f"{seed}:{campaign}:{uscc}:{name}"), name) for name in inspectors if (uscc, name) not in recused
            )
            if len(ranked) < 2:
                raise RefusedError(uscc)
            sample.append((uscc, (ranked[0][1], ranked[1][1])))
    return sample


def pairs_of(result):  # type: ignore[no-untyped-def]
    return [(entry.uscc, entry.inspectors) for entry in result.sample]


def seeded(number: int) -> random.Random:
    return random.Random(number)  # noqa: S311  (test data, not security)


def make_uscc(rng: random.Random) -> str:
    return "".join(rng.choice(USCC_ALPHABET) for _ in range(18))


def roster(rng: random.Random, counts: dict[str, int]) -> list[Target]:
    usccs: set[str] = set()
    while len(usccs) < sum(counts.values()):
        usccs.add(make_uscc(rng))
    ordered = sorted(usccs)
    rng.shuffle(ordered)
    grades = [grade for grade, count in counts.items() for _ in range(count)]
    return [Target(uscc, grade) for uscc, grade in zip(ordered, grades, strict=True)]


# --- the worked example of docs/random-draw.md --------------------------------------------------------

EXAMPLE_SEED_TYPED = "  上证指数 2026-05-29 收盘 3345.12\n"
EXAMPLE_CAMPAIGN = "SJ-2026-001"
EXAMPLE_TARGETS = [
    Target("91210102MA0P5K3L2H", "A"),
    Target("91210106MA0Y7T4X6T", "A"),
    Target("91210112MA10B6QJ84", "A"),
    Target("92210103MA0UEXR14L", "B"),
    Target("91210104MA0XU2NH39", "B"),
    Target("91210113MA0QDM8W7J", "C"),
    Target("91210105MA0TT1Q657", "D"),
]
EXAMPLE_INSPECTORS = ["zhao.lei", "li.na", "wang.fang", "zhang.wei"]
EXAMPLE_RECUSALS = [("91210102MA0P5K3L2H", "zhao.lei")]
EXAMPLE_RATIOS = {"A": "0.5", "B": "0.05", "C": "1", "D": "1"}
EXAMPLE_SAMPLE = [
    ("91210102MA0P5K3L2H", ("wang.fang", "li.na")),
    ("91210112MA10B6QJ84", ("li.na", "zhang.wei")),
    ("91210104MA0XU2NH39", ("li.na", "zhang.wei")),
    ("91210113MA0QDM8W7J", ("zhang.wei", "li.na")),
    ("91210105MA0TT1Q657", ("wang.fang", "zhang.wei")),
]
EXAMPLE_TARGETS_HASH = "8a5728b9d75faeb823eea470f812a774bafeb830ba1bf38397e352bec9ba3af5"
EXAMPLE_INSPECTORS_HASH = "027811162954d1baeb721d272931653c9a7c7297ffb1cbf3df8b2da44eff66fe"


def example_draw(**overrides):  # type: ignore[no-untyped-def]
    arguments = {
        "seed": EXAMPLE_SEED_TYPED,
        "campaign_code": EXAMPLE_CAMPAIGN,
        "targets": EXAMPLE_TARGETS,
        "inspectors": EXAMPLE_INSPECTORS,
        "recusals": EXAMPLE_RECUSALS,
        "ratios": EXAMPLE_RATIOS,
    }
    arguments.update(overrides)
    return draw(**arguments)


def example_export() -> dict:
    result = example_draw()
    return export_document(
        campaign_code=EXAMPLE_CAMPAIGN,
        seed=result.seed,
        ratios=EXAMPLE_RATIOS,
        targets=EXAMPLE_TARGETS,
        inspectors=EXAMPLE_INSPECTORS,
        recusals=EXAMPLE_RECUSALS,
        sample=result.sample,
        roster_hashes=result.roster_hashes,
    )


def test_draw_gives_the_documented_worked_example():
    # Given the inputs of the worked example in docs/random-draw.md
    # When the module and the independent re-implementation draw
    result = example_draw()
    independent = reference_draw(
        seed=EXAMPLE_SEED_TYPED,
        campaign=EXAMPLE_CAMPAIGN,
        targets=[(t.uscc, t.grade) for t in EXAMPLE_TARGETS],
        inspectors=EXAMPLE_INSPECTORS,
        recusals=EXAMPLE_RECUSALS,
        ratios=EXAMPLE_RATIOS,
    )
    # Then both give the documented sample, sizes, keys and roster hashes
    assert pairs_of(result) == EXAMPLE_SAMPLE
    assert independent == EXAMPLE_SAMPLE
    assert result.sample_sizes == {"A": 2, "B": 1, "C": 1, "D": 1}
    assert result.seed == "上证指数 2026-05-29 收盘 3345.12"
    assert result.sample[0].key == sha("上证指数 2026-05-29 收盘 3345.12:SJ-2026-001:91210102MA0P5K3L2H")
    assert result.sample[0].key.startswith("44a6067dae9df1c3")
    assert result.roster_hashes == {"targets": EXAMPLE_TARGETS_HASH, "inspectors": EXAMPLE_INSPECTORS_HASH}
    documented = (ROOT / "docs" / "random-draw.md").read_text(encoding="utf-8")
    assert EXAMPLE_TARGETS_HASH in documented and EXAMPLE_INSPECTORS_HASH in documented


# --- against the independent re-implementation ------------------------------------------------------


@st.composite
def draw_inputs(draw_value):  # type: ignore[no-untyped-def]
    usccs = draw_value(st.lists(st.text(USCC_ALPHABET, min_size=18, max_size=18), min_size=0, max_size=40, unique=True))
    targets = [(uscc, draw_value(st.sampled_from("ABCD"))) for uscc in usccs]
    inspectors = draw_value(
        st.lists(
            st.text(st.sampled_from("abcxyz.09_张伟李娜É"), min_size=1, max_size=6), min_size=0, max_size=8, unique=True
        )
    )
    recusals = []
    if usccs and inspectors:
        recusals = draw_value(
            st.lists(st.tuples(st.sampled_from(usccs), st.sampled_from(inspectors)), max_size=15, unique=True)
        )
    ratio = st.one_of(st.just("0"), st.just("1"), st.integers(1, 999).map(lambda n: f"0.{n:03d}"))
    ratios = {grade: draw_value(ratio) for grade in "ABCD"}
    seed = draw_value(st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).filter(str.strip))
    padding = draw_value(st.sampled_from(["", " ", "\t", "\u3000", "\n "]))
    campaign = draw_value(st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True))
    return {
        "seed": padding + seed + padding,
        "campaign": campaign,
        "targets": targets,
        "inspectors": inspectors,
        "recusals": recusals,
        "ratios": ratios,
    }


@settings(max_examples=200, deadline=None)
@given(inputs=draw_inputs())
def test_draw_agrees_with_an_independent_reimplementation(inputs):
    # Given random rosters, recusals, ratios and seeds (padded, non-ASCII)
    # When both implementations draw
    try:
        expected = reference_draw(**inputs)
    except RefusedError as refusal:
        expected = refusal
    try:
        result = draw(
            seed=inputs["seed"],
            campaign_code=inputs["campaign"],
            targets=[Target(*t) for t in inputs["targets"]],
            inspectors=inputs["inspectors"],
            recusals=inputs["recusals"],
            ratios=inputs["ratios"],
        )
    except DrawError as error:
        # Then a refusal happens for both, naming the same (first) target
        assert isinstance(expected, RefusedError), error
        assert error.code == "too_few_inspectors"
        assert error.params["uscc"] == expected.args[0]
        return
    # Then the samples are identical, entry by entry
    assert not isinstance(expected, RefusedError)
    assert pairs_of(result) == expected
    assert [e.key for e in result.sample] == [
        sha(f"{inputs['seed'].strip()}:{inputs['campaign']}:{uscc}") for uscc, _ in expected
    ]


def test_draw_is_identical_on_every_run_and_in_any_input_order():
    # Given a campaign of 3 000 targets and 30 inspectors, some recusals
    rng = seeded(7)
    targets = roster(rng, {"A": 1950, "B": 750, "C": 240, "D": 60})
    inspectors = [f"inspector{i:02d}" for i in range(30)]
    recusals = [(t.uscc, rng.choice(inspectors)) for t in rng.sample(targets, 300)]
    first = draw(
        seed="2026-06-01",
        campaign_code="SJ-1",
        targets=targets,
        inspectors=inspectors,
        recusals=recusals,
        ratios=DEFAULT_RATIOS,
    )
    # When it is drawn again, with every input list shuffled
    shuffled = [list(targets), list(inspectors), list(recusals)]
    for items in shuffled:
        rng.shuffle(items)
    again = draw(
        seed="2026-06-01",
        campaign_code="SJ-1",
        targets=shuffled[0],
        inspectors=shuffled[1],
        recusals=shuffled[2],
        ratios=DEFAULT_RATIOS,
    )
    # Then the result is the same, and matches the independent re-implementation
    assert again == first
    assert pairs_of(first) == reference_draw(
        seed="2026-06-01",
        campaign="SJ-1",
        targets=[(t.uscc, t.grade) for t in targets],
        inspectors=inspectors,
        recusals=recusals,
        ratios=DEFAULT_RATIOS,
    )
    assert first.sample_sizes == {"A": 39, "B": 38, "C": 240, "D": 60}


def test_draw_with_helper_processes_gives_the_same_sample(monkeypatch):
    # Given a draw large enough to split across processes
    rng = seeded(11)
    targets = roster(rng, {"C": 400})
    inspectors = [f"i{i}" for i in range(12)]
    recusals = [(t.uscc, "i3") for t in targets[:50]]
    arguments = {
        "seed": "x",
        "campaign_code": "SJ-2",
        "targets": targets,
        "inspectors": inspectors,
        "recusals": recusals,
        "ratios": {"C": "1"},
    }
    alone = draw(**arguments, workers=1)
    ranked_here = []
    rank_two = draw_module._rank_two

    def counting_rank_two(*args):  # type: ignore[no-untyped-def]
        ranked_here.append(args[0])
        return rank_two(*args)

    monkeypatch.setattr(draw_module, "_rank_two", counting_rank_two)
    # When it is drawn again with one helper process (a fresh interpreter, without the counter)
    shared = draw(**arguments, workers=2)
    # Then this process ranked only its half, and nothing differs
    assert len(ranked_here) == 200
    assert shared == alone
    assert len(alone.sample) == 400


# --- ratios and the exact ceiling ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "count", "expected"),
    [
        ("0.07", 100, 7),
        ("0.02", 65_000, 1_300),
        ("0.05", 25_000, 1_250),
        ("0.05", 2, 1),
        ("0.333", 1000, 333),
        ("0.3333", 3, 1),
        ("0.001", 1, 1),
        ("0", 500, 0),
        ("1", 500, 500),
        ("1.0", 3, 3),
        ("0.5", 0, 0),
        ("0.0000000000000000000000000000001", 10**40, 10**9),
    ],
)
def test_sample_size_is_the_exact_ceiling(ratio, count, expected):
    assert sample_size(ratio=parse_ratio(ratio), count=count) == expected


def test_float_arithmetic_would_overdraw_seven_percent_of_a_hundred():
    # The trap the exact ceiling avoids (if this ever fails, the test above lost its point).
    assert math.ceil(0.07 * 100) == 8
    assert sample_size(ratio=Decimal("0.07"), count=100) == 7


def test_draw_takes_the_exact_ceiling_in_each_grade():
    # Given 100 targets per grade and ratios 7 %, 0, 100 % and 0.5 %
    rng = seeded(3)
    targets = roster(rng, {"A": 100, "B": 100, "C": 100, "D": 100})
    ratios = {"A": "0.07", "B": "0", "C": "1", "D": "0.005"}
    # When drawn
    result = draw(seed="s", campaign_code="SJ-3", targets=targets, inspectors=["a", "b"], recusals=[], ratios=ratios)
    # Then each grade gives exactly ceil(ratio × 100), and the sample runs A, B, C, D by key
    per_grade = {grade: sum(1 for e in result.sample if e.grade == grade) for grade in "ABCD"}
    assert per_grade == {"A": 7, "B": 0, "C": 100, "D": 1}
    assert result.sample_sizes == per_grade
    assert result.roster_counts == {"A": 100, "B": 100, "C": 100, "D": 100}
    order = [("ABCD".index(e.grade), e.key) for e in result.sample]
    assert order == sorted(order)
    grade_a = sorted(sha(f"s:SJ-3:{t.uscc}") for t in targets if t.grade == "A")
    assert [e.key for e in result.sample if e.grade == "A"] == grade_a[:7]


def test_draw_accepts_decimal_ratios_like_their_strings():
    as_strings = example_draw()
    as_decimals = example_draw(ratios={grade: Decimal(text) for grade, text in EXAMPLE_RATIOS.items()})
    assert as_decimals == as_strings


@pytest.mark.parametrize(
    "text",
    ["1.5", "2", "-0.1", "+0.1", "1e-2", "NaN", "Infinity", " 0.1", "0.1 ", ".5", "5.", "0,05", "", "٠.٥", "1_0"],
)
def test_parse_ratio_refuses_anything_but_a_plain_decimal_from_0_to_1(text):
    with pytest.raises(DrawError) as refused:
        parse_ratio(text)
    assert refused.value.code == "ratio_invalid"


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("1", 1), ("0.02", Decimal("0.02")), ("1.000", 1)])
def test_parse_ratio_reads_plain_decimals(text, value):
    assert parse_ratio(text) == value


def test_draw_refuses_an_invalid_ratio_naming_the_grade():
    with pytest.raises(DrawError) as refused:
        example_draw(ratios={**EXAMPLE_RATIOS, "B": "0.5%"})
    assert refused.value.code == "ratio_invalid"
    assert refused.value.params["grade"] == "B"


def test_draw_refuses_a_grade_without_ratio_and_an_unknown_grade():
    with pytest.raises(DrawError) as missing:
        example_draw(ratios={"A": "1", "B": "1", "C": "1"})
    assert (missing.value.code, missing.value.params["grade"]) == ("ratio_missing", "D")
    with pytest.raises(DrawError) as unknown:
        example_draw(ratios={**EXAMPLE_RATIOS, "E": "1"})
    assert unknown.value.code == "grade_unknown"
    with pytest.raises(DrawError) as unknown_target:
        example_draw(targets=[*EXAMPLE_TARGETS, Target("91210100000000000X", "E")])
    assert (unknown_target.value.code, unknown_target.value.params["uscc"]) == ("grade_unknown", "91210100000000000X")


def test_grades_without_targets_need_no_ratio():
    result = example_draw(targets=EXAMPLE_TARGETS[:3], ratios={"A": "1"})
    assert [e.grade for e in result.sample] == ["A", "A", "A"]


# --- recusals and refusal ---------------------------------------------------------------------------


def inspector_ranking(seed: str, campaign: str, uscc: str, inspectors: list[str]) -> list[str]:
    return sorted(inspectors, key=lambda name: sha(f"{seed}:{campaign}:{uscc}:{name}"))


def test_recusing_the_first_ranked_inspector_brings_in_the_third():
    # Given a single target and six inspectors, ranked by their documented keys
    uscc = "91210100MA0000001K"
    inspectors = [f"inspector{i}" for i in range(6)]
    ranking = inspector_ranking("seed", "SJ-4", uscc, inspectors)
    arguments = {"seed": "seed", "campaign_code": "SJ-4", "targets": [Target(uscc, "D")], "inspectors": inspectors}
    # When drawn without and with the first-ranked one recused
    plain = draw(**arguments, recusals=[], ratios={"D": "1"})
    recused = draw(**arguments, recusals=[(uscc, ranking[0])], ratios={"D": "1"})
    both = draw(**arguments, recusals=[(uscc, ranking[0]), (uscc, ranking[2])], ratios={"D": "1"})
    # Then the pair moves down the same ranking, deterministically
    assert plain.sample[0].inspectors == (ranking[0], ranking[1])
    assert recused.sample[0].inspectors == (ranking[1], ranking[2])
    assert both.sample[0].inspectors == (ranking[1], ranking[3])
    assert draw(**arguments, recusals=[(uscc, ranking[0])], ratios={"D": "1"}) == recused


def test_recusals_of_other_targets_or_unrostered_people_change_nothing():
    irrelevant = [("91210100MA0000001K", "li.na"), ("91210102MA0P5K3L2H", "nobody"), *EXAMPLE_RECUSALS * 2]
    assert example_draw(recusals=irrelevant) == example_draw()


def test_draw_is_refused_as_a_whole_when_a_drawn_target_has_too_few_inspectors():
    # Given three inspectors, and two of them recused for the grade-C target (always drawn)
    targets = [*EXAMPLE_TARGETS]
    inspectors = ["li.na", "wang.fang", "zhang.wei"]
    recusals = [("91210113MA0QDM8W7J", "li.na"), ("91210113MA0QDM8W7J", "zhang.wei")]
    # When drawn
    with pytest.raises(DrawError) as refused:
        example_draw(targets=targets, inspectors=inspectors, recusals=recusals)
    # Then nothing is returned and the error names that target
    assert refused.value.code == "too_few_inspectors"
    assert refused.value.params == {"uscc": "91210113MA0QDM8W7J", "eligible": 1, "needed": 2}
    assert "91210113MA0QDM8W7J" in str(refused.value)


def test_recusals_of_undrawn_targets_do_not_refuse_the_draw():
    # 92210103MA0UEXR14L (grade B) is not drawn in the worked example
    everyone = [("92210103MA0UEXR14L", name) for name in EXAMPLE_INSPECTORS]
    assert pairs_of(example_draw(recusals=[*EXAMPLE_RECUSALS, *everyone])) == EXAMPLE_SAMPLE


def test_draw_is_refused_with_fewer_than_two_inspectors_on_the_roster():
    with pytest.raises(DrawError) as refused:
        example_draw(inspectors=["li.na"], recusals=[])
    assert refused.value.code == "too_few_inspectors"
    assert refused.value.params["uscc"] == "91210102MA0P5K3L2H"  # the first in draw order


def test_inspector_pair_is_the_pair_the_draw_gives():
    result = example_draw()
    for entry in result.sample:
        recused = {name for uscc, name in EXAMPLE_RECUSALS if uscc == entry.uscc}
        pair = inspector_pair(
            seed=EXAMPLE_SEED_TYPED,
            campaign_code=EXAMPLE_CAMPAIGN,
            uscc=entry.uscc,
            inspectors=EXAMPLE_INSPECTORS,
            recused=recused,
        )
        assert pair == entry.inspectors


def test_inspector_pair_for_a_commitment_verification():
    # Given a reference number as seed and a fixed label; one of three recused
    ranking = inspector_ranking("SZ-2026-000123", "verification", "91210102MA0P5K3L2H", EXAMPLE_INSPECTORS)
    pair = inspector_pair(
        seed="SZ-2026-000123",
        campaign_code="verification",
        uscc="91210102MA0P5K3L2H",
        inspectors=EXAMPLE_INSPECTORS,
        recused={ranking[1], "not-on-roster"},
    )
    assert pair == (ranking[0], ranking[2])
    with pytest.raises(DrawError) as refused:
        inspector_pair(
            seed="SZ-2026-000123",
            campaign_code="verification",
            uscc="91210102MA0P5K3L2H",
            inspectors=EXAMPLE_INSPECTORS,
            recused=set(ranking[:3]),
        )
    assert refused.value.code == "too_few_inspectors"


# --- inputs refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "params"),
    [
        ({"seed": " \u3000\n"}, "seed_empty", {}),
        ({"campaign_code": ""}, "campaign_code_empty", {}),
        ({"campaign_code": "SJ:1"}, "campaign_code_invalid", {"campaign": "SJ:1"}),
        (
            {"targets": [*EXAMPLE_TARGETS, Target("91210102MA0P5K3L2H", "B")]},
            "duplicate_target",
            {"uscc": "91210102MA0P5K3L2H"},
        ),
        ({"targets": [*EXAMPLE_TARGETS, Target("9121 0102", "B")]}, "uscc_invalid", {"uscc": "9121 0102"}),
        (
            {"targets": [*EXAMPLE_TARGETS, Target("91210102ma0p5k3l2x", "B")]},
            "uscc_invalid",
            {"uscc": "91210102ma0p5k3l2x"},
        ),
        ({"inspectors": [*EXAMPLE_INSPECTORS, "li.na"]}, "duplicate_inspector", {"inspector": "li.na"}),
        ({"inspectors": [*EXAMPLE_INSPECTORS, "li na"]}, "inspector_invalid", {"inspector": "li na"}),
        ({"inspectors": [*EXAMPLE_INSPECTORS, ""]}, "inspector_invalid", {"inspector": ""}),
    ],
)
def test_draw_refuses_malformed_inputs_with_a_code(overrides, code, params):
    with pytest.raises(DrawError) as refused:
        example_draw(**overrides)
    assert refused.value.code == code
    assert refused.value.params == params


# --- the seed -----------------------------------------------------------------------------------------


def test_seed_is_used_as_entered_but_stripped():
    # Given the same seed typed with surrounding white space (full-width space included)
    # When drawn
    padded = example_draw(seed="\u3000 上证指数 2026-05-29 收盘 3345.12 \t\n")
    plain = example_draw(seed="上证指数 2026-05-29 收盘 3345.12")
    # Then the draws are the same; inner spaces and case still count
    assert padded == plain
    assert normalise_seed("  a b \n") == "a b"
    assert pairs_of(example_draw(seed="上证指数 2026-05-29  收盘 3345.12")) != pairs_of(plain)
    assert example_draw(seed="Seed").sample != example_draw(seed="seed").sample


def test_seed_that_is_only_white_space_is_refused():
    for text in ["", "   ", "\u3000", "\n\t"]:
        with pytest.raises(DrawError) as refused:
            normalise_seed(text)
        assert refused.value.code == "seed_empty"


# --- roster hashes --------------------------------------------------------------------------------------


def test_roster_canonical_forms_and_hashes_ignore_input_order():
    # Given the rosters in two different orders
    shuffled_targets = list(reversed(EXAMPLE_TARGETS))
    shuffled_inspectors = sorted(EXAMPLE_INSPECTORS, reverse=True)
    # When put in canonical form
    text = targets_canonical(EXAMPLE_TARGETS)
    # Then the text is the sorted "uscc,grade" lines without a trailing newline, whatever the order
    assert text == (
        "91210102MA0P5K3L2H,A\n91210104MA0XU2NH39,B\n91210105MA0TT1Q657,D\n91210106MA0Y7T4X6T,A\n"
        "91210112MA10B6QJ84,A\n91210113MA0QDM8W7J,C\n92210103MA0UEXR14L,B"
    )
    assert targets_canonical(shuffled_targets) == text
    assert targets_canonical([(t.uscc, t.grade) for t in shuffled_targets]) == text
    assert inspectors_canonical(shuffled_inspectors) == "li.na\nwang.fang\nzhang.wei\nzhao.lei"
    assert roster_hash(text) == sha(text) == EXAMPLE_TARGETS_HASH
    assert roster_hash(inspectors_canonical(EXAMPLE_INSPECTORS)) == EXAMPLE_INSPECTORS_HASH
    assert roster_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_roster_hash_changes_with_a_grade_and_sorts_usernames_by_code_point():
    changed = [Target(t.uscc, "B" if t.uscc == "91210102MA0P5K3L2H" else t.grade) for t in EXAMPLE_TARGETS]
    assert roster_hash(targets_canonical(changed)) != EXAMPLE_TARGETS_HASH
    assert inspectors_canonical(["张伟", "zhang", "Zhang", "李娜"]) == "Zhang\nzhang\n张伟\n李娜"
    with pytest.raises(DrawError) as refused:
        targets_canonical([*EXAMPLE_TARGETS, EXAMPLE_TARGETS[0]])
    assert refused.value.code == "duplicate_target"


# --- the export ---------------------------------------------------------------------------------------


def test_export_document_has_exactly_the_specified_shape_and_order():
    # Given the worked example, its inputs passed in a scrambled order
    result = example_draw()
    document = export_document(
        campaign_code=EXAMPLE_CAMPAIGN,
        seed=EXAMPLE_SEED_TYPED,
        ratios={"D": "1", "C": "1", "B": "0.05", "A": "0.5"},
        targets=list(reversed(EXAMPLE_TARGETS)),
        inspectors=EXAMPLE_INSPECTORS,
        recusals=[*EXAMPLE_RECUSALS, ("91210101000000000A", "li.na"), *EXAMPLE_RECUSALS],
        sample=list(reversed(result.sample)),
    )
    # Then the fields, their order and their content are canonical
    assert list(document) == [
        "campaign",
        "seed",
        "ratios",
        "targets",
        "inspectors",
        "recusals",
        "roster_hashes",
        "sample",
    ]
    assert document["campaign"] == "SJ-2026-001"
    assert document["seed"] == "上证指数 2026-05-29 收盘 3345.12"
    assert list(document["ratios"].items()) == [("A", "0.5"), ("B", "0.05"), ("C", "1"), ("D", "1")]
    assert document["targets"][0] == {"uscc": "91210102MA0P5K3L2H", "grade": "A"}
    assert [t["uscc"] for t in document["targets"]] == sorted(t.uscc for t in EXAMPLE_TARGETS)
    assert all(list(t) == ["uscc", "grade"] for t in document["targets"])
    assert document["inspectors"] == ["li.na", "wang.fang", "zhang.wei", "zhao.lei"]
    assert document["recusals"] == [
        {"uscc": "91210101000000000A", "inspector": "li.na"},
        {"uscc": "91210102MA0P5K3L2H", "inspector": "zhao.lei"},
    ]
    assert document["roster_hashes"] == {"targets": EXAMPLE_TARGETS_HASH, "inspectors": EXAMPLE_INSPECTORS_HASH}
    assert document["sample"] == [{"uscc": uscc, "inspectors": list(pair)} for uscc, pair in EXAMPLE_SAMPLE]
    assert all(list(s) == ["uscc", "inspectors"] for s in document["sample"])
    # And only the grades given appear in the ratios
    only_c = export_document(
        campaign_code="SJ-5", seed="s", ratios={"C": Decimal("1")}, targets=[], inspectors=[], recusals=[], sample=[]
    )
    assert only_c["ratios"] == {"C": "1"}


def test_export_round_trips_through_its_text_and_checks_clean():
    # Given the worked example's export written as text
    text = export_dumps(example_export())
    # When read back and checked
    problems = export_check(json.loads(text))
    # Then nothing is wrong, and the text is one field / one list element per line
    assert problems == []
    assert json.loads(text) == example_export()
    assert '    {"uscc": "91210102MA0P5K3L2H", "inspectors": ["wang.fang", "li.na"]},\n' in text
    assert "上证指数" in text and text.endswith("}\n")


def _set_seed(doc):  # type: ignore[no-untyped-def]
    doc["seed"] = "上证指数 2026-05-29 收盘 3345.13"


def _set_grade(doc):  # type: ignore[no-untyped-def]
    doc["targets"][1]["grade"] = "A"  # 91210104MA0XU2NH39 from B to A


def _remove_target(doc):  # type: ignore[no-untyped-def]
    del doc["targets"][3]  # 91210106MA0Y7T4X6T, grade A, not drawn


def _alter_sample(doc):  # type: ignore[no-untyped-def]
    doc["sample"][0]["inspectors"] = ["zhao.lei", "wang.fang"]  # ignores the recusal


def _swap_sample(doc):  # type: ignore[no-untyped-def]
    doc["sample"][2]["uscc"] = "92210103MA0UEXR14L"  # the B target that was not drawn


def _alter_roster_hash(doc):  # type: ignore[no-untyped-def]
    doc["roster_hashes"]["inspectors"] = "0" * 64


def _add_inspector(doc):  # type: ignore[no-untyped-def]
    doc["inspectors"].append("zz.new")


def _drop_recusal(doc):  # type: ignore[no-untyped-def]
    doc["recusals"] = []


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_set_seed, r"^sample\[\d\]: the export has"),
        (_set_grade, r"^roster_hashes\.targets: "),
        (_remove_target, r"^roster_hashes\.targets: "),
        (_alter_sample, r"^sample\[0\]: the export has 91210102MA0P5K3L2H with zhao\.lei, wang\.fang"),
        (_swap_sample, r"^sample\[2\]: the export has 92210103MA0UEXR14L"),
        (_alter_roster_hash, r"^roster_hashes\.inspectors: the export says 0{64}"),
        (_add_inspector, r"^roster_hashes\.inspectors: "),
        (_drop_recusal, r"^sample\[0\]: "),
    ],
)
def test_export_check_finds_each_kind_of_tampering(tamper, expected):
    # Given an untouched export
    document = example_export()
    assert export_check(document) == []
    # When one thing is changed
    tampered = copy.deepcopy(document)
    tamper(tampered)
    problems = export_check(tampered)
    # Then the check reports it
    assert any(re.search(expected, problem) for problem in problems), problems


def test_export_check_reports_a_changed_grade_also_in_the_sample():
    # Moving the only C target to A changes the sizes: A draws ceil(0.5 × 4) = 2, C none.
    document = example_export()
    document["targets"][5]["grade"] = "A"
    problems = export_check(document)
    assert any(problem.startswith("roster_hashes.targets") for problem in problems)
    assert any(problem.startswith("sample") for problem in problems)


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda doc: doc.pop("recusals"), "missing fields: recusals"),
        (lambda doc: doc.update(extra=1), "unexpected fields: extra"),
        (lambda doc: doc.update(seed=" " + doc["seed"]), "seed: empty or with surrounding white space"),
        (lambda doc: doc["targets"].reverse(), "targets: not sorted by USCC"),
        (lambda doc: doc["inspectors"].reverse(), "inspectors: not sorted"),
        (
            lambda doc: doc["ratios"].update(A="0.5%"),
            "the draw cannot be re-run from the export's inputs: ratio_invalid",
        ),
        (lambda doc: doc["targets"].append({"uscc": "X"}), "targets[7]: not an object"),
        (lambda doc: doc["sample"].pop(), "sample: the export lists 4 targets, the draw gives 5"),
        (
            lambda doc: doc.update(
                inspectors=["li.na"], roster_hashes={"targets": EXAMPLE_TARGETS_HASH, "inspectors": sha("li.na")}
            ),
            "the draw cannot be re-run from the export's inputs: too_few_inspectors",
        ),
    ],
)
def test_export_check_reports_malformed_exports(tamper, expected):
    document = example_export()
    tamper(document)
    problems = export_check(document)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_export_check_is_not_a_json_object():
    assert export_check([]) == ["the export is not a JSON object"]  # type: ignore[arg-type]


# --- the auditor's script in docs/random-draw.md --------------------------------------------------------


def _documented_verify_script() -> str:
    text = (ROOT / "docs" / "random-draw.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    scripts = [block for block in blocks if block.startswith("# verify.py")]
    assert len(scripts) == 1, "docs/random-draw.md should hold exactly one verify.py block"
    return scripts[0]


def run_script(script: Path, export: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(script), str(export)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603


def test_documented_verify_script_accepts_an_export_and_rejects_a_tampered_one(tmp_path):
    # Given the auditor's script from the documentation and a larger export (all grades, recusals)
    script = tmp_path / "verify.py"
    script.write_text(_documented_verify_script(), encoding="utf-8")
    rng = seeded(5)
    targets = roster(rng, {"A": 300, "B": 120, "C": 40, "D": 10})
    inspectors = [f"inspector{i:02d}" for i in range(15)] + ["张伟"]
    recusals = [(t.uscc, rng.choice(inspectors)) for t in rng.sample(targets, 80)]
    result = draw(
        seed=" 沪深300 4012.7 ",
        campaign_code="SJ-6",
        targets=targets,
        inspectors=inspectors,
        recusals=recusals,
        ratios=DEFAULT_RATIOS,
    )
    document = export_document(
        campaign_code="SJ-6",
        seed=result.seed,
        ratios=DEFAULT_RATIOS,
        targets=targets,
        inspectors=inspectors,
        recusals=recusals,
        sample=result.sample,
    )
    good = tmp_path / "export.json"
    good.write_text(export_dumps(document), encoding="utf-8")
    document["sample"][-1]["inspectors"].reverse()
    bad = tmp_path / "tampered.json"
    bad.write_text(export_dumps(document), encoding="utf-8")
    # When the script runs on each
    accepted = run_script(script, good)
    rejected = run_script(script, bad)
    # Then it exits 0 on the genuine export and 1 on the tampered one
    assert (accepted.returncode, accepted.stdout.strip()) == (
        0,
        f"OK: {len(result.sample)} targets drawn, roster hashes match",
    )
    assert rejected.returncode == 1
    assert "sample differs" in rejected.stdout


def test_module_is_pure_python_without_django():
    # The auditors' reference and the benchmark import it without Django or any package.
    source = Path(draw_module.__file__).read_text(encoding="utf-8")
    imported = set(re.findall(r"^\s*(?:from|import) (\w+)", source, flags=re.MULTILINE))
    assert "hashlib" in imported
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
