# ruff: noqa: E402
"""What the embeddings matcher (``soni[embeddings]``) costs, and what it buys.

Each figure next to a floor measured in the same run:

(a) Loading, in a new process each time (best of ``--loads``): importing numpy,
    tokenizers and safetensors and reading the model, next to loading the bot
    itself (``Bot.load`` of the fresh restaurant bot, rules only); encoding the
    bot's flows once (its semantic index); and the resident memory all that adds,
    next to the process's memory with soni and the bot loaded.
(b) One message: encoding it, and understanding a message the rules leave out of
    scope with the matcher on, next to the rules' understanding of the same message
    alone; interleaved rounds, best of each. And messages encoded 32 at a time.
(c) The held-out sets: rules alone and rules with the matcher (default threshold
    and margin) on the fresh bots' set1 and set2 and on tests/nlu/heldout, with the
    out-of-scope cases the matcher turned into flows (false starts). ``--sets`` adds
    others (``BOT_FOLDER=SET.yaml``): a sealed set is scored without its cases being
    printed.

Run: ``python bench/embeddings.py`` (after ``make install-embeddings``).
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
import json
import os
import subprocess
import time

from _harness import banner, ns_per_call_each, row
from soni import Bot
from soni.nlu import ConversationContext
from soni.nlu.rules import RulesSettings, RulesUnderstanding
from soni.testing import evaluate

ROOT = _HERE.parent
FRESH = ROOT / "tests" / "nlu" / "fresh"
RESTAURANT = FRESH / "restaurant" / "bot"

# Paraphrases the rules leave out of scope and the matcher reads (restaurant bot).
UNSURE = (
    "is the kitchen still open?",
    "when do you close on fridays?",
    "we'd like to reserve for 5 people",
    "what time do you shut tonight?",
)

# Run in a new process: what loading costs, without anything this process loaded.
_LOAD = """
import json, sys, time
def rss():
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024
import asyncio
import soni
from soni import Bot
started = time.perf_counter()
bot = asyncio.run(Bot.load(sys.argv[1], db=":memory:"))
bot_load = time.perf_counter() - started
before = rss()
started = time.perf_counter()
from soni.nlu.embeddings import find_model, flow_index, load_encoder
encoder = load_encoder(find_model())
loaded = time.perf_counter() - started
after_model = rss()
started = time.perf_counter()
flow_index(encoder.folder, bot.engine.flow_infos)
indexed = time.perf_counter() - started
print(json.dumps({"bot_load": bot_load, "model_load": loaded, "index": indexed,
                  "rss_bot": before, "rss_model": after_model, "rss_index": rss(),
                  "texts": len(flow_index(encoder.folder, bot.engine.flow_infos).texts)}))
"""


async def _with(folder: Path, *, embeddings: bool) -> Bot:
    plain = await Bot.load(folder, db=":memory:")
    nlu = dict(plain.engine.config.settings.nlu.model_extra or {})
    await plain.aclose()
    nlu["embeddings"] = embeddings
    understanding = RulesUnderstanding(RulesSettings.from_settings(nlu))
    return await Bot.load(folder, db=":memory:", understanding=understanding)


def loading(loads: int) -> None:
    runs = []
    for _ in range(loads):
        done = subprocess.run(
            [sys.executable, "-c", _LOAD, str(RESTAURANT)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = {key: min(run[key] for run in runs) for key in runs[0]}
    banner(f"(a) loading, in a new process, best of {loads}")
    row("numpy + tokenizers + safetensors + model", best["model_load"] * 1e3, "ms",
        best["bot_load"] * 1e3, "Bot.load, rules only")  # fmt: skip
    row(f"the bot's flows encoded ({best['texts']} texts)", best["index"] * 1e3, "ms",
        best["bot_load"] * 1e3, "Bot.load, rules only")  # fmt: skip
    mib = 1024 * 1024
    row("resident memory the model adds", (best["rss_model"] - best["rss_bot"]) / mib, "MiB",
        best["rss_bot"] / mib, "soni + the bot loaded")  # fmt: skip
    row("  and its flow index", (best["rss_index"] - best["rss_model"]) / mib, "MiB",
        best["rss_bot"] / mib, "soni + the bot loaded")  # fmt: skip


async def per_message(rounds: int, number: int) -> None:
    rules = await _with(RESTAURANT, embeddings=False)
    both = await _with(RESTAURANT, embeddings=True)
    try:
        engine = both.engine
        context = ConversationContext(flows=engine.flow_infos, slot_types=engine.slot_types())
        # The reading itself (``understand`` runs it in a worker thread when the matcher
        # is on: that hop is measured below).
        read_alone = rules.engine.understanding._understand  # type: ignore[attr-defined]
        read_both = both.engine.understanding._understand  # type: ignore[attr-defined]
        settings = both.engine.understanding.settings  # type: ignore[attr-defined]
        from soni.nlu.embeddings import load_encoder

        encoder = load_encoder(settings.embeddings.model)
        for text in UNSURE:  # the matcher reads each: it is what is measured
            alone = await rules.engine.understanding.understand(text, context)
            helped = await both.engine.understanding.understand(text, context)
            assert alone[0].kind == "out_of_scope" and helped[0].kind == "start_flow", text
        banner(f"(b) one message, {len(UNSURE)} paraphrases the rules leave out, best of {rounds}")
        for text in UNSURE:
            times = ns_per_call_each(
                {
                    "rules": lambda t=text: read_alone(t, context),
                    "encode": lambda t=text: encoder.encode_one(t),
                    "both": lambda t=text: read_both(t, context),
                },
                number=number,
                rounds=rounds,
            )
            print(f"   {text!r}")
            row(
                "  encoding it",
                times["encode"] / 1e6,
                "ms",
                times["rules"] / 1e6,
                "the rules alone",
            )
            row(
                "  rules + matcher",
                times["both"] / 1e6,
                "ms",
                times["rules"] / 1e6,
                "the rules alone",
            )
        batch = [f"{text} ({i})" for i, text in enumerate(UNSURE * 8)]
        times = ns_per_call_each(
            {
                "batch": lambda: encoder.encode(batch),
                "one": lambda: [encoder.encode_one(t) for t in batch],
            },
            number=max(1, number // 4),
            rounds=rounds,
        )
        row("32 messages in one batch, per message", times["batch"] / 32e6, "ms",
            times["one"] / 32e6, "one at a time")  # fmt: skip
        hops = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(number):
                await both.engine.understanding.understand("book a table", context)
            middle = time.perf_counter()
            for _ in range(number):
                await rules.engine.understanding.understand("book a table", context)
            hops.append(((middle - started) / number, (time.perf_counter() - middle) / number))
        row("understand() with the matcher on, a sure message", min(h[0] for h in hops) * 1e3,
            "ms", min(h[1] for h in hops) * 1e3, "matcher off (no thread)")  # fmt: skip
    finally:
        await rules.aclose()
        await both.aclose()


SETS = [
    *((FRESH / bot / "bot", FRESH / bot / f"{s}.yaml") for s in ("set1", "set2")
      for bot in ("restaurant", "helpdesk", "parcels")),
    *((ROOT / "examples" / bot, ROOT / "tests" / "nlu" / "heldout" / f"{bot}.yaml")
      for bot in ("banking", "file_assistant", "hotel_booking", "pharmacy")),
]  # fmt: skip


async def scores(extra: list[tuple[Path, Path]]) -> None:
    banner("(c) held-out sets: rules alone, rules + matcher (threshold 0.45, margin 0.12)")
    groups: dict[str, list[int]] = {}
    for given, (folder, labeled) in [(False, s) for s in SETS] + [(True, s) for s in extra]:
        outcome = []
        for embeddings in (False, True):
            bot = await _with(folder, embeddings=embeddings)
            try:
                outcome.append(await evaluate(bot, labeled))
            finally:
                await bot.aclose()
        alone, both = outcome
        oos = [f.index for f in both.failures if f.expected[0].kind == "out_of_scope"]
        before = {f.index for f in alone.failures}
        false_starts = [i for i in oos if i not in before]
        lost = [f.index for f in both.failures if f.index not in before]
        name = f"{labeled.parent.name}/{labeled.stem}"
        oos_cases = both.by_type["out_of_scope"].total if "out_of_scope" in both.by_type else 0
        total = alone.overall.total
        print(
            f"   {name:<28} {total:>4} cases   rules {alone.accuracy:6.1%}   "
            f"+ matcher {both.accuracy:6.1%}   ({both.overall.correct - alone.overall.correct:+d}"
            f", lost {len(lost)}, false starts {len(false_starts)} of "
            f"{oos_cases} out-of-scope cases)"
        )
        group = "heldout" if labeled.parent.name == "heldout" else labeled.stem
        if given:
            group = "given with --sets"
        tally = groups.setdefault(group, [0, 0, 0])
        tally[0] += total
        tally[1] += alone.overall.correct
        tally[2] += both.overall.correct
    for group, (total, alone_ok, both_ok) in groups.items():
        print(
            f"   {'all ' + group:<28} {total:>4} cases   rules {alone_ok / total:6.1%}   "
            f"+ matcher {both_ok / total:6.1%}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3, help="new processes for (a)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds for (b)")
    parser.add_argument("--number", type=int, default=20, help="calls per round for (b)")
    parser.add_argument("--no-scores", action="store_true", help="leave (c) out")
    parser.add_argument(
        "--sets",
        nargs="*",
        default=[],
        metavar="BOT_FOLDER=SET.yaml",
        help="more labeled sets for (c), each with its bot",
    )
    args = parser.parse_args()
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    loading(args.loads)
    await per_message(args.rounds, args.number)
    extra = []
    for given in args.sets:
        folder, _, labeled = given.partition("=")
        if not labeled:
            parser.error(f"--sets takes BOT_FOLDER=SET.yaml, got {given!r}")
        extra.append((Path(folder).resolve(), Path(labeled).resolve()))
    if not args.no_scores:
        await scores(extra)


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main())
    print(f"\n   (whole run {time.perf_counter() - started:.1f} s)")
