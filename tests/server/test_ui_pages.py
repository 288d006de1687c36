"""The web pages as the server serves them: the chat at ``/`` and ``/chat``, the inbox
at ``/inbox``, their assets under ``/ui/``, a Content-Security-Policy that allows
nothing but this server, nothing in the OpenAPI document, and none of it with
``ui`` off (``soni serve --no-ui``)."""

from __future__ import annotations

import re

import pytest

from soni.server import ServerSettings
from soni.server.ui import WEB

from .conftest import HTTP_LAYER, Serve

pytestmark = [HTTP_LAYER, pytest.mark.in_process]


def test_the_pages_and_their_assets_come_from_this_server_only(serve: Serve) -> None:
    server = serve()
    with server.client() as client:
        for path in ("/", "/chat", "/inbox"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-type"].startswith("text/html")
            policy = page.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "script-src 'self'" in policy
            # Every script and style the page loads is one of soni's files, served here.
            assert "http://" not in page.text and "https://" not in page.text  # no CDN
            loaded = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page.text) + re.findall(
                r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', page.text
            )
            assert loaded, f"{path} loads no script or style"
            for asset in loaded:
                assert asset.startswith("/ui/"), f"{path} loads {asset}"
                assert (WEB / asset.removeprefix("/ui/")).is_file(), asset
                assert client.get(asset).status_code == 200, asset
            assert "<script>" not in page.text  # no inline script: the CSP forbids them
        paths = client.get("/openapi.json").json()["paths"]
        assert not {"/", "/chat", "/inbox"} & set(paths)


def test_no_pages_with_the_ui_off(serve: Serve) -> None:
    server = serve(settings=ServerSettings(ui=False))
    with server.client() as client:
        for path in ("/", "/chat", "/inbox", "/ui/chat.js"):
            assert client.get(path).status_code == 404, path
        assert client.get("/health").status_code == 200
    assert ServerSettings.from_env({"SONI_UI": "false"}).ui is False
