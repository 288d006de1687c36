"""Replaying a WebSocket transcript (``ws`` blocks) against a real server.

A transcript is a list of frames, each starting a line with ``→ `` (sent) or ``← ``
(received); indented lines continue the frame above. The frames received after a
send are matched in any order (frames of different sessions interleave), each
against one ``←`` shown up to the next ``→``; a frame that matches none of them
fails the block, and so does one still missing after 10 s.

A sent frame that is not JSON is sent as text. In a sent frame, a bare ``…`` drops
the members it stands for, and a string with ``…`` is the last value received
under the same key that it matches (``"token": "…"`` is the token the server
handed out).
"""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ._match import ANY, ELLIPSIS, iter_strings, parse_values, text_matches, value_mismatch

_GROUP_TIMEOUT = 10.0
_DRAIN = 0.5


def parse_transcript(text: str) -> list[tuple[str, str, int]]:
    """``(direction, frame text, line offset)`` for each frame."""
    frames: list[tuple[str, str, int]] = []
    for offset, line in enumerate(text.splitlines()):
        if line.startswith(("→ ", "← ")):
            frames.append((line[0], line[2:], offset))
        elif line.strip():
            if not frames:
                raise ValueError(f"line {offset + 1}: a frame starts with → or ←")
            direction, body, start = frames[-1]
            frames[-1] = (direction, body + "\n" + line, start)
    return frames


class Replay:
    """One connection: what it sent, and every string it received, by key."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.seen: dict[str, list[str]] = {}

    def _fill(self, value: Any, key: str | None = None) -> Any:
        if value is ANY:
            raise ValueError("a bare … cannot be sent as a value")
        if isinstance(value, dict):
            return {k: self._fill(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._fill(v, key) for v in value if v is not ANY]
        if isinstance(value, str) and ELLIPSIS in value:
            for seen in reversed(self.seen.get(key or "", [])):
                if text_matches(value, seen):
                    return seen
            raise ValueError(f"no {key!r} received yet that matches {value!r}")
        return value

    def send(self, body: str) -> None:
        try:
            (value,) = parse_values(body)
        except ValueError:
            self.socket.send(body)
            return
        self.socket.send(json.dumps(self._fill(value)))

    def _receive(self, timeout: float) -> Any | None:
        try:
            raw = self.socket.recv(timeout=timeout)
        except TimeoutError:
            return None
        frame = json.loads(raw)
        for key, text in iter_strings(frame):
            if key is not None:
                self.seen.setdefault(key, []).append(text)
        return frame

    def expect(self, shown: list[tuple[str, int]]) -> str | None:
        """Receive until every shown frame came; why not, or ``None``."""
        waiting = [(parse_values(body)[0], line) for body, line in shown]
        deadline = time.monotonic() + _GROUP_TIMEOUT
        while waiting:
            left = deadline - time.monotonic()
            frame = self._receive(max(left, 0.01)) if left > 0 else None
            if frame is None:
                lines = ", ".join(str(line) for _, line in waiting)
                return f"frames shown at lines {lines} never came"
            for at, (expected, _) in enumerate(waiting):
                if value_mismatch(expected, frame) is None:
                    del waiting[at]
                    break
            else:
                nearest = "\n".join(
                    f"  line {line}: {value_mismatch(expected, frame)}"
                    for expected, line in waiting
                )
                return f"a frame the transcript does not show:\n{json.dumps(frame)}\n{nearest}"
        return None

    def drain(self) -> str | None:
        frame = self._receive(_DRAIN)
        if frame is not None:
            return f"a frame the transcript does not show, at the end:\n{json.dumps(frame)}"
        return None


def replay(text: str, first_line: int, page: str, url: str) -> list[str]:
    """Run the transcript; every mismatch, named by its page line."""
    frames = parse_transcript(text)
    shown: list[tuple[str, int]] = []
    try:
        with connect(url, open_timeout=10) as socket:
            session = Replay(socket)
            for direction, body, offset in frames:
                line = first_line + offset
                if direction == "←":
                    shown.append((body, line))
                    continue
                if shown:
                    why = session.expect(shown)
                    if why:
                        return [f"{page}:{shown[0][1]}: {why}"]
                    shown = []
                session.send(body)
            why = session.expect(shown) if shown else None
            if why:
                return [f"{page}:{shown[0][1]}: {why}"]
            why = session.drain()
            if why:
                return [f"{page}:{first_line}: {why}"]
    except ConnectionClosed as exc:
        return [f"{page}: the server closed the connection: {exc}"]
    return []
