"""What ``soni sessions watch`` shows: live conversations, rebuilt from the event stream.

``SessionTable.apply`` is the whole of it — one event in, the table's rows updated —
so it is tested without a server and the command stays a thin loop around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

__all__ = ("SessionRow", "SessionTable", "describe")

_STATUS_STYLES = {
    "awaiting_confirmation": "yellow",
    "awaiting_input": "cyan",
    "active": "green",
    "ended": "dim",
}


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One conversation as the watcher last heard of it."""

    conversation_id: str
    user_id: str | None = None
    status: str | None = None
    active_flow: str | None = None
    pending: int = 0
    last_activity: datetime | None = None
    last_event: str = ""


def _at(event: Mapping[str, Any]) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(event.get("at")))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default


def _flow(value: Any, default: str | None) -> str | None:
    """An event's ``active_flow`` (``None``: no flow runs), unless it is not a name."""
    return value if value is None or isinstance(value, str) else default


def _data(event: Mapping[str, Any]) -> Mapping[str, Any]:
    data = event.get("data")
    return data if isinstance(data, Mapping) else {}


def describe(event: Mapping[str, Any]) -> str:
    """An event in a few words: ``confirmation_decided: skip by ann via http``."""
    kind = str(event.get("type"))
    data = _data(event)
    detail = ""
    if kind == "confirmation_decided":
        actor = data.get("actor")
        actor = actor if isinstance(actor, Mapping) else {}
        who = actor.get("user_id") or "-"
        detail = f"{data.get('decision')} by {who} via {actor.get('channel')}"
    elif kind == "action_executed":
        outcome = "ok" if data.get("ok") else f"failed: {data.get('error')}"
        detail = f"{data.get('action')} {outcome}"
    elif kind == "action_interrupted":
        detail = f"{data.get('action')} outcome unknown"
    elif kind == "session_removed":
        detail = str(data.get("reason"))
    elif kind == "turn":
        detail = str(data.get("status"))
    return f"{kind}: {detail}" if detail else kind


class SessionTable:
    """The rows of the live table, one per conversation, updated event by event.

    Each event is read as the session registry documents it
    (``docs/sessions.md``); a field that is missing or has the wrong type leaves
    the row's value as it was. A removed conversation leaves the table, as it
    leaves the server's registry.
    """

    def __init__(self) -> None:
        self._rows: dict[str, SessionRow] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, conversation_id: str) -> SessionRow | None:
        return self._rows.get(conversation_id)

    @property
    def rows(self) -> list[SessionRow]:
        """Every conversation, the most recently active first."""
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(self._rows.values(), key=lambda r: r.last_activity or oldest, reverse=True)

    def apply(self, event: Mapping[str, Any]) -> SessionRow | None:
        """Take one event into the table; the conversation's row as it now is.

        ``None`` when the event concerns no conversation (``lagged``) or removed it.
        """
        conversation_id = event.get("conversation_id")
        if not isinstance(conversation_id, str) or not conversation_id:
            return None
        kind = event.get("type")
        data = _data(event)
        if kind == "session_removed":
            self._rows.pop(conversation_id, None)
            return None
        row = self._rows.get(conversation_id) or SessionRow(conversation_id)
        at = _at(event)
        row = replace(row, last_activity=at or row.last_activity, last_event=describe(event))
        user = data.get("user_id")
        if isinstance(user, str):
            row = replace(row, user_id=user)
        if kind == "turn":
            row = replace(
                row,
                status=str(data.get("status") or row.status),
                active_flow=_flow(data.get("active_flow"), row.active_flow),
                pending=_count(data.get("pending"), row.pending),
            )
        elif kind == "awaiting_confirmation":
            row = replace(
                row,
                status="awaiting_confirmation",
                active_flow=_flow(data.get("active_flow", row.active_flow), row.active_flow),
                pending=_count(data.get("pending"), row.pending),
            )
        elif kind == "confirmation_requested":
            row = replace(row, pending=row.pending + 1)
        elif kind in ("confirmation_decided", "confirmation_expired"):
            # The turn that follows a decision reports the exact count; an expiry
            # (or a decision no turn follows) is only known from this event.
            row = replace(row, pending=max(0, row.pending - 1))
        self._rows[conversation_id] = row
        return row

    def render(self, *, title: str | None = None, limit: int = 50) -> Table:
        """The table as rich renders it: the ``limit`` most recently active conversations."""
        rows = self.rows
        caption = f"{limit} of {len(rows)} conversations shown" if len(rows) > limit else None
        # Every value is a Text: ids, names and a handler's error text come from users
        # and callers, and rich would read a str as markup (``[team-a]``, ``c[/]``).
        table = Table(
            title=Text(title) if title is not None else None,
            caption=Text(caption) if caption is not None else None,
            header_style="bold",
        )
        table.add_column("conversation", no_wrap=True)
        for column in ("user", "status", "active flow"):
            table.add_column(column, overflow="fold")
        table.add_column("pending", justify="right", no_wrap=True)
        table.add_column("last activity (UTC)", no_wrap=True)
        table.add_column("last event", overflow="fold")
        for row in rows[:limit]:
            status = row.status or "-"
            table.add_row(
                Text(row.conversation_id),
                Text(row.user_id or "-"),
                Text(status, style=_STATUS_STYLES.get(status, "")),
                Text(row.active_flow or "-"),
                Text(str(row.pending)),
                Text(
                    row.last_activity.astimezone(UTC).strftime("%H:%M:%S")
                    if row.last_activity
                    else "-"
                ),
                Text(row.last_event),
            )
        return table
