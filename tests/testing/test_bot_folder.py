"""A bot folder's tests/ holds conversation tests, never bot files."""

from __future__ import annotations

from pathlib import Path

from soni.dsl.loader import load_bot

BOT = "flows:\n  greet:\n    steps:\n      - {step: hi, type: say, message: Hi}\n"
TESTS = "tests:\n  - name: t\n    steps: [{user: hello}]\n"


def test_the_loader_ignores_the_tests_folder(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(BOT)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "greeting.yaml").write_text(TESTS)
    # Loaded as a bot file, its top-level `tests` key would be an unknown key.
    config = load_bot(tmp_path)
    assert list(config.flows) == ["greet"]


def test_the_examples_load_with_their_tests_beside_them() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    for folder in sorted(p for p in examples.iterdir() if (p / "tests").is_dir()):
        assert load_bot(folder).flows
