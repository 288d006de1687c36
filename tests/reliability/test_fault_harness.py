"""The fault harness itself: its verdicts catch what they claim to catch.

A trial's verdict is computed from observations; these tests feed it the
observations of a correct soni and of the faults it must catch (a double run, a
lost confirmation, failure words, a wrong 409), so that a passing fault suite
means something.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import pytest_terminal_summary

from ._approval_trials import WHERE, ApprovalTrial, summary
from ._executions import Executions
from ._first_turn_trials import FirstTurnTrial
from ._races import Answer, Race


def trial(**observed: object) -> ApprovalTrial:
    base: dict[str, object] = {
        "number": 0, "channel": "http", "aim": "anywhere", "conversation": "c",
        "readable": True, "retry_code": 200, "listed_interrupted": False,
    }  # fmt: skip
    base.update(observed)
    return ApprovalTrial(**base)  # type: ignore[arg-type]


def test_a_kill_before_the_decision_then_an_approval_that_runs_once_is_clean() -> None:
    seen = trial(landed="pending", status="pending", retry_replies=["Paid 1: receipt R-1."])
    seen.status_after, seen.ran_after = "executed", 1

    assert seen.where == WHERE[0]
    assert seen.problems() == []


def test_todays_interrupted_run_is_caught_as_misreported() -> None:
    # What soni does before the fix: the record stays executing, the retry fails.
    seen = trial(
        landed="executing", status="executing", ran_before=1,
        retry_replies=["Sorry, I couldn't pay."],
    )  # fmt: skip
    seen.status_after, seen.ran_after = "executing", 1

    assert seen.where == WHERE[2]
    problems = " ".join(seen.problems())
    assert "failure words" in problems
    assert "not 'interrupted'" in problems
    assert "does not list it" in problems


def test_an_interrupted_run_told_as_unknown_everywhere_is_clean() -> None:
    seen = trial(
        landed="executing", status="interrupted", listed_interrupted=True, ran_before=0,
        retry_replies=["I can't tell whether I paid 1: check before trying again."],
    )  # fmt: skip
    seen.status_after, seen.ran_after = "interrupted", 0

    assert seen.where == WHERE[1]  # claimed, the handler had not written yet
    assert seen.problems() == []
    assert "unknown reported 1/1" in summary("kills", [seen], doubles=0, lost=0)


def test_a_second_run_or_a_lost_confirmation_is_caught() -> None:
    doubled = trial(landed="executed", status="executed", ran_before=1, retry_replies=[])
    doubled.status_after, doubled.ran_after = "executed", 2
    lost = trial(readable=False, status="", retry_code=404, retry_replies=["not found"])

    assert "the action ran 2 times" in doubled.problems()
    assert "the confirmation was lost across the restart" in lost.problems()


def test_an_idempotent_action_may_run_twice_after_an_interruption_but_not_three_times() -> None:
    again = trial(kind="again", landed="executing", status="interrupted", ran_before=1)
    again.retry_replies, again.status_after, again.ran_after = ["Paid 1."], "executed", 2
    # Run again by the restarted soni itself, before the user retried: as good.
    early = trial(kind="again", landed="executing", status="executed", ran_before=1)
    early.retry_replies, early.status_after, early.ran_after = ["Paid 1."], "executed", 2
    thrice = trial(kind="again", landed="executing", status="interrupted", ran_before=1)
    thrice.retry_replies, thrice.status_after, thrice.ran_after = ["Paid 1."], "executed", 3
    doubled = trial(kind="again", landed="executed", status="executed", ran_before=1)
    doubled.retry_replies, doubled.status_after, doubled.ran_after = ["Paid 1."], "executed", 2

    assert again.problems() == []
    assert early.problems() == []
    assert any("3 times" in problem for problem in thrice.problems())
    # Its result was recorded: running it again is a double, safe or not.
    assert any("2 times" in problem for problem in doubled.problems())


def test_doubles_are_keys_run_twice_except_by_actions_safe_to_repeat(tmp_path: Path) -> None:
    executions = Executions(tmp_path / "runs.jsonl")
    runs = [("pay", "k1"), ("pay", "k2"), ("pay", "k1"), ("pay_again", "k3"), ("pay_again", "k3")]
    executions.path.write_text(
        "".join(
            json.dumps({"action": a, "key": k, "conversation": "c", "pid": 1}) + "\n"
            for a, k in runs
        )
    )

    assert executions.doubles(safe_to_repeat=["pay_again"]) == {"k1": 2}
    assert executions.doubles() == {"k1": 2, "k3": 2}


def test_a_first_turn_interrupted_in_its_action_must_be_told_unknown() -> None:
    today = FirstTurnTrial(0, "once", "c", "in the handler", journal="running", keys_before=["k"])
    today.retry_code, today.retry_replies, today.keys_after = (
        200,
        ["Sorry, I couldn't note."],
        ["k"],
    )
    fixed = FirstTurnTrial(0, "once", "c", "in the handler", journal="running", keys_before=["k"])
    fixed.retry_code, fixed.keys_after = 200, ["k"]
    fixed.retry_replies = ["I can't tell whether I noted it."]

    assert today.interrupted and any("failure words" in p for p in today.problems())
    assert fixed.problems() == []


def test_a_resent_message_after_a_saved_turn_is_a_new_message() -> None:
    saved = FirstTurnTrial(0, "once", "c", "anywhere", journal="done", keys_before=["k1"])
    saved.checkpointed, saved.retry_code = True, 200
    saved.retry_replies, saved.keys_after = ["Noted: entry E-2."], ["k1", "k2"]

    assert saved.where == "after the turn was saved"
    assert saved.problems() == []


def test_race_answers_are_held_to_the_documented_protocol() -> None:
    refused = Answer("http skip", "http", "skip", 409, "pay", "urn:soni:problem:already-decided")
    misnamed = Answer("ws skip", "ws", "skip", 409, "skip", "urn:soni:problem:already-decided")
    repeated = Answer("http approve", "http", "pay", 200, "pay")
    cli_lost = Answer("cli skip", "cli", "skip", 4, detail="error: … already decided: 'pay' by …")
    cli_crashed = Answer("cli skip", "cli", "skip", 1, detail="error: database is locked")
    contradicting = Answer("chat 'no'", "chat", "skip", 200, detail="Nothing was paid.")
    untold = Answer("chat 'yes'", "chat", "pay", 200, detail="Sorry, I didn't understand that.")
    told = Answer(
        "chat 'no'",
        "chat",
        "skip",
        200,
        detail="That was already approved (via http). | Paid 5.0: receipt R-1.",
    )

    assert refused.fault("pay") is None
    assert repeated.fault("pay") is None
    assert cli_lost.fault("pay") is None
    assert misnamed.fault("pay") is not None
    assert cli_crashed.fault("pay") is not None
    assert contradicting.fault("pay") is not None
    assert untold.fault("pay") is not None
    assert told.fault("pay") is None


def test_a_race_with_two_decisions_or_a_second_run_is_caught() -> None:
    race = Race(0, "c", "id", [Answer("http approve", "http", "pay", 200, "pay")])
    race.recorded, race.winner, race.status = "pay", "http", "executed"
    race.decisions, race.ran = 2, 2

    problems = race.problems()

    assert "2 decisions in the history" in problems
    assert any("with 2 runs" in problem for problem in problems)


def test_the_figures_are_printed_at_the_end_of_a_run_under_xdist(tmp_path: Path) -> None:
    # The hook's own source, in a project of its own: soni is not imported there.
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n\n" + inspect.getsource(pytest_terminal_summary)
    )
    (tmp_path / "test_figures.py").write_text(
        "import pytest\n"
        "@pytest.mark.parametrize('n', [1, 2])\n"
        "def test_one(n, record_property):\n"
        "    record_property('figure', f'widgets: {n}, lost 0')\n"
        "    record_property('other', 'not a figure')\n"
        "    assert n == 1\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist", "-n", "2", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
        # Only xdist: the other installed plugins would cost more than the run.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )  # fmt: skip

    summary = run.stdout[run.stdout.index(" figures ") :]
    # From both workers, the failing test's too, each once; nothing but figures.
    assert "widgets: 1, lost 0  [test_one[1]]" in summary
    assert "widgets: 2, lost 0  [test_one[2]]" in summary
    assert summary.count("widgets:") == 2
    assert "not a figure" not in summary
