"""Sanity checks of examples/deploy, which docs/deployment.md quotes (``same-as``).

Neither nginx nor systemd runs here, so these check what would silently break soni
behind them — not that nginx or systemd accepts every line. app.py is run for
real by the docs' console block (``uvicorn --app-dir examples/deploy app:app``).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer

from soni.server import ServerSettings

DEPLOY = Path(__file__).resolve().parents[2] / "examples" / "deploy"


def _location(conf: str, path: str) -> str:
    """The body of ``location PATH { ... }`` (no nested blocks in this file)."""
    conf = re.sub(r"#.*", "", conf)
    match = re.search(r"location\s+" + re.escape(path) + r"\s*\{(?P<body>[^{}]*)\}", conf)
    assert match, f"no location {path}"
    return match["body"]


def _directives(body: str) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in body.splitlines())
    return {" ".join(line.rstrip(";").split()) for line in lines if line}


def _exec_start() -> list[str]:
    unit = (DEPLOY / "soni-banking.service").read_text()
    (line,) = [x for x in unit.splitlines() if x.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def test_nginx_passes_websocket_upgrades_on() -> None:
    ws = _directives(_location((DEPLOY / "nginx.conf").read_text(), "/ws"))
    assert {
        "proxy_http_version 1.1",
        "proxy_set_header Upgrade $http_upgrade",
        'proxy_set_header Connection "upgrade"',
    } <= ws


def test_nginx_does_not_buffer_server_sent_events() -> None:
    events = _directives(_location((DEPLOY / "nginx.conf").read_text(), "/events"))
    assert "proxy_buffering off" in events
    assert "proxy_http_version 1.1" in events


def test_nginx_waits_longer_than_a_long_poll_and_an_sse_ping() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    settings = ServerSettings()
    for path in ("/", "/events"):
        (timeout,) = re.findall(r"proxy_read_timeout (\d+)s", _location(conf, path))
        assert int(timeout) > max(settings.long_poll_max, settings.sse_ping)


def test_nginx_body_limit_is_sonis() -> None:
    (limit,) = re.findall(r"client_max_body_size (\d+)k;", (DEPLOY / "nginx.conf").read_text())
    assert int(limit) * 1024 == ServerSettings().max_body_bytes


def test_nginx_upstream_is_the_served_port() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    (upstream,) = re.findall(r"server (127\.0\.0\.1:\d+);", conf)
    args = _exec_start()
    port = args[args.index("--port") + 1]
    host = args[args.index("--host") + 1]
    assert upstream == f"{host}:{port}"
    targets = re.findall(r"proxy_pass (\S+);", conf)
    assert targets, "no proxy_pass in nginx.conf"
    assert set(targets) == {"http://soni_banking"}


def test_the_unit_runs_a_valid_soni_serve_command_line() -> None:
    from soni.cli import app

    args = _exec_start()
    assert Path(args[0]).name == "soni" and args[1] == "serve"
    command = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    # Parsing refuses an unknown option or a bad value, exactly as the command would.
    context = command.make_context("serve", args[2:])
    assert context.params["host"] == "127.0.0.1"
    assert str(context.params["db"]).startswith("/var/lib/soni/")
