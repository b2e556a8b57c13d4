"""The deterministic random-inspection draw (双随机一公开): pure functions, standard library only.

Anyone holding a campaign's export can re-run the draw and must get the same sample; the algorithm
is specified in ``docs/random-draw.md`` and this module is its reference implementation. No Django
here: the models and management commands (``draw_export``, ``draw_verify``) call these functions
and translate ``DrawError.code`` into a user-facing message.

Summary (the document is the authority):

- The seed is public and typed by a person; it is used as entered, stripped of surrounding white
  space (``str.strip()``).
- Target key ``sha256("{seed}:{campaign}:{uscc}")``, lowercase hex of the UTF-8 bytes. Within each
  grade the targets are sorted by key and the first ``ceil(ratio × count)`` are drawn; the ceiling
  is computed exactly (ratios are decimal strings, never floats).
- Inspector key ``sha256("{seed}:{campaign}:{uscc}:{username}")``; the two lowest keys among the
  inspectors not recused for that target inspect it. If any drawn target has fewer than two
  eligible inspectors, the whole draw is refused.

Comparing ``digest()`` bytes gives the same order as comparing lowercase hex (two hex digits per
byte, ``0-9`` before ``a-f`` in ASCII), so the hot loops never build hex strings.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from operator import attrgetter
from typing import Any, cast

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
DEFAULT_RATIOS: dict[str, str] = {"A": "0.02", "B": "0.05", "C": "1", "D": "1"}
INSPECTORS_PER_TARGET = 2
# Inspector hashes from which ``draw`` ranks in two processes. Measured with bench/draw_bench.py on
# 2 cores: at 500 000 hashes a helper barely pays for its start (0.15 s against 0.165 s in one
# process), at 1 000 000 it saves a third (0.25 s against 0.35 s), at 2 500 000 0.62 s against 0.97 s.
PARALLEL_THRESHOLD = 1_000_000
EXPORT_KEYS: tuple[str, ...] = (
    "campaign",
    "seed",
    "ratios",
    "targets",
    "inspectors",
    "recusals",
    "roster_hashes",
    "sample",
)

# Plain decimal notation only: no sign, exponent, underscores, white space or non-ASCII digits, all
# of which ``Decimal()`` would otherwise accept and an auditor's tool might read differently.
_RATIO_SYNTAX = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)
_USCC_SHAPE = re.compile(r"[0-9A-Z]{18}", re.ASCII)
# Greater than every 32-byte digest: marks an inspector as no longer a candidate.
_EXCLUDED = b"\xff" * 33
_SHA256 = hashlib.sha256
_HASH = type(_SHA256())
_GRADE_SET = frozenset(GRADES)
_BY_USCC = attrgetter("uscc")


class DrawError(Exception):
    """The draw (or one of its inputs) is refused.

    ``code`` is a stable snake_case string (tests and the Django layer rely on it, the latter to
    translate); ``message`` is English; ``params`` names the offending value, e.g. ``{"uscc": …}``.
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        self.code = code
        self.message = message
        self.params = params
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class Target:
    """One enterprise of the frozen target roster with its credit grade at freeze time."""

    uscc: str
    grade: str


@dataclass(frozen=True, slots=True)
class SampleEntry:
    """One drawn target: its grade, its key (lowercase hex) and its two inspectors in rank order."""

    uscc: str
    grade: str
    key: str
    inspectors: tuple[str, str]


@dataclass(frozen=True, slots=True)
class DrawResult:
    """The outcome of ``draw``. ``sample`` is in draw order: grade A, B, C, D, then key ascending.

    ``ratios`` holds the canonical ratio strings of the grades given; ``roster_counts`` and
    ``sample_sizes`` are per grade of ``GRADES`` (zero where the roster has none).
    """

    campaign_code: str
    seed: str
    ratios: dict[str, str]
    roster_counts: dict[str, int]
    sample_sizes: dict[str, int]
    roster_hashes: dict[str, str]
    sample: tuple[SampleEntry, ...]


# --- inputs -----------------------------------------------------------------------------------------


def parse_ratio(text: str) -> Decimal:
    """Read a sampling ratio written as a plain decimal string (``"0.02"``, ``"1"``, ``"0.5"``).

    Accepted: ASCII digits with at most one decimal point between digits, value between 0 and 1
    inclusive. Raises ``DrawError("ratio_invalid", value=…)`` otherwise (signs, exponents, ``NaN``,
    white space, a leading or trailing point, a value above 1).
    """
    if not isinstance(text, str) or not _RATIO_SYNTAX.fullmatch(text):
        raise DrawError(
            "ratio_invalid",
            f"A sampling ratio is a decimal number between 0 and 1 written like 0.05; got {text!r}.",
            value=text,
        )
    value = Decimal(text)
    if value > 1:
        raise DrawError("ratio_invalid", f"A sampling ratio cannot exceed 1; got {text!r}.", value=text)
    return value


def ratio_text(value: str | Decimal) -> str:
    """The canonical string of a ratio: a string is kept as written (once valid), a ``Decimal``
    is written in plain notation (``Decimal("2E-2")`` → ``"0.02"``). Raises ``ratio_invalid``."""
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() else str(value)
        if text.startswith("-") and value == 0:
            text = text[1:]
        parse_ratio(text)
        return text
    parse_ratio(value)
    return value


def sample_size(*, ratio: Decimal, count: int) -> int:
    """``ceil(ratio × count)``, exactly: the ratio is taken as the fraction it denotes, so 7 % of 100
    is 7 (a float product would give 7.000000000000001 and a ceiling of 8)."""
    if not ratio.is_finite() or ratio < 0 or ratio > 1:
        raise DrawError("ratio_invalid", f"A sampling ratio lies between 0 and 1; got {ratio}.", value=str(ratio))
    if count < 0:
        raise ValueError("count must not be negative")
    numerator, denominator = ratio.as_integer_ratio()
    return -((-numerator * count) // denominator)


def normalise_seed(text: str) -> str:
    """The seed as the draw uses it: ``text.strip()`` (Unicode white space, full-width space
    included). Raises ``DrawError("seed_empty")`` when nothing is left."""
    seed = text.strip() if isinstance(text, str) else ""
    if not seed:
        raise DrawError("seed_empty", "Enter the public seed of the draw; it cannot be empty.")
    return seed


def _check_campaign_code(campaign_code: str) -> None:
    # A code without ':' keeps "seed:code:uscc" unambiguous: the USCC has a fixed length and the
    # code no separator, so the seed is whatever precedes them, colons included.
    if not isinstance(campaign_code, str) or not campaign_code:
        raise DrawError("campaign_code_empty", "The campaign code cannot be empty.")
    if ":" in campaign_code or any(ch.isspace() for ch in campaign_code):
        raise DrawError(
            "campaign_code_invalid",
            f"A campaign code contains neither ':' nor white space; got {campaign_code!r}.",
            campaign=campaign_code,
        )


def _check_uscc(uscc: str) -> None:
    # Shape only (18 characters, digits and capital letters): the check digit is the Django layer's
    # business. The shape keeps the canonical roster lines and the hash inputs unambiguous.
    if not isinstance(uscc, str) or not _USCC_SHAPE.fullmatch(uscc):
        raise DrawError(
            "uscc_invalid",
            f"A target is identified by an 18-character code of digits and capital letters; got {uscc!r}.",
            uscc=uscc,
        )


def _check_username(username: str) -> None:
    if not isinstance(username, str) or not username or any(ch.isspace() for ch in username):
        raise DrawError(
            "inspector_invalid",
            f"An inspector is a non-empty username without white space; got {username!r}.",
            inspector=username,
        )


def _as_target(item: Target | tuple[str, str]) -> Target:
    return item if isinstance(item, Target) else Target(*item)


def _targets_checked(targets: Iterable[Target | tuple[str, str]]) -> list[Target]:
    """Targets with a valid shape and a known grade, no USCC twice, sorted by USCC.

    Checked in bulk first (a roster has 100 000 targets); the slow loops only run to name the
    offending target.
    """
    roster = [item if type(item) is Target else _as_target(item) for item in targets]
    usccs = [t.uscc for t in roster]
    try:
        shaped = all(map(_USCC_SHAPE.fullmatch, usccs))
    except TypeError:
        shaped = False
    if not shaped:
        for uscc in usccs:
            _check_uscc(uscc)
    try:
        graded = {t.grade for t in roster} <= _GRADE_SET
    except TypeError:
        graded = False
    if not graded:
        for target in roster:
            if not isinstance(target.grade, str) or target.grade not in _GRADE_SET:
                raise DrawError(
                    "grade_unknown",
                    f"Target {target.uscc} has grade {target.grade!r}; a grade is one of A, B, C, D.",
                    uscc=target.uscc,
                    grade=target.grade,
                )
    if len(set(usccs)) != len(usccs):
        seen: set[str] = set()
        for uscc in usccs:
            if uscc in seen:
                raise DrawError("duplicate_target", f"Target {uscc} is on the roster twice.", uscc=uscc)
            seen.add(uscc)
    roster.sort(key=_BY_USCC)
    return roster


def _inspectors_checked(usernames: Iterable[str]) -> list[str]:
    """Valid usernames, none twice, sorted."""
    seen: set[str] = set()
    for username in usernames:
        _check_username(username)
        if username in seen:
            raise DrawError("duplicate_inspector", f"Inspector {username} is on the roster twice.", inspector=username)
        seen.add(username)
    return sorted(seen)


def _ratios_checked(ratios: Mapping[str, str | Decimal]) -> dict[str, str]:
    """Canonical ratio strings in grade order, for the grades given only."""
    for grade in ratios:
        if grade not in GRADES:
            raise DrawError("grade_unknown", f"Ratio given for unknown grade {grade!r}.", grade=grade)
    result = {}
    for grade in GRADES:
        if grade in ratios:
            try:
                result[grade] = ratio_text(ratios[grade])
            except DrawError as exc:
                raise DrawError(
                    "ratio_invalid", f"Grade {grade}: {exc.message}", grade=grade, value=ratios[grade]
                ) from None
    return result


# --- canonical forms and keys -----------------------------------------------------------------------


def targets_canonical(targets: Iterable[Target | tuple[str, str]]) -> str:
    """The text the targets' roster hash is taken of: one ``uscc,grade`` line per target, sorted
    by USCC, joined by ``\\n`` with no trailing newline. The input order does not matter. Raises
    ``uscc_invalid``, ``grade_unknown``, ``duplicate_target``."""
    return "\n".join(f"{t.uscc},{t.grade}" for t in _targets_checked(targets))


def inspectors_canonical(usernames: Iterable[str]) -> str:
    """The text the inspectors' roster hash is taken of: the usernames sorted (code point order,
    which is UTF-8 byte order), joined by ``\\n``, no trailing newline. Raises
    ``inspector_invalid``, ``duplicate_inspector``."""
    return "\n".join(_inspectors_checked(usernames))


def roster_hash(text: str) -> str:
    """SHA-256 of the UTF-8 bytes of ``text`` (a canonical form above), lowercase hex."""
    return _SHA256(text.encode("utf-8")).hexdigest()


def target_key(*, seed: str, campaign_code: str, uscc: str) -> str:
    """``sha256(f"{seed}:{campaign_code}:{uscc}")`` of the UTF-8 bytes, lowercase hex. The seed is
    taken as given: pass it through ``normalise_seed`` first."""
    return _SHA256(f"{seed}:{campaign_code}:{uscc}".encode()).hexdigest()


def inspector_key(*, seed: str, campaign_code: str, uscc: str, username: str) -> str:
    """``sha256(f"{seed}:{campaign_code}:{uscc}:{username}")`` of the UTF-8 bytes, lowercase hex."""
    return _SHA256(f"{seed}:{campaign_code}:{uscc}:{username}".encode()).hexdigest()


# --- the draw ---------------------------------------------------------------------------------------


def _rank_two(prefix: bytes, names: Sequence[bytes], excluded: Iterable[int]) -> tuple[int, int] | None:
    """Indexes into ``names`` of the two lowest ``sha256(prefix + name)`` digests, skipping the
    ``excluded`` indexes; ``None`` when fewer than two remain.

    The hot loop of the draw (about 12 500 targets × 200 inspectors in the benchmark): one hash
    state for the prefix, copied per name, and ``map`` over the unbound C methods so no Python
    bytecode runs per inspector.
    """
    count = len(names)
    states = list(map(_HASH.copy, repeat(_SHA256(prefix), count)))
    for _ in map(_HASH.update, states, names):
        pass
    digests = list(map(_HASH.digest, states))
    removed = 0
    for index in set(excluded):
        digests[index] = _EXCLUDED
        removed += 1
    if count - removed < INSPECTORS_PER_TARGET:
        return None
    first = digests.index(min(digests))
    digests[first] = _EXCLUDED
    second = digests.index(min(digests))
    return first, second


def _rank_chunk(
    prefixes: Sequence[bytes], names: Sequence[bytes], excluded: Sequence[Sequence[int]]
) -> list[tuple[int, int] | None]:
    """``_rank_two`` for many subjects; module level so that a worker process can run it."""
    return [_rank_two(prefix, names, skip) for prefix, skip in zip(prefixes, excluded, strict=True)]


def _helpers_start(count: int) -> Executor | None:
    """Start ``count`` helper processes for the inspector ranking, or ``None`` if they cannot start.

    "spawn" (a fresh interpreter that imports only this module and the standard library), never
    "fork": the caller may be a multi-threaded web worker holding locks and database connections.
    Like every "spawn" user, the program's main module must guard its entry point with
    ``if __name__ == "__main__":`` (``manage.py``, gunicorn and pytest do). A no-op is submitted to
    each so the interpreters boot while this process hashes the targets.
    """
    import multiprocessing
    import os
    import sys
    from concurrent.futures import ProcessPoolExecutor

    main = sys.modules.get("__main__")
    main_path = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is None and main_path is not None and not os.path.isfile(main_path):
        return None  # a program read from standard input: a spawned helper could not import it
    try:
        pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))
        for _ in range(count):
            pool.submit(int)
    except (OSError, RuntimeError):
        return None
    return pool


def _rank_split(
    pool: Executor, parts: int, prefixes: Sequence[bytes], names: Sequence[bytes], excluded: Sequence[Sequence[int]]
) -> list[tuple[int, int] | None]:
    """``_rank_chunk`` in ``parts`` contiguous slices: this process ranks the first, the helpers the
    others (hashlib keeps the GIL for inputs this short, so threads would not help). A slice whose
    helper failed is ranked here; the result does not depend on who ranked what."""
    step = -(-len(prefixes) // parts)
    (start, stop), *rest = [(a, min(a + step, len(prefixes))) for a in range(0, len(prefixes), step)]
    try:
        futures = [pool.submit(_rank_chunk, prefixes[a:b], names, excluded[a:b]) for a, b in rest]
    except RuntimeError:
        return _rank_chunk(prefixes, names, excluded)
    ranked = _rank_chunk(prefixes[start:stop], names, excluded[start:stop])
    for (a, b), future in zip(rest, futures, strict=True):
        try:
            ranked.extend(future.result())
        except (OSError, RuntimeError):  # BrokenProcessPool is a RuntimeError
            ranked.extend(_rank_chunk(prefixes[a:b], names, excluded[a:b]))
    return ranked


def _too_few(uscc: str, eligible: int) -> DrawError:
    return DrawError(
        "too_few_inspectors",
        f"Target {uscc} has {eligible} eligible inspector(s) after recusals, {INSPECTORS_PER_TARGET} are "
        "needed; nothing was drawn.",
        uscc=uscc,
        eligible=eligible,
        needed=INSPECTORS_PER_TARGET,
    )


def inspector_pair(
    *, seed: str, campaign_code: str, uscc: str, inspectors: Iterable[str], recused: Collection[str]
) -> tuple[str, str]:
    """The two inspectors for one subject: the usernames ordered by
    ``inspector_key(seed, campaign_code, uscc, username)`` ascending, recused ones skipped, first two.

    General on purpose: ``draw`` gives the same pair for each drawn target, and a commitment
    verification can pick its pair with its own seed (e.g. a reference number) and a fixed label
    as ``campaign_code``; ``uscc`` is then any subject identifier. The seed is normalised
    (``normalise_seed``). Names in ``recused`` that are not in ``inspectors`` are ignored.

    Errors: ``seed_empty``, ``campaign_code_empty``, ``campaign_code_invalid``,
    ``inspector_invalid``, ``duplicate_inspector``, ``too_few_inspectors`` (params ``uscc``,
    ``eligible``, ``needed``).
    """
    seed = normalise_seed(seed)
    _check_campaign_code(campaign_code)
    names = _inspectors_checked(inspectors)
    excluded = [i for i, name in enumerate(names) if name in recused]
    ranked = _rank_two(f"{seed}:{campaign_code}:{uscc}:".encode(), [name.encode() for name in names], excluded)
    if ranked is None:
        raise _too_few(uscc, len(names) - len(excluded))
    return names[ranked[0]], names[ranked[1]]


def _auto_workers(hashes: int) -> int:
    import os

    if hashes < PARALLEL_THRESHOLD:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def draw(
    *,
    seed: str,
    campaign_code: str,
    targets: Sequence[Target | tuple[str, str]],
    inspectors: Sequence[str],
    recusals: Iterable[tuple[str, str]],
    ratios: Mapping[str, str | Decimal],
    workers: int | None = None,
) -> DrawResult:
    """Draw the targets and their inspectors. Pure and deterministic: the same inputs give the same
    result whatever the order of the rosters and recusals, and whatever ``workers``.

    ``recusals`` are ``(uscc, username)`` pairs; repeats, and pairs naming a target or inspector not
    on the rosters, have no effect. ``ratios`` maps grades to decimal strings (or ``Decimal``), e.g.
    ``DEFAULT_RATIOS``; every grade on the target roster needs one. All or nothing: on any error
    nothing is returned.

    ``workers`` only changes the speed: ``None`` ranks the inspectors in this process unless the
    draw needs at least ``PARALLEL_THRESHOLD`` inspector hashes, then in two processes (when the
    machine has two cores); ``1`` never starts a process; ``n`` uses this process and ``n - 1``
    helpers (see ``_helpers_start``).

    Errors (``DrawError.code``): ``seed_empty``; ``campaign_code_empty``, ``campaign_code_invalid``;
    ``grade_unknown`` (a target's grade or a ratio's grade outside A–D); ``ratio_invalid``
    (``grade``, ``value``); ``ratio_missing`` (``grade``: targets of that grade but no ratio);
    ``uscc_invalid``; ``duplicate_target`` (``uscc``); ``inspector_invalid``;
    ``duplicate_inspector`` (``inspector``); ``too_few_inspectors`` (``uscc``, ``eligible``,
    ``needed``): the first drawn target, in draw order, with fewer than two eligible inspectors.
    """
    seed = normalise_seed(seed)
    _check_campaign_code(campaign_code)
    ratio_texts = _ratios_checked(ratios)
    roster = _targets_checked(targets)
    names = _inspectors_checked(inspectors)
    name_index = {name: i for i, name in enumerate(names)}
    by_grade: dict[str, list[str]] = {grade: [] for grade in GRADES}
    for target in roster:
        by_grade[target.grade].append(target.uscc)
    # A recusal naming someone or something not on the rosters cannot change the draw: ignored.
    recused_by_target: dict[str, set[int]] = {}
    for uscc, username in recusals:
        index = name_index.get(username)
        if index is not None:
            recused_by_target.setdefault(uscc, set()).add(index)
    for grade in GRADES:
        if by_grade[grade] and grade not in ratio_texts:
            raise DrawError(
                "ratio_missing", f"The roster has grade {grade} targets but no ratio for grade {grade}.", grade=grade
            )

    roster_counts = {grade: len(by_grade[grade]) for grade in GRADES}
    sample_sizes = {
        grade: sample_size(ratio=Decimal(ratio_texts[grade]), count=count) if count else 0
        for grade, count in roster_counts.items()
    }
    drawn_count = sum(sample_sizes.values())
    if workers is None:
        workers = _auto_workers(drawn_count * len(names))
    pool = _helpers_start(workers - 1) if workers > 1 and drawn_count >= 2 * workers else None
    try:
        target_base = _SHA256(f"{seed}:{campaign_code}:".encode())
        drawn: list[tuple[bytes, str, str]] = []
        for grade in GRADES:
            usccs, size = by_grade[grade], sample_sizes[grade]
            if not size:
                continue
            states = list(map(_HASH.copy, repeat(target_base, len(usccs))))
            for _ in map(_HASH.update, states, [uscc.encode() for uscc in usccs]):
                pass
            # (digest, uscc): the USCC would only break a tie, which needs a SHA-256 collision.
            keyed = zip(map(_HASH.digest, states), usccs, repeat(grade))
            drawn.extend(sorted(keyed) if size == len(usccs) else heapq.nsmallest(size, keyed))

        encoded = [name.encode() for name in names]
        prefix_head = f"{seed}:{campaign_code}:"
        prefixes = [f"{prefix_head}{uscc}:".encode() for _, uscc, _ in drawn]
        excluded = [tuple(recused_by_target.get(uscc, ())) for _, uscc, _ in drawn]
        if pool is None:
            ranked = _rank_chunk(prefixes, encoded, excluded)
        else:
            ranked = _rank_split(pool, workers, prefixes, encoded, excluded)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    sample = []
    for (digest, uscc, grade), pair, skip in zip(drawn, ranked, excluded, strict=True):
        if pair is None:
            raise _too_few(uscc, len(names) - len(skip))
        sample.append(SampleEntry(uscc, grade, digest.hex(), (names[pair[0]], names[pair[1]])))

    return DrawResult(
        campaign_code=campaign_code,
        seed=seed,
        ratios=ratio_texts,
        roster_counts=roster_counts,
        sample_sizes=sample_sizes,
        roster_hashes={
            "targets": roster_hash("\n".join([f"{t.uscc},{t.grade}" for t in roster])),
            "inspectors": roster_hash("\n".join(names)),
        },
        sample=tuple(sample),
    )


# --- export and its check -----------------------------------------------------------------------------


def _ratio_exported(value: object) -> object:
    if isinstance(value, Decimal):
        try:
            return ratio_text(value)
        except DrawError:
            return str(value)
    return value


def _sample_item(entry: object) -> tuple[object, list[object]]:
    if isinstance(entry, SampleEntry):
        return entry.uscc, list(entry.inspectors)
    if isinstance(entry, Mapping):
        return entry.get("uscc"), list(entry.get("inspectors") or ())
    uscc, inspectors = cast(tuple[object, Iterable[object]], entry)
    return uscc, list(inspectors)


def export_document(
    *,
    campaign_code: str,
    seed: str,
    ratios: Mapping[str, str | Decimal],
    targets: Iterable[Target | tuple[str, str]],
    inspectors: Iterable[str],
    recusals: Iterable[tuple[str, str]],
    sample: Iterable[SampleEntry | tuple[str, Sequence[str]] | Mapping[str, Any]],
    roster_hashes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The campaign's public export, in canonical order (``docs/random-draw.md``)::

        {"campaign", "seed", "ratios", "targets", "inspectors", "recusals", "roster_hashes", "sample"}

    - ``seed`` stripped; ``ratios`` in grade order A–D, only the grades given, as decimal strings;
    - ``targets`` ``{"uscc", "grade"}`` sorted by USCC; ``inspectors`` sorted; ``recusals``
      ``{"uscc", "inspector"}`` sorted by (uscc, inspector), repeats dropped;
    - ``roster_hashes`` as given (pass the hashes published when the rosters were frozen, so that a
      roster changed afterwards shows), else computed from the rosters;
    - ``sample`` ``{"uscc", "inspectors": [first, second]}`` as stored (``SampleEntry``,
      ``(uscc, inspectors)`` pairs or mappings), put in draw order: grade A, B, C, D, then target
      key; a USCC missing from the roster goes last.

    Deliberately no validation: it writes what is stored, so that ``export_check`` can judge it.
    Serialise with ``export_dumps`` for byte-identical files.
    """
    seed_text = seed.strip()
    pairs = sorted(((t.uscc, t.grade) for t in map(_as_target, targets)), key=lambda p: p[0])
    names = sorted(inspectors)
    if roster_hashes is None:
        hashes = {
            "targets": roster_hash("\n".join(f"{uscc},{grade}" for uscc, grade in pairs)),
            "inspectors": roster_hash("\n".join(names)),
        }
    else:
        hashes = {"targets": roster_hashes["targets"], "inspectors": roster_hashes["inspectors"]}
    grade_rank = {uscc: GRADES.index(grade) if grade in _GRADE_SET else len(GRADES) for uscc, grade in pairs}
    items = [_sample_item(entry) for entry in sample]

    def draw_order(item: tuple[object, list[object]]) -> tuple[int, str]:
        uscc = str(item[0])
        return grade_rank.get(uscc, len(GRADES)), target_key(seed=seed_text, campaign_code=campaign_code, uscc=uscc)

    items.sort(key=draw_order)
    return {
        "campaign": campaign_code,
        "seed": seed_text,
        "ratios": {grade: _ratio_exported(ratios[grade]) for grade in GRADES if grade in ratios},
        "targets": [{"uscc": uscc, "grade": grade} for uscc, grade in pairs],
        "inspectors": names,
        "recusals": [{"uscc": uscc, "inspector": name} for uscc, name in sorted(set(recusals))],
        "roster_hashes": hashes,
        "sample": [{"uscc": uscc, "inspectors": pair} for uscc, pair in items],
    }


def export_dumps(document: Mapping[str, Any]) -> str:
    """The export as text, UTF-8 with non-ASCII kept: one top-level field per line and one list
    element (target, inspector, recusal, sample entry) per line, newline at the end. Valid JSON that
    diffs line by line; ``draw_export`` and the audit console's download both write exactly this."""

    def dumps(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {dumps(item)}" for item in value)
            lines.append(f"  {dumps(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {dumps(key)}: {dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


_MAX_REPORTED = 20


def _records(
    document: Mapping[str, Any], field: str, keys: tuple[str, ...], problems: list[str]
) -> list[tuple[str, ...]] | None:
    """The list ``document[field]`` of objects with exactly ``keys`` (string values) as tuples."""
    value = document[field]
    if not isinstance(value, list):
        problems.append(f"{field}: not a list")
        return None
    rows = []
    for position, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != set(keys) or not all(isinstance(item[k], str) for k in keys):
            problems.append(f"{field}[{position}]: not an object with exactly the string fields {', '.join(keys)}")
            return None
        rows.append(tuple(item[k] for k in keys))
    return rows


def export_check(document: Mapping[str, Any], *, workers: int | None = None) -> list[str]:
    """Check an export (as ``json.load`` gives it) against itself: its shape and canonical order, its
    roster hashes recomputed from its rosters, and its sample against a fresh ``draw`` from its own
    seed, campaign, ratios, rosters and recusals. Returns the problems in English, one per line
    (at most 20 sample differences are listed); an empty list means everything matches.
    """
    problems: list[str] = []
    if not isinstance(document, Mapping):
        return ["the export is not a JSON object"]
    missing = [key for key in EXPORT_KEYS if key not in document]
    extra = sorted(set(document) - set(EXPORT_KEYS))
    if missing:
        problems.append(f"missing fields: {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected fields: {', '.join(extra)}")
    if missing:
        return problems

    campaign, seed, ratios = document["campaign"], document["seed"], document["ratios"]
    if not isinstance(campaign, str):
        problems.append("campaign: not a string")
    if not isinstance(seed, str):
        problems.append("seed: not a string")
    elif seed != seed.strip() or not seed:
        problems.append("seed: empty or with surrounding white space (the draw uses it stripped)")
    if not isinstance(ratios, dict) or not all(isinstance(value, str) for value in ratios.values()):
        problems.append("ratios: not an object of decimal strings")
        ratios = None
    elif list(ratios) != [grade for grade in GRADES if grade in ratios]:
        problems.append("ratios: grades other than A, B, C, D or not in the order A, B, C, D")

    targets = _records(document, "targets", ("uscc", "grade"), problems)
    recusals = _records(document, "recusals", ("uscc", "inspector"), problems)
    inspectors = document["inspectors"]
    if not isinstance(inspectors, list) or not all(isinstance(name, str) for name in inspectors):
        problems.append("inspectors: not a list of usernames")
        inspectors = None
    sample_value = document["sample"]
    sample: list[tuple[str, list[str]]] | None = None
    if not isinstance(sample_value, list):
        problems.append("sample: not a list")
    else:
        sample = []
        for position, item in enumerate(sample_value):
            if (
                not isinstance(item, dict)
                or set(item) != {"uscc", "inspectors"}
                or not isinstance(item["uscc"], str)
                or not isinstance(item["inspectors"], list)
                or not all(isinstance(name, str) for name in item["inspectors"])
            ):
                problems.append(f"sample[{position}]: not an object with a uscc and a list of inspectors")
                sample = None
                break
            sample.append((item["uscc"], item["inspectors"]))

    if targets is not None and targets != sorted(targets, key=lambda row: row[0]):
        problems.append("targets: not sorted by USCC")
    if inspectors is not None and inspectors != sorted(inspectors):
        problems.append("inspectors: not sorted")
    if recusals is not None and recusals != sorted(set(recusals)):
        problems.append("recusals: not sorted by (uscc, inspector) or listed twice")

    hashes = document["roster_hashes"]
    if not isinstance(hashes, dict) or set(hashes) != {"targets", "inspectors"}:
        problems.append("roster_hashes: not an object with exactly targets and inspectors")
    else:
        if targets is not None:
            text = "\n".join(f"{uscc},{grade}" for uscc, grade in sorted(targets, key=lambda row: row[0]))
            if roster_hash(text) != hashes["targets"]:
                problems.append(
                    f"roster_hashes.targets: the export says {hashes['targets']}, its targets hash to {roster_hash(text)}"
                )
        if inspectors is not None:
            text = "\n".join(sorted(inspectors))
            if roster_hash(text) != hashes["inspectors"]:
                problems.append(
                    f"roster_hashes.inspectors: the export says {hashes['inspectors']}, "
                    f"its inspectors hash to {roster_hash(text)}"
                )

    if None in (targets, recusals, inspectors, sample, ratios) or not isinstance(campaign, str):
        problems.append("the draw was not re-run: the export's inputs are malformed")
        return problems
    assert targets is not None and recusals is not None and inspectors is not None and sample is not None
    try:
        result = draw(
            seed=seed,
            campaign_code=campaign,
            targets=[Target(uscc, grade) for uscc, grade in targets],
            inspectors=inspectors,
            recusals=recusals,  # type: ignore[arg-type]
            ratios=ratios,
            workers=workers,
        )
    except DrawError as exc:
        problems.append(f"the draw cannot be re-run from the export's inputs: {exc.code}: {exc.message}")
        return problems

    expected = [(entry.uscc, list(entry.inspectors)) for entry in result.sample]
    if len(sample) != len(expected):
        problems.append(f"sample: the export lists {len(sample)} targets, the draw gives {len(expected)}")
    differences = [
        (position, found, wanted)
        for position, (found, wanted) in enumerate(zip(sample, expected, strict=False))
        if found != wanted
    ]
    for position, (uscc, pair), (drawn_uscc, drawn_pair) in differences[:_MAX_REPORTED]:
        problems.append(
            f"sample[{position}]: the export has {uscc} with {', '.join(pair)}; "
            f"the draw gives {drawn_uscc} with {', '.join(drawn_pair)}"
        )
    if len(differences) > _MAX_REPORTED:
        problems.append(f"sample: {len(differences) - _MAX_REPORTED} more differences not listed")
    return problems
