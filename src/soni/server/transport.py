"""uvicorn's protocols with soni's transport limits: what ``soni serve`` runs.

uvicorn's httptools protocol takes a request line and header section of any size
(a 10 MB header is read and answered), and its WebSocket protocol logs a
traceback when a text frame is not UTF-8. ``uvicorn_options(settings)`` gives
``uvicorn.run`` / ``uvicorn.Config`` subclasses that refuse an oversized head
with 414 or 431, fail a non-UTF-8 text frame cleanly, and read WebSocket frames
up to ``ws_max_frame_bytes``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import CloseCode

from soni.server.errors import PROBLEM_JSON, Problem
from soni.server.settings import ServerSettings

__all__ = ("LimitedHttpProtocol", "WebSocketProtocol", "uvicorn_options")

# After refusing a request whose head is still arriving, the server stops reading
# it but drains what the client sends for this long before closing: closing a
# socket with unread data resets it, and the client would lose the answer.
LINGER_SECONDS = 2.0


def head_problem(status: int, detail: str) -> Problem:
    """The answer to a request whose line (414) or header section (431) is too large."""
    if status == 414:
        return Problem(414, "uri-too-long", "URI too long", detail)
    return Problem(431, "header-too-large", "Request header fields too large", detail)


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing an oversized request line or header section.

    llhttp streams the head to callbacks and httptools accumulates each header
    field whole, so the head is measured as it arrives, before it is parsed: a
    counter per read while a head is being read, a closer look only once it
    passes ``max_request_line`` bytes.
    """

    max_request_line = 8_192
    max_header = 32_768

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True  # from the end of a message to the end of the next head
        self._head = 0  # bytes of that head read so far
        self._line: int | None = None  # length of its request line, once it ended
        self._tail = b""  # the last bytes of the previous read, for a split "\r\n\r\n"
        self._refused = False
        self._linger: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # drained: see LINGER_SECONDS
        if self._reading_head:
            if self._line is None:
                end = data.find(b"\n")
                if end >= 0:
                    self._line = self._head + end + 1
            self._head += len(data)
            if self._head > self.max_request_line and self._over_limit(data):
                return
            self._tail = data[-3:]
        HttpToolsProtocol.data_received(self, data)

    # The parser's own events say where a head ends and the next one starts,
    # whether or not uvicorn still reads the message (an early answer stops that).

    def on_headers_complete(self) -> None:
        self._reading_head = False
        HttpToolsProtocol.on_headers_complete(self)

    def on_message_complete(self) -> None:
        self._reading_head = True
        self._head = 0
        self._line = None
        self._tail = b""
        HttpToolsProtocol.on_message_complete(self)

    def _over_limit(self, data: bytes) -> bool:
        """Whether the head read so far is over a limit; if so it is refused."""
        line = self._line
        if line is None or line > self.max_request_line:
            self._refuse(414, f"the request line is longer than {self.max_request_line} bytes")
            return True
        # Where the head ends, if it ends in this read: what follows is the body.
        start = self._head - len(data) - len(self._tail)
        end = (self._tail + data).find(b"\r\n\r\n")
        head = self._head if end < 0 else start + end + 4
        if head - line > self.max_header:
            self._refuse(
                431, f"the request's header fields are larger than {self.max_header} bytes"
            )
            return True
        return False

    def _refuse(self, status: int, detail: str) -> None:
        self._refused = True
        self.logger.warning("Request refused (%d): %s", status, detail)
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request is still being answered: an answer now would
            # interleave with it.
            self.transport.close()
            return
        body = json.dumps(head_problem(status, detail).to_json()).encode()
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    *(
                        name + b": " + value + b"\r\n"
                        for name, value in self.server_state.default_headers
                    ),
                    b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        super().connection_lost(exc)


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, failing a non-UTF-8 text frame cleanly.

    RFC 6455 (section 8.1) requires an endpoint to fail the connection when a
    text frame is not UTF-8; uvicorn does so with close code 1007, but logs the
    decoding error's traceback as if the server had failed. Here it is one
    warning line, and the close frame says why.
    """

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type != "text":
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return  # past the app's close: uvicorn discards what still comes
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"a text frame must be UTF-8 ({exc.reason} at byte {exc.start})"
            self.logger.warning("WebSocket closed with 1007: %s", reason)
            self.conn.fail(CloseCode.INVALID_DATA, reason)
            self.handle_parser_exception()
            return
        self.queue.put_nowait({"type": "websocket.receive", "text": text})
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()


def uvicorn_options(settings: ServerSettings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` that enforce ``settings``.

    The request line and header limits (414, 431), the WebSocket frame cap
    (1009), and a clean close for a text frame that is not UTF-8 (1007).
    """
    http = type(
        "LimitedHttpProtocol",
        (LimitedHttpProtocol,),
        {
            "max_request_line": settings.max_request_line_bytes,
            "max_header": settings.max_header_bytes,
        },
    )
    return {"http": http, "ws": WebSocketProtocol, "ws_max_size": settings.ws_frame_cap}
