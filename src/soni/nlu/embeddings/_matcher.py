"""Where the rules are unsure, what the semantic matcher reads instead.

The rules call these only at the points where they would otherwise give up: no flow
reached the trigger threshold (out of scope), two flows came too close (clarify), or
no option of a pending choice was named. Each answers only when one flow or option
is both near enough (``threshold``) and clearly nearer than the next (``margin``);
otherwise the rules' own answer stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from soni.nlu._triggers import Match
from soni.nlu.embeddings._index import Scored, flow_index, option_index
from soni.nlu.embeddings._settings import EmbeddingSettings
from soni.nlu.protocol import FlowInfo, PendingInfo

__all__ = ("semantic_flow", "semantic_option")


def semantic_flow(
    settings: EmbeddingSettings,
    message: str,
    flows: Sequence[FlowInfo],
    among: Sequence[str] = (),
) -> Match | None:
    """The flow ``message`` means, if one stands out; only ``among`` these when given."""
    ranked = flow_index(settings.model, tuple(flows)).rank(_meaning(message))
    if among:
        ranked = [scored for scored in ranked if scored.name in among]
    best = _stands_out(ranked, settings)
    return None if best is None else Match(best.name, 100.0 * best.similarity, {})


def semantic_option(settings: EmbeddingSettings, message: str, pending: PendingInfo) -> str | None:
    """The option of ``pending`` that ``message`` means, if one stands out."""
    labels = tuple(sorted((k, v) for k, v in pending.labels.items() if v))
    index = option_index(settings.model, tuple(pending.options), labels)
    best = _stands_out(index.rank(_meaning(message)), settings)
    return None if best is None else best.name


# A word with a digit in it: a number, a time, a date, a code ("INC-20388", "8pm").
_VALUE = re.compile(r"\S*\d\S*")


def _meaning(message: str) -> str:
    """``message`` without its values: which flow is meant is in the words around
    them, and a tracking number or a time only pulls the vector off its sense."""
    return " ".join(_VALUE.sub(" ", message).split()) or message


def _stands_out(ranked: Sequence[Scored], settings: EmbeddingSettings) -> Scored | None:
    if not ranked or ranked[0].similarity < settings.threshold:
        return None
    if len(ranked) > 1 and ranked[1].similarity > ranked[0].similarity - settings.margin:
        return None
    return ranked[0]
