"""A bot written into a folder from text, loaded for a test and closed after it."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from soni import Bot

from ._handlers import register_again

__all__ = ("written_bot",)


@asynccontextmanager
async def written_bot(folder: Path, bot: str, actions: str | None = None) -> AsyncIterator[Bot]:
    """Write ``bot.yaml`` (and ``actions.py``, its handlers registered afresh) into
    ``folder``, load the bot on an in-memory database, and close it at the end."""
    (folder / "bot.yaml").write_text(textwrap.dedent(bot))
    if actions is not None:
        (folder / "actions.py").write_text(textwrap.dedent(actions))
        register_again(folder / "actions.py")  # each test starts with no global actions
    loaded = await Bot.load(folder, db=":memory:")
    try:
        yield loaded
    finally:
        await loaded.aclose()
