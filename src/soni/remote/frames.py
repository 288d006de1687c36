"""The envelope every frame travels in, read and written by the rules of
docs/websocket.md#frames, and the problem objects error responses carry.

``{"session_id": "s1", "local_timestamp": "…", "payload": {"type": …}}``: a
``session_id`` of 1 to 128 characters, a payload object whose ``type`` is
``instruction``, ``response`` or ``event``. The server's own reader
(``soni.server.ws_session.parse_frame``) applies the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from soni.remote.errors import FrameError

__all__ = (
    "MAX_SESSION_ID",
    "PAYLOAD_TYPES",
    "PROBLEM_TYPE",
    "Frame",
    "decode",
    "encode",
    "problem",
)

PAYLOAD_TYPES = frozenset({"instruction", "response", "event"})
MAX_SESSION_ID = 128
PROBLEM_TYPE = "urn:soni:problem:"
"""The prefix of every problem's ``type``; the slug follows."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame received: its session, its payload and the sender's timestamp."""

    session_id: str
    payload: dict[str, Any]
    local_timestamp: Any = None

    @property
    def type(self) -> str:
        """``instruction``, ``response`` or ``event``."""
        return str(self.payload["type"])

    @property
    def name(self) -> str | None:
        """An instruction's name (``None`` for anything else, or a name that is not text)."""
        name = self.payload.get("name")
        return name if isinstance(name, str) else None


def _valid_session(session_id: object) -> bool:
    return isinstance(session_id, str) and 0 < len(session_id) <= MAX_SESSION_ID


def encode(session_id: str, payload: Mapping[str, Any]) -> str:
    """The envelope of ``payload`` in ``session_id``, as JSON text, stamped now (UTC).

    Raises:
        FrameError: a session id or payload type the protocol refuses, or a payload
            that is not JSON (a value ``json`` cannot write, NaN, infinity).
    """
    if not _valid_session(session_id):
        raise FrameError(
            f"session_id must be a string of 1 to {MAX_SESSION_ID} characters, "
            f"got {session_id!r:.60}"
        )
    kind = payload.get("type")
    if kind not in PAYLOAD_TYPES:
        raise FrameError(
            f"unknown payload type {kind!r}; expected instruction, response or event", session_id
        )
    envelope = {
        "session_id": session_id,
        "local_timestamp": datetime.now(UTC).isoformat(),
        "payload": dict(payload),
    }
    try:
        return json.dumps(envelope, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FrameError(f"the payload is not JSON: {exc}", session_id) from None


def decode(raw: str | bytes) -> Frame:
    """Read an envelope.

    Raises:
        FrameError: not JSON (or not UTF-8), not an envelope, a bad ``session_id``, or
            an unknown payload type; ``session_id`` is set when the frame names one.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise FrameError(f"the frame is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FrameError("a frame is a JSON object {session_id, local_timestamp, payload}")
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not _valid_session(session_id):
        raise FrameError(f"session_id must be a string of 1 to {MAX_SESSION_ID} characters")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise FrameError("payload must be a JSON object", session_id)
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in PAYLOAD_TYPES:
        raise FrameError(
            f"unknown payload type {kind!r}; expected instruction, response or event", session_id
        )
    return Frame(session_id, payload, data.get("local_timestamp"))


def problem(slug: str, title: str, status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem object, as error responses carry it (``extra``: more members)."""
    found = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail}
    return {**found, **extra}
