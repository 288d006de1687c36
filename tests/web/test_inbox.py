"""The inbox (/inbox): open confirmations decided from the list, the history of the
closed ones, API keys (no key: "enter your key"; each user sees only their own)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from soni.server import ServerSettings

from .conftest import Runs, Serve, expect, save_screenshot
from .test_chat import open_chat, say, to_payment_card

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.sqlite_only(reason="about the pages: one backend is enough")

KEYS = ServerSettings(api_keys={"alice-key": "alice", "bob-key": "bob"})


def ask(url: str, conversation: str, texts: list[str], key: str | None = None) -> None:
    """Bring a conversation to its confirmation over HTTP, as another client would."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=url, headers=headers, timeout=15, trust_env=False) as client:
        for text in texts:
            response = client.post(f"/conversations/{conversation}/messages", json={"text": text})
            assert response.status_code == 200, response.text


def enter_key(page: Page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Use key").click()


def test_the_inbox_decides_and_keeps_a_history(page: Page, web: Serve, runs: Runs) -> None:
    server = web()
    page.goto(f"{server.url}/inbox")
    expect(page.locator("#connection")).to_have_text("Connected")
    expect(page.locator("#open-empty")).to_be_visible()

    # Live: confirmations asked for after the page opened appear, newest first.
    ask(server.url, "first", ["/payment", "12", "lunch"])
    ask(server.url, "second", ["/tidy", "notes.txt"])
    items = page.locator("#open-list .card")
    expect(items.locator(".card-prompt")).to_have_text(
        ["What should I do with notes.txt?", "Pay 12 for lunch?"]
    )
    choice = items.nth(0)
    expect(choice.locator(".conversation")).to_have_text("Conversation second")
    expect(choice.locator(".options li")).to_have_text(["Archive it", "Delete it", "Share it"])
    expect(choice.locator(".expiry")).to_have_text(re.compile(r"^Expires in 4:[0-5]\d$"))
    choice.get_by_role("button", name="Share it").click()
    expect(page.locator("#announce")).to_have_text(re.compile("notes.txt shared"))
    items.nth(0).get_by_role("button", name="Skip").click()
    expect(page.locator("#open-empty")).to_be_visible()
    assert runs.calls == [("share_file", "notes.txt")]

    page.get_by_role("tab", name="History").click()
    history = page.locator("#history-list .history")
    expect(history.locator(".badge")).to_have_text(["Skipped", "Chose “Share it” · done"])
    expect(history.nth(1).locator(".decided-by")).to_have_text("Decided by someone via http")
    expect(history.nth(0).locator("time")).to_have_count(1)


def test_without_a_key_the_pages_ask_for_one_and_each_user_sees_their_own(
    context: BrowserContext, web: Serve, runs: Runs
) -> None:
    server = web(settings=KEYS)
    chat = context.new_page()
    chat.goto(f"{server.url}/?c=keyed")
    expect(chat.get_by_role("heading", name="Enter your key")).to_be_visible()
    expect(chat.locator("#key-needed-text")).to_have_text(re.compile("needs an API key"))
    expect(chat.locator("#connection")).to_have_text("Not connected")

    enter_key(chat, "alice-key")
    expect(chat.locator("#connection")).to_have_text("Connected")
    expect(chat.get_by_role("heading", name="Enter your key")).to_be_hidden()
    to_payment_card(chat)

    inbox = context.new_page()  # a tab of its own: its own sessionStorage, no key yet
    inbox.goto(f"{server.url}/inbox")
    expect(inbox.get_by_role("heading", name="Enter your key")).to_be_visible()
    enter_key(inbox, "wrong-key")
    expect(inbox.locator("#key-needed-text")).to_have_text(re.compile("refused"))
    enter_key(inbox, "bob-key")
    expect(inbox.locator("#connection")).to_have_text("Connected")
    expect(inbox.locator("#open-empty")).to_be_visible()
    # Bob's own confirmation shows; alice's never does, even live.
    ask(server.url, "bobs", ["/tidy", "b.txt"], key="bob-key")
    ask(server.url, "more", ["/payment", "3", "tea"], key="alice-key")
    expect(inbox.locator("#open-list .card-prompt")).to_have_text(["What should I do with b.txt?"])
    expect(inbox.get_by_text("lunch")).to_have_count(0)
    expect(inbox.get_by_text("tea")).to_have_count(0)

    enter_key(inbox, "alice-key")
    expect(inbox.locator("#open-list .card-prompt")).to_have_text(
        ["Pay 3 for tea?", "Pay 12 for lunch?"]
    )
    expect(inbox.locator("#open-list .asked-by").first).to_have_text("Asked by alice")
    inbox.locator("#open-list .card").nth(1).get_by_role("button", name="Approve").click()
    expect(chat.locator(".message.bot").last).to_have_text("BotPaid 12 for lunch.")
    assert runs.calls == [("pay", 12.0)]


def test_screenshots_of_the_pages(context: BrowserContext, web: Serve, tmp_path: Path) -> None:
    server = web()
    chat = context.new_page()
    open_chat(chat, server.url, "shots")
    say(chat, "/tidy")
    say(chat, "report.pdf")
    expect(chat.locator(".card")).to_have_count(1)
    saved = save_screenshot(chat.screenshot(full_page=False), "chat.png", tmp_path)

    ask(server.url, "pay-1", ["/payment", "12", "lunch"])
    ask(server.url, "pay-2", ["/payment", "40", "the taxi"])
    inbox = context.new_page()
    inbox.goto(f"{server.url}/inbox")
    expect(inbox.locator("#open-list .card")).to_have_count(3)
    inbox.locator("#open-list .card").nth(0).get_by_role("button", name="Approve").click()
    expect(inbox.locator("#open-list .card")).to_have_count(2)
    inbox.locator("#open-list .card").nth(0).get_by_role("button", name="Skip").click()
    expect(inbox.locator("#open-list .card")).to_have_count(1)
    ask(server.url, "pay-3", ["/payment", "7", "coffee"])
    expect(inbox.locator("#open-list .card")).to_have_count(2)
    saved += save_screenshot(inbox.screenshot(), "inbox.png", tmp_path)
    inbox.get_by_role("tab", name="History").click()
    expect(inbox.locator("#history-list .history")).to_have_count(2)
    saved += save_screenshot(inbox.screenshot(), "inbox-history.png", tmp_path)

    chat.set_viewport_size({"width": 375, "height": 740})
    chat.get_by_role("button", name="Archive it").focus()
    saved += save_screenshot(chat.screenshot(), "chat-phone.png", tmp_path)
    # Nothing is wider than the phone's screen.
    assert chat.evaluate("document.documentElement.scrollWidth") <= 375
    for path in saved:
        assert path.read_bytes().startswith(b"\x89PNG"), path
