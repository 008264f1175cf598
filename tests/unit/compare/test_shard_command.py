"""`ci-toolkit compare --shard` up to rasa, and what a shard reads from rasa's files
(ci_toolkit/compare/shard.py, ci_toolkit/compare/publish.py): bad input is refused before
rasa starts, with the fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_toolkit.commands.compare import compare
from ci_toolkit.compare import run
from ci_toolkit.compare.publish import report_section
from ci_toolkit.compare.request import CompareRequest
from ci_toolkit.compare.shard import read_measurement
from ci_toolkit.report.load import load_report
from tests.paths import FIXTURES
from tests.unit.compare import test_request
from tests.unit.compare.shards import section

CONFIGS = ("--config", "light.yml", "chars.yml")
# The example project with two configs, and a refusal before rasa starts, as for compare.
project = test_request.project
_refused = test_request._refused


def test_a_wrong_number_of_shards_says_the_right_one(project: Path) -> None:
    message = _refused(project, *CONFIGS, "--runs", "3", "--shard", "1/3")
    assert "2 configs with --runs 3 has 2 x 3 = 6 shards" in message
    assert "--shard i/6" in message


def test_a_shard_takes_no_report(project: Path) -> None:
    message = _refused(project, *CONFIGS, "--runs", "1", "--shard", "1/2", "--report", "r.json")
    assert "Give them to `ci-toolkit merge`" in message


def test_a_shards_directory_is_under_the_results_root(tmp_path: Path) -> None:
    request = CompareRequest(shard="2/4", results_dir=tmp_path)
    assert request.workdir(None) == tmp_path / "compare" / "shard-2-of-4"  # type: ignore[arg-type]


def test_a_shard_reads_rasas_weighted_f1s(tmp_path: Path) -> None:
    found = read_measurement(FIXTURES / "rasa" / "nlu", 73)
    assert found == {"intent_f1": 1.0, "entity_f1": {"DIETClassifier": 1.0},
                     "training_examples": 73}


def test_without_an_intent_report_the_shard_fails(tmp_path: Path) -> None:
    from ci_toolkit.errors import ToolkitError

    with pytest.raises(ToolkitError, match="no weighted-average F1"):
        read_measurement(tmp_path, 1)


def test_the_reports_plot_is_named_from_where_the_command_ran(tmp_path: Path) -> None:
    plot = tmp_path / "out" / "comparison.png"
    assert report_section(section(plot="comparison.png"), plot)["plot"] == os.path.relpath(plot)
    assert report_section(section(plot="comparison.png"), None)["plot"] is None


def test_compare_report_adds_the_section_to_the_runs_report(project: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """`compare --report` of a one-machine comparison (rasa's part is the integration test's):
    an existing report.json keeps everything and gets the section, the plot named from the
    directory the command ran in."""
    workdir = tmp_path / "cmp"
    (workdir / "logs").mkdir(parents=True)
    (workdir / "logs" / "compare-nlu.log").write_text("log")
    done_section = section(plot="comparison.png")
    monkeypatch.setattr(run, "run_comparison", lambda request, console: run.Comparison(
        done_section, workdir / "comparison.json", workdir / "comparison.md",
        workdir / "comparison.png"))
    report = tmp_path / "report.json"
    before = json.loads((FIXTURES / "reports" / "coffeebot.json").read_text())
    report.write_text(json.dumps(before))
    done = CliRunner().invoke(compare, [str(project), *CONFIGS, "--report", str(report)])
    assert done.exit_code == 0, done.output
    loaded = load_report(report)
    assert loaded.comparison is not None
    assert loaded.comparison.plot == os.path.relpath(workdir / "comparison.png")
    assert {k: v for k, v in loaded.to_dict().items() if k != "comparison"} == before
