"""One fold's predictions and metrics, read from real `rasa test nlu` output
(ci_toolkit/crossval/predictions.py, shard.py), and the shard report's checks
(ci_toolkit/crossval/shard_report.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ci_toolkit.crossval import predictions
from ci_toolkit.crossval.classification import classification_report, fold_metrics
from ci_toolkit.crossval.shard import ShardPlan, parse_shard, shard_report
from ci_toolkit.crossval.shard_report import check_shape, load_shard_report
from ci_toolkit.errors import ToolkitError, UsageError
from tests.unit.crossval import shards

FOLD = Path(__file__).parent / "fixtures" / "coffeebot-fold-1-of-2"


def _test_examples() -> int:
    document = yaml.safe_load((FOLD / "test.yml").read_text(encoding="utf-8"))
    return sum(len(entry["examples"].splitlines()) for entry in document["nlu"])


def test_every_test_example_has_one_intent_prediction() -> None:
    found = predictions.intent_predictions(FOLD / "test")
    assert len(found) == _test_examples()
    assert set(found[0]) == {"text", "intent", "predicted_intent", "confidence"}
    assert any(p["intent"] != p["predicted_intent"] for p in found)  # errors are included
    assert any(p["intent"] == p["predicted_intent"] for p in found)  # and successes


def test_the_predictions_reproduce_rasas_own_report() -> None:
    found = predictions.intent_predictions(FOLD / "test")
    ours = classification_report([p["intent"] for p in found],
                                 [p["predicted_intent"] for p in found])
    rasa = json.loads((FOLD / "test" / "intent_report.json").read_text(encoding="utf-8"))
    labels = [key for key in rasa if key not in ("accuracy", "macro avg", "weighted avg",
                                                 "micro avg")]
    for label in labels:  # rows: exactly rasa's
        assert ours[label] == rasa[label], label
    assert ours["accuracy"] == rasa["accuracy"]
    for average in ("macro avg", "weighted avg", "micro avg"):
        # rasa sums the rows in its set order, which changes from run to run (hash seed).
        assert ours[average] == pytest.approx(rasa[average], rel=1e-12)


def test_response_predictions_are_read() -> None:
    found = predictions.response_predictions(FOLD / "test")
    rasa = json.loads((FOLD / "test" / "response_selection_report.json").read_text())
    assert len(found) == rasa["weighted avg"]["support"]
    assert {p["response_key"] for p in found} <= {k for k in rasa if "/" in k}


def test_task_metrics_are_rasas_fold_figures() -> None:
    rasa = json.loads((FOLD / "train" / "intent_report.json").read_text(encoding="utf-8"))
    metrics = predictions.task_metrics(FOLD / "train")
    assert metrics["intent_classification"] == {
        "accuracy": rasa["accuracy"], "f1_score": rasa["weighted avg"]["f1-score"],
        "precision": rasa["weighted avg"]["precision"]}
    assert metrics["response_selection"] is not None
    assert metrics["entity_extraction"] == {}
    assert predictions.task_metrics(FOLD / "missing") == {
        "intent_classification": None, "response_selection": None, "entity_extraction": {}}


def test_entity_predictions_and_metrics_per_extractor(tmp_path: Path) -> None:
    gold = [{"start": 4, "end": 9, "value": "latte", "entity": "drink"}]
    report = classification_report(["drink", "drink"], ["drink", "no_entity"])
    (tmp_path / "DIETClassifier_report.json").write_text(json.dumps(report))
    (tmp_path / "DIETClassifier_errors.json").write_text(json.dumps(
        [{"text": "one latte", "entities": gold, "predicted_entities": []}]))
    (tmp_path / "intent_report.json").write_text("{}")
    found = predictions.entity_predictions(tmp_path)
    assert found == {"DIETClassifier": [{"text": "one latte", "entities": gold,
                                         "predicted_entities": []}]}
    assert predictions.task_metrics(tmp_path)["entity_extraction"] == \
        {"DIETClassifier": fold_metrics(report)}


def test_unreadable_prediction_files_are_errors(tmp_path: Path) -> None:
    (tmp_path / "intent_errors.json").write_text('{"not": "a list"}')
    with pytest.raises(ToolkitError, match="not a list of predictions"):
        predictions.intent_predictions(tmp_path)
    (tmp_path / "intent_errors.json").write_text("[")
    with pytest.raises(ToolkitError, match="Could not read"):
        predictions.intent_predictions(tmp_path)


def test_the_shard_report_of_a_real_fold_passes_its_own_checks(tmp_path: Path) -> None:
    plan = ShardPlan(project_dir=tmp_path, shard="1/2", seed=0)
    report = shard_report(plan, data_fingerprint="f", config_sha256="c", workdir=FOLD,
                          expected=_test_examples(), rasa_version="3.6.21")
    path = tmp_path / "shard-report.json"
    path.write_text(json.dumps(report))
    loaded = load_shard_report(path)
    assert loaded.fold == 1 and loaded.identity("folds") == 2
    assert loaded.metrics("test")["intent_classification"] is not None


def test_a_fold_with_a_prediction_missing_is_refused(tmp_path: Path) -> None:
    plan = ShardPlan(project_dir=tmp_path, shard="1/2")
    with pytest.raises(ToolkitError, match=r"recorded \d+ intent predictions for the 999 test"):
        shard_report(plan, data_fingerprint="f", config_sha256="c", workdir=FOLD,
                     expected=999, rasa_version=None)


@pytest.mark.parametrize("text, says", [
    ("1/1", "at least 2 folds"), ("0/3", "numbered 1 to 3"), ("4/3", "numbered 1 to 3"),
    ("2", "not of the form i/N"), ("a/b", "not of the form i/N"), ("1/2/3", "i/N"),
    ("-1/2", "not of the form i/N")])
def test_bad_shard_values(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        parse_shard(text)


def test_a_good_shard_value() -> None:
    assert parse_shard(" 2/5 ") == (2, 5)
    plan = ShardPlan(project_dir=Path("bot"), shard="3/4")
    assert (plan.fold, plan.folds) == (3, 4)


@pytest.mark.parametrize("change, says", [
    (lambda r: r.update(format="other"), 'has no "format"'),
    (lambda r: r.update(version=2), "version is 2"),
    (lambda r: r.pop("seed"), "seed is missing"),
    (lambda r: r.update(fold=True), "fold is missing or not a int"),
    (lambda r: r.update(predictions=[]), "predictions is missing"),
    (lambda r: r["predictions"]["intent_classification"][0].pop("intent"),
     r"predictions.intent_classification\[0\].intent is not a str"),
    (lambda r: r["predictions"].update(response_selection=[1]),
     r"response_selection\[0\] is not an object"),
    (lambda r: r["metrics"].pop("train"), 'must hold a "train"'),
])
def test_a_bad_shard_report_is_named(change, says: str) -> None:  # type: ignore[no-untyped-def]
    report = shards.shard(1, [("a", "a")])
    change(report)
    with pytest.raises(UsageError, match=says):
        check_shape(Path("shard-report.json"), report)


def test_unreadable_shard_reports(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_shard_report(tmp_path / "nothing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UsageError, match="cannot be read as JSON"):
        load_shard_report(tmp_path / "bad.json")
