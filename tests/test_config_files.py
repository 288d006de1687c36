"""config/: the files a deployment copies, held to what soni reads and does.

- ``soni.env.example`` names every ``SONI_*`` variable soni reads, and no other,
  each with its comment and soni's default.
- ``systemd/soni.service`` is read as the INI file systemd reads; its ``soni``
  command lines are parsed by soni's own CLI; and when ``systemd-analyze`` is
  installed, ``systemd-analyze verify`` accepts it without a warning.
- ``nginx/soni.conf`` is checked for balanced blocks, terminated directives and
  the values soni relies on (the upstream ports the unit serves, WebSocket
  upgrade, SSE without buffering, timeouts above the long poll); when ``nginx``
  and ``openssl`` are installed, ``nginx -t`` accepts it. Without them, whether
  nginx knows every directive is not checked here.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from soni.nlu._llm_settings import DEFAULT_BASE_URL
from soni.server import ServerSettings
from soni.server.workers import STOP_TIMEOUT

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
ENV = CONFIG / "soni.env.example"
UNIT = CONFIG / "systemd" / "soni.service"
NGINX = CONFIG / "nginx" / "soni.conf"
README = CONFIG / "README.md"

# The variables soni reads besides the server's settings, with the default the
# env file must show for each ("": not set).
EXTRA = {
    "SONI_DB": "",
    "SONI_SECRET": "",
    "SONI_DB_POOL_SIZE": "10",
    "SONI_ACTION_WORKERS": "64",
    "SONI_LLM_MODEL": "",
    "SONI_LLM_BASE_URL": DEFAULT_BASE_URL,
    "SONI_LLM_API_KEY": "",
    "SONI_API_KEY": "",
    "SONI_WORKER_KEY": "",
}
SETTINGS = {f"SONI_{name.upper()}": name for name in ServerSettings.model_fields}

_VARIABLE = re.compile(r"^(?P<commented>#?)(?P<name>SONI_[A-Z0-9_]+)=(?P<value>.*)$")


def env_entries() -> dict[str, str]:
    """``{variable: the value shown}`` of the env file, checking its layout on the way."""
    entries: dict[str, str] = {}
    previous = ""
    for number, line in enumerate(ENV.read_text().splitlines(), start=1):
        match = _VARIABLE.match(line)
        if match:
            name = match["name"]
            assert name not in entries, f"line {number}: {name} again"
            assert previous.startswith("# "), f"line {number}: {name} has no comment above it"
            # Commented out: a copy of the file changes nothing until one is set.
            assert match["commented"], f"line {number}: {name} is set, not shown"
            entries[name] = match["value"]
        else:
            assert not line.strip() or line.startswith("#"), f"line {number}: {line!r}"
        previous = line
    return entries


def read_by_soni() -> set[str]:
    """Every ``SONI_*`` name soni's source mentions: what it reads or tells users to set."""
    names: set[str] = set()
    for source in (ROOT / "src" / "soni").rglob("*.py"):
        names |= set(re.findall(r"\bSONI_[A-Z][A-Z0-9_]*\b", source.read_text()))
    return names


# -- soni.env.example -------------------------------------------------------------------


def test_the_env_file_names_every_variable_soni_reads_and_no_other() -> None:
    assert set(env_entries()) == set(SETTINGS) | set(EXTRA)
    # EXTRA is soni's, not this test's: what the source reads beyond the settings.
    assert read_by_soni() - set(SETTINGS) == set(EXTRA)


def test_every_server_default_in_the_env_file_is_the_settings_models() -> None:
    entries = env_entries()
    defaults = ServerSettings()
    for variable, field in SETTINGS.items():
        default = getattr(defaults, field)
        shown = entries[variable]
        if shown == "":
            assert default in (None, {}), (
                f"{variable}: shown as not set, but defaults to {default!r}"
            )
        else:
            read = getattr(ServerSettings.from_env({variable: shown}), field)
            assert read == default, f"{variable}={shown} reads as {read!r}, not {default!r}"


@pytest.mark.slow  # a Python process of its own
def test_every_other_default_in_the_env_file_is_sonis() -> None:
    entries = env_entries()
    assert {name: entries[name] for name in EXTRA} == EXTRA
    # The handlers' pool, as a fresh process sizes it with the variable unset.
    env = {k: v for k, v in os.environ.items() if k != "SONI_ACTION_WORKERS"}
    sized = subprocess.run(
        [sys.executable, "-c",
         "from soni.actions.invoke import default_executor;"
         "print(default_executor()._max_workers)"],
        capture_output=True, text=True, timeout=60, check=True, env=env,
    )  # fmt: skip
    assert sized.stdout.strip() == entries["SONI_ACTION_WORKERS"]


# -- systemd/soni.service ---------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text())
    return parser


def parsed(line: str) -> tuple[list[str], dict[str, object]]:
    """The ``soni`` command of an Exec line: its words, and its options as soni parses them."""
    from soni.cli import app

    words = shlex.split(line)
    assert Path(words[0]).name == "soni", words
    command = typer.main.get_command(app)
    path = []
    for word in words[1:]:
        if word.startswith("-") or not hasattr(command, "commands"):
            break
        command = command.commands[word]  # type: ignore[attr-defined]
        path.append(word)
    # Parsing refuses an unknown option or a bad value, as the command would.
    context = command.make_context(" ".join(path), words[1 + len(path) :])
    return path, context.params


def test_the_unit_is_a_service_of_a_dedicated_user_restarted_on_failure() -> None:
    service = unit()
    assert service.sections() == ["Unit", "Service", "Install"]
    section = service["Service"]
    assert section["User"] == section["Group"] == "soni"
    assert section["Restart"] == "on-failure"
    assert service["Install"]["WantedBy"] == "multi-user.target"
    # SIGTERM to soni alone, and time for it to stop its workers before SIGKILL.
    assert section["KillMode"] == "mixed"
    assert section["KillSignal"] == "SIGTERM"
    assert int(section["TimeoutStopSec"]) > STOP_TIMEOUT


def test_the_unit_reads_the_env_file_the_readme_installs() -> None:
    environment = unit()["Service"]["EnvironmentFile"]
    assert Path(environment).name == "soni.env"
    assert f"`{environment}`" in README.read_text()


def test_the_unit_migrates_then_serves_several_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both take the database from the env file (SONI_DB), as systemd passes it.
    url = "postgresql://soni@db.internal:5432/soni"
    monkeypatch.setenv("SONI_DB", url)
    section = unit()["Service"]
    before, migrating = parsed(section["ExecStartPre"])
    serve, serving = parsed(section["ExecStart"])
    assert before == ["db", "migrate"]
    assert serve == ["serve"]
    assert migrating["db"] == serving["db"] == url
    assert int(str(serving["workers"])) > 1


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    # verify checks that each Exec command exists: point them at this soni.
    soni = Path(sys.executable).with_name("soni")
    assert soni.is_file()
    copy = tmp_path / "soni.service"
    copy.write_text(UNIT.read_text().replace("/opt/soni/.venv/bin/soni", str(soni)))

    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # not even a warning


# -- nginx/soni.conf --------------------------------------------------------------------


def nginx_text() -> str:
    """The site without its comments (none of its strings holds a '#')."""
    return re.sub(r"#[^\n]*", "", NGINX.read_text())


def block(name: str) -> str:
    """The body of the first ``NAME {`` block (none of the checked ones nests)."""
    match = re.search(re.escape(name) + r"\s*\{(?P<body>[^{}]*)\}", nginx_text())
    assert match, f"no {name} block"
    return match["body"]


def directives(body: str) -> set[str]:
    return {" ".join(part.split()) for part in body.split(";") if part.strip()}


def served_port() -> tuple[str, int]:
    _, options = parsed(unit()["Service"]["ExecStart"])
    return str(options["host"]), int(str(options["port"]))


def test_the_nginx_site_is_well_formed() -> None:
    text = nginx_text()
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a '}' closes nothing"
    assert depth == 0, "a '{' is never closed"
    # Between two of ; { } there is one directive: nothing may dangle unterminated.
    tail = re.split(r"[;{}]", text)[-1]
    assert not tail.strip(), f"unterminated: {tail.strip()!r}"


def test_the_upstream_lists_several_soni_hosts_on_the_units_port() -> None:
    host, port = served_port()
    servers = re.findall(r"^\s*server\s+([\d.]+):(\d+);", block("upstream soni"), re.MULTILINE)
    assert len(servers) >= 2
    assert {int(p) for _, p in servers} == {port}
    assert (host, str(port)) in servers
    # The README tells the same: where the unit listens, which port nginx reaches.
    readme = README.read_text()
    assert f"{host}:{port}" in readme
    assert f"port {port} on each" in readme
    assert set(re.findall(r"proxy_pass (\S+);", nginx_text())) == {"http://soni"}


def test_nginx_passes_websocket_upgrades_on() -> None:
    ws = directives(block("location /ws"))
    assert {
        "proxy_http_version 1.1",
        "proxy_set_header Upgrade $http_upgrade",
        "proxy_set_header Connection $soni_connection",
    } <= ws
    assert "default upgrade" in directives(block("map $http_upgrade $soni_connection"))


def test_nginx_does_not_buffer_server_sent_events() -> None:
    events = directives(block("location /events"))
    assert {"proxy_buffering off", "proxy_http_version 1.1"} <= events


def test_nginx_waits_longer_than_a_long_poll_and_an_sse_ping() -> None:
    settings = ServerSettings()
    for location in ("location /", "location /events"):
        (timeout,) = re.findall(r"proxy_read_timeout (\d+)s", block(location))
        assert int(timeout) > max(settings.long_poll_max, settings.sse_ping), location


def test_nginx_body_limit_is_sonis() -> None:
    (limit,) = re.findall(r"client_max_body_size (\d+)k;", nginx_text())
    assert int(limit) * 1024 == ServerSettings().max_body_bytes


@pytest.mark.skipif(
    not (shutil.which("nginx") and shutil.which("openssl")), reason="nginx or openssl not installed"
)
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    # A throwaway certificate where the site names one; everything else as shipped.
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=bot.example.com",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    site = tmp_path / "site.conf"
    site.write_text(
        NGINX.read_text()
        .replace("/etc/ssl/certs/bot.example.com.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/private/bot.example.com.key", str(tmp_path / "key.pem"))
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\n"
        f"events {{}}\n"
        f"http {{\n  access_log off;\n  include {site};\n}}\n"
    )

    done = subprocess.run(
        ["nginx", "-t", "-q", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
         "-c", str(main)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
