"""Checks that read a block without running it: ``yaml``, ``json``, ``same-as``, ``signature``."""

from __future__ import annotations

import ast
import asyncio
import copy
import importlib
import inspect
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import yaml

from ._blocks import ROOT, Block
from ._match import parse_values, strict
from ._setups import MINIMAL_BOT, STEP_TARGETS, STEPS_BOT

# -- yaml ---------------------------------------------------------------------------


def _stub(slots: dict[str, Any]) -> dict[str, Any]:
    return {}


def _called(config: Any) -> set[str]:
    """Every action a bot declares or calls."""
    from soni.dsl import ActionStep, ChooseStep

    names = set(config.actions)
    for flow in config.flows.values():
        for step in flow.iter_steps():
            if isinstance(step, ActionStep):
                names.add(step.call)
            elif isinstance(step, ChooseStep):
                names.update(step.actions)
    return names


def _step_bot(fragment: Any) -> dict[str, Any]:
    if not isinstance(fragment, list):
        raise AssertionError("prelude=steps takes a list of steps")
    bot = copy.deepcopy(STEPS_BOT)
    defined: set[str] = set()
    for step in fragment:
        defined.add(step["step"])
        for inline in step.get("do", []):
            if isinstance(inline, dict):
                defined.add(inline["step"])
    stubs = [{"step": name, "type": "end"} for name in STEP_TARGETS if name not in defined]
    bot["flows"]["demo"] = {"steps": [*fragment, *stubs]}
    return bot


async def _open(folder: Path) -> Any:
    """The bot, loaded as ``Bot.load`` does — every check, the understanding built —
    with a stand-in handler for each action it uses: handlers are Python, not YAML,
    and a module this process imported before is not run again to register them."""
    from soni import ActionRegistry, Bot
    from soni.dsl import load_bot

    registry = ActionRegistry()
    for name in _called(load_bot(folder)):
        registry.register_local(name, _stub)
    return await Bot.load(folder, db=":memory:", registry=registry)


async def _load(folder: Path) -> None:
    bot = await _open(folder)
    await bot.aclose()


def check_yaml(block: Block, tmp: Path) -> None:
    assert block.directive is not None
    words = block.directive.words
    if words[:1] == ("bot",):
        folder = tmp / "bot"
        folder.mkdir()
        prelude = block.directive.options.get("prelude")
        if prelude == "steps":
            bot = _step_bot(yaml.safe_load(block.text))
            (folder / "bot.yaml").write_text(yaml.safe_dump(bot, sort_keys=False))
        else:
            if prelude == "minimal":
                (folder / "00-prelude.yaml").write_text(MINIMAL_BOT)
            elif prelude is not None:
                raise AssertionError(f"unknown prelude {prelude!r}")
            (folder / "10-block.yaml").write_text(block.text)
        asyncio.run(_load(folder))
    elif words[:1] == ("labeled-set",) and len(words) == 2:
        asyncio.run(_labeled_set(block.text, words[1]))
    else:
        raise AssertionError(f"unknown yaml check {' '.join(words)!r}")


async def _labeled_set(text: str, bot_dir: str) -> None:
    from soni.testing.labeled import parse_labeled_set

    bot = await _open(ROOT / bot_dir)
    try:
        parse_labeled_set(text, path="block.yaml").check(bot)
    finally:
        await bot.aclose()


# -- json ---------------------------------------------------------------------------


def _problem(value: Any) -> None:
    assert isinstance(value, dict), "a problem is an object"
    for member, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
        assert isinstance(value.get(member), kind), f"a problem's {member!r} is a {kind.__name__}"
    assert value["type"].startswith("urn:soni:problem:"), value["type"]
    slug = value["type"].removeprefix("urn:soni:problem:")
    source = "".join(
        p.read_text()
        for part in ("server", "worker")
        for p in (ROOT / "src/soni" / part).rglob("*.py")
    )
    assert f'"{slug}"' in source, f"neither the server nor a worker answers the problem {slug!r}"


def _payload(payload: Any) -> None:
    from soni.client.records import event_from_wire
    from soni.server.schemas import DecideArgs, MessageArgs, SubscribeArgs
    from soni.sessions.events import EVENT_TYPES

    kind = payload.get("type")
    if kind == "instruction":
        models = {"message": MessageArgs, "decide": DecideArgs, "subscribe": SubscribeArgs}
        name = payload.get("name")
        assert name in {*models, "unsubscribe"}, f"unknown instruction {name!r}"
        assert set(payload) <= {"type", "name", "args"}, sorted(payload)
        if name in models:
            models[name].model_validate(payload.get("args", {}))
    elif kind == "response":
        assert isinstance(payload.get("ok"), bool), "a response has a boolean 'ok'"
        if payload["ok"]:
            assert set(payload) == {"type", "ok", "result"}, sorted(payload)
            assert isinstance(payload["result"], dict)
        else:
            assert set(payload) == {"type", "ok", "error"}, sorted(payload)
            _problem(payload["error"])
    elif kind == "event":
        assert set(payload) == {"type", "event", "conversation_id", "data", "at"}, sorted(payload)
        assert payload["event"] in EVENT_TYPES, f"unknown event {payload['event']!r}"
        event_from_wire(payload)
    else:
        raise AssertionError(f"unknown payload type {kind!r}")


def _worker_payload(payload: Any) -> None:
    """A payload of the action-worker protocol (docs/workers.md)."""
    from soni.wire import Announcement, RunAction

    kind = payload.get("type")
    if kind == "instruction":
        models = {"announce": Announcement, "run_action": RunAction}
        name = payload.get("name")
        assert name in models, f"unknown worker instruction {name!r}"
        assert set(payload) == {"type", "name", "args"}, sorted(payload)
        models[name].model_validate(payload["args"])
    elif kind == "response":
        assert isinstance(payload.get("ok"), bool), "a response has a boolean 'ok'"
        if payload["ok"]:
            assert set(payload) <= {"type", "ok", "result", "replayed"}, sorted(payload)
        else:
            assert set(payload) <= {"type", "ok", "error", "replayed"}, sorted(payload)
            _problem(payload["error"])
            assert isinstance(payload["error"].get("started"), bool), "an error says 'started'"
    else:
        raise AssertionError(f"a worker's payload is an instruction or a response, not {kind!r}")


def _frame(value: Any) -> None:
    from soni.server.ws_session import parse_frame

    assert set(value) == {"session_id", "local_timestamp", "payload"}, sorted(value)
    _payload(parse_frame(json.dumps(value)).payload)


async def _llm_answer(value: Any) -> None:
    from soni.nlu import ConversationContext
    from soni.nlu._llm_answer import read_answer

    bot = await _open(ROOT / "examples/pharmacy")
    try:
        engine = bot.engine
        context = ConversationContext(flows=engine.flow_infos, slot_types=engine.slot_types())
        commands = read_answer(json.dumps(value), "I need more advil", context)
        assert commands, "no command read"
    finally:
        await bot.aclose()


def check_json(block: Block) -> None:
    assert block.directive is not None
    values = [strict(v) for v in parse_values(block.text)]
    (model,) = block.directive.words or ("",)
    for value in values:
        if model == "ws-frame":
            _frame(value)
        elif model == "ws-payload":
            _payload(value)
        elif model == "worker-payload":
            _worker_payload(value)
        elif model == "problem":
            _problem(value)
        elif model == "llm-answer":
            asyncio.run(_llm_answer(value))
        elif "." in model:
            module, _, name = model.rpartition(".")
            getattr(importlib.import_module(module), name).model_validate(value)
        else:
            raise AssertionError(f"json needs a model to validate against, got {model!r}")


# -- same-as, signature ---------------------------------------------------------------


def check_same_as(block: Block) -> None:
    """The block's lines are a contiguous run of the file's, up to a common indentation."""
    assert block.directive is not None
    (path,) = block.directive.words
    source = [line.rstrip() for line in (ROOT / path).read_text().splitlines()]
    shown = textwrap.dedent("\n".join(line.rstrip() for line in block.text.splitlines()))
    size = len(shown.splitlines())
    assert any(
        textwrap.dedent("\n".join(source[i : i + size])) == shown
        for i in range(len(source) - size + 1)
    ), f"the block's lines are not in {path} as shown"


def _shown_signature(line: str) -> tuple[str, list[tuple[str, str, Any]]]:
    match = re.fullmatch(r"([\w.]+)(\(.*\))", line.strip())
    assert match, f"not a call signature: {line!r}"
    function = ast.parse(f"def f{match[2]}: pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    args = function.args
    params: list[tuple[str, str, Any]] = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        shown = inspect.Parameter.empty if default is None else ast.literal_eval(default)
        params.append((arg.arg, "POSITIONAL_OR_KEYWORD", shown))
    if args.vararg:
        params.append((args.vararg.arg, "VAR_POSITIONAL", inspect.Parameter.empty))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        shown = inspect.Parameter.empty if kw_default is None else ast.literal_eval(kw_default)
        params.append((arg.arg, "KEYWORD_ONLY", shown))
    if args.kwarg:
        params.append((args.kwarg.arg, "VAR_KEYWORD", inspect.Parameter.empty))
    return match[1], params


def check_signature(block: Block) -> None:
    assert block.directive is not None
    (module_name,) = block.directive.words
    module = importlib.import_module(module_name)
    for line in block.text.splitlines():
        if not line.strip():
            continue
        name, shown = _shown_signature(line)
        target: Any = module
        for part in name.split("."):
            target = getattr(target, part)
        real = [
            (p.name, p.kind.name, p.default) for p in inspect.signature(target).parameters.values()
        ]
        assert shown == real, f"{name}: shown {shown}, real {real}"
