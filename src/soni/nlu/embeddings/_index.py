"""What a bot's flows and a pending choice's options mean, as vectors to compare with.

A flow is known by its trigger phrases (placeholders left out), its description and
its name; an option by its name and its label. Each text is one vector; a message's
similarity to a flow or an option is its cosine with the nearest of them. The
vectors of a bot's flows are computed once (the engine hands the same tuple of
flows every turn), an option set's once per set.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from soni.nlu.embeddings._encoder import load_encoder
from soni.nlu.protocol import FlowInfo

if TYPE_CHECKING:
    from soni.nlu.embeddings._bert import Array

__all__ = ("Scored", "SemanticIndex", "flow_index", "option_index")

_PLACEHOLDER = re.compile(r"\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}")


@dataclass(frozen=True, slots=True)
class Scored:
    """A flow or an option, and the message's cosine with its nearest text."""

    name: str
    similarity: float


class SemanticIndex:
    """Named things (flows, options), each known by a few texts, as unit vectors.

    Args:
        folder: The model's files.
        texts: ``(name, text)`` pairs; a name may have several texts.
    """

    def __init__(self, folder: Path, texts: Sequence[tuple[str, str]]) -> None:
        import numpy as np

        self._encoder = load_encoder(folder)
        kept = [(name, text) for name, text in dict.fromkeys(texts) if text.strip()]
        self.names = tuple(dict.fromkeys(name for name, _ in kept))
        self.texts = tuple(text for _, text in kept)
        position = {name: i for i, name in enumerate(self.names)}
        self._owner = np.array([position[name] for name, _ in kept], dtype=np.int64)
        self._vectors: Array = self._encoder.encode(self.texts)

    def rank(self, message: str) -> list[Scored]:
        """Every name by its nearest text's cosine with ``message``, best first."""
        import numpy as np

        if not self.names:
            return []
        similarities = self._vectors @ self._encoder.encode_one(message)
        best = np.full(len(self.names), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, similarities)
        order = np.argsort(-best, kind="stable")
        return [Scored(self.names[i], float(best[i])) for i in order]


def flow_texts(flows: Sequence[FlowInfo]) -> list[tuple[str, str]]:
    """Each flow's trigger phrases without their placeholders, description and name."""
    texts: list[tuple[str, str]] = []
    for flow in flows:
        for phrase in flow.intents:
            texts.append((flow.name, " ".join(_PLACEHOLDER.sub(" ", phrase).split())))
        texts.append((flow.name, flow.description))
        texts.append((flow.name, flow.name.replace("_", " ")))
    return texts


@functools.lru_cache(maxsize=64)
def flow_index(folder: Path, flows: tuple[FlowInfo, ...]) -> SemanticIndex:
    """The index of a bot's flows (keyed like ``soni.nlu._triggers.index_for``)."""
    return SemanticIndex(folder, flow_texts(flows))


@functools.lru_cache(maxsize=256)
def option_index(
    folder: Path, options: tuple[str, ...], labels: tuple[tuple[str, str], ...]
) -> SemanticIndex:
    """The index of a pending choice's options: each one's name and label."""
    label = dict(labels)
    texts = [(option, option.replace("_", " ")) for option in options]
    texts += [(option, label[option]) for option in options if label.get(option)]
    return SemanticIndex(folder, texts)
