"""The typed report: round trips, schema checks, and the errors bad files give."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.report.baseline import load_baseline
from ci_toolkit.report.load import load_report, parse_report
from ci_toolkit.report.model import (
    GateResult,
    ModelSource,
    Report,
    Status,
    UnevaluatedExtractor,
    Verdict,
)
from ci_toolkit.report.schema import Validator, report_schema, schema_errors
from tests import paths

REPORTS = sorted((paths.FIXTURES / "reports").glob("*.json")) + sorted(
    (paths.FIXTURES / "summary" / "inputs").glob("*.json"))


def load(name: str = "coffeebot") -> dict:
    return json.loads((paths.FIXTURES / "reports" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", REPORTS, ids=[path.name for path in REPORTS])
def test_every_fixture_report_is_valid_and_round_trips_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert schema_errors(data) == []
    report = Report.from_dict(data)
    assert report.to_dict() == data
    assert json.dumps(report.to_dict(), indent=2, ensure_ascii=False) == json.dumps(
        data, indent=2, ensure_ascii=False)


def test_typed_access() -> None:
    report = Report.from_dict(load("coffeebot-failed-story"))
    assert report.verdict is Verdict.FAILED and not report.passed
    assert report.stages[0].status is Status.PASSED
    assert report.model is not None and report.model.source is ModelSource.CACHED
    assert report.core is not None and report.core.failed_stories[0].failed_step is not None
    assert isinstance(report.gates[0], GateResult) and not report.gates[0].passed
    assert report.stage("test_core") is not None and report.stage("nope") is None
    assert report.data is report.data  # built once


def test_unevaluated_extractors_are_typed_and_left_out_while_empty() -> None:
    report = Report.from_dict(load("coffeebot-duckling-unreachable"))
    assert report.nlu is not None
    [duckling] = report.unreachable_extractors
    assert isinstance(duckling, UnevaluatedExtractor)
    assert duckling.name == "DucklingEntityExtractor" and duckling.unreachable
    assert "http://127.0.0.1:9 could not be reached (105 connection errors)" in duckling.reason
    # A report from before the key existed has none and gains none: schema_version stays 1.
    older = Report.from_dict(load())
    assert older.unevaluated_extractors == [] and older.unreachable_extractors == []
    assert "unevaluated_extractors" not in older.to_dict()["nlu"]
    assert "unevaluated_extractors" not in older.to_dict()["cross_validation"]


def test_an_extractor_in_both_sections_is_listed_once_unreachable_first() -> None:
    data = load("coffeebot-duckling-unreachable")
    [duckling] = data["nlu"]["unevaluated_extractors"]
    data["nlu"]["unevaluated_extractors"] = [
        dict(duckling, reason="pretrained: rasa does not score it", unreachable=False)]
    data["cross_validation"]["unevaluated_extractors"] = [duckling]
    assert Report.from_dict(data).unevaluated_extractors == [
        UnevaluatedExtractor.from_dict(duckling)]


def test_unknown_keys_are_kept() -> None:
    data = load()
    data["future_section"] = {"a": 1}
    data["nlu"]["intent_classification"]["labels"]["affirm"]["new_metric"] = 0.5
    assert Report.from_dict(data).to_dict() == data


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def changed(path: str, value: object) -> dict:
    data = copy.deepcopy(load())
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(("path", "value", "message"), [
    ("stages.0.status", "done", "stages[0].status is \"done\", but must be one of: passed, "
                                "failed, skipped"),
    ("run.duration_s", "long", "run.duration_s is \"long\" (string), but must be a number"),
    ("run.duration_s", -1, "run.duration_s is -1, but must be at least 0"),
    ("tool", KeyError, "tool is missing"),
    ("nlu.intent_classification", [], "nlu.intent_classification is [] (array), but must be "
                                      "an object"),
    ("core.failed_stories", {}, "core.failed_stories is {} (object), but must be an array"),
    ("stages.0.cached", "yes", "stages[0].cached is \"yes\" (string), but must be true or false"),
    ("validation.warnings.1.line", 1.5, "validation.warnings[1].line is 1.5 (number), but must "
                                        "be an integer or null"),
    ("nlu.unevaluated_extractors", {}, "nlu.unevaluated_extractors is {} (object), but must "
                                       "be an array"),
    ("nlu.unevaluated_extractors", [{"name": "DucklingEntityExtractor", "reason": "down",
                                     "unreachable": "yes"}],
     "nlu.unevaluated_extractors[0].unreachable is \"yes\" (string), but must be true or false"),
    ("cross_validation.unevaluated_extractors", [{"name": "DucklingEntityExtractor"}],
     "cross_validation.unevaluated_extractors[0].reason is missing"),
])
def test_bad_shapes_name_the_path_of_the_bad_key(tmp_path: Path, path: str, value: object,
                                                  message: str) -> None:
    with pytest.raises(UsageError) as raised:
        load_report(write(tmp_path, changed(path, value)))
    assert message in raised.value.message
    assert "does not match the report.json schema" in raised.value.message


@pytest.mark.parametrize("version", [3, 0, True, "2"])
def test_an_unknown_schema_version_is_named(tmp_path: Path, version: object) -> None:
    with pytest.raises(UsageError, match="but this ci-toolkit reads schema versions 1 and 2 "
                                         "only"):
        load_report(write(tmp_path, changed("schema_version", version)))


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "holds a JSON list, not an object"),
    ('{"verdict": "passed"}', "it has no schema_version"),
])
def test_unreadable_reports_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        load_report(path)


def test_a_missing_report_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Run `ci-toolkit run` first"):
        load_report(tmp_path / "report.json")


def test_many_problems_are_counted_not_all_listed() -> None:
    data = load()
    for stage in data["stages"]:
        stage["status"] = "done"
        stage["cached"] = "no"
    with pytest.raises(UsageError, match=r"; and \d+ more"):
        parse_report(data, source="the report")


def test_a_baseline_goes_through_the_same_checks(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"the baseline report .* stages\[0\].status"):
        load_baseline(write(tmp_path, changed("stages.0.status", "done")))
    assert load_baseline(write(tmp_path, load())).to_dict() == load()


def test_an_rtt_baseline_becomes_a_report(tmp_path: Path) -> None:
    rtt = {"default": {"config.yml": {"intent_classification": {
        "accuracy": 0.9, "weighted avg": {"precision": 1.0, "recall": 0.8, "f1-score": 0.85,
                                          "support": 10}}}}}
    report = load_baseline(write(tmp_path, rtt))
    assert report.nlu is not None and report.nlu.intent_classification is not None
    assert report.nlu.intent_classification.weighted_avg is not None
    assert report.nlu.intent_classification.weighted_avg.f1_score == 0.85
    assert report.assistant.configuration_name == "config.yml"
    assert report.extra == {"from_rtt": True} and report.rtt == rtt


def test_the_validator_covers_every_keyword_the_schema_uses() -> None:
    # An unsupported keyword would be a rule that is silently not checked.
    assert schema_errors(load()) == []
    with pytest.raises(ValueError, match="unsupported keywords: pattern"):
        list(Validator({}).errors("x", {"type": "string", "pattern": "^a"}))
    assert report_schema()["properties"]["schema_version"] == {"enum": [1, 2]}


def test_null_or_object_reports_the_object_mismatch() -> None:
    problems = schema_errors(changed("nlu.intent_classification.labels", 3))
    assert problems == ["nlu.intent_classification.labels is 3 (integer), but must be an object"]
