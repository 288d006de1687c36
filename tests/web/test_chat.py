"""The chat page (/): a conversation over the WebSocket protocol, its confirmation
cards decided by a click, live updates from decisions made elsewhere, reconnection."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from .conftest import Runs, Serve, expect

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Dialog, Page

pytestmark = pytest.mark.sqlite_only(reason="about the pages: one backend is enough")

XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def say(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()


def last_reply(page: Page) -> object:
    return expect(page.locator(".message.bot").last)


def open_chat(page: Page, url: str, conversation: str) -> None:
    page.goto(f"{url}/?c={conversation}")
    expect(page.locator("#connection")).to_have_text("Connected")


def to_payment_card(page: Page, amount: str = "12", note: str = "lunch") -> None:
    say(page, "/payment")
    expect(page.locator(".message.bot").last).to_have_text(re.compile("How much"))
    say(page, amount)
    expect(page.locator(".message.bot").last).to_have_text(re.compile("What for"))
    say(page, note)
    expect(page.locator(".card")).to_have_count(1)


def test_approve_runs_the_action_once_and_shows_its_reply(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web()
    open_chat(page, server.url, "approve-1")
    to_payment_card(page)
    card = page.locator(".card")
    expect(card.locator(".card-prompt")).to_have_text("Pay 12 for lunch?")
    expect(card.locator(".expiry")).to_have_text(re.compile(r"^Expires in 4:[0-5]\d$"))
    card.get_by_role("button", name="Approve").click()

    expect(page.locator(".message.bot").last).to_have_text("BotPaid 12 for lunch.")
    expect(card.locator(".card-status")).to_have_text(re.compile("^Approved · done"))
    expect(card.get_by_role("button", name="Approve")).to_be_hidden()
    # The clicked button is gone: focus is on what the card now says, not lost.
    expect(card.locator(".card-status")).to_be_focused()
    # The reply arrives twice (the response, the subscription's event): shown once.
    # The next turn's reply comes after both copies of this one (one socket, in
    # order), so the count is taken when a second copy would have shown.
    say(page, "/echo")
    expect(page.locator(".message.bot").last).to_have_text("BotWhat for?")
    expect(page.locator(".message.bot", has_text="Paid")).to_have_count(1)
    assert runs.calls == [("pay", 12.0)]


def test_a_choice_of_three_runs_the_option_clicked(page: Page, web: Serve, runs: Runs) -> None:
    server = web()
    open_chat(page, server.url, "choice-1")
    say(page, "/tidy")
    say(page, "report.pdf")
    card = page.locator(".card")
    expect(card.locator(".card-prompt")).to_have_text("What should I do with report.pdf?")
    buttons = card.locator(".card-actions button")
    expect(buttons).to_have_text(["Archive it", "Delete it", "Share it", "Skip"])
    buttons.nth(1).click()

    expect(page.locator(".message.bot").last).to_have_text("BotDone: report.pdf deleted.")
    expect(card.locator(".card-status")).to_have_text(re.compile("^Chose “Delete it”"))
    assert runs.calls == [("delete_file", "report.pdf")]


def test_skip_runs_nothing(page: Page, web: Serve, runs: Runs) -> None:
    server = web()
    open_chat(page, server.url, "skip-1")
    to_payment_card(page)
    page.locator(".card").get_by_role("button", name="Skip").click()

    expect(page.locator(".card .card-status")).to_have_text(re.compile("^Skipped"))
    expect(page.locator(".message.bot").last).to_have_text("BotNothing was paid.")
    assert runs.calls == []


def test_a_decision_in_the_inbox_updates_the_open_chat(
    context: BrowserContext, web: Serve, runs: Runs
) -> None:
    server = web()
    chat = context.new_page()
    open_chat(chat, server.url, "two-pages")
    to_payment_card(chat)

    inbox = context.new_page()
    inbox.goto(f"{server.url}/inbox")
    item = inbox.locator("#open-list .card")
    expect(item.locator(".card-prompt")).to_have_text("Pay 12 for lunch?")
    item.get_by_role("button", name="Approve").click()

    # No reload: the subscription tells the chat.
    card = chat.locator(".card")
    expect(card.locator(".card-status")).to_have_text(re.compile(r"^Approved.* via http$"))
    expect(card.get_by_role("button", name="Approve")).to_be_hidden()
    expect(chat.locator(".message.bot").last).to_have_text("BotPaid 12 for lunch.")
    assert runs.calls == [("pay", 12.0)]


def test_an_expired_confirmation_shows_as_expired_not_skipped(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web(ttl=2)
    open_chat(page, server.url, "late")
    to_payment_card(page)
    card = page.locator(".card")
    expect(card.locator(".card-status")).to_have_text("Expired", timeout=8_000)
    expect(card.get_by_role("button", name="Approve")).to_be_hidden()
    # The server's record agrees: the inbox's history says expired (within the
    # sweeper's round), never skipped.
    page.goto(f"{server.url}/inbox")
    page.get_by_role("tab", name="History").click()
    history = page.locator("#history-list .history")
    expect(history.locator(".badge")).to_have_text("Expired", timeout=15_000)
    assert runs.calls == []


def test_markup_from_the_user_and_the_bot_is_shown_as_text(
    page: Page, web: Serve, runs: Runs
) -> None:
    dialogs: list[Dialog] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog), dialog.dismiss()))
    server = web()
    open_chat(page, server.url, "xss")
    say(page, "/echo")
    say(page, XSS)
    expect(page.locator(".message.user").last).to_have_text(f"You{XSS}")
    expect(page.locator(".message.bot").last).to_have_text(f"BotYou said: {XSS}")
    # In a card's prompt too.
    to_payment_card(page, note=XSS)
    expect(page.locator(".card .card-prompt")).to_have_text(f"Pay 12 for {XSS}?")

    expect(page.locator("#log img, #log script")).to_have_count(0)
    assert dialogs == []
    assert page.evaluate("document.querySelectorAll('img').length") == 0


def test_the_chat_comes_back_after_the_server_restarts(page: Page, web: Serve, runs: Runs) -> None:
    server = web()
    open_chat(page, server.url, "restart")
    to_payment_card(page)

    server.stop()
    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    server.start()  # the same port and database
    expect(page.locator("#connection")).to_have_text("Connected", timeout=15_000)

    # The card survived, and still decides with its token: the restarted server
    # derives the same one (the secret is kept beside the SQLite file).
    page.locator(".card").get_by_role("button", name="Approve").click()
    expect(page.locator(".message.bot").last).to_have_text("BotPaid 12 for lunch.")
    expect(page.locator(".card .card-status")).to_have_text(re.compile(r"via ws$"))
    assert runs.calls == [("pay", 12.0)]


def test_a_reload_shows_the_conversation_and_its_open_card(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web()
    page.goto(server.url)
    expect(page).to_have_url(re.compile(r"/\?c=[0-9a-f]{16}$"))  # a fresh id, kept
    expect(page.locator("#connection")).to_have_text("Connected")
    to_payment_card(page)
    url = page.url

    page.reload()
    assert page.url == url
    expect(page.locator(".card .card-prompt")).to_have_text("Pay 12 for lunch?")
    page.locator(".card").get_by_role("button", name="Approve").click()
    expect(page.locator(".message.bot").last).to_have_text("BotPaid 12 for lunch.")
    assert runs.calls == [("pay", 12.0)]


@pytest.mark.parametrize(
    ("text", "still_open"),
    [("cancel", []), ("change the amount to 20", ["Pay 20 for lunch?"])],
    ids=["cancelled", "superseded"],
)
def test_a_withdrawn_confirmation_closes_its_card_and_leaves_the_inbox(
    context: BrowserContext, web: Serve, runs: Runs, text: str, still_open: list[str]
) -> None:
    server = web()
    chat = context.new_page()
    open_chat(chat, server.url, "withdrawn")
    to_payment_card(chat)
    inbox = context.new_page()
    inbox.goto(f"{server.url}/inbox")
    expect(inbox.locator("#open-list .card")).to_have_count(1)

    # No event says a confirmation was withdrawn; the turn that withdrew it is one.
    say(chat, text)
    card = chat.locator(".card").first
    expect(card.locator(".card-status")).to_have_text("Withdrawn")
    expect(card.locator("button:visible")).to_have_count(0)
    expect(chat.locator(".card[data-state=open] .card-prompt")).to_have_text(still_open)
    expect(inbox.locator("#open-list .card-prompt")).to_have_text(still_open)
    assert runs.calls == []


def test_a_reset_closes_the_open_card(page: Page, web: Serve, runs: Runs) -> None:
    server = web()
    open_chat(page, server.url, "reset")
    to_payment_card(page)
    with httpx.Client(base_url=server.url, timeout=15, trust_env=False) as client:
        assert client.delete("/conversations/reset").status_code in (200, 204)
    expect(page.locator(".note")).to_have_text("This conversation was reset.")
    expect(page.locator(".card .card-status")).to_have_text("Withdrawn")
    expect(page.locator(".card button:visible")).to_have_count(0)


def test_a_token_the_listing_no_longer_shows_still_decides(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web()
    open_chat(page, server.url, "other-secret")
    to_payment_card(page)

    # Restarted under another secret, the server cannot derive the card's token
    # (its listing says null) but still knows it by its hash.
    server.stop()
    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    server.secret = "another-secret-of-at-least-32-characters"
    with page.expect_response(re.compile(r"/conversations/other-secret/confirmations$")):
        server.start()
    expect(page.locator("#connection")).to_have_text("Connected", timeout=15_000)

    page.locator(".card").get_by_role("button", name="Approve").click()
    # Decided with the token (over the WebSocket), not by a message in the chat.
    expect(page.locator(".card .card-status")).to_have_text(
        re.compile(r"^Approved · done.* via ws$")
    )
    assert runs.calls == [("pay", 12.0)]


def test_a_card_without_a_token_that_cannot_answer_can_be_tried_again(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web()
    open_chat(page, server.url, "no-token")
    to_payment_card(page)
    server.stop()
    server.secret = "another-secret-of-at-least-32-characters"
    server.start()
    page.reload()  # the card is read back without a token: its buttons answer in the chat
    expect(page.locator("#connection")).to_have_text("Connected")
    card = page.locator(".card")
    expect(card.locator(".card-prompt")).to_have_text("Pay 12 for lunch?")

    server.stop()
    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#problem")).to_have_text(re.compile("Not connected"))
    expect(card.get_by_role("button", name="Approve")).to_be_enabled()
    expect(card.locator(".card-status")).not_to_have_text("Sending…")

    server.start()
    expect(page.locator("#connection")).to_have_text("Connected", timeout=15_000)
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(".message.bot").last).to_have_text("BotPaid 12 for lunch.")
    expect(card.locator(".card-status")).to_have_text(re.compile("^Approved"))
    assert runs.calls == [("pay", 12.0)]


def test_changing_the_key_fails_what_was_in_flight_and_keeps_showing_events(
    page: Page, web: Serve, runs: Runs
) -> None:
    server = web()
    open_chat(page, server.url, "in-flight")
    to_payment_card(page)
    runs.gate = threading.Event()
    try:
        say(page, "/affirm")  # its turn runs the payment, held: the response waits
        expect(page.locator("#typing")).to_be_visible()
        # Another key restarts the connection: that response will never come, and
        # the page says so instead of waiting for it.
        page.get_by_text("API key and conversation").click()
        page.get_by_label("API key").fill("any-key")
        page.get_by_role("button", name="Use key").click()
        expect(page.locator("#problem")).to_have_text(re.compile("Connection lost"))
        expect(page.locator("#typing")).to_be_hidden()
        expect(page.locator("#connection")).to_have_text("Connected")
    finally:
        runs.gate.set()
    # Nothing waits for that response any more: another client's turn shows live.
    with httpx.Client(base_url=server.url, timeout=15, trust_env=False) as client:
        response = client.post("/conversations/in-flight/messages", json={"text": "/echo"})
        assert response.status_code == 200, response.text
    expect(page.locator(".message.bot").last).to_have_text("BotWhat for?")
    assert runs.calls == [("pay", 12.0)]


def test_a_browser_clock_off_by_an_hour_neither_expires_nor_keeps_cards(
    page: Page, web: Serve, runs: Runs
) -> None:
    # The countdown runs on the server's time (its Date header), not the browser's.
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=1))
    server = web()
    open_chat(page, server.url, "skewed")
    to_payment_card(page)
    card = page.locator(".card")
    expect(card.locator(".expiry")).to_have_text(re.compile(r"^Expires in 4:[0-5]\d$"))
    card.get_by_role("button", name="Approve").click()
    expect(card.locator(".card-status")).to_have_text(re.compile("^Approved · done"))
    assert runs.calls == [("pay", 12.0)]
