"""The web pages ``soni serve`` ships: a chat at ``/`` (and ``/chat``) and an approvals
inbox at ``/inbox`` (docs/web.md).

Plain HTML, CSS and JavaScript from ``soni/server/web/``, no build step and nothing
from a CDN: every byte comes from this server, and the pages speak the public API
(the WebSocket protocol, ``GET /confirmations``, ``/events``) like any client. The
pages carry a Content-Security-Policy that allows nothing but this server, so a reply
that smuggled markup in could not load or run anything even if it were rendered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ("PAGES", "UI_ASSETS", "WEB", "install_ui")

WEB = Path(__file__).with_name("web")
"""The folder of the pages and their assets."""

UI_ASSETS = "/ui"
"""Where the pages' scripts and styles are served."""

PAGES = {"/": "chat.html", "/chat": "chat.html", "/inbox": "inbox.html"}
"""Each page's path and its file."""

_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def install_ui(app: FastAPI) -> None:
    """Serve the pages and their assets (left out of the OpenAPI document)."""
    app.mount(UI_ASSETS, StaticFiles(directory=WEB), name="ui-assets")
    for path, name in PAGES.items():
        app.add_api_route(
            path, _page(WEB / name), methods=["GET"], include_in_schema=False, name=f"ui-{name}"
        )


def _page(file: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def page() -> FileResponse:
        return FileResponse(file, media_type="text/html; charset=utf-8", headers=_HEADERS)

    return page
