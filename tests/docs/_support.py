"""Helpers for the setups' preludes, inside the process that runs a doc block.

Imported by _runner.py as ``_support``: ``serve`` starts a real soni server in a
thread of this process, on a free port, and records its address so that the
blocks' ``127.0.0.1:8000`` / ``localhost:8000`` are replaced by it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ADDRESS: str | None = None
_stops: list[Callable[[], None]] = []


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve(bot: str = "examples/banking", *, db: str = "state.db", **settings: Any) -> str:
    """Serve ``bot`` with ``ServerSettings(**settings)``; returns ``127.0.0.1:PORT``."""
    global ADDRESS
    import uvicorn

    from soni.server import ServerSettings, create_app

    app = create_app(bot, ServerSettings(**settings), db=db)
    sock = free_socket()
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", ws="websockets-sansio", lifespan="on"
    )
    config.timeout_graceful_shutdown = 2
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the docs' server did not start within 20 s")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    _stops.append(stop)
    ADDRESS = f"127.0.0.1:{sock.getsockname()[1]}"
    return ADDRESS


def fake_llm(content: dict[str, Any]) -> str:
    """An OpenAI-compatible chat-completions endpoint that always answers ``content``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.dumps(
                {
                    "id": "chatcmpl-docs",
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": json.dumps(content)},
                        }
                    ],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()

    _stops.append(stop)
    return f"http://127.0.0.1:{httpd.server_address[1]}/v1"


def shutdown() -> None:
    while _stops:
        _stops.pop()()
