"""What one turn knows besides the graph state, for as long as the turn runs.

A turn holds its conversation's lock, so within it nothing else in this process
changes the conversation's confirmations. Three things are kept:

* the confirmation records the turn has read or written, so a node does not read
  back what an earlier node of the same turn just wrote;
* a decision the user typed ("yes", ``/choose archive``) for the guarded step the
  turn is about to run: that step records it together with claiming the action's
  run (``decide_and_begin``) — one durable write instead of two;
* the answers already validated by the collect step's own rules, so the step
  does not run its validator a second time on the same answer.

Outside a turn (a node called directly by a test), nothing is remembered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from soni.confirmations import Actor, PendingConfirmation

__all__ = ("Deferred", "Turn", "this_turn", "turn_scope")


@dataclass(frozen=True, slots=True)
class Deferred:
    """A decision given in the chat, to be written by the step it is for."""

    record: PendingConfirmation
    decision: str
    actor: Actor

    @property
    def confirmation_id(self) -> str:
        return self.record.id


@dataclass(slots=True)
class Turn:
    records: dict[str, PendingConfirmation] = field(default_factory=dict)
    decision: Deferred | None = None
    # (frame id, collect step id, slot) answered and checked by the collect's own
    # rules in this turn, so the step does not validate the same answer twice.
    checked: set[tuple[str, str, str]] = field(default_factory=set)

    def remember(self, record: PendingConfirmation) -> PendingConfirmation:
        self.records[record.id] = record
        return record

    def take_decision(self, confirmation_id: str) -> Deferred | None:
        """The deferred decision for this confirmation, handed over once."""
        deferred = self.decision
        if deferred is None or deferred.confirmation_id != confirmation_id:
            return None
        self.decision = None
        return deferred


_current: ContextVar[Turn | None] = ContextVar("soni_turn", default=None)


@contextmanager
def turn_scope() -> Iterator[Turn]:
    """Run a turn: the graph's nodes (tasks copying this context) share one Turn."""
    turn = Turn()
    token = _current.set(turn)
    try:
        yield turn
    finally:
        _current.reset(token)


def this_turn() -> Turn:
    """The running turn; outside one, a fresh Turn that nobody else sees."""
    return _current.get() or Turn()
