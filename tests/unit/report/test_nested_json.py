"""A report or baseline nested too deeply to read is bad input (exit 2), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.unit.summary.test_publish import fixture_report

DEEP = 100_000

# (what is nested, its content, the message on stderr)
CASES = [
    ("report", "[" * DEEP + "]" * DEEP,
     "the report {report} is not a report.json: its JSON is nested too deeply"),
    ("report", '{"schema_version": 1, "run": ' + "[" * DEEP + "]" * DEEP + "}",
     "the report {report} is not a report.json: its JSON is nested too deeply"),
    ("report", '{"a": ' * DEEP + "1" + "}" * DEEP,
     "the report {report} is not a report.json: its JSON is nested too deeply"),
    ("baseline", "[" * DEEP + "]" * DEEP,
     "the baseline report {baseline} is not a report.json: its JSON is nested too deeply"),
    ("baseline", '{"a": ' * DEEP + "1" + "}" * DEEP,
     "the baseline report {baseline} is not a report.json: its JSON is nested too deeply"),
]


@pytest.mark.parametrize(("which", "content", "message"), CASES)
def test_deeply_nested_json_is_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        which: str, content: str, message: str) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    report, baseline = tmp_path / "report.json", tmp_path / "baseline.json"
    report.write_text(json.dumps(fixture_report()), encoding="utf-8")
    (report if which == "report" else baseline).write_text(content, encoding="utf-8")
    args = ["summary", str(report), "--no-comment", "--output", str(tmp_path / "s.md")]
    if which == "baseline":
        args += ["--baseline", str(baseline)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message.format(report=report, baseline=baseline) in err
    assert "Traceback" not in err and "RecursionError" not in err
