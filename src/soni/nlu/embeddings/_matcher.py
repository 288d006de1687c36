"""Where the rules are unsure, what the semantic matcher reads instead.

The rules call these only at the points where they would otherwise give up: no flow
reached the trigger threshold (out of scope), or no option of a pending choice was
named. A ``clarify`` the rules ask is left alone (measured: the matcher would have
picked one flow where people meant either; docs/nlu-evaluation.md). Each answers only
when one flow or option is both near enough (``threshold``) and clearly nearer than
the next (``margin``); otherwise the rules' own answer stands — as it does, with a
warning in the log, when the matcher fails (a model file that does not load).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from soni.nlu._triggers import Match
from soni.nlu.embeddings._index import Scored, flow_index, option_index
from soni.nlu.embeddings._settings import EmbeddingSettings
from soni.nlu.protocol import FlowInfo, PendingInfo

__all__ = ("semantic_flow", "semantic_option")

logger = logging.getLogger(__name__)


def semantic_flow(
    settings: EmbeddingSettings, message: str, flows: Sequence[FlowInfo]
) -> Match | None:
    """The flow of ``flows`` that ``message`` means, if one stands out."""
    try:
        ranked = flow_index(settings.folder, tuple(flows)).rank(_meaning(message))
    except Exception as exc:
        _failed(settings, exc)
        return None
    best = _stands_out(ranked, settings)
    return None if best is None else Match(best.name, 100.0 * best.similarity, {})


def semantic_option(settings: EmbeddingSettings, message: str, pending: PendingInfo) -> str | None:
    """The option of ``pending`` that ``message`` means, if one stands out."""
    labels = tuple(sorted((k, v) for k, v in pending.labels.items() if v))
    try:
        ranked = option_index(settings.folder, tuple(pending.options), labels).rank(
            _meaning(message)
        )
    except Exception as exc:
        _failed(settings, exc)
        return None
    best = _stands_out(ranked, settings)
    return None if best is None else best.name


def _failed(settings: EmbeddingSettings, exc: Exception) -> None:
    logger.warning(
        "the embeddings matcher failed (%s: %s; model %s): the rules' answer stands",
        type(exc).__name__,
        exc,
        settings.folder,
    )


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
