"""`ci-toolkit merge --report`: a complete report.json of a sharded cross-validation that
`ci-toolkit summary` renders like a one-machine run's, baseline deltas included, with the
pooled entity report null (ci_toolkit/report/standalone.py, ci_toolkit/commands/crossval.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_toolkit.commands.crossval import merge
from ci_toolkit.report.load import load_report
from ci_toolkit.report.model import Report, Status
from ci_toolkit.summary.build import build_summary
from ci_toolkit.summary.html import html_report
from ci_toolkit.summary.markdown import render_markdown
from tests import paths
from tests.unit.crossval.test_merge import _pair


@pytest.fixture
def merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    report = tmp_path / "reports" / "report.json"
    done = CliRunner().invoke(merge, [*map(str, _pair(tmp_path / "shards")), "--report",
                                      str(report)])
    assert done.exit_code == 0, done.output
    assert '"folds"' not in done.stdout  # with --report only, nothing on stdout
    return report


def test_the_report_has_the_section_a_stage_and_a_verdict(merged: Path) -> None:
    report = load_report(merged)  # validated against the schema
    assert report.cross_validation is not None and report.cross_validation.folds == 2
    assert report.cross_validation.entity_extraction["DIETClassifier"].pooled is None
    stage = report.stage("cross_validate")
    assert stage is not None and stage.status is Status.PASSED
    assert report.passed and report.run.commit == "0123456789abcdef0123456789abcdef01234567"
    assert report.run.rasa_version == "3.6.21"


def test_the_summary_renders_the_merged_cross_validation(merged: Path) -> None:
    report = load_report(merged)
    view = build_summary(report, root=merged.parent)
    markdown = render_markdown(view, budget=None)
    part = markdown[markdown.index("### Cross-validation"):]
    assert "Test folds, mean ± std over 2 folds." in part
    assert "| Intent classification | 0.6250 ± 0.1250 | 0.5000 ± 0.1250 | 0.5000 ± 0.0625 |" \
        in part
    # The entity extractor's folds have train figures only: its test cells are empty.
    assert "| Entities: DIETClassifier |" in part
    html = html_report(view, report, root=merged.parent)
    assert "<td>Intent classification</td>" in html


def test_a_baseline_cross_validation_gives_deltas(merged: Path) -> None:
    baseline = Report.from_dict(json.loads(
        (paths.FIXTURES / "reports" / "coffeebot.json").read_text(encoding="utf-8")))
    markdown = render_markdown(build_summary(load_report(merged), baseline,
                                             root=merged.parent), budget=None)
    row = next(line for line in markdown.splitlines()
               if line.startswith("| Intent classification | 0.6250"))
    # The fixture's cross-validated intent accuracy is 0.676: 0.625 is 0.051 below it.
    assert "0.6250 ± 0.1250 ▼ -0.0510" in row, row


def test_merge_out_and_report_both_written(tmp_path: Path) -> None:
    out, report = tmp_path / "cv.json", tmp_path / "report.json"
    done = CliRunner().invoke(merge, [*map(str, _pair(tmp_path / "s")), "--out", str(out),
                                      "--report", str(report)])
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text())["folds"] == 2
    assert load_report(report).cross_validation is not None
