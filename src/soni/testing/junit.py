"""Conversation test results as JUnit XML, the report format CI systems read."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from soni.testing.results import ConversationResult, RunReport

__all__ = ("junit_xml", "write_junit")

# Characters XML 1.0 cannot hold at all, escaped or not (control characters a
# test name or a handler's error may carry): shown as \xNN instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def junit_xml(report: RunReport, name: str = "soni") -> str:
    """The report as a JUnit XML document: one ``testsuite`` per test file."""
    root = ET.Element(
        "testsuites",
        name=name,
        tests=str(len(report.results)),
        failures=str(report.failed),
        errors="0",
        time=f"{report.duration:.3f}",
    )
    by_file: dict[str, list[ConversationResult]] = {}
    for result in report.results:
        by_file.setdefault(result.file, []).append(result)
    for file, results in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml_text(file),
            tests=str(len(results)),
            failures=str(sum(1 for r in results if not r.passed)),
            errors="0",
            skipped="0",
            time=f"{sum(r.duration for r in results):.3f}",
        )
        for result in results:
            _case(suite, result)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: RunReport, path: str | os.PathLike[str], name: str = "soni") -> None:
    """Write the report to ``path`` as JUnit XML (UTF-8)."""
    Path(path).write_text(junit_xml(report, name), encoding="utf-8")


def _case(suite: ET.Element, result: ConversationResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=Path(result.file).stem,
        name=_xml_text(result.name),
        file=_xml_text(result.file),
        time=f"{result.duration:.3f}",
    )
    if result.line is not None:
        case.set("line", str(result.line))
    failure = result.failure
    if failure is not None:
        element = ET.SubElement(
            case,
            "failure",
            type="ConversationMismatch",
            message=_xml_text(
                f"step {failure.index}: {failure.step}: expected {failure.expected}, "
                f"got {failure.actual}"
            ),
        )
        element.text = _xml_text(failure.explain())
