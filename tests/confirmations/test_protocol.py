"""The decision protocol: SHOWN / EXECUTE / SKIP / CHOOSE messages, parsed and applied."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soni.confirmations import (
    Actor,
    AlreadyDecided,
    Choose,
    ConfirmationRegistry,
    Execute,
    InvalidDecision,
    InvalidDecisionMessage,
    Shown,
    Skip,
    Status,
    UnknownConfirmation,
    format_decision_message,
    parse_decision_message,
)

TOKEN = "Zt3-xQ_9aB8cD7eF6gH5iJ4kL3mN2oP1"  # 32 URL-safe characters, like a real token


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"SHOWN:{TOKEN}", Shown(TOKEN)),
        (f"EXECUTE:{TOKEN}", Execute(TOKEN)),
        (f"SKIP:{TOKEN}", Skip(TOKEN)),
        (f"CHOOSE:{TOKEN}:book_flight", Choose(TOKEN, "book_flight")),
        (f"CHOOSE:{TOKEN}:tools.v2-send", Choose(TOKEN, "tools.v2-send")),
    ],
)
def test_valid_messages_parse_to_typed_results(text: str, expected: object) -> None:
    assert parse_decision_message(text) == expected


def test_parsed_messages_carry_token_kind_and_option() -> None:
    shown = parse_decision_message(f"SHOWN:{TOKEN}")
    execute = parse_decision_message(f"EXECUTE:{TOKEN}")
    skip = parse_decision_message(f"SKIP:{TOKEN}")
    choose = parse_decision_message(f"CHOOSE:{TOKEN}:book_train")

    assert isinstance(shown, Shown)
    assert isinstance(execute, Execute)
    assert isinstance(skip, Skip)
    assert isinstance(choose, Choose)
    assert [m.kind for m in (shown, execute, skip, choose)] == [
        "shown",
        "execute",
        "skip",
        "choose",
    ]
    assert {m.token for m in (shown, execute, skip, choose)} == {TOKEN}
    assert choose.option == "book_train"


@pytest.mark.parametrize("padding", [" ", "\n", "\t ", "\r\n"])
def test_surrounding_white_space_is_ignored(padding: str) -> None:
    assert parse_decision_message(f"{padding}EXECUTE:{TOKEN}{padding}") == Execute(TOKEN)
    assert parse_decision_message(f"{padding}CHOOSE:{TOKEN}:x{padding}") == Choose(TOKEN, "x")


def test_tokens_of_22_to_128_characters_are_accepted() -> None:
    for token in ("a" * 22, "B-_9" * 32):
        assert parse_decision_message(f"SKIP:{token}") == Skip(token)


@pytest.mark.parametrize(
    "text",
    [
        f"execute:{TOKEN}",
        f"Execute:{TOKEN}",
        f"shown:{TOKEN}",
        f"choose:{TOKEN}:x",
        "EXECUTE:",
        "SKIP:",
        "EXECUTE",
        f"EXECUTE:{TOKEN[:21]}",
        f"EXECUTE:{'a' * 129}",
        f"EXECUTE:{TOKEN}:extra",
        f"SKIP:{TOKEN}:extra",
        f"SHOWN:{TOKEN}:",
        f"CHOOSE:{TOKEN}",
        f"CHOOSE:{TOKEN}:",
        f"CHOOSE:{TOKEN}:opt:extra",
        f"CHOOSE:{TOKEN}:1starts_with_digit",
        f"CHOOSE:{TOKEN}:has space",
        f"APPROVE:{TOKEN}",
        f"DENY:{TOKEN}",
        f"EXECUTE {TOKEN}",
        f"EXECUTE: {TOKEN}",
        f"EXECUTE:{TOKEN[:-1]}!",
        f"EXECUTE:{TOKEN}\nSKIP:{TOKEN}",
        f"please EXECUTE:{TOKEN}",
        "",
        "   ",
        "yes",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidDecisionMessage):
        parse_decision_message(text)


@pytest.mark.parametrize("value", [None, 42, b"EXECUTE:" + TOKEN.encode(), [f"SKIP:{TOKEN}"]])
def test_non_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidDecisionMessage):
        parse_decision_message(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "x" * 1_000_000,
        "EXECUTE:" + "a" * 1_000_000,
        f"CHOOSE:{TOKEN}:" + "o" * 1_000_000,
        f"EXECUTE:{TOKEN}" + " " * 1_000_000 + "!",
    ],
    ids=["junk", "huge-token", "huge-option", "valid-then-junk"],
)
def test_a_megabyte_of_input_is_refused(text: str) -> None:
    with pytest.raises(InvalidDecisionMessage):
        parse_decision_message(text)


def test_an_invalid_message_is_a_value_error_that_says_what_is_expected() -> None:
    with pytest.raises(ValueError) as error:
        parse_decision_message("approve it please")

    assert isinstance(error.value, InvalidDecisionMessage)
    assert "EXECUTE:<token>" in str(error.value)


@pytest.mark.parametrize("near_miss", ["execute:{}", "Execute:{}", "EXECUTE: {}", "EXECUTE:{}:x"])
def test_an_invalid_message_never_echoes_a_token(near_miss: str) -> None:
    # The error text reaches logs and HTTP answers; a near-miss carries a live token.
    with pytest.raises(InvalidDecisionMessage) as error:
        parse_decision_message(near_miss.format(TOKEN))
    assert TOKEN not in str(error.value)


@pytest.mark.parametrize(
    "message",
    [Shown(TOKEN), Execute(TOKEN), Skip(TOKEN), Choose(TOKEN, "book_flight")],
)
def test_format_is_the_inverse_of_parse(message: object) -> None:
    text = format_decision_message(message)  # type: ignore[arg-type]

    assert parse_decision_message(text) == message
    assert format_decision_message(parse_decision_message(text)) == text


def test_format_writes_the_wire_form() -> None:
    assert format_decision_message(Shown(TOKEN)) == f"SHOWN:{TOKEN}"
    assert format_decision_message(Execute(TOKEN)) == f"EXECUTE:{TOKEN}"
    assert format_decision_message(Skip(TOKEN)) == f"SKIP:{TOKEN}"
    assert format_decision_message(Choose(TOKEN, "a.b")) == f"CHOOSE:{TOKEN}:a.b"


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_tokens = st.text(_LETTERS + "0123456789_-", min_size=22, max_size=128)
_options = st.builds(
    str.__add__,
    st.sampled_from(_LETTERS + "_"),
    st.text(_LETTERS + "0123456789_.-", max_size=60),
)
_messages = st.one_of(
    st.builds(Shown, _tokens),
    st.builds(Execute, _tokens),
    st.builds(Skip, _tokens),
    st.builds(Choose, _tokens, _options),
)


@settings(max_examples=200, database=None, deadline=None)
@given(_messages)
def test_every_message_round_trips(message: Shown | Execute | Skip | Choose) -> None:
    assert parse_decision_message(format_decision_message(message)) == message


# -- applying messages -------------------------------------------------------------


async def _single(registry: ConfirmationRegistry) -> str:
    _, token = await registry.register(
        conversation_id="conv-1", actions=[("send_report", {"to": "boss"})], prompt="Send?"
    )
    return token


async def test_apply_shown_marks_the_confirmation_shown(registry: ConfirmationRegistry) -> None:
    token = await _single(registry)

    record = await registry.apply_message(f"SHOWN:{token}", actor="alice", channel="ws")

    assert record.status is Status.SHOWN
    history = await registry.history(record.id)
    assert history[-1].actor == Actor("alice", "ws")


async def test_apply_execute_approves(registry: ConfirmationRegistry) -> None:
    token = await _single(registry)

    record = await registry.apply_message(f"  EXECUTE:{token}\n", actor="alice", channel="http")

    assert record.status is Status.APPROVED
    assert record.chosen == "send_report"
    assert record.decided_by == Actor("alice", "http")


async def test_apply_skip_skips(registry: ConfirmationRegistry) -> None:
    token = await _single(registry)

    record = await registry.apply_message(f"SKIP:{token}", actor="alice", channel="chat")

    assert record.status is Status.SKIPPED
    assert record.decided_by == Actor("alice", "chat")


async def test_apply_choose_approves_the_option(registry: ConfirmationRegistry) -> None:
    _, token = await registry.register(
        conversation_id="conv-1",
        actions=[("book_train", {}), ("book_flight", {})],
        prompt="Train or plane?",
    )

    record = await registry.apply_message(
        format_decision_message(Choose(token, "book_flight")), actor="bob", channel="cli"
    )

    assert record.status is Status.APPROVED
    assert record.chosen == "book_flight"
    assert record.decided_by == Actor("bob", "cli")


async def test_apply_choose_with_an_option_not_offered_is_refused(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await registry.register(
        conversation_id="conv-1",
        actions=[("book_train", {}), ("book_flight", {})],
        prompt="Train or plane?",
    )

    with pytest.raises(InvalidDecision) as error:
        await registry.apply_message(f"CHOOSE:{token}:book_taxi")

    assert error.value.options == ("book_train", "book_flight")
    assert (await registry.get(token)).status is Status.PENDING


async def test_apply_execute_on_a_choice_of_several_is_refused(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await registry.register(
        conversation_id="conv-1", actions=[("a", {}), ("b", {})], prompt="?"
    )

    with pytest.raises(InvalidDecision):
        await registry.apply_message(f"EXECUTE:{token}")


async def test_apply_repeats_are_idempotent_and_conflicts_are_refused(
    registry: ConfirmationRegistry,
) -> None:
    token = await _single(registry)
    first = await registry.apply_message(f"EXECUTE:{token}", actor="alice", channel="chat")

    again = await registry.apply_message(f"EXECUTE:{token}", actor="alice", channel="http")
    with pytest.raises(AlreadyDecided) as error:
        await registry.apply_message(f"SKIP:{token}", actor="bob", channel="http")

    assert again == first
    assert error.value.decision == "send_report"
    assert error.value.decided_by == Actor("alice", "chat")


async def test_apply_refuses_text_that_is_not_a_message(registry: ConfirmationRegistry) -> None:
    token = await _single(registry)

    for text in (f"execute:{token}", token, "yes please", ""):
        with pytest.raises(InvalidDecisionMessage):
            await registry.apply_message(text)

    assert (await registry.get(token)).status is Status.PENDING


async def test_apply_with_an_unknown_token_is_refused(registry: ConfirmationRegistry) -> None:
    await _single(registry)

    with pytest.raises(UnknownConfirmation):
        await registry.apply_message(f"EXECUTE:{TOKEN}")
