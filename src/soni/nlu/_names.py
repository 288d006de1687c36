"""Names said in a request: who or what a flow is for ("for Rex", "Bella's run out",
"my puppy Rolo", "a hamster called Nibbles"), for the flow's one name slot."""

from __future__ import annotations

import re

from soni.nlu._text import normal
from soni.nlu._values import names_a_date
from soni.nlu.protocol import ConversationContext, FlowInfo, SlotInfo

__all__ = ("NAME_SLOT", "a_name_in", "name_slot", "not_a_name")


def name_slot(flow: FlowInfo, context: ConversationContext) -> SlotInfo | None:
    """The one free-text slot of ``flow`` that holds a name (``pet_name``,
    ``driver_name``), if there is exactly one."""
    names = [
        info
        for n in flow.slots
        if (info := context.slot_types.get(n)) is not None
        and info.kind in ("string", "any")
        and info.pattern is None
        and NAME_SLOT.search(info.name)
    ]
    return names[0] if len(names) == 1 else None


# A person's or a pet's name (``pet_name``, ``driver_name``), not a file's or a user's.
NAME_SLOT = re.compile(
    r"^(?!(?:file|folder|user|account|host|domain|server|product|item|plan|project|app|"
    r"device|network|branch|street|company|business|team|group|room|city)_)(?:\w+_)?name$"
)


_CAPITAL = r"[A-ZÀ-Þ][a-zà-ÿ'\u2019-]+"


_PERSON = rf"(?P<name>{_CAPITAL}(?:\s+{_CAPITAL})?)"


# Where a request names someone: "called Nibbles", "for Rex", "my puppy Rolo", "Bella's
# run out", "get Duke in".
_NAME_SAID = (
    re.compile(rf"\b(?:called|named)\s+{_PERSON}"),
    re.compile(rf"\bmy\s+(?:[a-z]+\s+){{1,2}}{_PERSON}"),
    re.compile(rf"\b(?:get|bring|see|take)\s+{_PERSON}\s+in\b"),
    re.compile(rf"(?:^|[\s,])(?P<name>{_CAPITAL})['\u2019]s\b"),
    re.compile(rf"\bfor\s+{_PERSON}"),
)


_NOT_A_NAME_WORDS = """
    i hi hello hey please thanks ok okay can could would will what when where how why
    it its it's that that's let let's here there he she who this we you they my our
"""


_NOT_A_NAME = frozenset(_NOT_A_NAME_WORDS.split())


def not_a_name(said: str) -> bool:
    """Whether ``said`` holds a day, a time, a number or a word no name is made of."""
    words = normal(said).split()
    return (
        not words
        or any(w in _NOT_A_NAME or any(c.isdigit() for c in w) for w in words)
        or names_a_date(said)
    )


def a_name_in(text: str, context: ConversationContext) -> str | None:
    """A name, as written with capitals, where a request names someone; not a day, not
    a word of the bot's choices ("Apoquel", "Riverside")."""
    known = {
        normal(str(word))
        for slot in context.slot_types.values()
        for value, synonyms in slot.choices.items()
        for word in (value, *synonyms)
    }
    for form in _NAME_SAID:
        for found in form.finditer(text):
            name = found.group("name")
            if not_a_name(name) or any(w in known for w in normal(name).split()):
                continue
            return name
    return None
