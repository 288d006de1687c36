# ruff: noqa: E402
"""How long a soni turn takes, next to the same work hand-written in bare LangGraph.

Everything runs on the SQLite checkpointer (``AsyncSqliteSaver`` over ``aiosqlite``,
WAL, opened the way ``Bot.load`` opens it), soni and the floors on their own files
in a temporary folder. Every measured turn is a fresh resume of a conversation that
was paused by an earlier turn; the candidates and their floors are measured turn by
turn, interleaved, so machine noise hits them alike.

(a) One collect turn — the banking bot, paused on "Who should receive the money?",
    receives the answer and asks "How much do you want to send?" — next to a bare
    StateGraph of the same shape: a ``wait`` node that calls ``interrupt()``, a node
    that validates and stores the value, a node that renders the next question and
    marks what it waits for; resumed with ``Command(resume=...)``, ``durability="exit"``,
    ``async def`` nodes. Target: <= 1.5x.
(b) The same kind of turn at step 2 and at step 50 of one flow of 60 collect steps
    (conversations put in place by starting the flow with the earlier answers filled
    in; cross-checked on conversations walked there one answer at a time).
    Target: <= 1.2x.
(c) A confirmation round trip — the IBAN is given, the bot asks "Send ...?", "yes",
    the transfer runs — next to a bare graph that interrupts before an action node
    and runs a trivial action after the resume (two invocations). Target: <= 1.5x.

Run: ``make bench`` or ``python bench/turns.py [--turns 300]``.
"""

from __future__ import annotations

# This folder holds http.py (the HTTP benchmark): run as a script, it would shadow
# the standard library's http package. Keep the folder, but after the library.
import sys  # isort: skip
from pathlib import Path  # isort: skip

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from _harness import banner, row
from soni import Bot
from soni.engine.nodes.listen import run_understand
from soni.engine.turn import Turn

BANKING = Path(__file__).resolve().parent.parent / "examples" / "banking"
IBAN = "DE89370400440532013000"
LONG_STEPS = 60
EARLY, LATE = 2, 50

Timed = Callable[[], Awaitable[object]]


# Messages of each kind the rule-based understanding reads, while the bot asks for
# the amount of a transfer (Bob is the beneficiary so far).
UNDERSTOOD = (
    ("an answer, '50'", "50"),
    ("an answer in words", "twenty five euros please"),
    ("a correction", "actually, to Alice"),
    ("a digression", "could you check my balance"),
    ("a new request with values", "send 30 euros to Carol"),
    ("a cancellation", "never mind"),
    ("a date in a sentence", "can it go out next friday"),
    ("a time in a sentence", "send it at half past two tomorrow"),
    ("nonsense", "asdf qwerty zxcv"),
)

# -- the floor: the same steps hand-written in bare LangGraph -------------------------


class FloorState(TypedDict, total=False):
    slots: dict[str, Any]
    replies: list[dict[str, str]]
    waiting: dict[str, Any] | None
    message: Any
    turn: int


FLOOR_SLOTS = ("beneficiary", "amount", "iban")
FLOOR_PROMPTS = {
    "beneficiary": "Who should receive the money?",
    "amount": "How much do you want to send?",
    "iban": "What is their IBAN?",
}
FLOOR_CONFIRM = "Send {amount} EUR to {beneficiary} ({iban})?"


async def _wait(state: FloorState) -> dict[str, Any]:
    message = interrupt({"waiting": state.get("waiting")})
    return {"message": message, "replies": [], "turn": state.get("turn", 0) + 1}


async def _store(state: FloorState) -> dict[str, Any]:
    waiting = state.get("waiting") or {}
    slot = waiting["slot"]
    text = str(state["message"]["text"]).strip()
    value: Any = text
    if slot == "amount":
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is not None and value <= 0:
            value = None
    if not value:
        return {"replies": [{"text": f"That is not a valid {slot}.", "kind": "text"}]}
    return {"slots": {**(state.get("slots") or {}), slot: value}, "waiting": None}


async def _ask(state: FloorState) -> dict[str, Any]:
    slots = state.get("slots") or {}
    replies = list(state.get("replies") or [])
    for slot in FLOOR_SLOTS:
        if slots.get(slot) is None:
            replies.append({"text": FLOOR_PROMPTS[slot], "kind": "text"})
            return {"replies": replies, "waiting": {"kind": "slot", "slot": slot}}
    # Every slot is there: ask for approval before the action node.
    replies.append({"text": FLOOR_CONFIRM.format_map(slots), "kind": "confirmation"})
    return {"replies": replies, "waiting": {"kind": "confirmation"}}


async def _act(state: FloorState) -> dict[str, Any]:
    slots = state.get("slots") or {}
    if state["message"]["text"].strip().lower() != "yes":
        return {"replies": [{"text": "Nothing was sent.", "kind": "text"}], "waiting": None}
    slots = {**slots, "transaction_id": f"TX-{state.get('turn', 0):08d}"}
    text = "Done: {amount} EUR sent to {beneficiary}. Reference {transaction_id}."
    return {"slots": slots, "replies": [{"text": text.format_map(slots)}], "waiting": None}


def _after_wait(state: FloorState) -> str:
    return "act" if (state.get("waiting") or {}).get("kind") == "confirmation" else "store"


def floor_graph() -> StateGraph:  # type: ignore[type-arg]
    graph = StateGraph(FloorState)
    graph.add_node("wait", _wait)
    graph.add_node("store", _store)
    graph.add_node("ask", _ask)
    graph.add_node("act", _act)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", "wait")
    graph.add_conditional_edges("wait", _after_wait, ["store", "act"])
    graph.add_edge("store", "ask")
    graph.add_edge("act", END)
    return graph


async def open_saver(path: Path) -> tuple[AsyncSqliteSaver, aiosqlite.Connection]:
    """An AsyncSqliteSaver opened the way ``Bot.load`` opens soni's."""
    connection = await aiosqlite.connect(path)
    await connection.execute("PRAGMA journal_mode=WAL")
    saver = AsyncSqliteSaver(connection)
    await saver.setup()
    return saver, connection


# -- the long flow --------------------------------------------------------------------


def _slot(i: int) -> str:
    return f"q{i:02d}"


def write_long_bot(folder: Path) -> Path:
    root = folder / "long-bot"
    root.mkdir()
    slots = {_slot(i): {"type": "string", "prompt": f"Question {i}?"} for i in range(1, 61)}
    steps = [
        {"step": f"ask_{_slot(i)}", "type": "collect", "slot": _slot(i)}
        for i in range(1, LONG_STEPS + 1)
    ]
    bot = {
        "version": "1.0",
        "settings": {"persistence": {"backend": "memory"}},
        "slots": slots,
        "flows": {"long_form": {"description": "a long form", "steps": steps}},
    }
    # JSON is YAML; json.dumps keeps this file free of a yaml import.
    (root / "bot.yaml").write_text(json.dumps(bot, indent=1))
    return root


# -- measuring ------------------------------------------------------------------------


def _quantiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=10)[8]


async def interleaved(candidates: dict[str, list[Timed]]) -> dict[str, list[float]]:
    """Run the i-th call of every candidate, rotating who goes first; seconds per call."""
    names = list(candidates)
    count = min(len(calls) for calls in candidates.values())
    times: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    for i in range(count):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            call = candidates[name][i]
            start = time.perf_counter()
            await call()
            times[name].append(time.perf_counter() - start)
    return times


def report(
    label: str, value: list[float], floor: list[float], floor_label: str, unit: str = "ms"
) -> None:
    v_median, v_p90 = _quantiles(value)
    f_median, f_p90 = _quantiles(floor)
    row(f"{label}, median", v_median * 1e3, unit, f_median * 1e3, floor_label)
    row(f"{label}, p90", v_p90 * 1e3, unit, f_p90 * 1e3, floor_label)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"bench/turns.py: unexpected behaviour: {what}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300, help="measured turns per candidate")
    parser.add_argument("--long", type=int, default=150, help="turns at each step of (b)")
    parser.add_argument("--trips", type=int, default=150, help="confirmation round trips")
    parser.add_argument("--answered", type=int, default=12, help="(b) walked conversations")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bot = await Bot.load(BANKING, db=folder / "soni.db")
        long_bot = await Bot.load(write_long_bot(folder), db=folder / "soni-long.db")
        saver, connection = await open_saver(folder / "floor.db")
        floor = floor_graph().compile(checkpointer=saver)

        def floor_config(cid: str) -> RunnableConfig:
            return {"configurable": {"thread_id": cid}}

        async def floor_start(cid: str, slots: dict[str, Any]) -> dict[str, Any]:
            initial: FloorState = {"slots": slots, "replies": [], "waiting": None, "turn": 1}
            result: dict[str, Any] = await floor.ainvoke(
                initial, floor_config(cid), durability="exit"
            )
            return result

        async def floor_turn(cid: str, text: str) -> dict[str, Any]:
            result: dict[str, Any] = await floor.ainvoke(
                Command(resume={"text": text, "user_id": None}),
                floor_config(cid),
                durability="exit",
            )
            return result

        try:
            # -- (a) one collect turn ---------------------------------------------------
            def soni_collect(cid: str, text: str) -> Timed:
                async def call() -> None:
                    result = await bot.handle(cid, text)
                    check(result.texts == ["How much do you want to send?"], str(result.texts))

                return call

            def floor_collect(cid: str) -> Timed:
                async def call() -> None:
                    result = await floor_turn(cid, "Alice")
                    texts = [r["text"] for r in result["replies"]]
                    check(texts == ["How much do you want to send?"], str(texts))

                return call

            warm = 20
            n = args.turns + warm
            for i in range(n):
                await bot.handle(f"a-text-{i}", "/transfer_funds")
                await bot.handle(f"a-set-{i}", "/transfer_funds")
                await floor_start(f"a-floor-{i}", {})
            times = await interleaved(
                {
                    "text": [soni_collect(f"a-text-{i}", "Alice") for i in range(n)],
                    "set": [soni_collect(f"a-set-{i}", "/set beneficiary=Alice") for i in range(n)],
                    "floor": [floor_collect(f"a-floor-{i}") for i in range(n)],
                }
            )
            times = {k: v[warm:] for k, v in times.items()}

            banner(
                f"(a) collect turn, answer -> next question, {args.turns} fresh resumes each "
                "(SQLite checkpointer), ms"
            )
            floor_label = "bare LangGraph, 3 async nodes"
            report("soni turn, text answer", times["text"], times["floor"], floor_label)
            report("soni turn, /set answer", times["set"], times["floor"], floor_label)

            # Understanding's share: the understand node's body (the rule-based
            # understanding, the default) on the state of a turn, for messages of
            # every kind, next to the whole text turn measured above.
            text_median = statistics.median(times["text"])
            paused = await bot.state("a-text-0")  # answered: paused on the amount now
            per_message: dict[str, float] = {}
            for label, text in UNDERSTOOD:
                state = {**paused, "message": {"text": text, "user_id": None}}
                reps = 300
                start = time.perf_counter()
                for _ in range(reps):
                    await run_understand(bot.engine, state, Turn())  # type: ignore[arg-type]
                per_message[label] = (time.perf_counter() - start) / reps
            for label, seconds in per_message.items():
                row(f"understanding: {label}", seconds * 1e6, "us")
            mean = statistics.fmean(per_message.values())
            row("understanding, mean of the messages above", mean * 1e6, "us")
            row("  share of the median soni text turn", 100 * mean / text_median, "%")

            # -- (b) step 2 vs step 50 of a 60-step flow ---------------------------------
            def soni_long(cid: str, step: int) -> Timed:
                async def call() -> None:
                    result = await long_bot.handle(cid, f"answer {step}")
                    check(result.texts == [f"Question {step + 1}?"], str(result.texts))

                return call

            async def position(cid: str, step: int) -> None:
                # Pause on ``step``: start the flow with the earlier answers filled in.
                filled = {_slot(i): f"answer {i}" for i in range(1, step)}
                result = await long_bot.handle(cid, f"/long_form{json.dumps(filled)}")
                check(result.texts == [f"Question {step}?"], str(result.texts))

            n = args.long + warm
            for i in range(n):
                await position(f"b-early-{i}", EARLY)
                await position(f"b-late-{i}", LATE)
            times = await interleaved(
                {
                    "early": [soni_long(f"b-early-{i}", EARLY) for i in range(n)],
                    "late": [soni_long(f"b-late-{i}", LATE) for i in range(n)],
                }
            )
            times = {k: v[warm:] for k, v in times.items()}
            banner(
                f"(b) a turn at step {LATE} vs at step {EARLY} of a {LONG_STEPS}-step flow, "
                f"{args.long} fresh resumes each, ms"
            )
            report(f"soni turn at step {LATE}", times["late"], times["early"], f"step {EARLY}")

            # Cross-check on conversations walked there by answering every question:
            # group "late" is walked ahead by LATE - EARLY answers, then both groups
            # answer side by side, so the timed early and late turns are interleaved.
            walkers = args.answered
            for c in range(walkers):
                await long_bot.handle(f"b-walk-early-{c}", "/long_form")
                await long_bot.handle(f"b-walk-late-{c}", "/long_form")
                for step in range(1, LATE - EARLY + 1):
                    await long_bot.handle(f"b-walk-late-{c}", f"answer {step}")
            walked: dict[str, list[float]] = {"early": [], "late": []}
            gc.collect()
            for step in range(1, EARLY + 5):
                for c in range(walkers):
                    pairs = [("early", 0), ("late", LATE - EARLY)]
                    if c % 2:  # alternate which group goes first
                        pairs.reverse()
                    for group, offset in pairs:
                        answer = step + offset
                        start = time.perf_counter()
                        result = await long_bot.handle(f"b-walk-{group}-{c}", f"answer {answer}")
                        elapsed = time.perf_counter() - start
                        check(result.texts == [f"Question {answer + 1}?"], str(result.texts))
                        if step >= EARLY:
                            walked[group].append(elapsed)
            row(
                f"walked by answering: steps {LATE}-{LATE + 4}, median",
                statistics.median(walked["late"]) * 1e3,
                "ms",
                statistics.median(walked["early"]) * 1e3,
                f"steps {EARLY}-{EARLY + 4}",
            )

            # -- (c) a confirmation round trip ------------------------------------------
            def soni_trip(cid: str, parts: list[float]) -> Timed:
                async def call() -> None:
                    start = time.perf_counter()
                    asked = await bot.handle(cid, IBAN)
                    middle = time.perf_counter()
                    done = await bot.handle(cid, "yes")
                    parts.extend((middle - start, time.perf_counter() - middle))
                    check(asked.status == "awaiting_confirmation", str(asked.texts))
                    check(done.texts[0].startswith("Done: 50 EUR"), str(done.texts))

                return call

            def floor_trip(cid: str, parts: list[float]) -> Timed:
                async def call() -> None:
                    start = time.perf_counter()
                    asked = await floor_turn(cid, IBAN)
                    middle = time.perf_counter()
                    done = await floor_turn(cid, "yes")
                    parts.extend((middle - start, time.perf_counter() - middle))
                    check(asked["replies"][-1]["kind"] == "confirmation", str(asked))
                    check(done["replies"][0]["text"].startswith("Done: 50"), str(done))

                return call

            n = args.trips + warm
            for i in range(n):
                slots = {"beneficiary": "Alice", "amount": 50.0}
                asked = await bot.handle(f"c-soni-{i}", f"/transfer_funds{json.dumps(slots)}")
                check(asked.texts == ["What is their IBAN?"], str(asked.texts))
                await floor_start(f"c-floor-{i}", slots)
            soni_parts: list[float] = []
            floor_parts: list[float] = []
            times = await interleaved(
                {
                    "soni": [soni_trip(f"c-soni-{i}", soni_parts) for i in range(n)],
                    "floor": [floor_trip(f"c-floor-{i}", floor_parts) for i in range(n)],
                }
            )
            times = {k: v[warm:] for k, v in times.items()}
            banner(
                f"(c) confirmation round trip (IBAN -> 'Send ...?', 'yes' -> action ran), "
                f"{args.trips} each, ms"
            )
            floor_label = "bare LangGraph interrupt/resume"
            report("soni round trip", times["soni"], times["floor"], floor_label)
            soni_ask, soni_yes = soni_parts[2 * warm :: 2], soni_parts[2 * warm + 1 :: 2]
            floor_ask, floor_yes = floor_parts[2 * warm :: 2], floor_parts[2 * warm + 1 :: 2]
            row(
                "  IBAN -> confirmation prompt, median",
                statistics.median(soni_ask) * 1e3,
                "ms",
                statistics.median(floor_ask) * 1e3,
                "bare: resume -> interrupt",
            )
            row(
                "  'yes' -> action done, median",
                statistics.median(soni_yes) * 1e3,
                "ms",
                statistics.median(floor_yes) * 1e3,
                "bare: resume -> action",
            )
        finally:
            await bot.aclose()
            await long_bot.aclose()
            await connection.close()


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main())
    print(f"\n   (whole run {time.perf_counter() - started:.1f} s)")
