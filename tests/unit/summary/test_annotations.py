"""Annotations on the diff for a report's validation findings and failed test stories."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from ci_toolkit.gha import ActionsRuntime, escape_data
from ci_toolkit.report.model import Report
from ci_toolkit.summary.annotations import emit_annotations
from tests import paths

REPO_ROOT = paths.REPO_ROOT
REPORTS = REPO_ROOT / "tests" / "fixtures" / "reports"


def load_report(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text(encoding="utf-8"))


def annotation_lines(report: dict, tmp_path: Path) -> list[str]:
    stream = io.StringIO()
    runtime = ActionsRuntime({"GITHUB_ACTIONS": "true"}, stream)
    emit_annotations(Report.from_dict(report), runtime, root=REPO_ROOT, workspace=str(REPO_ROOT))
    return stream.getvalue().splitlines()


def story_message(story: dict) -> str:
    step = story["failed_step"]
    return (f"Test story '{story['name']}' failed at step {step['index']}: expected "
            f"{step['kind']} '{step['expected']}', predicted '{step['predicted']}'.")


def test_failed_story_annotation_uses_the_recorded_line(tmp_path: Path) -> None:
    # The run happened in a copy of the project ("coffeebot/"), which is not on disk here:
    # the annotation still names the project-relative file and the line rasa's run found.
    report = load_report("coffeebot-failed-story")
    report["validation"] = None
    story = report["core"]["failed_stories"][0]
    path = f"{report['assistant']['project_dir']}/{story['file']}"
    assert annotation_lines(report, tmp_path) == [
        f"::error file={path},line={story['line']},title=Failed test story::"
        f"{escape_data(story_message(story))}"]


def test_failed_story_annotation_finds_the_story_line_in_the_repository(tmp_path: Path) -> None:
    report = load_report("coffeebot")  # ran on examples/coffeebot in this repository
    report["validation"] = None
    failed = load_report("coffeebot-failed-story")["core"]["failed_stories"][0]
    stories_file = REPO_ROOT / report["assistant"]["project_dir"] / failed["file"]
    lines = stories_file.read_text(encoding="utf-8").splitlines()
    line, name = next((number, match.group(1)) for number, text in enumerate(lines, start=1)
                      if (match := re.match(r"\s*- story: (.+?)\s*$", text)))
    story = dict(failed, name=name, line=None)
    report["core"]["failed_stories"] = [story]
    path = f"{report['assistant']['project_dir']}/{failed['file']}"
    assert annotation_lines(report, tmp_path) == [
        f"::error file={path},line={line},title=Failed test story::"
        f"{escape_data(story_message(story))}"]


def test_validation_findings_become_errors_and_warnings_with_escaping(tmp_path: Path) -> None:
    report = load_report("coffeebot")
    project = report["assistant"]["project_dir"]
    report["validation"] = {
        "errors": [{"level": "error", "code": "unknown_action", "file": "domain.yml", "line": 7,
                    "message": "Action 'x' is used in 'a, b: c' but 100% missing\nadd it"}],
        "warnings": [{"level": "warning", "code": "unused_intent", "file": None, "line": None,
                      "message": "The intent 'inform' is not used in any story or rule."}],
    }
    report["core"]["failed_stories"] = []
    assert annotation_lines(report, tmp_path) == [
        f"::error file={project}/domain.yml,line=7,title=rasa data validate%3A unknown_action::"
        "Action 'x' is used in 'a, b: c' but 100%25 missing%0Aadd it",
        "::warning title=rasa data validate%3A unused_intent::"
        "The intent 'inform' is not used in any story or rule.",
    ]
