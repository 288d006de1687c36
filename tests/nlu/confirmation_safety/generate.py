"""Write the confirmation-safety labeled sets: what users answer at a pending confirmation.

Run from the repository root: ``.venv/bin/python tests/nlu/confirmation_safety/generate.py``.
It rewrites ``<bot>.yaml`` beside this file, one per example bot with a guarded action.

Each case is preceded by a comment naming its kind — ``# refusal``, ``# acceptance`` or
``# correction`` — which ``test_confirmation_safety.py`` reads back (the labeled-set format
has no field for it). Hand-written cases say so in the same comment.

Templated cases are lead-ins x cores x trailers, sampled with a fixed seed so the sets
do not change from one run to the next. The sets were written without reading soni's
understanding code or its rule tests: nothing here is tuned to what the rules do.

Reading chosen for refusals that end the whole task ("no, cancel everything"): they
expect ``cancel_flow``; every other refusal expects ``deny``. Both are safe (nothing runs).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2026-11-23"  # a Monday: "friday" is 2026-11-27, "the 5th" is 2026-12-05
SEED = 14  # issue 14


@dataclass(frozen=True)
class Case:
    kind: str  # refusal | acceptance | correction
    text: str
    expect: list[object]
    hand: bool = False


@dataclass
class BotSet:
    name: str  # the example folder
    context: dict[str, object]
    # Refusal trailers that name this bot's action ("don't send it").
    trailers: list[str]
    # Acceptance cores that name this bot's action ("ok send it"); file_assistant has none.
    accept_cores: list[str]
    # (text, slot, value, needs a lead-in): the text alone would not say it is a change.
    corrections: list[tuple[str, str, object, bool]]
    hand: list[Case] = field(default_factory=list)
    # A choose step: acceptances pick an option instead of saying yes.
    choices: list[tuple[str, str]] = field(default_factory=list)


DENY: list[object] = ["deny"]
CANCEL: list[object] = ["cancel_flow"]
AFFIRM: list[object] = ["affirm"]


def correct(slot: str, value: object) -> list[object]:
    return [{"correct_slot": slot, "value": value}]


def choose(option: str) -> list[object]:
    return [{"choose": option}]


# -- refusals ---------------------------------------------------------------------------
REFUSAL_LEADS = [
    "",
    "hmm, ",
    "wait, ",
    "um, ",
    "oh, ",
    "sorry, ",
    "actually, ",
    "on second thought, ",
]
REFUSAL_CORES = [
    "no",
    "nope",
    "nah",
    "no no",
    "noo",
    "nooo",
    "nope nope",
    "no thanks",
    "no thank you",
    "no thx",
    "don't",
    "dont",
    "do not",
    "stop",
    "wait no",
    "not now",
    "nah, not now",
    "I changed my mind",
    "changed my mind",
    "no way",
    "absolutely not",
    "definitely not",
    "skip it",
    "not yet",
    "please don't",
    "pls dont",
    "I'd rather not",
    "not this time",
    "no, leave it as it is",
    "no, don't do that",
    "no, forget it",
    "negative",
    "I don't want that",
]
REFUSAL_TRAILERS = [
    "",
    " thanks",
    ", thank you",
    ", leave it as it is",
    ", don't do that",
    ", forget it",
    ", not now",
    ", I changed my mind",
    ", not yet",
    ", leave it",
    ", hold off",
    " for now",
    "!",
    ", let me think about it",
    ", maybe later",
]

# -- acceptances ------------------------------------------------------------------------
ACCEPT_LEADS = ["", "great, ", "ok, ", "perfect, ", "alright, "]
ACCEPT_CORES = [
    "yes",
    "yep go ahead",
    "sure, do it",
    "that's right",
    "correct, thanks",
    "👍",
    "yes please",
    "go ahead",
    "confirm",
    "yeah do it",
    "sounds good",
    "absolutely",
    "yup",
    "please do",
    "yes, that's correct",
    "do it",
]
ACCEPT_TRAILERS = ["", " thanks", "!"]

# -- corrections ------------------------------------------------------------------------
CORRECTION_LEADS = [
    "",
    "no, ",
    "actually, ",
    "sorry, ",
    "wait, ",
    "no no, ",
    "hmm, actually ",
    "oops, ",
]


def _duplicated(lead: str, core: str, trailer: str) -> bool:
    """Combinations that repeat themselves ("wait, wait no", "no, forget it, forget it")."""
    text = f"{lead}{core}{trailer}".lower()
    lead_words = {w.strip(",!.") for w in lead.lower().split()}
    core_words = {w.strip(",!.") for w in core.lower().split()}
    if lead and lead.strip(", ").lower() in core.lower():
        return True
    if trailer and trailer.strip(", !").lower() and trailer.strip(", !").lower() in core.lower():
        return True
    if lead_words & core_words:
        return True
    if any(t in core.lower() for t in ("thank", "thx")) and "thank" in trailer:
        return True
    return text.count("now") > 1 or text.count("yet") > 1 or text.count("mind") > 1


def refusals(bot: BotSet, rng: random.Random, count: int) -> list[Case]:
    trailers = REFUSAL_TRAILERS + bot.trailers
    combos = [
        (lead, core, trailer)
        for lead, core, trailer in itertools.product(REFUSAL_LEADS, REFUSAL_CORES, trailers)
        if not _duplicated(lead, core, trailer)
    ]
    # Every core at least once (bare or with one lead/trailer), then a random rest.
    chosen: list[tuple[str, str, str]] = []
    for core in REFUSAL_CORES:
        own = [c for c in combos if c[1] == core]
        chosen.append(rng.choice(own))
    rest = [c for c in combos if c not in chosen]
    chosen += rng.sample(rest, count - len(chosen))
    return [Case("refusal", f"{lead}{core}{trailer}", DENY) for lead, core, trailer in chosen]


def acceptances(bot: BotSet, rng: random.Random, count: int) -> list[Case]:
    if bot.choices:
        leads = ["", "ok, ", "yes, ", "please ", "let's "]
        options = rng.sample(list(itertools.product(leads, bot.choices)), count)
        return [
            Case("acceptance", f"{lead}{text}", choose(option)) for lead, (text, option) in options
        ]
    cores = ACCEPT_CORES + bot.accept_cores
    combos = [
        (lead, core, trailer)
        for lead, core, trailer in itertools.product(ACCEPT_LEADS, cores, ACCEPT_TRAILERS)
        if not _duplicated(lead, core, trailer)
    ]
    picked = rng.sample(combos, count)
    return [Case("acceptance", f"{lead}{core}{trailer}", AFFIRM) for lead, core, trailer in picked]


def corrections(bot: BotSet, rng: random.Random, count: int) -> list[Case]:
    combos = [
        (lead, core)
        for lead, core in itertools.product(CORRECTION_LEADS, bot.corrections)
        if lead or not core[3]
    ]
    # Every correction core once, then a random rest.
    chosen: list[tuple[str, tuple[str, str, object, bool]]] = []
    for core in bot.corrections:
        chosen.append(rng.choice([c for c in combos if c[1] == core]))
    rest = [c for c in combos if c not in chosen]
    chosen += rng.sample(rest, count - len(chosen))
    return [
        Case("correction", f"{lead}{text}", correct(slot, value))
        for lead, (text, slot, value, _) in chosen
    ]


def h(kind: str, text: str, expect: list[object]) -> Case:
    return Case(kind, text, expect, hand=True)


BANKING = BotSet(
    name="banking",
    context={
        "flow": "transfer_funds",
        "pending": ["execute_transfer"],
        "slots": {"beneficiary": "Alice", "amount": 50, "iban": "DE89370400440532013000"},
    },
    trailers=[", don't send it", ", don't send the money", ", keep my money"],
    accept_cores=["ok send it", "yes, send it", "send it"],
    corrections=[
        ("make it 40 euros", "amount", 40, False),
        ("the amount is 40", "amount", 40, False),
        ("send 75 instead", "amount", 75, False),
        ("change the amount to 120", "amount", 120, False),
        ("20 euros", "amount", 20, True),
        ("€35", "amount", 35, True),
        ("to Bob", "beneficiary", "Bob", True),
        ("send it to Carol", "beneficiary", "Carol", False),
        ("the recipient is Dave Miller", "beneficiary", "Dave Miller", False),
        ("the IBAN is GB29NWBK60161331926819", "iban", "GB29NWBK60161331926819", False),
        (
            "change the iban to FR1420041010050500013M02606",
            "iban",
            "FR1420041010050500013M02606",
            False,
        ),
    ],
    hand=[
        h("refusal", "no, leave it as it is", DENY),
        h("refusal", "no, don't do that", DENY),
        h("refusal", "hmm, no, forget it actually", DENY),
        h("refusal", "nope", DENY),
        h("refusal", "nah, not now", DENY),
        h("refusal", "don't", DENY),
        h("refusal", "stop", DENY),
        h("refusal", "I changed my mind", DENY),
        h("refusal", "wait no", DENY),
        h("refusal", "no thanks, cancel that", DENY),
        h("refusal", "please don't send it", DENY),
        h("refusal", "noo", DENY),
        h("refusal", "nope nope", DENY),
        h("refusal", "no, thank you", DENY),
        h("refusal", "NO DON'T", DENY),
        h("refusal", "no no no no", DENY),
        h("refusal", "Nope. Not sending anything today.", DENY),
        h("refusal", "don't send anything to Alice", DENY),
        h("refusal", "no, not to Alice", DENY),
        h("refusal", "no, not 50 euros", DENY),
        h("refusal", "wait no, I need to check the IBAN first", DENY),
        h("refusal", "I changed my mind, keep the money", DENY),
        h("refusal", "nah I'll do it later", DENY),
        h("refusal", "stop stop stop", DENY),
        h("refusal", "👎", DENY),
        h("refusal", "no, cancel everything", CANCEL),
        h("refusal", "cancel the whole transfer", CANCEL),
        h("acceptance", "yes", AFFIRM),
        h("acceptance", "yep go ahead", AFFIRM),
        h("acceptance", "sure, do it", AFFIRM),
        h("acceptance", "ok send it", AFFIRM),
        h("acceptance", "that's right", AFFIRM),
        h("acceptance", "correct, thanks", AFFIRM),
        h("acceptance", "👍", AFFIRM),
        h("acceptance", "Yes, that's right, send it", AFFIRM),
        h("acceptance", "yes send the 50 euros to Alice", AFFIRM),
        h("acceptance", "OK!", AFFIRM),
        h("correction", "no, to Bob", correct("beneficiary", "Bob")),
        h("correction", "make it 40 euros", correct("amount", 40)),
        h("correction", "actually the amount is 40", correct("amount", 40)),
        h("correction", "no, the amount is 40", correct("amount", 40)),
        h("correction", "oops, it should be 45.50", correct("amount", 45.5)),
        h("correction", "not 50, 60", correct("amount", 60)),
        h("correction", "no, send it to Erin Smith", correct("beneficiary", "Erin Smith")),
    ],
)

PHARMACY = BotSet(
    name="pharmacy",
    context={
        "flow": "refill",
        "pending": ["place_refill"],
        "slots": {
            "medication": "ibuprofen",
            "quantity": 3,
            "pickup": "airport kiosk",
            "pickup_date": "2026-11-25",
        },
    },
    trailers=[", don't order it", ", don't place the order", ", I still have some at home"],
    accept_cores=["ok order it", "yes, place the order", "order it"],
    corrections=[
        ("5 packs", "quantity", 5, True),
        ("make it 4", "quantity", 4, False),
        ("change the quantity to 2", "quantity", 2, False),
        ("I need 1 pack", "quantity", 1, False),
        ("paracetamol", "medication", "paracetamol", True),
        ("tylenol instead", "medication", "paracetamol", False),
        ("I meant zyrtec", "medication", "cetirizine", False),
        ("deliver it home", "pickup", "home delivery", False),
        ("at the pharmacy", "pickup", "pharmacy", True),
        ("change the day to friday", "pickup_date", "2026-11-27", False),
        ("make it thursday", "pickup_date", "2026-11-26", False),
        ("on the 5th", "pickup_date", "2026-12-05", True),
    ],
    hand=[
        h("refusal", "no, I don't need it anymore", DENY),
        h("refusal", "no, don't order the advil", DENY),
        h("refusal", "no thanks, I still have plenty of nurofen", DENY),
        h("refusal", "don't order anything today", DENY),
        h("refusal", "no, I changed my mind about the order", DENY),
        h("refusal", "nope, not needed", DENY),
        h("refusal", "nooo don't", DENY),
        h("refusal", "No.", DENY),
        h("refusal", "no, my doctor changed my prescription, hold off", DENY),
        h("refusal", "hmm no, I'll ask the pharmacist first", DENY),
        h("refusal", "please don't order it", DENY),
        h("refusal", "no, cancel the whole order", CANCEL),
        h("refusal", "forget the whole thing, cancel everything", CANCEL),
        h("acceptance", "yes, order 3 packs", AFFIRM),
        h("acceptance", "that's right, the airport kiosk on wednesday", AFFIRM),
        h("acceptance", "Yes!", AFFIRM),
        h("acceptance", "yep, perfect", AFFIRM),
        h("correction", "no, 5 packs", correct("quantity", 5)),
        h("correction", "change the day to friday", correct("pickup_date", "2026-11-27")),
        h("correction", "no, two packs", correct("quantity", 2)),
        h(
            "correction",
            "actually I'd rather have it delivered home",
            correct("pickup", "home delivery"),
        ),
        h("correction", "no, tomorrow", correct("pickup_date", "2026-11-24")),
        h("correction", "not ibuprofen, panadol", correct("medication", "paracetamol")),
    ],
)

HOTEL = BotSet(
    name="hotel_booking",
    context={
        "flow": "book_hotel",
        "pending": ["book_room"],
        "slots": {
            "check_in": "2026-12-01",
            "check_out": "2026-12-04",
            "guests": 2,
            "room_type": "standard",
            "guest_name": "Ana Lopez",
            "guest_email": "ana@example.com",
            "rooms": 1,
            "rooms_added": 1,
            "last_room": "101",
        },
    },
    trailers=[", don't book it", ", don't make the booking", ", I'll book later"],
    accept_cores=["ok book it", "yes, book it", "book it"],
    corrections=[
        ("3 guests", "guests", 3, True),
        ("make it 4 people", "guests", 4, False),
        ("we are 3", "guests", 3, False),
        ("2 rooms", "rooms", 2, True),
        ("change the rooms to 2", "rooms", 2, False),
        ("change the check-in to friday", "check_in", "2026-11-27", False),
        ("check out on the 6th", "check_out", "2026-12-06", False),
        ("arrive on 2026-12-02", "check_in", "2026-12-02", False),
        ("the email is maria@example.org", "guest_email", "maria@example.org", False),
        ("in the name of Maria Garcia", "guest_name", "Maria Garcia", False),
        ("make it a suite", "room_type", "suite", False),
    ],
    hand=[
        h("refusal", "no, don't book it yet", DENY),
        h("refusal", "no, I need to ask my wife first", DENY),
        h("refusal", "not yet, I'm still comparing hotels", DENY),
        h("refusal", "no, we'll stay somewhere else", DENY),
        h("refusal", "don't book anything", DENY),
        h("refusal", "no thanks, too expensive", DENY),
        h("refusal", "NOPE", DENY),
        h("refusal", "no, wait", DENY),
        h("refusal", "no, not for those dates", DENY),
        h("refusal", "no, I'll call the hotel instead", DENY),
        h("refusal", "nah, Ana will book it herself", DENY),
        h("refusal", "no, cancel the whole booking", CANCEL),
        h("acceptance", "yes, book it for Ana Lopez", AFFIRM),
        h("acceptance", "all correct, go ahead", AFFIRM),
        h("acceptance", "yes 👍", AFFIRM),
        h("acceptance", "Looks good!", AFFIRM),
        h("correction", "no, 3 guests", correct("guests", 3)),
        h("correction", "actually we need two rooms", correct("rooms", 2)),
        h("correction", "no, check-in is on friday", correct("check_in", "2026-11-27")),
        h(
            "correction",
            "change the check out date to 2026-12-05",
            correct("check_out", "2026-12-05"),
        ),
        h(
            "correction",
            "no, the email is ana.lopez@example.org",
            correct("guest_email", "ana.lopez@example.org"),
        ),
        h("correction", "no, it's for three people", correct("guests", 3)),
    ],
)

FILES = BotSet(
    name="file_assistant",
    context={
        "flow": "tidy_file",
        # The choose step's options, with the labels the user saw.
        "pending": {
            "options": ["archive_file", "delete_file", "share_file"],
            "labels": {
                "archive_file": "Archive it",
                "delete_file": "Delete it for good",
                "share_file": "Share with the team",
            },
        },
        "slots": {"file_name": "report.pdf", "file_size": 420, "file_owner": "ana"},
    },
    trailers=[
        ", leave the file alone",
        ", don't touch it",
        ", keep it as it is",
        ", I'll deal with it later",
    ],
    accept_cores=[],
    choices=[
        ("archive it", "archive_file"),
        ("delete it", "delete_file"),
        ("share it with the team", "share_file"),
        ("delete it for good", "delete_file"),
        ("the first one", "archive_file"),
        ("the second one", "delete_file"),
        ("the third option", "share_file"),
        ("archive", "archive_file"),
        ("share it", "share_file"),
    ],
    corrections=[
        ("notes.txt", "file_name", "notes.txt", True),
        ("the file is notes.txt", "file_name", "notes.txt", False),
        ("I meant budget.xlsx", "file_name", "budget.xlsx", False),
        ("change the file to photos.zip", "file_name", "photos.zip", False),
        ("wrong file, it's notes.txt", "file_name", "notes.txt", False),
    ],
    hand=[
        h("refusal", "no, leave it as it is", DENY),
        h("refusal", "none of them", DENY),
        h("refusal", "neither, keep it", DENY),
        h("refusal", "don't do anything with it", DENY),
        h("refusal", "no, keep report.pdf", DENY),
        h("refusal", "leave it", DENY),
        h("refusal", "keep it", DENY),
        h("refusal", "I'd rather keep it", DENY),
        h("refusal", "no thanks, I'll decide later", DENY),
        h("refusal", "nothing", DENY),
        h("refusal", "do nothing", DENY),
        h("refusal", "no, don't delete it", DENY),
        h("refusal", "don't share it with anyone", DENY),
        h("refusal", "no, cancel everything", CANCEL),
        h("acceptance", "yes, archive it", choose("archive_file")),
        h("acceptance", "Delete it for good", choose("delete_file")),
        h("acceptance", "share with the team", choose("share_file")),
        h("acceptance", "move it to the archive", choose("archive_file")),
        h("acceptance", "option 2", choose("delete_file")),
        h("correction", "no, notes.txt", correct("file_name", "notes.txt")),
        h("correction", "actually I meant the file notes.txt", correct("file_name", "notes.txt")),
        h(
            "correction",
            "no, the file is called budget-2026.xlsx",
            correct("file_name", "budget-2026.xlsx"),
        ),
    ],
)

# How many templated cases of each kind per bot.
COUNTS = {"refusal": 45, "acceptance": 10, "correction": 12}
BOTS = [BANKING, PHARMACY, FILES, HOTEL]


def cases_of(bot: BotSet) -> list[Case]:
    rng = random.Random(f"{SEED}:{bot.name}")
    templated = (
        refusals(bot, rng, COUNTS["refusal"])
        + acceptances(bot, rng, COUNTS["acceptance"])
        + corrections(bot, rng, COUNTS["correction"])
    )
    seen: set[str] = set()
    out: list[Case] = []
    for case in bot.hand + templated:  # a hand-written case wins over the same templated text
        if case.text.lower() in seen:
            continue
        seen.add(case.text.lower())
        out.append(case)
    return out


def _flow(value: object) -> str:
    """YAML flow style (JSON is YAML); emoji and accents written as themselves."""
    return json.dumps(value, ensure_ascii=False)


def render(bot: BotSet) -> str:
    lines = [
        f"# Confirmation safety: answers typed at {bot.name}'s pending confirmation.",
        "# Written by tests/nlu/confirmation_safety/generate.py; edit that, not this file.",
        "# Each case's comment names its kind (read by test_confirmation_safety.py).",
        f"today: {TODAY}",
        "",
        "cases:",
    ]
    context = _flow(bot.context)
    for case in cases_of(bot):
        lines.append(f"  # {case.kind}" + (" (hand-written)" if case.hand else ""))
        lines.append(f"  - text: {_flow(case.text)}")
        lines.append(f"    context: {context}")
        lines.append(f"    expect: {_flow(case.expect)}")
    return "\n".join(lines) + "\n"


def main() -> None:
    for bot in BOTS:
        (HERE / f"{bot.name}.yaml").write_text(render(bot), encoding="utf-8")


if __name__ == "__main__":
    main()
