"""The format version a bot declares must be one this release reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from soni.dsl import load_bot
from soni.dsl.errors import ConfigErrors

BOT = """\
version: {version}
flows:
  greet:
    trigger: {{intents: ["hi"]}}
    steps:
      - {{step: hello, type: say, message: "Hello!"}}
"""


@pytest.mark.parametrize("version", ['"1.0"', "1.0", '"0.1"', "1"])
def test_the_versions_this_release_reads_load(tmp_path: Path, version: str) -> None:
    (tmp_path / "bot.yaml").write_text(BOT.format(version=version))
    assert load_bot(tmp_path).flows["greet"]


@pytest.mark.parametrize("version", ['"7.3"', '"2.0"', "banana"])
def test_another_version_is_an_error_at_its_line_with_the_supported_list(
    tmp_path: Path, version: str
) -> None:
    (tmp_path / "bot.yaml").write_text(BOT.format(version=version))
    with pytest.raises(ConfigErrors) as caught:
        load_bot(tmp_path)
    message = str(caught.value)
    assert "bot.yaml:1:" in message
    assert '"1.0"' in message and '"0.1"' in message
