"""`ci-toolkit summary` never loses data through its own outputs, never shows credentials
of GITHUB_API_URL, and turns a malformed GITHUB_API_URL into a warning (no comment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.unit.summary.test_publish import fixture_report

# (arguments, the message on stderr, the file that must keep its content)
COLLISIONS = [
    (["reports/report.json", "--output", "reports/report.json"],
     "--output reports/report.json is the same file as REPORT", "reports/report.json"),
    (["reports/report.json", "--output", "./reports/../reports/report.json"],
     "writing it would destroy REPORT", "reports/report.json"),
    (["reports/report.json", "--html", "reports/report.json"],
     "--html reports/report.json is the same file as REPORT", "reports/report.json"),
    (["reports/report.json", "--baseline", "base.json", "--output", "base.json"],
     "writing it would destroy --baseline", "base.json"),
    (["reports/report.json", "--baseline", "base.json", "--html", "base.json"],
     "--html base.json is the same file as --baseline", "base.json"),
    (["reports/report.json", "--html", "x.md", "--output", "x.md"],
     "--html x.md is the same file as --output x.md: the two would overwrite each other",
     "x.md"),
    (["reports/report.json", "--html", "reports/summary.md"],
     "is the same file as --output", "reports/summary.md"),
    (["reports/report.json", "--output", "link.json"],
     "writing it would destroy REPORT", "reports/report.json"),
]


@pytest.mark.parametrize(("args", "message", "kept"), COLLISIONS)
def test_an_output_that_is_an_input_or_another_output_is_exit_2_before_writing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        args: list[str], message: str, kept: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "reports").mkdir()
    original = json.dumps(fixture_report())
    for name in ("reports/report.json", "base.json"):
        (tmp_path / name).write_text(original, encoding="utf-8")
    (tmp_path / "link.json").symlink_to(tmp_path / "reports" / "report.json")
    (tmp_path / kept).write_text(original, encoding="utf-8")
    assert main(["summary", "--no-comment", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert (tmp_path / kept).read_text(encoding="utf-8") == original


# (GITHUB_API_URL, what the warning says, what must appear nowhere)
API_URLS = [
    ("http://user:hunter2secret@127.0.0.1:9", "contains credentials", "hunter2secret"),
    ("https://x-access-token:ghs_abcdef123456@ghe.example/api/v3", "contains credentials",
     "ghs_abcdef123456"),
    ("https://tok3n-only-value@ghe.example/api/v3", "contains credentials", "tok3n-only-value"),
    ("http://127.0.0.1:99999", "has an invalid port", "Traceback"),
    ("http://127.0.0.1:port", "has an invalid port", "Traceback"),
    ("http://127.0.0.1:0/api/v3", "has an invalid port", "Traceback"),
    ("http://user:hunter2secret@127.0.0.1:99999", "has an invalid port", "hunter2secret"),
]


@pytest.mark.parametrize(("url", "warning", "hidden"), API_URLS)
def test_a_malformed_api_url_is_a_warning_without_its_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        url: str, warning: str, hidden: str) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    report = tmp_path / "report.json"
    report.write_text(json.dumps(fixture_report()), encoding="utf-8")
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_API_URL": url,
                        "GITHUB_TOKEN": "ghp-summary-token-77", "GITHUB_REPOSITORY": "o/r",
                        "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event),
                        "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md"),
                        "GITHUB_OUTPUT": str(tmp_path / "out")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["summary", str(report)]) == 0
    out = capsys.readouterr()
    assert "no PR comment: GITHUB_API_URL" in out.err and warning in out.err
    assert "::warning" in out.out
    # The runner needs the token itself in ::add-mask:: to hide it; nothing else shows it.
    masks = [line for line in out.out.splitlines() if line.startswith("::add-mask::")]
    assert masks == ["::add-mask::ghp-summary-token-77"]
    shown = "\n".join(line for line in out.out.splitlines() if line not in masks)
    shown += out.err + (tmp_path / "step.md").read_text(encoding="utf-8")
    assert hidden not in shown and "ghp-summary-token-77" not in shown
