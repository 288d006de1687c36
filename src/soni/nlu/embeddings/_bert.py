"""The MiniLM sentence encoder's forward pass in numpy: BERT, mean pooling, unit length.

all-MiniLM-L6-v2 is a BERT encoder (6 layers, 384 wide, 12 heads, GELU, LayerNorm
eps 1e-12, absolute positions) whose sentence vector is the mean of its last hidden
states over the attention mask, scaled to unit length. The model package's
``config.json`` says the shape; :func:`read_config` checks it before the weights are
trusted. Written against ``transformers``' ``BertModel`` and sentence-transformers'
``Pooling``/``Normalize``; the tests hold it to vectors sentence-transformers made.

numpy only: torch, which sentence-transformers needs, is gigabytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    # Explicit: without numpy installed (the extra is optional) it is Any, not a variable.
    Array: TypeAlias = npt.NDArray[np.float32]

__all__ = ("BertConfig", "MiniLM", "read_config")


@dataclass(frozen=True, slots=True)
class BertConfig:
    """The parts of ``config.json`` the forward pass depends on."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    eps: float
    max_positions: int


def read_config(folder: Path) -> BertConfig:
    """The model's shape from ``config.json``.

    Raises:
        ValueError: not a BERT this forward pass computes (another activation,
            another kind of position embedding, heads that do not divide the width).
    """
    raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    wanted = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}
    for key, value in wanted.items():
        if raw.get(key, value) != value:
            raise ValueError(f"{folder / 'config.json'}: {key} is {raw.get(key)!r}, not {value!r}")
    config = BertConfig(
        hidden=int(raw["hidden_size"]),
        layers=int(raw["num_hidden_layers"]),
        heads=int(raw["num_attention_heads"]),
        intermediate=int(raw["intermediate_size"]),
        eps=float(raw.get("layer_norm_eps", 1e-12)),
        max_positions=int(raw.get("max_position_embeddings", 512)),
    )
    if config.hidden % config.heads:
        raise ValueError(f"{folder / 'config.json'}: {config.heads} heads do not divide {config}")
    return config


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: Array  # (hidden, 3 * hidden): query, key and value in one product
    qkv_bias: Array
    out: Array  # (hidden, hidden), transposed for x @ w
    out_bias: Array
    norm1: tuple[Array, Array]
    up: Array  # (hidden, intermediate)
    up_bias: Array
    down: Array  # (intermediate, hidden)
    down_bias: Array
    norm2: tuple[Array, Array]


class MiniLM:
    """The encoder's weights, and sentence vectors from token ids.

    Read-only after construction: one instance serves every thread at once.
    """

    def __init__(self, config: BertConfig, weights: dict[str, Any]) -> None:
        import numpy as np

        self.config = config

        def get(name: str) -> Array:
            array = weights.get(name)
            if array is None:
                raise ValueError(f"the model has no weight {name!r}")
            return np.asarray(array, dtype=np.float32)

        self._words = get("embeddings.word_embeddings.weight")
        self._positions = get("embeddings.position_embeddings.weight")
        self._type0 = get("embeddings.token_type_embeddings.weight")[0]
        self._norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        layers = []
        for i in range(config.layers):
            at = f"encoder.layer.{i}."
            names = ("query", "key", "value")
            # torch's Linear keeps (out, in): transposed once here, so each product
            # below is x @ w on contiguous memory.
            qkv = np.concatenate([get(f"{at}attention.self.{n}.weight") for n in names]).T
            layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(qkv),
                    qkv_bias=np.concatenate([get(f"{at}attention.self.{n}.bias") for n in names]),
                    out=np.ascontiguousarray(get(f"{at}attention.output.dense.weight").T),
                    out_bias=get(f"{at}attention.output.dense.bias"),
                    norm1=(
                        get(f"{at}attention.output.LayerNorm.weight"),
                        get(f"{at}attention.output.LayerNorm.bias"),
                    ),
                    up=np.ascontiguousarray(get(f"{at}intermediate.dense.weight").T),
                    up_bias=get(f"{at}intermediate.dense.bias"),
                    down=np.ascontiguousarray(get(f"{at}output.dense.weight").T),
                    down_bias=get(f"{at}output.dense.bias"),
                    norm2=(get(f"{at}output.LayerNorm.weight"), get(f"{at}output.LayerNorm.bias")),
                )
            )
        self._layers = tuple(layers)

    def __call__(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Array:
        """Unit-length sentence vectors, one row per row of ``ids`` (padded with ``mask`` 0)."""
        import numpy as np

        batch, length = ids.shape
        if length > self.config.max_positions:
            raise ValueError(f"{length} tokens, more than the model's {self.config.max_positions}")
        heads = self.config.heads
        size = self.config.hidden // heads
        eps = self.config.eps
        x = self._words[ids] + self._positions[:length] + self._type0
        x = _layer_norm(x, *self._norm, eps)
        # Padding is never attended to: a large negative score before the softmax
        # (transformers adds the dtype's minimum; any value this low gives exp() == 0).
        blocked = ((1.0 - mask.astype(np.float32)) * np.float32(-1e30))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(size))
        for layer in self._layers:
            qkv = x @ layer.qkv + layer.qkv_bias  # (batch, length, 3 * hidden)
            qkv = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]  # (batch, heads, length, size)
            scores = (query @ key.transpose(0, 1, 3, 2)) * scale + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ value).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = _layer_norm(context @ layer.out + layer.out_bias + x, *layer.norm1, eps)
            up = _gelu(x @ layer.up + layer.up_bias)
            x = _layer_norm(up @ layer.down + layer.down_bias + x, *layer.norm2, eps)
        # Mean over the real tokens, then unit length (sentence-transformers' Pooling
        # with pooling_mode_mean_tokens, then Normalize).
        weight = mask.astype(np.float32)[:, :, None]
        pooled = (x * weight).sum(axis=1) / np.maximum(weight.sum(axis=1), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Array = (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
        return result


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    normed: Array = centred / np.sqrt(variance + np.float32(eps)) * weight + bias
    return normed


def _gelu(x: Array) -> Array:
    """GELU with the error function (BERT's ``gelu``, not the tanh approximation):
    ``x * (1 + erf(x / sqrt 2)) / 2``.

    erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32's precision at
    1.0); each step writes into one of two buffers rather than a new array.
    """
    import numpy as np

    a = np.abs(x) * np.float32(1 / math.sqrt(2))  # |x| / sqrt 2
    # Past 5, erf is 1 in float32; left larger, exp(-a * a) gives subnormal numbers,
    # which x86 computes with tens of times slower than normal ones.
    np.minimum(a, np.float32(5.0), out=a)
    t = a * np.float32(_P)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = t * np.float32(_A[4])
    for coefficient in (_A[3], _A[2], _A[1], _A[0]):
        poly += np.float32(coefficient)
        poly *= t
    np.multiply(a, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # 1 - erf(|x| / sqrt 2)
    # x (1 + erf(x / sqrt 2)) / 2 is x - x (1 - erf) / 2 for x >= 0, and x (1 - erf) / 2
    # for x < 0 (erf is odd).
    poly *= x
    poly *= np.float32(0.5)
    out: Array = np.where(x >= 0, x - poly, poly)
    return out


_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
