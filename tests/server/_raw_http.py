"""HTTP/1.1 over a plain socket, for requests no client library would send."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass

__all__ = ("Answer", "exchange", "raw_request", "read_answer")

ANSWER_TIMEOUT = 10.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


def _read_until(sock: socket.socket, buffer: bytearray, marker: bytes) -> bool:
    while marker not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return False
        buffer += chunk
    return True


def _read_exactly(sock: socket.socket, buffer: bytearray, size: int) -> bool:
    while len(buffer) < size:
        chunk = sock.recv(65536)
        if not chunk:
            return False
        buffer += chunk
    return True


def read_answer(sock: socket.socket, buffer: bytearray, *, head: bool = False) -> Answer | None:
    """The next response on the socket (interim 1xx skipped); ``None`` if it closed first."""
    while True:
        if not _read_until(sock, buffer, b"\r\n\r\n"):
            return None
        raw_head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        buffer[:] = rest
        lines = raw_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            continue
        break
    body = b""
    if (
        head
        or status in (204, 304)
        or headers.get("content-type", "").startswith("text/event-stream")
    ):
        pass  # an event stream (a valid id to follow) goes on: its head is the answer
    elif "content-length" in headers:
        size = int(headers["content-length"])
        if not _read_exactly(sock, buffer, size):
            return None
        body, buffer[:] = bytes(buffer[:size]), buffer[size:]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            if not _read_until(sock, buffer, b"\r\n"):
                return None
            size_line, _, rest = bytes(buffer).partition(b"\r\n")
            buffer[:] = rest
            size = int(size_line.split(b";")[0], 16)
            if not _read_exactly(sock, buffer, size + 2):
                return None
            body += bytes(buffer[:size])
            buffer[:] = buffer[size + 2 :]
            if size == 0:
                break
    return Answer(status, headers, body)


def raw_request(
    method: str,
    target: str | bytes,
    body: bytes | None = None,
    *,
    content_type: str | bytes | None = "application/json",
    headers: list[tuple[str | bytes, str | bytes]] | None = None,
    key: str | None = None,
) -> bytes:
    """An HTTP/1.1 request, as bytes (whatever its parts hold)."""

    def raw(value: str | bytes) -> bytes:
        return value if isinstance(value, bytes) else value.encode("latin-1")

    lines = [raw(method) + b" " + raw(target) + b" HTTP/1.1", b"Host: 127.0.0.1"]
    if key is not None:
        lines.append(b"Authorization: Bearer " + key.encode())
    if body is not None:
        if content_type is not None:
            lines.append(b"Content-Type: " + raw(content_type))
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines += [raw(name) + b": " + raw(value) for name, value in headers or ()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def exchange(port: int, raw: bytes) -> tuple[Answer | None, str]:
    """Send ``raw`` on a fresh connection; the answer, and how the connection ended up.

    ``kept``: still usable (a second request was answered on it); ``closed``: the
    answer said it closes; ``dropped``: it closed without the answer saying so.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # A refusal may come while the rest is still being sent: read it anyway.
            sock.sendall(raw)
        buffer = bytearray()
        head = raw.split(b" ", 1)[0] == b"HEAD"
        try:
            answer = read_answer(sock, buffer, head=head)
        except ConnectionResetError:
            answer = None
        if answer is None:
            return None, "dropped"
        if answer.closes:
            return answer, "closed"
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            return answer, "kept"  # open and streaming
        try:
            sock.sendall(raw_request("GET", "/health"))
            again = read_answer(sock, buffer)
        except (BrokenPipeError, ConnectionResetError):
            again = None
        return answer, "kept" if again is not None and again.status == 200 else "dropped"
