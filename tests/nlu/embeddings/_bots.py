"""Loading a bot with the embeddings matcher turned on, whatever its own settings say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soni import Bot
from soni.nlu.rules import RulesSettings, RulesUnderstanding

from ..._handlers import register_again

NLU = Path(__file__).resolve().parents[1]
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def fresh(name: str) -> Path:
    return NLU / "fresh" / name / "bot"


async def load(folder: Path, *, embeddings: bool, **settings: Any) -> Bot:
    """The bot in ``folder``, its understanding the rules with its own ``settings.nlu``,
    the matcher on or off, and ``settings`` on top."""
    register_again(folder / "actions.py")  # each test starts with no global actions
    plain = await Bot.load(folder, db=":memory:")
    nlu = dict(plain.engine.config.settings.nlu.model_extra or {})
    await plain.aclose()
    nlu.update(embeddings=embeddings, **settings)
    understanding = RulesUnderstanding(RulesSettings.from_settings(nlu))
    return await Bot.load(folder, db=":memory:", understanding=understanding)
