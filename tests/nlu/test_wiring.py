"""Bot.load picks the understanding that settings.nlu names."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

from soni import Bot
from soni.dsl.errors import ConfigErrors
from soni.nlu import LLMUnderstanding
from soni.nlu.rules import RulesUnderstanding

BOT = """
settings:
  nlu: {nlu}
slots:
  quantity: {{type: integer, prompt: "How many?"}}
flows:
  refill:
    trigger: {{intents: ["refill my prescription"]}}
    steps:
      - {{step: ask, type: collect, slot: quantity}}
      - {{step: done, type: say, message: "{{quantity}} packs."}}
"""


def write_bot(folder: Path, nlu: str) -> Path:
    (folder / "bot.yaml").write_text(textwrap.dedent(BOT.format(nlu=nlu)))
    return folder


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


async def test_the_rules_are_the_default(tmp_path: Path) -> None:
    bot = await Bot.load(
        write_bot(tmp_path, "{engine: rules, trigger_threshold: 85}"), db=":memory:"
    )
    try:
        assert isinstance(bot.engine.understanding, RulesUnderstanding)
        assert bot.engine.understanding.settings.trigger_threshold == 85.0
        assert (await bot.handle("c", "pls refil my prescription")).texts == ["How many?"]
        assert (await bot.handle("c", "two packs please")).texts == ["2 packs."]
    finally:
        await bot.aclose()


async def test_an_unreachable_model_falls_back_to_the_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    nlu = f"{{engine: llm, model: test-model, base_url: '{url}', timeout: 0.5, retries: 0}}"
    bot = await Bot.load(write_bot(tmp_path, nlu), db=":memory:")
    try:
        assert isinstance(bot.engine.understanding, LLMUnderstanding)
        result = await bot.handle("c", "refill my prescription")
    finally:
        await bot.aclose()

    assert result.texts == ["How many?"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "soni.nlu.llm"]
    assert any("test-model" in w and "using the fallback" in w for w in warnings)


async def test_bad_nlu_settings_are_a_config_error_naming_the_key(tmp_path: Path) -> None:
    # Located at the key, as soni validate shows it: Bot.load runs the same check.
    with pytest.raises(ConfigErrors, match="trigger_threshold: must be a number, got 'high'"):
        await Bot.load(write_bot(tmp_path, "{trigger_threshold: high}"), db=":memory:")


async def test_a_bot_given_its_understanding_needs_no_settings_for_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An llm bot tested offline: the rules stand in, and no model is configured.
    monkeypatch.delenv("SONI_LLM_MODEL", raising=False)
    folder = tmp_path / "bot"
    folder.mkdir()
    (folder / "bot.yaml").write_text(
        "settings:\n  nlu: {engine: llm}\n"
        "flows:\n  greet:\n    steps:\n      - {step: hi, type: say, message: Hi}\n"
    )

    bot = await Bot.load(folder, db=":memory:", understanding=RulesUnderstanding())
    try:
        assert isinstance(bot.engine.understanding, RulesUnderstanding)
    finally:
        await bot.aclose()
    with pytest.raises(ConfigErrors, match=r"settings\.nlu\.model: is required"):
        await Bot.load(folder, db=":memory:")
