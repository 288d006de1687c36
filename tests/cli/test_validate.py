"""`soni validate`: every problem of a bot at its file and line, warnings, the examples."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from soni import ActionRegistry
from soni.cli import app
from soni.dsl.errors import ConfigError, ConfigErrors
from soni.engine import Bot

from .._handlers import register_again

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "actions.py").exists())
runner = CliRunner()

OK = "flows:\n  greet:\n    steps:\n      - {step: hello, type: say, message: Hi}\n"
ASK_N = (
    "slots:\n  n: {type: integer}\n"
    "flows:\n  f:\n    steps:\n      - {step: ask, type: collect, slot: n}\n"
)
PAY_BILL = (
    "from soni import ActionRegistry\n\n\n"
    "@ActionRegistry.register('pay_bill')\ndef pay_bill() -> None:\n    pass\n"
)


@dataclass(frozen=True)
class Broken:
    """A bot with one mistake, and where `soni validate` must report it."""

    id: str
    files: Mapping[str, str]
    path: str  # relative to the bot folder
    line: int | None
    column: int | None
    fragment: str


BROKEN = [
    Broken("yaml-syntax", {"bot.yaml": "flows:\n  f:\n    steps:\n      - step: a\n        type: say\n        message: Hi: there\n"},  # noqa: E501
           "bot.yaml", 6, 20, "invalid YAML: mapping values are not allowed here"),
    Broken("tab", {"bot.yaml": "flows:\n  f:\n    steps:\n\t- {step: a, type: say, message: Hi}\n"},
           "bot.yaml", 4, 1, "tab character in the indentation"),
    Broken("duplicate-key", {"bot.yaml": "flows:\n  f:\n    steps:\n      - step: a\n        type: say\n        message: Hi\n        message: Ho\n"},  # noqa: E501
           "bot.yaml", 7, 9, "duplicate key 'message' (first defined on line 6)"),
    Broken("unknown-key", {"bot.yaml": "flows:\n  f:\n    steps:\n      - step: a\n        type: say\n        mesage: Hi\n"},  # noqa: E501
           "bot.yaml", 6, 9, "unknown key 'mesage' in a say step (did you mean 'message'?)"),
    Broken("unknown-top-level-key", {"bot.yaml": OK + "flow:\n  x: 1\n"},
           "bot.yaml", 5, 1, "unknown key 'flow' at the top level (did you mean 'flows'?)"),
    Broken("unknown-step-type", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: colect, slot: x}\n"},  # noqa: E501
           "bot.yaml", 4, 19, "unknown step type 'colect' (did you mean 'collect'?)"),
    Broken("missing-field", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: collect}\n"},  # noqa: E501
           "bot.yaml", 4, 9, "missing required field 'slot' in a collect step"),
    Broken("missing-type", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, message: Hi}\n"},  # noqa: E501
           "bot.yaml", 4, 9, "missing required field 'type' in a step"),
    Broken("bad-next", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: say, message: Hi, next: nowhere}\n"},  # noqa: E501
           "bot.yaml", 4, 49, "'next' names unknown step 'nowhere'"),
    Broken("bad-case-target", {"bot.yaml": ASK_N + "      - step: b\n        type: branch\n        slot: n\n        cases: {\">1\": big, default: ask}\n"},  # noqa: E501
           "bot.yaml", 10, 23, "case '>1' jumps to unknown step 'big'"),
    Broken("bad-expression", {"bot.yaml": ASK_N + "      - step: s\n        type: set\n        condition: \"n >\"\n        slots: {n: 1}\n"},  # noqa: E501
           "bot.yaml", 9, 20, "invalid expression: unexpected end of expression"),
    Broken("bad-case-pattern", {"bot.yaml": ASK_N + "      - step: b\n        type: branch\n        slot: n\n        cases: {\">=ten\": ask}\n"},  # noqa: E501
           "bot.yaml", 10, 17, "expected a number after '>=', found 'ten'"),
    Broken("bad-template", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: say, message: \"Hello {\"}\n"},  # noqa: E501
           "bot.yaml", 4, 39, "invalid template: unclosed '{'"),
    Broken("unknown-slot-in-template", {"bot.yaml": "slots:\n  amount: {type: float}\nflows:\n  f:\n    steps:\n      - {step: a, type: say, message: \"You sent {amout}\"}\n"},  # noqa: E501
           "bot.yaml", 6, 39, "unknown slot 'amout' in {amout} (did you mean 'amount'?)"),
    Broken("unknown-slot-in-expression", {"bot.yaml": "flows:\n  f:\n    steps:\n      - step: w\n        type: while\n        condition: \"tries < 3\"\n        do: [a]\n      - {step: a, type: say, message: Hi}\n"},  # noqa: E501
           "bot.yaml", 6, 20, "unknown slot 'tries' in the expression"),
    Broken("undeclared-collected-slot", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: collect, slot: amount}\n"},  # noqa: E501
           "bot.yaml", 4, 40, "slot 'amount' is not declared"),
    Broken("duplicate-step-id", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: say, message: Hi}\n      - {step: a, type: say, message: Ho}\n"},  # noqa: E501
           "bot.yaml", 5, 16, "duplicate step id 'a' (first at bot/bot.yaml:4:16)"),
    Broken("end-as-step-id", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: end, type: say, message: Hi}\n"},  # noqa: E501
           "bot.yaml", 4, 16, "'end' cannot be a step id"),
    Broken("bad-ttl", {"bot.yaml": "settings:\n  confirmations: {ttl: abc}\n" + OK},
           "bot.yaml", 2, 24, "expected a number for 'ttl', got 'abc'"),
    Broken("bad-backend", {"bot.yaml": "settings:\n  persistence:\n    backend: sqllite\n" + OK},
           "bot.yaml", 3, 14, "unknown persistence backend 'sqllite' (did you mean 'sqlite'?)"),
    Broken("misspelt-settings-key", {"bot.yaml": "settings:\n  persistance: {backend: memory}\n" + OK},  # noqa: E501
           "bot.yaml", 2, 16, "unknown settings key 'persistance' (did you mean 'persistence'?)"),
    Broken("bad-nlu-setting", {"bot.yaml": "settings:\n  nlu:\n    engine: rules\n    trigger_threshold: abc\n" + OK},  # noqa: E501
           "bot.yaml", 4, 24, "settings.nlu.trigger_threshold: must be a number, got 'abc'"),
    Broken("bad-slot-type", {"bot.yaml": "slots:\n  n: {type: strng}\n" + OK},
           "bot.yaml", 2, 13, "unknown slot type 'strng' (did you mean 'string'?)"),
    Broken("bad-slot-pattern", {"bot.yaml": "slots:\n  ref:\n    pattern: \"BK-(\\\\d{4}\"\n" + OK},
           "bot.yaml", 3, 14, "slots.ref.pattern: invalid regular expression: missing ), unterminated subpattern at position 3"),  # noqa: E501
    Broken("pattern-on-a-number", {"bot.yaml": "slots:\n  n:\n    type: integer\n    pattern: '\\d+'\n" + OK},  # noqa: E501
           "bot.yaml", 4, 14, "'pattern' only applies to string slots, not to type 'integer'"),
    Broken("default-against-pattern", {"bot.yaml": "slots:\n  ref:\n    pattern: 'BK-\\d{4}'\n    default: BK-1\n" + OK},  # noqa: E501
           "bot.yaml", 4, 14, "default 'BK-1' does not match the slot's pattern BK-\\d{4}"),
    Broken("unknown-action", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: action, call: pay_bil}\n", "actions.py": PAY_BILL},  # noqa: E501
           "bot.yaml", 4, 39, "unknown action 'pay_bil': no handler is registered (did you mean 'pay_bill'?)"),  # noqa: E501
    Broken("unknown-validator", {"bot.yaml": "slots:\n  n:\n    type: integer\n    validator: positve\nflows:\n  f:\n    steps:\n      - {step: a, type: collect, slot: n}\n"},  # noqa: E501
           "bot.yaml", 4, 16, "unknown validator 'positve' (did you mean 'positive'?)"),
    Broken("call-of-unknown-flow", {"bot.yaml": OK + "  main:\n    steps:\n      - {step: sub, type: call, target: gret}\n"},  # noqa: E501
           "bot.yaml", 7, 41, "unknown flow 'gret' (did you mean 'greet'?)"),
    Broken("link-to-unknown-flow", {"bot.yaml": OK + "  main:\n    steps:\n      - {step: go, type: link, target: nowhere}\n"},  # noqa: E501
           "bot.yaml", 7, 40, "unknown flow 'nowhere'"),
    Broken("handler-module-raises", {"bot.yaml": OK, "actions.py": "import os\n\nVALUE = 1 / 0\n"},
           "actions.py", 3, None, "cannot load the handler module bot/actions.py: ZeroDivisionError"),  # noqa: E501
    Broken("handler-module-syntax", {"bot.yaml": OK, "handlers.py": "def f(:\n    pass\n"},
           "handlers.py", 1, 7, "cannot load the handler module bot/handlers.py: SyntaxError"),
    Broken("handler-package-submodule", {"bot.yaml": OK, "actions/__init__.py": "from . import helpers\n", "actions/helpers.py": "x = 1\nraise ValueError('bad helper')\n"},  # noqa: E501
           "actions/helpers.py", 2, None, "cannot load the handler module bot/actions: ValueError: bad helper"),  # noqa: E501
    Broken("empty-file", {"bot.yaml": ""}, "bot.yaml", None, None, "the file is empty"),
    Broken("list-at-the-top", {"bot.yaml": "- a\n- b\n"},
           "bot.yaml", 1, 3, "expected a mapping at the top of the file"),
    Broken("flow-defined-twice", {"10-a.yaml": OK, "20-b.yaml": "flows:\n  greet:\n    steps:\n      - {step: x, type: say, message: Ho}\n"},  # noqa: E501
           "20-b.yaml", 2, 3, "flow 'greet' is already defined at bot/10-a.yaml:2:3"),
    Broken("versions-differ", {"a.yaml": "version: '1.0'\n" + OK, "b.yaml": "version: '2.0'\n"},
           "b.yaml", 1, 1, "version: '2.0' differs from '1.0' at bot/a.yaml:1:1"),
    Broken("python-tag", {"bot.yaml": "version: !!python/object:os.system echo\n" + OK},
           "bot.yaml", 1, 10, "unsupported tag '!!python/object:os.system'"),
    Broken("not-utf8", {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: say, message: \xff}\n"},  # noqa: E501
           "bot.yaml", 4, 39, "not valid UTF-8"),
]  # fmt: skip


def write_bot(folder: Path, files: Mapping[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        # latin-1 keeps "\xff" one byte, so not-utf8 is really not UTF-8.
        (folder / name).write_bytes(text.encode("latin-1"))
    return folder


def validate(*args: str) -> Result:
    return runner.invoke(app, ["validate", *args])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory, so the paths reported are short and relative."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_there_are_enough_broken_bots() -> None:
    assert len(BROKEN) >= 25
    assert len({case.id for case in BROKEN}) == len(BROKEN)


@pytest.mark.parametrize("case", BROKEN, ids=[case.id for case in BROKEN])
def test_a_broken_bot_is_reported_at_its_file_and_line(workdir: Path, case: Broken) -> None:
    write_bot(workdir / "bot", case.files)

    result = validate("bot", "--json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["warnings"] == []
    [error] = report["errors"]
    assert (error["path"], error["line"], error["column"]) == (
        f"bot/{case.path}",
        case.line,
        case.column,
    )
    assert case.fragment in error["message"]


def test_errors_print_as_file_line_col_then_a_summary(workdir: Path) -> None:
    write_bot(
        workdir / "bot",
        {
            "10-flows.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: colect}\n",
            "20-more.yaml": "settings:\n  confirmations: {ttl: -5}\n",
        },
    )

    result = validate("bot")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "bot/10-flows.yaml:4:19: flows.f.steps[0]: unknown step type 'colect' "
        "(did you mean 'collect'?)",
        "bot/20-more.yaml:2:24: settings.confirmations.ttl: 'ttl' must be greater than 0, got -5",
        "bot: 2 errors",
    ]


def test_a_good_bot_prints_one_line(workdir: Path) -> None:
    write_bot(workdir / "bot", {"bot.yaml": OK})

    result = validate("bot")

    assert result.exit_code == 0
    assert result.stdout == "bot: OK (1 flow, 1 step)\n"


UNREACHABLE = """\
flows:
  f:
    steps:
      - {step: hello, type: say, message: Hi}
      - {step: bye, type: end, message: Bye}
      - {step: lost, type: say, message: Never said}
"""


def test_unreachable_steps_are_warnings_that_fail_only_with_strict(workdir: Path) -> None:
    write_bot(workdir / "bot", {"bot.yaml": UNREACHABLE})
    line = (
        "bot/bot.yaml:6:9: warning: flows.f.steps[2]: step 'lost' is never reached: "
        "the end step above ends the flow, and no step jumps to it"
    )

    relaxed = validate("bot")
    strict = validate("bot", "--strict")

    assert relaxed.exit_code == 0
    assert relaxed.stdout.splitlines() == [line, "bot: 1 warning"]
    assert strict.exit_code == 1
    assert strict.stdout.splitlines() == [line, "bot: 1 warning"]


def test_json_lists_warnings_and_ok_follows_strict(workdir: Path) -> None:
    write_bot(workdir / "bot", {"bot.yaml": UNREACHABLE})
    expected = {
        "path": "bot/bot.yaml",
        "line": 6,
        "column": 9,
        "message": "flows.f.steps[2]: step 'lost' is never reached: the end step above ends "
        "the flow, and no step jumps to it",
    }

    relaxed = json.loads(validate("bot", "--json").stdout)
    strict = validate("bot", "--json", "--strict")

    assert relaxed == {"ok": True, "errors": [], "warnings": [expected]}
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["ok"] is False


def test_actions_option_names_the_handler_module(workdir: Path) -> None:
    bot = "flows:\n  f:\n    steps:\n      - {step: a, type: action, call: pay_bill}\n"
    write_bot(workdir / "bot", {"bot.yaml": bot})
    (workdir / "payments.py").write_text(PAY_BILL)

    without = validate("bot", "--json")
    named = validate("bot", "--actions", "payments.py")
    missing = validate("bot", "--actions", "nowhere.py", "--json")

    assert "unknown action 'pay_bill'" in json.loads(without.stdout)["errors"][0]["message"]
    assert named.exit_code == 0, named.stdout
    [error] = json.loads(missing.stdout)["errors"]
    assert error["path"] == "nowhere.py"
    assert "cannot load the handler module nowhere.py: FileNotFoundError" in error["message"]


def test_a_broken_handler_does_not_hide_the_bot_s_own_errors(workdir: Path) -> None:
    write_bot(
        workdir / "bot",
        {"bot.yaml": "flows:\n  f:\n    steps:\n      - {step: a, type: say, mesage: Hi}\n",
         "actions.py": "raise RuntimeError('no config')\n"},
    )  # fmt: skip

    result = validate("bot")

    assert result.stdout.splitlines() == [
        "bot/actions.py:1: cannot load the handler module bot/actions.py: RuntimeError: no config",
        "bot/bot.yaml:4:30: flows.f.steps[0]: unknown key 'mesage' in a say step "
        "(did you mean 'message'?)",
        "bot: 2 errors",
    ]


PARITY = [c for c in BROKEN if c.id in ("unknown-action", "bad-expression", "bad-nlu-setting")]


@pytest.mark.parametrize("case", PARITY, ids=[case.id for case in PARITY])
async def test_validate_reports_what_bot_load_raises(workdir: Path, case: Broken) -> None:
    write_bot(workdir / "bot", case.files)

    with pytest.raises((ConfigErrors, ConfigError)) as raised:
        await Bot.load("bot", db=":memory:")
    [error] = json.loads(validate("bot", "--json").stdout)["errors"]

    loaded = raised.value.errors if isinstance(raised.value, ConfigErrors) else [raised.value]
    problem = case.fragment.rsplit(": ", 1)[-1]
    assert [problem in e.message for e in loaded] == [True]
    assert problem in error["message"]


def test_a_bot_kept_on_postgresql_validates(tmp_path: Path) -> None:
    # validate (and serve) once refused the backend Bot.load accepts: one check now.
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "bot.yaml").write_text(
        'settings:\n  persistence: {backend: postgres, url: "postgresql://db"}\n' + OK
    )

    result = runner.invoke(app, ["validate", str(bot)])

    assert result.exit_code == 0, result.output


@pytest.fixture
def example_handlers() -> Iterator[None]:
    """The examples' handlers registered, even if another test imported them already."""
    for name in EXAMPLES:
        register_again(ROOT / "examples" / name / "actions.py")
    assert ActionRegistry().list_actions()["global"]
    yield


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_validates_without_errors_or_warnings(
    example: str, example_handlers: None
) -> None:
    result = validate(str(ROOT / "examples" / example), "--json", "--strict")

    report: dict[str, Any] = json.loads(result.stdout)
    assert report == {"ok": True, "errors": [], "warnings": []}
    assert result.exit_code == 0


@pytest.mark.slow  # a Python process of its own
def test_a_real_process_prints_the_error_line_and_no_traceback(tmp_path: Path) -> None:
    write_bot(tmp_path / "bot", {"bot.yaml": OK, "actions.py": "import no_such_module_here\n"})

    done = subprocess.run(
        [sys.executable, "-m", "soni", "validate", "bot"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "bot/actions.py:1: cannot load the handler module bot/actions.py: "
        "ModuleNotFoundError: No module named 'no_such_module_here'",
        "bot: 1 error",
    ]
    assert "Traceback" not in done.stderr


HANDLER_BOT = {
    "bot.yaml": """\
slots:
  appointment_date: {type: date, prompt: "Which day?"}
flows:
  book:
    trigger: {intents: ["book"]}
    steps:
      - {step: ask, type: collect, slot: appointment_date}
      - {step: run, type: action, call: book_visit}
""",
    "actions.py": """\
from soni import ActionRegistry

@ActionRegistry.register("book_visit")
def book_visit(PARAM: str, note: str = "") -> dict:
    return {}
""",
}


@pytest.mark.parametrize(("param", "warned"), [("date", True), ("appointment_date", False)])
def test_a_handler_parameter_that_is_no_slot_is_a_warning(
    workdir: Path, param: str, warned: bool
) -> None:
    files = {name: text.replace("PARAM", param) for name, text in HANDLER_BOT.items()}
    write_bot(workdir / f"bot-{param}", files)
    plain = validate(f"bot-{param}")
    strict = validate("--strict", f"bot-{param}")
    assert plain.exit_code == 0, plain.output
    if warned:
        assert "bot.yaml:8:9: warning:" in plain.output
        assert "takes 'date', which the bot has no slot for (slots: appointment_date)" in (
            plain.output
        )
        assert strict.exit_code == 1
    else:
        assert "warning" not in plain.output
        assert strict.exit_code == 0
