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

``Bot`` makes one ``Turn`` for each turn and runs the graph with it as the run's
context (``graph.ainvoke(..., context=turn)``): LangGraph hands it to every node
(``graph.py``), which passes it on to whatever needs it. It is never part of the
conversation's state: nothing of it is checkpointed, and the next turn starts
with a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from soni.confirmations import Actor, PendingConfirmation

__all__ = ("Deferred", "Turn")


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
