"""``/docs`` works with no network: Swagger UI's script, styles and icon are served by
soni itself (FastAPI's own page loads them from a CDN, and is blank offline)."""

from __future__ import annotations

import re

import pytest

from .conftest import Served

pytestmark = pytest.mark.in_process  # plain requests and answers: no socket needed


def test_the_docs_page_loads_only_what_the_server_serves(server: Served) -> None:
    with server.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        linked = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        linked += re.findall(r"""url: ?['"]([^'"]+)['"]""", page.text)
        assert linked, page.text
        assert [url for url in linked if "//" in url] == []  # nothing from elsewhere
        assert "/openapi.json" in linked
        for url in linked:
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 100, url
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        assert "javascript" in script.headers["content-type"]
        assert "SwaggerUIBundle" in script.text
        assert client.get("/redoc").status_code == 404  # a CDN-only page is not served
        assert "/docs/assets" not in str(client.get("/openapi.json").json()["paths"])
