"""What a block may ask for with ``setup=NAME`` (Python, console) or ``prelude=NAME`` (YAML).

A setup is hidden from the reader, so each one only provides what the page's prose
says is there — a running server, a connected client, a loaded bot, a handler
package — never the thing the block demonstrates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Setup:
    """``prelude`` runs before the blocks (same process, same names); ``program``
    is what an ``output setup=NAME`` block shows the output of; ``files`` are
    written into the working folder first, and ``build`` makes what text cannot
    say (a database); ``env`` is exported in console sessions.
    """

    prelude: str = ""
    program: str = ""
    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    build: Callable[[Path], None] | None = None

    def write_files(self, cwd: Path) -> None:
        for name, text in self.files.items():
            path = cwd / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if self.build is not None:
            self.build(cwd)


def _crashed_database(cwd: Path) -> None:
    """docs/cli.md, "After a crash": ``crashed.db``, where a process died while it ran
    an approved transfer (its claim names a runner that no longer exists)."""
    import asyncio
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from soni.confirmations import ActionCall, Actor, PendingConfirmation
    from soni.confirmations import SqliteConfirmationStore as Store
    from soni.confirmations.lifecycle import APPROVE, BEGIN
    from soni.confirmations.stores.base import Change

    now = datetime.now(UTC)
    record = PendingConfirmation(
        id="01a2f00000000000000000000000c7e1",
        token_hash="0" * 64,
        conversation_id="c7",
        user_id="ann",
        kind="single",
        actions=(ActionCall("execute_transfer", {"amount": 50.0, "beneficiary": "Bob"}),),
        prompt="Send 50 EUR to Bob?",
        created_at=now,
        expires_at=now + timedelta(minutes=5),
        updated_at=now,
    )
    claim = Change(BEGIN, now, Actor(None, "system"), runner="5e1f" * 6)
    approval = Change(APPROVE, now, Actor("ann", "chat"), decided=True, chosen="execute_transfer")

    async def make() -> None:
        store = Store(cwd / "crashed.db")
        await store.insert(record)
        await store.transition(record.id, replace(approval, then=claim))
        await store.close()

    asyncio.run(make())


# Files a page shows (checked with `same-as`) and a setup puts in the working folder.
_FILES = Path(__file__).resolve().parent / "files"


def _file(name: str) -> str:
    return (_FILES / name).read_text(encoding="utf-8")


# docs/cli.md, "soni validate": a bot with two mistakes (its actions.py registers
# send_money, its flow calls send_mony and says {amout}); the same with both fixed;
# and that one again with a handler module that fails to import.
_BROKEN_YAML = _file("broken/bot.yaml")
_FIXED_YAML = _BROKEN_YAML.replace("send_mony", "send_money").replace("{amout}", "{amount}")
_BROKEN = {"broken/bot.yaml": _BROKEN_YAML, "broken/actions.py": _file("broken/actions.py")}
_FIXED = {**_BROKEN, "broken/bot.yaml": _FIXED_YAML}
_SDK_MISSING = {**_FIXED, "broken/actions.py": _file("sdk_actions.py")}

_SERVER = 'import _support\n_support.serve("examples/banking")\n'
_SERVER_KEYS = 'import _support\n_support.serve("examples/banking", api_keys={"key1": "ann"})\n'

_HANDLER_MODULES = {
    "mybot/actions/__init__.py": '"""mybot\'s handlers, one module per area."""\n',
    "mybot/actions/billing.py": (
        "from soni import ActionRegistry\n\n\n"
        '@ActionRegistry.register("refund")\n'
        "def refund(amount: float) -> dict:\n"
        '    return {"refunded": amount}\n'
    ),
    "mycompany/__init__.py": "",
    "mycompany/bot_actions.py": (
        "from soni import ActionRegistry\n\n\n"
        '@ActionRegistry.register("send_receipt")\n'
        "def send_receipt(email: str) -> None:\n"
        "    pass\n"
    ),
}

# docs/bot-format.md, "Errors": a bot folder with five mistakes, loaded.
_BROKEN_BOT = {
    "bot/00-settings.yaml": 'version: "1.0"\nsettings:\n  confirmations: {ttl: abc}\n',
    "bot/10-flows.yaml": """\
slots:
  amount: {type: float}
flows:
  transfer:
    steps:
      - step: ask
        type: colect
        slot: amount
      - step: hello
        type: say
        mesage: "Hello"
      - step: ask_again
        type: collect
""",
    "bot/20-more.yaml": "flows:\n  transfer:\n    steps:\n      - {step: hi, type: say}\n",
}
_LOAD_BROKEN_BOT = """\
from soni.dsl import load_bot
from soni.dsl.errors import ConfigErrors

try:
    load_bot("bot")
except ConfigErrors as errors:
    print(errors)
"""

# docs/nlu-evaluation.md, "Mistakes in a set": a labelled set with two, evaluated.
_BAD_LABELED_SET = """\
today: 2026-11-23
cases:
  - text: "I need a refill"
    expect: [start_flow: refill]
  - text: "2 packs please"
    context: {flow: refill, expecting: quantity}
    expect: [{set_slot: quantity, value: 2}]
  - text: "order more medication"
    expect: [{start_flow: refil}]
  - text: "yes"
    context: {flow: refill, pending: [place_refill]}
    expect: [affirm]
  - text: "I need more advil"
    expect: [{start_flow: refill, slots: {medication: advil}}]
"""
_EVALUATE_BAD_SET = """\
import asyncio

from soni import Bot
from soni.dsl.errors import ConfigErrors
from soni.testing import evaluate


async def main():
    bot = await Bot.load("examples/pharmacy", db=":memory:")
    try:
        await evaluate(bot, "nlu.yaml")
    except ConfigErrors as errors:
        print(errors)
    finally:
        await bot.aclose()


asyncio.run(main())
"""

# docs/nlu-llm.md, "From Python": the pharmacy bot's `config`, its `rules` and an idle
# `context`; the model is an OpenAI-compatible stand-in on 127.0.0.1 (no network).
_LLM = """\
import os

import _support
from soni import Bot
from soni.nlu import ConversationContext

bot = await Bot.load("examples/pharmacy", db=":memory:")
config = bot.engine.config


class _Rules:  # the fallback: answering here would mean the model was not used
    async def understand(self, text, context):
        raise AssertionError("the LLM backend fell back to the rules")


rules = _Rules()
context = ConversationContext(flows=bot.engine.flow_infos, slot_types=bot.engine.slot_types())
os.environ["SONI_LLM_MODEL"] = "gpt-4o-mini"
os.environ["SONI_LLM_BASE_URL"] = _support.fake_llm(
    {"commands": [{"kind": "start_flow", "flow": "refill",
                   "slots": [{"slot": "medication", "value": "ibuprofen"}]}]}
)
"""

# docs/client.md: a connected `client` (ann's key) and `token`, the token of the
# confirmation conversation c1 waits for (a transfer of 50 EUR to Ana).
_ASYNC_CLIENT = (
    _SERVER_KEYS
    + """\
import asyncio

from soni.client import AsyncClient

client = AsyncClient(f"ws://{_support.ADDRESS}/ws", api_key="key1")
await client.connect()
await client.send_message("c1", "send 50 euros to Ana")
token = (await client.send_message("c1", "DE89370400440532013000")).pending[0].token
"""
)
_CLIENT = (
    _SERVER_KEYS
    + """\
from soni.client import Client

client = Client(f"ws://{_support.ADDRESS}/ws", api_key="key1")
client.send_message("c1", "send 50 euros to Ana")
token = client.send_message("c1", "DE89370400440532013000").pending[0].token
"""
)

SETUPS: dict[str, Setup] = {
    # A soni server for examples/banking at the address the block names.
    "server": Setup(prelude=_SERVER),
    # The same, with API keys on: key1 is ann's.
    "server-keys": Setup(prelude=_SERVER_KEYS),
    "async-client": Setup(prelude=_ASYNC_CLIENT),
    "client": Setup(prelude=_CLIENT),
    # docs/actions.md: a handler package (mybot/actions/) and a dotted module.
    "handler-modules": Setup(files=_HANDLER_MODULES),
    # `bot`: examples/banking, loaded (state in memory).
    "bot": Setup(
        prelude='from soni import Bot\n\nbot = await Bot.load("examples/banking", db=":memory:")\n'
    ),
    # docs/confirmations.md: `actions`, a registry with an execute_transfer handler.
    "transfer-handler": Setup(
        prelude=(
            "from soni import ActionRegistry\n\n"
            '@ActionRegistry.register("execute_transfer")\n'
            "def execute_transfer(amount: float, iban: str) -> dict:\n"
            '    return {"transaction_id": "TX-1"}\n\n'
            "actions = ActionRegistry()\n"
        )
    ),
    "llm": Setup(prelude=_LLM),
    # docs/bot-format.md: what loading a broken bot reports.
    "broken-bot": Setup(files=_BROKEN_BOT, program=_LOAD_BROKEN_BOT),
    # docs/nlu-evaluation.md: what evaluating a labelled set with mistakes reports.
    "bad-labeled-set": Setup(files={"nlu.yaml": _BAD_LABELED_SET}, program=_EVALUATE_BAD_SET),
    # docs/cli.md: the bot `broken/` with two errors; fixed (one warning left); fixed,
    # with a handler module that imports a package that is not installed.
    "cli-broken": Setup(files=_BROKEN),
    "cli-fixed": Setup(files=_FIXED),
    "cli-sdk-missing": Setup(files=_SDK_MISSING),
    # docs/cli.md, "soni test": typo.yaml, a test file with one failing test.
    "cli-typo-test": Setup(files={"typo.yaml": _file("typo.yaml")}),
    "cli-crashed": Setup(build=_crashed_database),
}


# -- YAML fragments ---------------------------------------------------------------------

# A bot for top-level fragments that are not a whole bot (a `slots:` or `settings:`
# section): the fragment is loaded as a second file of this bot's folder.
MINIMAL_BOT = """\
flows:
  hello:
    steps:
      - {step: greet, type: say, message: "Hello!"}
"""

# A bot for step fragments: the block's steps become the flow `demo`, followed by the
# steps the fragments jump to (unless the block defines them), in a bot that declares
# what they read and has the flows they start.
STEPS_BOT = {
    "slots": {
        "name": {"type": "string"},
        "amount": {"type": "float"},
        "iban": {"type": "string"},
        "beneficiary_name": {"type": "string"},
        "account": {"type": "string"},
        "pin": {"type": "string"},
        "verified": {"type": "boolean"},
        "tries": {"type": "integer", "default": 0},
        "attempts": {"type": "integer", "default": 0},
        "free_times": {"type": "any"},
        "appointment_time": {"type": "time"},
        "dentist": {"type": "string"},
    },
    "actions": {
        "execute_transfer": {"inputs": ["amount", "iban"], "outputs": ["transaction_id"]},
        "block_card": {},
        "order_replacement": {},
        "book_appointment": {"inputs": ["appointment_time", "dentist"]},
    },
    "flows": {
        "talk_to_human": {
            "steps": [{"step": "hand_over", "type": "say", "message": "One moment."}]
        },
        "verify_identity": {
            "slots": [
                {"name": "account", "type": "string"},
                {"name": "verified", "type": "boolean"},
            ],
            "steps": [{"step": "check", "type": "set", "slots": {"verified": True}}],
        },
    },
}
STEP_TARGETS = (
    "verify_owner", "review", "give_up", "ask_again", "ask_pin", "after_pin",
    "cancelled", "failed", "nothing_done", "unsure", "fully_booked",
)  # fmt: skip
