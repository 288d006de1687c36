"""Reading a soni server's ``GET /events`` (server-sent events) with httpx."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import httpx

from soni.client.errors import (
    ClientError,
    ConnectFailed,
    ConnectionClosed,
    NotFound,
    ProtocolError,
    Unauthorized,
)

__all__ = ("events", "follow", "sse_messages")

# No read timeout: an idle stream carries only the server's pings, as often as it
# was configured to send them; the watcher stops with Ctrl-C or --duration.
TIMEOUT = httpx.Timeout(10.0, read=None)


async def sse_messages(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """``(event, data)`` of each message in a server-sent event stream's lines.

    Comments (the server's ``: ping``) and fields other than ``event`` and ``data``
    are skipped; a message without data is not one.
    """
    kind, data = "message", list[str]()
    async for line in lines:
        if not line:
            if data:
                yield kind, "\n".join(data)
            kind, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            kind = value
        elif field == "data":
            data.append(value)


def _refusal(response: httpx.Response, base: str, api_key: str | None) -> ClientError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = problem.get("detail")
    status = response.status_code
    if status == 401:
        if api_key is None:
            message = f"{base} needs an API key (401): pass --api-key or set SONI_API_KEY"
        else:
            message = f"{base} refused the API key (401)"
        return Unauthorized(message, status=status, problem=problem)
    because = f": {detail}" if isinstance(detail, str) and detail else ""
    message = f"{base}/events answered {status} {response.reason_phrase}{because}"
    if status == 404:
        return NotFound(message, status=status, problem=problem)
    return ClientError(message, status=status, problem=problem)


async def _stream(
    client: httpx.AsyncClient,
    base: str,
    api_key: str | None,
    conversation_id: str | None,
    on_subscribed: Callable[[], None],
) -> AsyncIterator[dict[str, Any]]:
    headers = {"Accept": "text/event-stream"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    params = {"conversation_id": conversation_id} if conversation_id is not None else {}
    try:
        async with client.stream(
            "GET", f"{base}/events", headers=headers, params=params
        ) as response:
            if response.status_code != 200:
                await response.aread()
                raise _refusal(response, base, api_key)
            async for kind, data in sse_messages(response.aiter_lines()):
                if kind == "subscribed":
                    on_subscribed()
                    continue
                try:
                    event = json.loads(data)
                except ValueError:
                    event = None
                if not isinstance(event, dict):
                    raise ProtocolError(f"{base} sent a {kind!r} event that is not a JSON object")
                yield event
    except httpx.ConnectError as exc:
        raise ConnectFailed(base, str(exc) or "connection refused") from None
    except httpx.TimeoutException:
        raise ConnectFailed(base, "no answer in time") from None
    except httpx.TransportError as exc:
        raise ConnectionClosed(f"lost the connection to {base}: {exc}") from None


async def events(
    client: httpx.AsyncClient,
    url: str,
    *,
    api_key: str | None = None,
    conversation_id: str | None = None,
    on_subscribed: Callable[[], None] = lambda: None,
) -> AsyncGenerator[dict[str, Any], None]:
    """The session events a soni server publishes, as dicts, until the caller stops.

    After a ``lagged`` event (this reader fell behind and the server dropped it)
    it subscribes again; ``on_subscribed`` is called each time the stream opens.

    Raises:
        ConnectFailed: the server cannot be reached.
        Unauthorized: a missing or refused API key.
        NotFound: no event stream at that address.
        ConnectionClosed: the server ended the stream or the connection was lost.
        ProtocolError: the server sent something that is not an event.
    """
    base = url.rstrip("/")
    while True:
        lagged = False
        async for event in _stream(client, base, api_key, conversation_id, on_subscribed):
            lagged = event.get("type") == "lagged"
            yield event
        if not lagged:
            raise ConnectionClosed(f"{base} closed the event stream")


async def follow(
    url: str,
    on_event: Callable[[dict[str, Any]], None],
    *,
    api_key: str | None = None,
    conversation_id: str | None = None,
    on_subscribed: Callable[[], None] = lambda: None,
    max_events: int | None = None,
    duration: float | None = None,
) -> None:
    """Hand every event to ``on_event`` until ``max_events`` came or ``duration`` passed.

    Without either it follows the stream until cancelled (Ctrl-C).

    Raises:
        Whatever ``events`` raises.
    """
    seen = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(duration), httpx.AsyncClient(timeout=TIMEOUT) as client:
            stream = events(
                client,
                url,
                api_key=api_key,
                conversation_id=conversation_id,
                on_subscribed=on_subscribed,
            )
            async with contextlib.aclosing(stream):
                async for event in stream:
                    on_event(event)
                    seen += 1
                    if max_events is not None and seen >= max_events:
                        return
