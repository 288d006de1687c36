"""``Bot.pending``: the open confirmations of a conversation, without running a turn."""

from __future__ import annotations

from pathlib import Path

from .conftest import BotFactory

IBAN = "DE89370400440532013000"


async def test_pending_lists_the_open_confirmations(make_bot: BotFactory, tmp_path: Path) -> None:
    bot = await make_bot("banking")
    assert await bot.pending("c1") == []
    await bot.handle("c1", "send 50 to Bob")
    asked = await bot.handle("c1", IBAN)

    assert await bot.pending("c1") == asked.pending
    assert await bot.pending("another") == []

    # Another process on the same file sees it, with its token: both derive it
    # under the secret kept beside the database.
    other = await make_bot("banking", db=tmp_path / "state.db")
    [view] = await other.pending("c1")
    assert view == asked.pending[0]
    # One with another secret sees it, but never shows a token it cannot vouch for.
    stranger = await make_bot(
        "banking", db=tmp_path / "state.db", secret="a secret of another deployment, 32+"
    )
    [seen] = await stranger.pending("c1")
    assert seen.confirmation_id == view.confirmation_id and seen.token is None

    token = asked.pending[0].token
    assert token is not None
    await bot.decide(token, "approve")
    assert await bot.pending("c1") == []
