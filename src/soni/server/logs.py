"""Keeping API keys out of the server's log.

A browser cannot set headers on a WebSocket, so the web chat (and any browser client)
sends its key as ``/ws?api_key=...``; uvicorn logs each WebSocket's path with its
query string (``"WebSocket /ws?api_key=..." [accepted]``), and each HTTP request's in
its access log. :class:`RedactKeys` rewrites those lines before any handler sees them.
A reverse proxy's own log is the proxy's to configure (docs/deployment.md).
"""

from __future__ import annotations

import logging
import re

__all__ = ("LOGGERS", "RedactKeys", "redact", "redact_keys_in_logs")

LOGGERS = ("uvicorn.error", "uvicorn.access")
"""Where uvicorn writes request paths."""

_KEY = re.compile(r"([?&]api_key=)[^&\s\"']*")


def redact(text: str) -> str:
    """``text`` with the value of every ``api_key=`` query parameter replaced."""
    return _KEY.sub(r"\1[redacted]", text)


class RedactKeys(logging.Filter):
    """Replaces ``api_key=`` values in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "api_key=" in record.msg:
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(arg) if isinstance(arg, str) and "api_key=" in arg else arg
                for arg in record.args
            )
        return True


def redact_keys_in_logs() -> None:
    """Put :class:`RedactKeys` on uvicorn's loggers, once (their configuration, which
    uvicorn applies at start-up, keeps a logger's filters)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeys) for f in logger.filters):
            logger.addFilter(RedactKeys())
