"""What "today" is: the bot's time zone, and the day a conversation test pins.

Relative dates ("tomorrow") count from today where the bot's users are
(``settings.timezone``), not where the server runs; a conversation test says the day it
happens (``today:`` for the file or for one test), so "tomorrow" has one meaning in it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from soni import Bot
from soni.actions import ActionSpec
from soni.dsl.errors import ConfigErrors
from soni.testing import run_tests

from .conftest import EXAMPLES


def pharmacy_in(tmp_path: Path, timezone: str | None) -> Path:
    """A copy of the pharmacy example, with its ``settings.timezone``."""
    folder = Path(shutil.copytree(EXAMPLES / "pharmacy", tmp_path / "pharmacy"))
    bot = folder / "bot.yaml"
    text = bot.read_text(encoding="utf-8")
    if timezone is not None:
        text = text.replace("settings:\n", f"settings:\n  timezone: {timezone}\n", 1)
    bot.write_text(text, encoding="utf-8")
    return folder


async def test_tomorrow_counts_from_today_in_the_bots_time_zone(
    tmp_path: Path, handlers: Mapping[str, ActionSpec]
) -> None:
    # 11:00 UTC on 6 December is already 7 December on Kiritimati (UTC+14).
    late = dt.datetime(2030, 12, 6, 11, 0, tzinfo=dt.UTC)
    asked: dict[str | None, str] = {}
    for zone in ("Pacific/Kiritimati", "UTC"):
        bot = await Bot.load(pharmacy_in(tmp_path / zone.replace("/", "-"), zone), db=":memory:")
        try:
            bot.confirmations.clock = lambda: late
            for text in ("I need more advil", "2", "the airport one"):
                await bot.handle("c1", text)
            asked[zone] = (await bot.handle("c1", "tomorrow")).texts[0]
        finally:
            await bot.aclose()
    assert asked["Pacific/Kiritimati"].endswith("on 2030-12-08?")
    assert asked["UTC"].endswith("on 2030-12-07?")


async def test_an_unknown_time_zone_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors, match="unknown time zone 'Mars/Olympus'"):
        await Bot.load(pharmacy_in(tmp_path, "Mars/Olympus"), db=":memory:")


async def test_a_conversation_test_pins_its_day(
    tmp_path: Path, handlers: Mapping[str, ActionSpec]
) -> None:
    folder = pharmacy_in(tmp_path, "Europe/Madrid")
    tests = folder / "tests" / "pinned.yaml"
    tests.write_text(
        textwrap.dedent(
            """
            today: 2030-05-01
            tests:
              - name: the file's day
                steps:
                  - user: "I need more advil"
                  - user: "2"
                  - user: "the airport one"
                  - user: "tomorrow"
                  - bot: "Order 2 packs of ibuprofen for airport kiosk on 2030-05-02?"
              - name: its own day
                today: 2031-02-27
                steps:
                  - user: "I need more advil"
                  - user: "2"
                  - user: "the airport one"
                  - user: "tomorrow"
                  - bot: "Order 2 packs of ibuprofen for airport kiosk on 2031-02-28?"
            """
        ).lstrip(),
        encoding="utf-8",
    )
    report = await run_tests(folder, [tests])
    assert [r.failure for r in report.results] == [None, None]
