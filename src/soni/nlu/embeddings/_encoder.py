"""Sentence vectors from text: the model's own tokenizer, then the numpy MiniLM.

A model is loaded once per process and folder, on first use, whichever thread asks
first; every thread then shares it (nothing in it changes after loading).

Loading a model limits BLAS to one thread for the whole process (threadpoolctl).
A message is a handful of tokens: BLAS's threads cost more to wake than they save,
and on a busy machine (two cores, two test workers, a server's other threads) they
spin against each other — measured here: 12-14 ms a message on one thread, 140-195
ms on OpenBLAS's default two. The limit is process-wide either way (OpenBLAS has no
per-thread setting, and threadpoolctl lets one thread at a time change it), so it is
set once, not around each encoding.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soni.nlu.embeddings._bert import MiniLM, read_config

if TYPE_CHECKING:
    from soni.nlu.embeddings._bert import Array

__all__ = ("Encoder", "load_encoder")

# sentence-transformers' max_seq_length for this model (sentence_bert_config.json):
# longer messages are cut there, as it cuts them.
_MAX_TOKENS = 256
_BATCH = 32


class Encoder:
    """A sentence encoder: text in, unit-length vectors out.

    Args:
        folder: The model's files: ``config.json``, ``tokenizer.json``,
            ``model.safetensors``.

    Attributes:
        dimension: The length of a vector (384).
        load_seconds: How long loading took.
    """

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        started = time.perf_counter()
        config = read_config(folder)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The file pads every input to 128 tokens and cuts there; sentence-transformers
        # pads a batch to its longest input and cuts at max_seq_length.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=min(_MAX_TOKENS, config.max_positions))
        self._tokenizer = tokenizer
        self._model = MiniLM(config, load_file(str(folder / "model.safetensors")))
        _one_blas_thread()
        self.folder = folder
        self.dimension = config.hidden
        self.load_seconds = time.perf_counter() - started

    def encode(self, texts: Sequence[str]) -> Array:
        """One unit-length vector per text, in order, shape ``(len(texts), dimension)``."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            encodings = [self._tokenizer.encode(texts[0])]
        else:
            encodings = self._tokenizer.encode_batch(list(texts))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Texts of like length together: padding costs as much as real tokens.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        self._forward(encodings, order, vectors)
        return vectors

    def _forward(self, encodings: Sequence[Any], order: Sequence[int], vectors: Array) -> None:
        import numpy as np

        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, i in enumerate(chunk):
                found = encodings[i].ids
                ids[row, : len(found)] = found
                mask[row, : len(found)] = 1
            vectors[chunk] = self._model(ids, mask)

    def encode_one(self, text: str) -> Array:
        """The vector of one text, shape ``(dimension,)``."""
        vector: Array = self.encode([text])[0]
        return vector


def _one_blas_thread() -> None:
    """BLAS on one thread from now on, in this process (see the module's docstring)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


_lock = threading.Lock()
_loaded: dict[Path, Encoder] = {}


def load_encoder(folder: Path) -> Encoder:
    """The encoder of the model in ``folder``, loaded on the first call in this process.

    Threads that ask while it loads wait for that one load; afterwards a call is a
    dictionary read.
    """
    global _loaded
    encoder = _loaded.get(folder)
    if encoder is not None:
        return encoder
    with _lock:
        encoder = _loaded.get(folder)
        if encoder is None:
            encoder = Encoder(folder)
            _loaded = {**_loaded, folder: encoder}  # readers see a whole snapshot
    return encoder
