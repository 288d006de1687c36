"""A subscriber of ``GET /events`` on one worker: every event kept, waited for by content.

The stream is read in a task from the moment the server answered with its headers
(the subscription is attached before that, so nothing published later is missed);
a test waits for the first event that matches what it expects, with a bound, and
never on the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from ._workers import WAIT

__all__ = ("Event", "EventStream")


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its type and its data (``{type, conversation_id, data, at}``)."""

    type: str
    data: dict[str, Any]

    @property
    def details(self) -> dict[str, Any]:
        detail: dict[str, Any] = self.data.get("data") or {}
        return detail


class EventStream:
    """``GET /events`` (of one conversation, or all) on a worker, read until closed."""

    def __init__(self, url: str, conversation_id: str | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=url, timeout=None, trust_env=False)
        self._params = {"conversation_id": conversation_id} if conversation_id else {}
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._ended: BaseException | None = None

    async def __aenter__(self) -> EventStream:
        self._reader = asyncio.create_task(self._read())
        await self.first(lambda event: event.type == "subscribed")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reader is not None:
            self._reader.cancel()
            # How the stream ended, if not by this cancellation, ``first`` has told.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._client.aclose()

    async def _read(self) -> None:
        try:
            async with self._client.stream("GET", "/events", params=self._params) as response:
                assert response.status_code == 200, await response.aread()
                kind, data = "message", ""
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        kind = line.partition(":")[2].strip()
                    elif line.startswith("data:"):
                        data += line.partition(":")[2].strip()
                    elif not line and data:  # a blank line ends an event
                        self.events.append(Event(kind, json.loads(data)))
                        self._changed.set()
                        kind, data = "message", ""
        except BaseException as exc:
            self._ended = exc
            raise
        finally:
            self._ended = self._ended or EOFError("the event stream ended")
            self._changed.set()

    async def first(self, wanted: Callable[[Event], bool], what: str = "") -> Event:
        """The first event (seen so far or to come) that ``wanted`` accepts."""
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    for event in self.events:
                        if wanted(event):
                            return event
                    if self._ended is not None:
                        raise AssertionError(f"the stream ended ({self._ended!r})")
                    self._changed.clear()
                    await self._changed.wait()
        except (TimeoutError, AssertionError) as exc:
            seen = "\n  ".join(f"{e.type} {e.details}" for e in self.events)
            raise AssertionError(f"no event {what or 'as expected'}; got:\n  {seen}") from exc
