"""The docs harness itself: it must notice a doc that is wrong, not only pass true ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._blocks import Block, Directive
from ._match import output_mismatch, parse_values, value_mismatch
from ._python import Chain, run_chain, workspace
from ._shell import Session, parse_console, split_words
from ._static import check_same_as, check_signature, check_yaml
from ._ws import parse_transcript


def block(kind: str, text: str, lang: str = "python") -> Block:
    return Block("docs/x.md", 10, lang, text, Directive.parse(kind))


@pytest.mark.parametrize(
    ("shown", "real"),
    [
        ('{"id": "…", "status": "ok"}', '{"status":"ok","id":"01a2f"}'),
        ('{"status": "ok", …}', '{"status": "ok", "extra": 1}'),
        ('{"text": "TX-…."}', '{"text": "TX-3678c201."}'),
        ("[1, …]", "[1, 2, 3]"),
        ("{…}", '{"a": {"b": 1}}'),
        ('event: turn\ndata: {"a": 1, …}', 'event: turn\ndata: {"b":2,"a":1}'),
        ("first\n…\nlast", "first\nx\ny\nlast"),
        ("took … s", "took 0.2 s"),
    ],
)
def test_elisions_match(shown: str, real: str) -> None:
    assert output_mismatch(shown, real) is None


@pytest.mark.parametrize(
    ("shown", "real"),
    [
        ('{"status": "ok"}', '{"status": "ok", "extra": 1}'),
        ('{"text": "TX-…"}', '{"text": "RX-1"}'),
        ('{"n": 1}', '{"n": true}'),
        ("[1, 2]", "[1, 2, 3]"),
        ("took … s", "took 0.2 ms"),
        ("a\nb", "a\nb\nc"),
    ],
)
def test_differences_are_found(shown: str, real: str) -> None:
    assert output_mismatch(shown, real) is not None


def test_a_bare_ellipsis_is_told_from_one_in_a_string() -> None:
    (value,) = parse_values('{"a": "…", …}')
    assert value_mismatch(value, {"a": 1}) is not None
    assert value_mismatch(value, {"a": "x", "b": 2}) is None


def test_shell_words_quote_and_expand_like_a_shell() -> None:
    words = split_words("""curl -d '{"x": "$T"}' "a $T b" $T | grep x &  # note""", {"T": "tok"})
    assert words == ["curl", "-d", '{"x": "$T"}', "a tok b", "tok", "|", "grep", "x", "&"]


def test_console_commands_continue_and_own_their_output() -> None:
    steps = parse_console("$ a \\\n    b\nout\n\n$ c\n", 5)
    assert [(s.source, s.line, s.shown.strip()) for s in steps] == [
        ("a  b", 5, "out"),
        ("c", 9, ""),
    ]


def test_transcript_frames_span_lines() -> None:
    frames = parse_transcript('→ {"a":\n   1}\n← {"b": 2}\n')
    assert frames == [("→", '{"a":\n   1}', 0), ("←", '{"b": 2}', 2)]


def test_a_wrong_print_comment_fails(tmp_path: Path) -> None:
    wrong = block("run", "print(1 + 1)  # 3\n")
    with pytest.raises(AssertionError, match=r"docs/x.md:11: .*\n3\n.*\n2"):
        run_chain(Chain([wrong]), tmp_path)


def test_a_print_that_never_ran_fails(tmp_path: Path) -> None:
    skipped = block("run", "if False:\n    print(1)  # 1\n")
    with pytest.raises(AssertionError, match="never printed"):
        run_chain(Chain([skipped]), tmp_path)


def test_a_raising_block_fails_at_its_page_line(tmp_path: Path) -> None:
    raising = block("run", "x = 1\nraise ValueError('no')\n")
    with pytest.raises(AssertionError, match=r'File "docs/x.md", line 12'):
        run_chain(Chain([raising]), tmp_path)


def test_a_wrong_output_block_fails(tmp_path: Path) -> None:
    chain = [block("run", "await __import__('asyncio').sleep(0)\nprint('a')\n"),
             block("output", "b\n", "text")]  # fmt: skip
    with pytest.raises(AssertionError, match="output differs"):
        run_chain(Chain(chain), tmp_path)


def test_a_broken_bot_fragment_fails(tmp_path: Path) -> None:
    typo = block("yaml bot prelude=steps", "- {step: ask, type: collect, slot: amout}\n", "yaml")
    with pytest.raises(Exception, match="amout"):
        check_yaml(typo, tmp_path)


def test_a_quote_that_is_not_in_its_file_fails() -> None:
    with pytest.raises(AssertionError, match="not in"):
        check_same_as(block("same-as examples/deploy/app.py", "app = None\n"))


def test_a_wrong_signature_fails() -> None:
    wrong = block("signature soni.client", "Client(url, *, api_key=None)\n")
    with pytest.raises(AssertionError, match="Client: shown"):
        check_signature(wrong)


def test_console_runs_soni_for_real(tmp_path: Path) -> None:
    session = Session(workspace(tmp_path))
    try:
        assert session.check_block("$ soni version\nsoni …\n", 1, "x.md") == []
        (problem,) = session.check_block("$ soni version\nsonny …\n", 1, "x.md")
        assert problem.startswith("x.md:1: `soni version`")
    finally:
        session.close()


def test_console_echoes_the_exit_status(tmp_path: Path) -> None:
    session = Session(workspace(tmp_path))
    try:
        text = "$ soni validate examples/nope\n…\n$ echo $?\n1\n$ soni version\n…\n$ echo $?\n0\n"
        assert session.check_block(text, 1, "x.md") == []
        (problem,) = session.check_block(
            "$ soni validate examples/nope\n…\n$ echo $?\n0\n", 1, "x.md"
        )
        assert problem.startswith("x.md:3: `echo $?`")
    finally:
        session.close()


def test_a_server_that_does_not_start_shows_its_error(tmp_path: Path) -> None:
    session = Session(workspace(tmp_path))
    try:
        text = "$ soni serve examples/nope\nerror: no such bot: examples/nope\n$ echo $?\n1\n"
        assert session.check_block(text, 1, "x.md") == []
        with pytest.raises(AssertionError, match="did not become ready"):
            session.check_block("$ soni serve examples/nope &\n", 1, "x.md")
    finally:
        session.close()
