"""Validation findings of both classes, from real `rasa data validate` output."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.pipeline.project import load_project
from ci_toolkit.rasa.validation import parse_findings
from tests import paths, project_changes
from tests.rasa_support import copy_example

FIXTURES = paths.FIXTURES / "rasa"


def _findings(fixture: str, project: Path, *, strict: bool = False) -> dict:
    out = FIXTURES / fixture
    return parse_findings(stdout=(out / "stdout.txt").read_text(),
                          stderr=(out / "stderr.txt").read_text(),
                          project=load_project(project), fail_on_warnings=strict)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    project = copy_example(tmp_path / "bot")
    project_changes.add_validation_errors(project)
    return project


def test_errors_and_warnings_are_told_apart(broken: Path) -> None:
    findings = _findings("validate-errors", broken)
    assert [(f["code"], f["file"]) for f in findings["errors"]] == [("unknown_action", "data/stories.yml")]
    error = findings["errors"][0]
    assert "action_check_loyalty_points" in error["message"]
    lines = (broken / "data" / "stories.yml").read_text().splitlines()
    assert "uses an action the domain lacks" in lines[error["line"] - 1]

    codes = {f["code"] for f in findings["warnings"]}
    assert {"intent_not_in_domain", "unused_intent", "unused_utterance", "story_conflict"} <= codes
    unlisted = next(f for f in findings["warnings"] if f["code"] == "intent_not_in_domain")
    assert unlisted["file"] == "data/nlu.yml"
    assert "ask_price" in (broken / "data" / "nlu.yml").read_text().splitlines()[unlisted["line"] - 1]


def test_fail_on_warnings_makes_every_finding_an_error(broken: Path) -> None:
    findings = _findings("validate-errors", broken, strict=True)
    assert findings["warnings"] == []
    assert len(findings["errors"]) >= 5


def test_clean_project_has_only_warnings() -> None:
    from tests.rasa_support import EXAMPLE_DIR

    findings = _findings("validate-clean", EXAMPLE_DIR)
    assert findings["errors"] == []
    assert findings["warnings"]


def test_domain_error_points_at_the_domain(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    project_changes.break_domain(project)
    findings = _findings("validate-invalid-domain", project)
    [error] = findings["errors"]
    assert error["code"] == "form_slot_missing"
    assert error["file"] == "domain.yml"
    assert (project / "domain.yml").read_text().splitlines()[error["line"] - 1].strip() == "- milk"
