"""The decision protocol: how a notification channel tells soni what the user decided.

Four messages, each a verb and a token (and, to choose, an option)::

    SHOWN:<token>             the notification was displayed
    EXECUTE:<token>           approve
    SKIP:<token>              skip
    CHOOSE:<token>:<option>   approve one of several offered actions

Verbs are upper case; nothing else is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from soni.confirmations.errors import InvalidDecisionMessage

__all__ = (
    "MESSAGE_PATTERN",
    "Choose",
    "DecisionMessage",
    "Execute",
    "Shown",
    "Skip",
    "format_decision_message",
    "parse_decision_message",
)

# Longer than any valid message (verb + 128-char token + option name); anything
# longer is rejected before a regular expression looks at it.
_MAX_LENGTH = 512
_TOKEN = r"[A-Za-z0-9_-]{22,128}"
_OPTION = r"[A-Za-z_][A-Za-z0-9_.-]{0,127}"
_MESSAGE = re.compile(
    rf"(?P<verb>SHOWN|EXECUTE|SKIP):(?P<token>{_TOKEN})"
    rf"|CHOOSE:(?P<ctoken>{_TOKEN}):(?P<option>{_OPTION})"
)

MESSAGE_PATTERN = rf"^(?:(?:SHOWN|EXECUTE|SKIP):{_TOKEN}|CHOOSE:{_TOKEN}:{_OPTION})$"
"""What a decision message is, as a regular expression any engine reads (the
OpenAPI document's ``pattern``); ``parse_decision_message`` also ignores white
space around it."""


@dataclass(frozen=True, slots=True)
class Shown:
    """The notification carrying ``token`` was displayed to the user."""

    token: str
    kind: Literal["shown"] = "shown"


@dataclass(frozen=True, slots=True)
class Execute:
    """The user approved."""

    token: str
    kind: Literal["execute"] = "execute"


@dataclass(frozen=True, slots=True)
class Skip:
    """The user skipped."""

    token: str
    kind: Literal["skip"] = "skip"


@dataclass(frozen=True, slots=True)
class Choose:
    """The user picked ``option`` among the offered actions."""

    token: str
    option: str
    kind: Literal["choose"] = "choose"


DecisionMessage = Shown | Execute | Skip | Choose


def parse_decision_message(text: str) -> DecisionMessage:
    """Read a decision message; surrounding white space is ignored.

    Raises:
        InvalidDecisionMessage: ``text`` is not exactly one of the four forms.
    """
    if not isinstance(text, str):
        raise InvalidDecisionMessage(f"a decision message is text, not {type(text).__name__}")
    if len(text) > _MAX_LENGTH:
        raise InvalidDecisionMessage(
            f"not a decision message: {len(text)} characters is longer than any valid one"
        )
    stripped = text.strip()
    match = _MESSAGE.fullmatch(stripped)
    if match is None:
        # Never echo the text: a near-miss like "execute:<token>" carries a live
        # token, and this message ends up in logs and HTTP answers.
        raise InvalidDecisionMessage(
            f"not a decision message ({len(stripped)} characters); expected SHOWN:<token>, "
            "EXECUTE:<token>, SKIP:<token> or CHOOSE:<token>:<option>, verbs in upper case"
        )
    verb = match["verb"]
    if verb == "SHOWN":
        return Shown(match["token"])
    if verb == "EXECUTE":
        return Execute(match["token"])
    if verb == "SKIP":
        return Skip(match["token"])
    return Choose(match["ctoken"], match["option"])


def format_decision_message(message: DecisionMessage) -> str:
    """The wire form of ``message`` (the inverse of ``parse_decision_message``)."""
    if isinstance(message, Choose):
        return f"CHOOSE:{message.token}:{message.option}"
    verb = {"shown": "SHOWN", "execute": "EXECUTE", "skip": "SKIP"}[message.kind]
    return f"{verb}:{message.token}"
