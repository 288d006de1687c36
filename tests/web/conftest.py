"""The web pages in a real browser: Debian's Chromium driven by Playwright, against a
real server (uvicorn on a free 127.0.0.1 port, in a thread of the test's process).

Playwright's own browsers are never downloaded (no ``playwright install``): the
suite drives ``/usr/bin/chromium``. Without it (or without playwright) the suite
skips with one line saying why; with ``CI=true`` it fails instead: CI must not pass
with the browser tests unrun.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from soni import ActionRegistry
from soni.server import ServerSettings, create_app
from soni.server.transport import uvicorn_options

from .._uvicorn import ThreadedServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = 10_000
"""Milliseconds an ``expect`` waits for the page (auto-waiting: no sleeps)."""

try:
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT)
except ImportError:  # the suite skips (fails under CI=true): pytest_runtest_setup
    expect = None  # type: ignore[assignment]


@functools.cache
def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed ({exc})"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (fail under ``CI=true``) before any fixture starts a browser or a server:
    raised here, every test of the suite shares one summary line."""
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture
def browser() -> Iterator[Browser]:
    """The system's Chromium, for this test alone.

    Playwright's sync API runs an asyncio loop in this thread for as long as it is
    started; the asyncio tests pytest-xdist runs in the same process afterwards (any
    suite, in any order) could not run theirs. So it is started and stopped around
    each test instead of once per session, as pytest-playwright's ``browser`` is.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser, web: Serve) -> Iterator[BrowserContext]:
    """A fresh browser profile for the test (pytest-playwright's would pull in
    pytest-base-url, whose fixture warns under pytest 9); closed before the test's
    servers stop, so that they need not wait for its connections."""
    context = browser.new_context(viewport={"width": 1000, "height": 720})
    context.set_default_timeout(WAIT)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


BOT = """
version: "1.0"
settings:
  confirmations: {ttl: %(ttl)s}
  nlu: {engine: rules}
slots:
  amount: {type: float, prompt: "How much?"}
  note: {type: string, prompt: "What for?"}
  file_name: {type: string, prompt: "Which file?"}
  outcome: {type: string}
actions:
  pay:
    description: "pays"
    inputs: [amount, note]
    confirm: "Pay {amount} for {note}?"
  archive_file: {description: "archives the file", inputs: [file_name], outputs: [outcome]}
  delete_file: {description: "deletes the file", inputs: [file_name], outputs: [outcome]}
  share_file: {description: "shares the file", inputs: [file_name], outputs: [outcome]}
flows:
  payment:
    description: "a payment"
    steps:
      - {step: ask_amount, type: collect, slot: amount}
      - {step: ask_note, type: collect, slot: note}
      - {step: send, type: action, call: pay, on_skip: not_paid}
      - {step: done, type: end, message: "Paid {amount} for {note}."}
      - {step: not_paid, type: end, message: "Nothing was paid."}
  tidy:
    description: "tidy a file"
    steps:
      - {step: ask_file, type: collect, slot: file_name}
      - step: propose
        type: choose
        message: "What should I do with {file_name}?"
        options:
          - {action: archive_file, label: "Archive it"}
          - {action: delete_file, label: "Delete it"}
          - {action: share_file, label: "Share it"}
        on_skip: kept
      - {step: done, type: end, message: "Done: {outcome}."}
      - {step: kept, type: end, message: "Kept {file_name}."}
  odd:
    description: "options labelled with markup"
    steps:
      - {step: ask_file, type: collect, slot: file_name}
      - step: propose
        type: choose
        message: "What now with {file_name}?"
        options:
          - {action: archive_file, label: "<b>bold</b>"}
          - {action: share_file, label: "<img src=x onerror=alert(3)>"}
      - {step: done, type: end, message: "Done: {outcome}."}
  echo:
    description: "says it back"
    steps:
      - {step: ask_note, type: collect, slot: note}
      - {step: say, type: end, message: "You said: {note}"}
"""


class Runs:
    """What the bot's handlers did, in order: each run one entry."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.gate: threading.Event | None = None
        """Set to hold ``pay`` (it runs in a worker thread) until the test opens it."""

    def register(self) -> None:
        def pay(amount: float, note: str) -> dict[str, Any]:
            self.calls.append(("pay", amount))
            if self.gate is not None:
                self.gate.wait(timeout=WAIT / 1000)
            return {}

        ActionRegistry.register("pay")(pay)
        for verb, name in (("archived", "archive_file"), ("deleted", "delete_file"),
                           ("shared", "share_file")):  # fmt: skip
            ActionRegistry.register(name)(self._file_action(name, verb))

    def _file_action(self, name: str, verb: str) -> Any:
        def act(file_name: str) -> dict[str, str]:
            self.calls.append((name, file_name))
            return {"outcome": f"{file_name} {verb}"}

        return act


class WebServer:
    """A bot served on 127.0.0.1 with its pages; ``restart`` keeps the port and the db.

    ``secret``, when set, is what tokens are derived under from the next start on
    (by default the one kept beside the database): another one stands for a
    deployment whose restarted server cannot derive the tokens it handed out.
    """

    def __init__(self, bot: Path, settings: ServerSettings, db: Path) -> None:
        self.bot, self.settings, self.db = bot, settings, db
        self.port = 0
        self.server: ThreadedServer | None = None
        self.secret: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        secret = {"secret": self.secret} if self.secret is not None else {}
        app = create_app(self.bot, self.settings, db=str(self.db), **secret)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,  # 0 the first time: the OS picks a free one
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
            **uvicorn_options(self.settings),
        )
        self.server = ThreadedServer(config)
        self.server.start(timeout=15)
        self.port = self.server.port
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Serve:
    """Starts web servers of a test; stopped at its end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.servers: list[WebServer] = []

    def __call__(self, *, ttl: float = 300, settings: ServerSettings | None = None) -> WebServer:
        folder = self.tmp_path / f"bot-{len(self.servers)}"
        folder.mkdir()
        (folder / "bot.yaml").write_text(BOT % {"ttl": ttl})
        server = WebServer(folder, settings or ServerSettings(), folder / "state.db")
        self.servers.append(server.start())
        return server

    def close(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def runs() -> Iterator[Runs]:
    """The test bot's handlers, registered for this test; what they ran."""
    runs = Runs()
    runs.register()
    yield runs
    if runs.gate is not None:
        runs.gate.set()  # a held handler must not keep the server from stopping


@pytest.fixture
def web(runs: Runs, tmp_path: Path) -> Iterator[Serve]:
    """Start the test bot's servers (its handlers counting their runs in ``runs``)."""
    servers = Serve(tmp_path)
    try:
        yield servers
    finally:
        servers.close()


def screenshot_dirs(tmp_path: Path) -> list[Path]:
    """Where screenshots go: the test's temporary folder, and ``SONI_SCREENSHOTS`` if set."""
    kept = os.environ.get("SONI_SCREENSHOTS")
    return [tmp_path, *([Path(kept)] if kept else [])]


def save_screenshot(png: bytes, name: str, tmp_path: Path) -> list[Path]:
    saved = []
    for folder in screenshot_dirs(tmp_path):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(png)
        saved.append(folder / name)
    return saved


__all__ = ("WAIT", "Runs", "Serve", "WebServer", "expect", "save_screenshot")
