"""The numpy MiniLM gives the vectors sentence-transformers gives (reference.json)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from soni.nlu.embeddings import Encoder, load_encoder

REFERENCE = json.loads((Path(__file__).parent / "reference.json").read_text(encoding="utf-8"))
CASES = REFERENCE["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:24] or "<empty>" for c in CASES])
def test_a_vector_matches_sentence_transformers(case: dict[str, Any], encoder: Encoder) -> None:
    import numpy as np

    expected = np.asarray(case["vector"], dtype=np.float32)

    got = encoder.encode_one(case["text"])

    assert got.shape == (384,)
    assert float(got @ expected) > 0.9999
    assert float(np.abs(got - expected).max()) < 1e-4


def test_a_batch_gives_each_text_its_own_vector(encoder: Encoder) -> None:
    import numpy as np

    texts = [case["text"] for case in CASES]  # lengths from 2 to 256 tokens: padded
    expected = np.asarray([case["vector"] for case in CASES], dtype=np.float32)

    got = encoder.encode(texts)

    assert got.shape == (len(texts), 384)
    assert float((got * expected).sum(axis=1).min()) > 0.9999
    assert np.allclose(got[0], encoder.encode_one(texts[0]), atol=1e-5)


def test_vectors_are_unit_length_and_nothing_gives_nothing(encoder: Encoder) -> None:
    import numpy as np

    vectors = encoder.encode(["book a table", "BOOK A TABLE", "a table, book it!!"])

    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.9999  # the model is uncased
    assert float(vectors[0] @ vectors[2]) < 0.99
    assert encoder.encode([]).shape == (0, 384)


def test_the_model_loads_once_however_many_threads_ask_first(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy in a new folder is a model this process has not loaded yet.
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (folder / name).symlink_to(model / name)
    built: list[Encoder] = []
    original = Encoder.__init__

    def counting(self: Encoder, where: Path) -> None:
        original(self, where)
        built.append(self)

    monkeypatch.setattr(Encoder, "__init__", counting)
    start = threading.Barrier(4)
    got: list[Encoder] = []

    def ask() -> None:
        start.wait()
        got.append(load_encoder(folder))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(built) == 1
    assert got == built * 4
    assert load_encoder(folder) is built[0]


def test_a_folder_that_is_not_this_kind_of_model_is_refused(model: Path, tmp_path: Path) -> None:
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    config["hidden_act"] = "relu"
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    for name in ("tokenizer.json", "model.safetensors"):
        (tmp_path / name).symlink_to(model / name)

    with pytest.raises(ValueError, match="hidden_act is 'relu'"):
        Encoder(tmp_path)


def test_loading_the_model_keeps_blas_on_one_thread(encoder: Encoder) -> None:
    # A message's few tokens: BLAS's threads cost more than they save, and spin
    # against each other on a busy machine (bench/embeddings.py, docs/nlu.md).
    from threadpoolctl import threadpool_info

    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}
