"""Every refusal at a pending confirmation must be read as a refusal (issue 14).

A bot that asks before an irreversible action is only as safe as its reading of the
answer: a "no, leave it as it is" read as ``affirm`` runs the action, and read as a
new value for one of the action's slots it asks again about something nobody said.
The sets beside this file (written by ``generate.py``, by someone who had not read
``soni.nlu``) hold answers typed at each example bot's pending confirmation, each
marked ``# refusal``, ``# acceptance`` or ``# correction``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from soni import Bot
from soni.testing import evaluate, load_labeled_set

pytestmark = pytest.mark.slow  # hundreds of cases, each a conversation

HERE = Path(__file__).resolve().parent
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SETS = ("banking", "pharmacy", "file_assistant", "hotel_booking")
KINDS = ("refusal", "acceptance", "correction")
KIND_COMMENT = re.compile(r"^\s*# (refusal|acceptance|correction)\b")
# A refusal read as either is read right: the corpus's writer picked one of the two for
# each case ("stop": deny, "no, cancel everything": cancel_flow), and both end the
# question without running anything.
SKIPS = frozenset({"deny", "cancel_flow"})
# What a refusal must never give: approving, choosing, or a slot value.
UNSAFE = ("affirm", "choose", "set_slot", "correct_slot")
FIELD_NOISE = re.compile(r"(?:, )?(?:kind|text)=(?:'[^']*'|\"[^\"]*\")")


@dataclass(frozen=True)
class Outcome:
    bot: str
    kind: str
    text: str
    expected: str
    got: str
    unsafe: bool
    got_kinds: tuple[str, ...]


def kinds_of(path: Path) -> list[str]:
    """Each case's kind, in order, from the comment the generator writes before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [m.group(1) for line in lines if (m := KIND_COMMENT.match(line))]


def _kinds(commands: Iterable[object] | None) -> list[str]:
    """The kind of each command the understanding gave (none when it raised)."""
    return [str(getattr(command, "kind", command)) for command in commands or ()]


def _show(commands: Iterable[object] | None) -> str:
    """Commands as ``CorrectSlot(slot='amount', value=60)``, without the repeated kind and text."""
    shown = [FIELD_NOISE.sub("", repr(command)).replace("()", "") for command in commands or ()]
    return "; ".join(shown) or "nothing"


async def _outcomes(name: str) -> tuple[list[Outcome], Mapping[str, int]]:
    path = HERE / f"{name}.yaml"
    kinds = kinds_of(path)
    labeled = load_labeled_set(path)
    assert len(kinds) == len(labeled.cases), f"{path.name}: a case without its kind comment"
    totals = {kind: kinds.count(kind) for kind in KINDS}
    async with await Bot.load(EXAMPLES / name, db=":memory:") as bot:
        evaluation = await evaluate(bot, labeled)
    failures = []
    for failure in evaluation.failures:
        kind = kinds[failure.index]
        if kind == "refusal" and {*_kinds(failure.got), *_kinds(failure.expected)} <= SKIPS:
            continue  # a skip for a cancel or the other way round: both run nothing
        got = f"error: {failure.error}" if failure.error else _show(failure.got)
        unsafe = kind == "refusal" and any(k in UNSAFE for k in _kinds(failure.got))
        failures.append(
            Outcome(
                name,
                kind,
                failure.text,
                _show(failure.expected),
                got,
                unsafe,
                tuple(_kinds(failure.got)),
            )
        )
    return failures, totals


def _report(failures: list[Outcome], totals: Mapping[str, int]) -> str:
    refused = [f for f in failures if f.kind == "refusal"]
    lines = [
        f"of {totals['refusal']} refusals, read as an approval: "
        f"{sum('affirm' in f.got_kinds for f in refused)}, as a choice: "
        f"{sum('choose' in f.got_kinds for f in refused)}, as a slot value: "
        f"{sum(bool({'set_slot', 'correct_slot'} & set(f.got_kinds)) for f in refused)}"
    ]
    for kind in KINDS:
        mine = [f for f in failures if f.kind == kind]
        right = totals[kind] - len(mine)
        lines.append(f"{kind}: {right}/{totals[kind]} read exactly right")
        for f in mine:
            mark = "UNSAFE " if f.unsafe else ""
            lines.append(f"  {mark}[{f.bot}] {f.text!r}: expected {f.expected}, got {f.got}")
    return "\n".join(lines)


async def _all_outcomes() -> tuple[list[Outcome], dict[str, int]]:
    failures: list[Outcome] = []
    totals = dict.fromkeys(KINDS, 0)
    for name in SETS:
        mine, counts = await _outcomes(name)
        failures += mine
        for kind in KINDS:
            totals[kind] += counts[kind]
    return failures, totals


async def test_refusals_are_never_read_as_approvals_or_values(
    handlers: object, record_property: Callable[[str, object], None]
) -> None:
    # First try (2026-12-06): of 246 refusals, 4 were read as an approval, 9 as a
    # choice and 68 as a slot value (81 unsafe, 32.9%).
    failures, totals = await _all_outcomes()
    cases = sum(totals.values())
    unsafe = [f for f in failures if f.unsafe]
    record_property(
        "figure",
        f"confirmation safety: {len(unsafe)}/{totals['refusal']} refusals unsafe, "
        f"{(cases - len(failures)) / cases:.1%} of {cases} exact",
    )
    print(_report(failures, totals))
    assert totals["refusal"] and totals["acceptance"] and totals["correction"]
    assert not unsafe, f"{len(unsafe)} refusals read as an approval, a choice or a value"


async def test_answers_at_a_confirmation_are_read_exactly_right(handlers: object) -> None:
    # First try (2026-12-06): refusals 54/246 (22.0%), acceptances 58/62 (93.5%),
    # corrections 44/69 (63.8%), overall 156/377 (41.4%).
    failures, totals = await _all_outcomes()
    cases = sum(totals.values())
    exact = (cases - len(failures)) / cases
    print(_report(failures, totals))
    assert exact >= 0.98, f"{exact:.1%} of {cases} cases read exactly right (want 98%)"
