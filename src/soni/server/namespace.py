"""Conversation ids per user: with API keys on, each user names their own conversations.

Caller bob's ``A1`` and alice's ``A1`` are two conversations. The bot — its
checkpoints, confirmation records, action journal and session events — knows them
by their *qualified* ids, ``bob/A1`` and ``alice/A1``: the user percent-encoded
(so it holds no slash), a slash, the id as the user gave it. A conversation id
itself never holds a slash (``check_conversation_id``), so a qualified id splits
one way only, and an id used without keys can never pass for a user's.

Existence is then the qualified id having saved state: nobody can tell whether
another user has a conversation of the same name, since the name reaches a
different conversation. The server maps ids both ways; whatever it answers or
streams carries the caller's own, unqualified id. Without API keys there are no
users, and ids are used as given.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from soni.server.errors import InvalidInput

__all__ = (
    "InvalidConversationId",
    "check_conversation_id",
    "in_namespace",
    "qualify",
    "unqualify",
)


class InvalidConversationId(InvalidInput):
    """A conversation id the server refuses: not valid UTF-8, or holding a slash (422)."""

    def __init__(self, shown: str, reason: str) -> None:
        self.shown = shown
        super().__init__(f"invalid conversation id {shown!r}: {reason}")


def check_conversation_id(conversation_id: str) -> str:
    """``conversation_id``, if the server takes it as one.

    Ids are stored and compared as UTF-8: a lone surrogate (JSON lets a WebSocket
    frame carry one) has no UTF-8 form. A slash is kept for qualified ids (and an
    HTTP path could not carry one anyway: ``%2F`` is decoded before routing).

    Raises:
        InvalidConversationId: it holds a lone surrogate or a slash.
    """
    if "/" in conversation_id:
        raise InvalidConversationId(conversation_id, "'/' is not allowed in an id")
    try:
        conversation_id.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidConversationId(conversation_id, "not valid UTF-8") from None
    return conversation_id


def _prefix(user_id: str) -> str:
    return quote(user_id, safe="") + "/"


def qualify(user_id: str, conversation_id: str) -> str:
    """The bot's id for ``user_id``'s conversation ``conversation_id``: ``alice/A1``."""
    return _prefix(user_id) + conversation_id


def unqualify(qualified: str) -> tuple[str | None, str]:
    """``(user_id, conversation_id)`` of a bot's id; ``(None, id)`` for an unqualified one."""
    user, slash, conversation_id = qualified.partition("/")
    if not slash:
        return None, qualified
    return unquote(user), conversation_id


def in_namespace(qualified: str, user_id: str) -> bool:
    """Whether the bot's id ``qualified`` names one of ``user_id``'s conversations."""
    return qualified.startswith(_prefix(user_id))
