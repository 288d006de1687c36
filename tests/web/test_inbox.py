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
from .test_chat import XSS, open_chat, say, to_payment_card

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Dialog, Page, Route

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
    # Bob's own confirmation shows; alice's never does, even live: asked for before
    # his, it would be on the list his brought.
    ask(server.url, "more", ["/payment", "3", "tea"], key="alice-key")
    ask(server.url, "bobs", ["/tidy", "b.txt"], key="bob-key")
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
    inbox.set_viewport_size({"width": 375, "height": 740})
    inbox.get_by_role("tab", name="Open").click()
    expect(inbox.locator("#open-list .card")).to_have_count(2)
    assert inbox.evaluate("document.documentElement.scrollWidth") <= 375
    for path in saved:
        assert path.read_bytes().startswith(b"\x89PNG"), path


def test_another_key_takes_the_previous_users_items_off_at_once(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web(settings=KEYS)
    ask(server.url, "alices", ["/payment", "12", "lunch"], key="alice-key")
    page.goto(f"{server.url}/inbox")
    enter_key(page, "alice-key")
    alices = page.locator("#open-list .card")
    expect(alices.locator(".card-prompt")).to_have_text(["Pay 12 for lunch?"])

    page.get_by_role("button", name="Forget key").click()
    expect(page.get_by_role("heading", name="Enter your key")).to_be_visible()
    expect(alices).to_have_count(0)

    enter_key(page, "alice-key")
    expect(alices).to_have_count(1)
    # Bob's lists are held back: alice's items must go before they come, not when.
    held: list[Route] | None = []

    def hold(route: Route) -> None:
        if held is None:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r"/confirmations\?status="), hold)
    enter_key(page, "bob-key")
    expect(alices).to_have_count(0)
    expect(page.locator("#open-count")).to_have_text("")
    waiting, held = held, None
    for route in waiting:
        route.continue_()
    expect(page.locator("#open-empty")).to_be_visible()
    expect(page.get_by_text("lunch")).to_have_count(0)


def test_markup_in_prompts_labels_and_ids_is_shown_as_text(
    page: Page, web: Serve, runs: Runs
) -> None:
    dialogs: list[Dialog] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog), dialog.dismiss()))
    server = web()
    conversation = "<img src=x onerror=alert(4)>"
    ask(server.url, conversation, ["/odd", XSS])
    page.goto(f"{server.url}/inbox")
    item = page.locator("#open-list .card")
    expect(item.locator(".card-prompt")).to_have_text(f"What now with {XSS}?")
    labels = ["<b>bold</b>", "<img src=x onerror=alert(3)>"]
    expect(item.locator(".options li")).to_have_text(labels)
    expect(item.locator(".card-actions button")).to_have_text([*labels, "Skip"])
    expect(item.locator(".conversation")).to_have_text(f"Conversation {conversation}")

    item.get_by_role("button", name="<b>bold</b>").click()
    page.get_by_role("tab", name="History").click()
    history = page.locator("#history-list .history")
    expect(history.locator(".badge")).to_have_text("Chose “<b>bold</b>” · done")
    expect(history.locator(".conversation")).to_have_text(f"Conversation {conversation}")
    assert page.evaluate("document.querySelectorAll('img, b, script:not([src])').length") == 0
    assert dialogs == []


def test_keyboard_focus_stays_on_its_item_when_the_list_is_read_again(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web()
    ask(server.url, "first", ["/payment", "12", "lunch"])
    page.goto(f"{server.url}/inbox")
    items = page.locator("#open-list .card")
    # Each item is an article named by its prompt: its buttons have that context.
    lunch = page.get_by_role("article", name="Pay 12 for lunch?")
    expect(lunch).to_have_count(1)
    expect(lunch).to_have_accessible_description(re.compile("^Asked by anonymous"))
    lunch.get_by_role("button", name="Skip").focus()

    ask(server.url, "second", ["/payment", "40", "the taxi"])  # the list is read again
    expect(items).to_have_count(2)
    expect(items.nth(1).get_by_role("button", name="Skip")).to_be_focused()

    # Deciding takes the item away: focus goes to the one now in its place.
    page.keyboard.press("Enter")
    expect(items).to_have_count(1)
    expect(items.nth(0).get_by_role("button", name="Approve")).to_be_focused()
