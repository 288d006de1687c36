"""A confirmation's life as one table: every transition, where it starts, where it leads.

A confirmation is registered ``pending`` (:data:`REGISTERED`); from then on it only
moves by the transitions below. Each names the statuses it starts from and the
one it leads to. The registry's operations name the transition they make
(``Change(APPROVE, …)``), and a store applies a change only while the record's
status is one its transition starts from — the compare-and-set that "exactly one
decision wins" and "the action runs at most once" rest on (``stores.base``).

``Status``'s docstring (and docs/confirmations.md) draws the same life;
``tests/confirmations/test_lifecycle.py`` checks that the stores and the registry
move records exactly as this table says, that docs/confirmations.md shows this
table, and that the drawing shows every status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from soni.confirmations.records import OPEN, Status

__all__ = (
    "APPROVE",
    "BEGIN",
    "CANCEL",
    "EXPIRE",
    "INTERRUPT",
    "RECORD_EXECUTED",
    "RECORD_FAILED",
    "REGISTERED",
    "RESOLVE_EXECUTED",
    "RESOLVE_FAILED",
    "RETRY",
    "SHOW",
    "SKIP",
    "SUPERSEDE",
    "TRANSITIONS",
    "Transition",
)

REGISTERED = Status.PENDING
"""The status a confirmation starts in (``register``)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One move a confirmation can make.

    Attributes:
        name: What the table calls it.
        sources: The statuses it starts from: the statuses a store's
            compare-and-set expects.
        target: The status it leads to.
    """

    name: str
    sources: frozenset[Status]
    target: Status

    def __str__(self) -> str:
        return self.name


SHOW = Transition("show", frozenset({Status.PENDING}), Status.SHOWN)
APPROVE = Transition("approve", OPEN, Status.APPROVED)
SKIP = Transition("skip", OPEN, Status.SKIPPED)
EXPIRE = Transition("expire", OPEN, Status.EXPIRED)
SUPERSEDE = Transition("supersede", OPEN, Status.SUPERSEDED)
CANCEL = Transition("cancel", OPEN, Status.CANCELLED)
BEGIN = Transition("begin", frozenset({Status.APPROVED}), Status.EXECUTING)
RECORD_EXECUTED = Transition("record_executed", frozenset({Status.EXECUTING}), Status.EXECUTED)
RECORD_FAILED = Transition("record_failed", frozenset({Status.EXECUTING}), Status.FAILED)
INTERRUPT = Transition("interrupt", frozenset({Status.EXECUTING}), Status.INTERRUPTED)
RETRY = Transition("retry", frozenset({Status.INTERRUPTED}), Status.EXECUTING)
RESOLVE_EXECUTED = Transition("resolve_executed", frozenset({Status.INTERRUPTED}), Status.EXECUTED)
RESOLVE_FAILED = Transition("resolve_failed", frozenset({Status.INTERRUPTED}), Status.FAILED)

TRANSITIONS: Mapping[str, Transition] = MappingProxyType(
    {
        transition.name: transition
        for transition in (
            SHOW,
            APPROVE,
            SKIP,
            EXPIRE,
            SUPERSEDE,
            CANCEL,
            BEGIN,
            RECORD_EXECUTED,
            RECORD_FAILED,
            INTERRUPT,
            RETRY,
            RESOLVE_EXECUTED,
            RESOLVE_FAILED,
        )
    }
)
"""Every transition by name, in the order of a confirmation's life."""
