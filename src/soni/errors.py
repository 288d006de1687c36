"""The root of soni's errors, and what more than one package shares.

Every soni error derives from :class:`SoniError`. Each package defines the errors it
raises in its own ``errors`` module (``soni.actions.errors``, ``soni.dsl.errors``,
``soni.confirmations.errors``, ``soni.nlu.errors``, ``soni.sessions.errors``,
``soni.client.errors``); here are the root, the errors of the state stores, which
several packages raise, and two helpers for messages. Errors carry the offending
name, token or cause as attributes, so callers can react without parsing messages.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = (
    "ConversationBusy",
    "SchemaTooNew",
    "SoniError",
    "StoreClosed",
    "did_you_mean",
    "format_location",
    "suggesting",
)


class SoniError(Exception):
    """Base class of every error soni raises on purpose."""


def did_you_mean(
    word: str, candidates: Iterable[str], *, limit: int = 1, cutoff: float = 0.6
) -> str:
    """`` (did you mean 'x'?)`` for the candidates closest to ``word``, or ``""``.

    The end of every message about a misspelt name: ``unknown flow 'tranfer' (did you
    mean 'transfer'?)``. Up to ``limit`` candidates are named, best first; ``cutoff``
    is how alike (0 to 1, as :func:`difflib.get_close_matches` measures) one must be.
    """
    return suggesting(difflib.get_close_matches(word, list(candidates), n=limit, cutoff=cutoff))


def suggesting(suggestions: Sequence[str]) -> str:
    """`` (did you mean 'a', 'b'?)`` naming ``suggestions``, or ``""`` when there are none."""
    if not suggestions:
        return ""
    return " (did you mean " + ", ".join(repr(s) for s in suggestions) + "?)"


def format_location(path: str, line: int | None = None, column: int | None = None) -> str:
    """``path:line:col``, ``path:line`` or ``path``, as far as known.

    The compiler convention, so editors and terminals can jump to the place: every
    error, warning and source location in a bot file is written this way.
    """
    if line is None:
        return path
    if column is None:
        return f"{path}:{line}"
    return f"{path}:{line}:{column}"


class ConversationBusy(SoniError):
    """A turn of the conversation could not start in time: another one runs (and this
    one would not wait, or waited too long), or — with ``reason`` — the process had
    no room for it (every database connection for turns in use)."""

    def __init__(self, conversation_id: str, reason: str | None = None) -> None:
        self.conversation_id = conversation_id
        self.reason = reason
        why = reason or "is processing another message"
        super().__init__(f"conversation {conversation_id!r} {why}; retry later")


class SchemaTooNew(SoniError, RuntimeError):
    """The database was written by a newer soni: this one will not touch it."""


class StoreClosed(SoniError, RuntimeError):
    """A store was used after ``close()``."""
