"""JUnit XML: what CI systems read from a run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from soni.testing import ConversationResult, Observed, RunReport, StepFailure
from soni.testing.junit import junit_xml, write_junit


def report() -> RunReport:
    failure = StepFailure(3, "bot: 'x <y>'", 9, "the reply 'x <y>'", "'z & w'", Observed())
    return RunReport(
        (
            ConversationResult("ok", "bots/a/tests/one.yaml", 2, None, 0.5),
            ConversationResult("bad", "bots/a/tests/one.yaml", 7, failure, 0.25),
            ConversationResult("other", "bots/a/tests/two.yaml", None, None, 0.125),
        ),
        1.0,
    )


def test_one_suite_per_file_one_case_per_test() -> None:
    root = ET.fromstring(junit_xml(report()))
    assert root.attrib == {
        "name": "soni", "tests": "3", "failures": "1", "errors": "0", "time": "1.000",
    }  # fmt: skip
    one, two = root
    assert (one.get("name"), one.get("tests"), one.get("failures"), one.get("time")) == (
        "bots/a/tests/one.yaml", "2", "1", "0.750",
    )  # fmt: skip
    assert [c.get("name") for c in one] == ["ok", "bad"]
    bad = one[1]
    assert bad.attrib == {
        "classname": "one", "name": "bad", "file": "bots/a/tests/one.yaml", "time": "0.250",
        "line": "7",
    }  # fmt: skip
    failure = bad.find("failure")
    assert failure is not None
    assert failure.get("message") == "step 3: bot: 'x <y>': expected the reply 'x <y>', got 'z & w'"
    assert failure.text is not None and failure.text.startswith("step 3 (line 9): bot: 'x <y>'")
    assert two[0].get("line") is None


def test_written_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    write_junit(report(), path)
    assert path.read_text(encoding="utf-8").startswith("<?xml version='1.0' encoding='utf-8'?>")
