"""report.json of the commands outside `ci-toolkit run` (ci_toolkit/report/standalone.py):
the optional `comparison` section, and the report of a merged cross-validation. Each report
is checked against the schema; older reports load and round-trip unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ci_toolkit.github_context import GitHubContext
from ci_toolkit.report.load import load_report, parse_report
from ci_toolkit.report.model import Artifacts, Report, Status
from ci_toolkit.report.schema import schema_errors
from ci_toolkit.report.standalone import (
    Provenance,
    merged_cross_validation_report,
    write_comparison,
    write_cross_validation,
)
from tests import paths
from tests.unit.compare.shards import section

REPORTS = paths.FIXTURES / "reports"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _provenance() -> Provenance:
    context = GitHubContext(actions=True, sha=COMMIT, server_url="https://github.com",
                            repository="octo/bot", run_id="9", ref="refs/pull/1/merge")
    return Provenance(commit=COMMIT, context=context,
                      artifacts=Artifacts(results_dir="results/compare"),
                      rasa_version="3.6.21")


def _fixture(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["coffeebot", "coffeebot-failed-story",
                                  "coffeebot-duckling-unreachable"])
def test_reports_without_a_comparison_validate_and_round_trip_unchanged(name: str) -> None:
    data = _fixture(name)
    assert schema_errors(data) == []
    assert "comparison" not in Report.from_dict(data).to_dict()
    assert Report.from_dict(data).to_dict() == data


def test_a_report_with_a_comparison_validates_and_round_trips() -> None:
    data = {**_fixture("coffeebot"), "comparison": section(plot="results/comparison.png")}
    assert schema_errors(data) == []
    report = parse_report(data, source="test")
    assert report.comparison is not None and report.comparison.configs[0].name == "light"
    assert report.to_dict() == data


@pytest.mark.parametrize(("change", "where"), [
    (lambda s: s.update(kind="both"), "comparison.kind"),
    (lambda s: s["configs"][0]["points"][0].update(intent_f1={"mean": 0.5}),
     "comparison.configs[0].points[0].intent_f1"),
    (lambda s: s["winner"].pop("margin"), "comparison.winner.margin"),
])
def test_a_broken_comparison_is_named_by_the_schema(change: object, where: str) -> None:
    broken = copy.deepcopy(section())
    change(broken)  # type: ignore[operator]
    problems = schema_errors({**_fixture("coffeebot"), "comparison": broken})
    assert problems and all(where in problem for problem in problems), problems


def test_a_comparison_goes_into_an_existing_report_without_losing_anything(tmp_path: Path
                                                                          ) -> None:
    path = tmp_path / "report.json"
    before = _fixture("coffeebot-failed-story")
    path.write_text(json.dumps(before), encoding="utf-8")
    write_comparison(path, section(), _provenance(), redact=str)
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after.pop("comparison")["winner"]["config"] == "light"
    assert after == before


def test_without_a_report_a_complete_minimal_one_is_written(tmp_path: Path) -> None:
    path = write_comparison(tmp_path / "new" / "report.json", section(), _provenance(),
                            redact=lambda text: text.replace("light", "***"))
    report = load_report(path)
    assert report.passed and report.stages == [] and report.nlu is None
    assert report.run.commit == COMMIT and report.run.github is not None
    assert report.artifacts.results_dir == "results/compare"
    assert report.comparison is not None and report.comparison.configs[0].name == "***"


def _cross_validation() -> dict:
    data = copy.deepcopy(_fixture("coffeebot")["cross_validation"])
    for task in [data["intent_classification"], *data["entity_extraction"].values()]:
        task["pooled"] = None if task is not data["intent_classification"] else task["pooled"]
    return data


def test_a_merged_cross_validation_is_a_complete_report() -> None:
    report = merged_cross_validation_report(_cross_validation(), _provenance())
    assert schema_errors(report.to_dict()) == []
    stage = report.stage("cross_validate")
    assert stage is not None and stage.status is Status.PASSED and not stage.cached
    assert report.passed and report.run.rasa_version == "3.6.21"
    assert report.rtt["default"][""]["intent_classification"]["accuracy"] == \
        _cross_validation()["intent_classification"]["pooled"]["accuracy"]


def test_a_merged_cross_validation_replaces_the_one_of_an_existing_report(tmp_path: Path
                                                                          ) -> None:
    path = tmp_path / "report.json"
    before = _fixture("coffeebot")
    path.write_text(json.dumps(before), encoding="utf-8")
    merged = _cross_validation()
    merged["folds"] = 7
    write_cross_validation(path, merged, _provenance(), redact=str)
    after = load_report(path)
    assert after.cross_validation is not None and after.cross_validation.folds == 7
    assert [stage.name for stage in after.stages] == [s["name"] for s in before["stages"]]
    assert after.nlu is not None and after.core is not None
    assert after.run.commit == before["run"]["commit"]
