"""The built-in messages a bot says, and the names it rewords them by.

A bot words them its own way under ``settings.messages`` (every flow) or a flow's
``messages`` (that flow only, for the messages about a flow's own doing). Each is a
template over the slots and the message's own values (``{flow}``, ``{action}``, …),
or a list of variants, one said per turn.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("RESPONSES", "Response", "variants")


@dataclass(frozen=True, slots=True)
class Response:
    """A built-in message: its default wording, its values, whether a flow may word
    it for itself, and whether it may name slots (one said before or outside a turn
    has none at hand)."""

    default: str
    values: frozenset[str] = frozenset()
    per_flow: bool = True
    slots: bool = True


def _r(default: str, *values: str, per_flow: bool = True, slots: bool = True) -> Response:
    return Response(default, frozenset(values), per_flow, slots)


RESPONSES: dict[str, Response] = {
    # Understanding.
    "not_understood": _r("Sorry, I didn't understand that."),
    "help": _r("I can help with: {flows}.", "flows"),
    "clarify": _r("Did you mean {flows}?", "flows"),
    "nothing_to_cancel": _r("There is nothing to cancel.", per_flow=False),
    "cancelled": _r("OK, I've cancelled {flow}.", "flow"),
    "already_running": _r("We are already in the middle of {flow}.", "flow"),
    "unknown_flow": _r("I don't know how to do '{flow}'.", "flow", per_flow=False),
    # Asking.
    "ask_slot": _r("What is the {slot}?", "slot"),
    "invalid_value": _r("That is not a valid {slot}.", "slot"),
    "unreadable_value": _r("{reason}", "reason", "slot"),
    "confirm_question": _r("Do you confirm?"),
    # Confirmations.
    "skipped": _r("OK, I won't {action}.", "action"),
    "expired": _r("The request to {action} expired, so I did not do it.", "action"),
    "ask_decision": _r(
        'Should I skip this, or change something? Say "skip", or tell me what should be different.'
    ),
    "which_one": _r("Which one? {options}", "options"),
    "not_an_option": _r(
        "{option} is not an offered option; choose one of {options}, or 'skip'",
        "option",
        "options",
    ),
    "already_decided": _r("That was already {decision}{via}.", "decision", "via"),
    "nothing_waiting": _r("There is nothing waiting for a yes or no right now."),
    "no_longer_pending": _r("That request is no longer pending."),
    "nothing_to_choose": _r("There is nothing to choose from right now."),
    "choices_failed": _r("Sorry, I couldn't offer the choices."),
    # Actions.
    "action_failed": _r("Sorry, I couldn't {action}.", "action"),
    "action_running": _r(
        "I can't tell yet whether I managed to {action}: it is still running.", "action"
    ),
    "action_unknown": _r(
        "I was interrupted while trying to {action}, so I can't tell whether it went "
        "through. I won't try again by myself: please check before asking again.",
        "action",
    ),
    # Things going wrong.
    "flow_loop": _r("Sorry, {flow} got stuck in a loop, so I stopped it.", "flow"),
    "flow_error": _r("Sorry, something went wrong on my side, so I stopped {flow}.", "flow"),
    "turn_error": _r(
        "Sorry, something went wrong on my side. Please try again.", per_flow=False, slots=False
    ),
    "turn_loop": _r(
        "Sorry, this conversation got stuck in a loop; please try again.",
        per_flow=False,
        slots=False,
    ),
    "too_long": _r(
        "Sorry, that message is too long: the limit is {limit}.",
        "limit",
        per_flow=False,
        slots=False,
    ),
}
"""Every built-in message by the name a bot rewords it by."""


def variants(message: str | list[str] | None) -> list[str]:
    """A message's wordings: the one, or each variant."""
    if message is None:
        return []
    return [message] if isinstance(message, str) else list(message)
