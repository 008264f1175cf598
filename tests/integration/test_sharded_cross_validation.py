"""A 2-shard cross-validation of the example with real rasa: each shard runs the CLI
(`cross-validate --shard i/2`), `merge` pools them, and the merged section must equal the
report rasa's own code (sklearn's classification_report completed by rasa, run in rasa's
Python) computes from both shards' predictions, to the last bit.

The light NLU pipeline (no TensorFlow, plus CRF entities) keeps the two trainings to
seconds: this test is about the split, the shard files and the merge, not about the example's
model. Entities are pooled from the token labels the model evaluator records; each shard's
labels must first give rasa's own entity report of that shard.
"""

from __future__ import annotations

import json
import math
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from ci_toolkit.commands.crossval import merge
from ci_toolkit.commands.pipeline import cross_validate
from ci_toolkit.commands.summary import summary
from ci_toolkit.crossval.nlu_data import read_nlu_data
from ci_toolkit.report.load import load_report
from ci_toolkit.report.model import CrossValidation
from tests.rasa_support import RASA_ENV, copy_example, rasa_executable, use_light_nlu_pipeline

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

# rasa's evaluation of pooled predictions, exactly as `rasa test nlu --cross-validation`
# does it for its folds (rasa/nlu/test.py::_calculate_report), with the rows in sorted order.
RASA_REPORT = textwrap.dedent("""
    import json, sys
    from sklearn import metrics
    from sklearn.utils.multiclass import unique_labels
    from rasa.model_testing import make_classification_report_complete
    from rasa.nlu.test import _add_confused_labels_to_report
    targets, predictions, exclude = json.load(sys.stdin)
    labels = sorted(set(targets) - {exclude})
    report = metrics.classification_report(targets, predictions, labels=labels,
                                           output_dict=True)
    report = make_classification_report_complete(
        report, metrics.accuracy_score(targets, predictions))
    report = _add_confused_labels_to_report(
        report, metrics.confusion_matrix(targets, predictions),
        list(unique_labels(targets, predictions)),
        exclude_labels=[exclude] if exclude else [])
    print(json.dumps(report))
""")


def _rasa_python() -> str:
    return str(Path(rasa_executable()).parent / "python")


def _rasa_report(targets: list[str], predictions: list[str], exclude: str | None = None
                 ) -> dict[str, Any]:
    done = subprocess.run([_rasa_python(), "-W", "ignore", "-c", RASA_REPORT],
                          input=json.dumps([targets, predictions, exclude]), capture_output=True,
                          text=True, env=RASA_ENV, check=True, timeout=600)
    return json.loads(done.stdout)


def _as_section(raw: dict[str, Any]) -> dict[str, Any]:
    from ci_toolkit.rasa.reports import classification_from_raw

    section = classification_from_raw(raw)
    assert section is not None
    return section


def _close(ours: Any, theirs: Any) -> bool:
    """Equal, floats to 1e-12: rasa sums a report's averages in the order of a Python set."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_close(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, float) or isinstance(theirs, float):
        return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12)
    return bool(ours == theirs)


def _check_entity_labels(results: Path, shards: list[dict[str, Any]]) -> tuple[list[str], ...]:
    """Each shard's recorded token labels are what rasa scored: rasa's own
    CRFEntityExtractor_report.json of the shard is their report. Returns them pooled."""
    targets: list[str] = []
    predictions: list[str] = []
    for fold, shard in zip((1, 2), shards, strict=True):
        recorded = shard["predictions"]["entity_token_labels"]
        labels = recorded["extractors"]["CRFEntityExtractor"]
        written = json.loads((results / "cross-validate" / f"shard-{fold}-of-2" / "test"
                              / "CRFEntityExtractor_report.json").read_text())
        assert _close(_rasa_report(labels["targets"], labels["predictions"],
                                   recorded["no_entity"]), written)
        targets += labels["targets"]
        predictions += labels["predictions"]
    return targets, predictions


def _run_shard(project: Path, shard: str, results: Path) -> Path:
    outcome = CliRunner().invoke(cross_validate, [
        str(project), "--shard", shard, "--seed", "11", "--rasa", rasa_executable(),
        "--result-dir", str(results), "--no-train-metrics"])
    assert outcome.exit_code == 0, outcome.output[-3000:]
    return Path(outcome.stdout.strip().splitlines()[-1])


def _check_summary(report: Path, merged: dict[str, Any], rasa_version: str) -> None:
    """The merge's report.json is complete: `ci-toolkit summary` renders its cross-validation
    (Markdown and HTML) as it does a one-machine run's."""
    loaded = load_report(report)  # checked against the schema
    assert loaded.cross_validation is not None
    assert loaded.cross_validation.to_dict() == merged
    assert loaded.passed and loaded.run.rasa_version == rasa_version
    markdown, html = report.with_name("summary.md"), report.with_name("report.html")
    done = CliRunner().invoke(summary, [str(report), "--output", str(markdown), "--html",
                                        str(html), "--no-step-summary", "--no-comment"],
                              env={"GITHUB_ACTIONS": ""})
    assert done.exit_code == 0, done.output
    text = markdown.read_text(encoding="utf-8")
    accuracy = merged["intent_classification"]["test"]["accuracy"]
    assert f"| Intent classification | {accuracy['mean']:.4f} ± {accuracy['std']:.4f} |" \
        in text
    assert "Test folds, mean ± std over 2 folds." in text
    assert "<td>Intent classification</td>" in html.read_text(encoding="utf-8")


def test_merged_shards_equal_rasas_report_of_the_pooled_predictions(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "coffeebot")
    use_light_nlu_pipeline(project, extra_components="  - name: CRFEntityExtractor\n")
    # Both shards under one --result-dir, as two matrix jobs' artifacts would be unpacked.
    results = tmp_path / "results"
    reports = [_run_shard(project, f"{fold}/2", results) for fold in (1, 2)]
    shards = [json.loads(path.read_text(encoding="utf-8")) for path in reports]

    # The split: every example of the data was tested exactly once, in one of the shards.
    data = read_nlu_data([project / "data"])
    tested = [yaml.safe_load((results / "cross-validate" / f"shard-{fold}-of-2" / "data"
                              / "test.yml").read_text()) for fold in (1, 2)]
    tested_examples = sorted((entry["intent"], line[2:]) for document in tested
                             for entry in document["nlu"]
                             for line in entry["examples"].splitlines())
    assert tested_examples == sorted((i, e) for i, found in data.examples.items() for e in found)
    predicted = [p for shard in shards for p in shard["predictions"]["intent_classification"]]
    assert len(predicted) == len(tested_examples)

    out, report = tmp_path / "merged.json", tmp_path / "reports" / "report.json"
    merged_run = CliRunner().invoke(merge, [str(path) for path in reversed(reports)]
                                    + ["--out", str(out), "--report", str(report)])
    assert merged_run.exit_code == 0, merged_run.output
    merged = json.loads(out.read_text(encoding="utf-8"))
    _check_summary(report, merged, shards[0]["rasa_version"])

    expected = _rasa_report([p["intent"] for p in predicted],
                            [p["predicted_intent"] for p in predicted])
    assert merged["intent_classification"]["pooled"] == _as_section(expected)
    # Entities: pooled from the token labels rasa scored in each shard.
    targets, entity_predictions = _check_entity_labels(results, shards)
    assert {"drink", "size"} <= set(targets)  # the example has entities to score
    assert merged["entity_extraction"]["CRFEntityExtractor"]["pooled"] == _as_section(
        _rasa_report(targets, entity_predictions, "no_entity"))
    assert merged["folds"] == 2
    # Mean and population deviation over the two folds of each fold's own rasa figures.
    for metric in ("accuracy", "f1_score", "precision"):
        values = [s["metrics"]["test"]["intent_classification"][metric] for s in shards]
        figures = merged["intent_classification"]["test"][metric]
        assert figures["mean"] == pytest.approx(sum(values) / 2)
        assert figures["std"] == pytest.approx(math.fabs(values[0] - values[1]) / 2)
    assert merged["intent_classification"]["train"] == {}  # --no-train-metrics
    # The section is the one report.json carries.
    assert CrossValidation.from_dict(merged).to_dict() == merged
