"""Reading rasa's NLU comparison (ci_toolkit/compare/nlu_files.py) on the files of a real
`rasa test nlu --config light.yml chars.yml --runs 2 --percentages 0 50` (fixtures/nlu, the
models replaced by empty files: only their presence is read) and of a comparison where one
config could not be trained (fixtures/nlu-failed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ci_toolkit.compare.nlu_files import read_nlu_comparison, training_examples
from ci_toolkit.errors import ToolkitError

FIXTURES = Path(__file__).parent / "fixtures"
NLU = FIXTURES / "nlu"


def _read(out: Path = NLU, log_text: str = "") -> dict:
    return read_nlu_comparison(out, ["light", "chars"], runs=2, percentages=[0, 50],
                               log_text=log_text)


def test_each_measurement_is_rasas_f1_for_its_run_and_percentage() -> None:
    found = _read()
    scores = json.loads((NLU / "results.json").read_text())
    for name in ("light", "chars"):
        assert [[m.intent_f1 for m in run] for run in found[name]] == scores[name]


def test_rasas_f1_is_the_weighted_f1_of_the_models_intent_report() -> None:
    # results.json holds rasa's intent_evaluation f1_score; the report beside it agrees.
    found = _read()
    report = json.loads((NLU / "run_2" / "50%_exclusion" / "chars_report" /
                         "intent_report.json").read_text())
    assert found["chars"][1][1].intent_f1 == pytest.approx(report["weighted avg"]["f1-score"])


def test_entity_f1_per_extractor_and_none_without_an_extractor() -> None:
    found = _read()
    report = json.loads((NLU / "run_1" / "0%_exclusion" / "light_report" /
                         "CRFEntityExtractor_report.json").read_text())
    assert found["light"][0][0].entity_f1 == {
        "CRFEntityExtractor": report["weighted avg"]["f1-score"]}
    assert found["chars"][0][0].entity_f1 == {}


def test_the_training_examples_are_counted_in_rasas_split() -> None:
    found = _read()
    # 73 examples in the 80% training split; excluding 50% leaves 42, not 36: rasa keeps
    # at least one example of every intent.
    assert [m.training_examples for m in found["light"][0]] == [73, 42]


def test_a_config_rasa_did_not_compare_is_an_error() -> None:
    with pytest.raises(ToolkitError, match="no 2 runs of 2 F1 scores for the configuration "
                                           "'other'") as error:
        read_nlu_comparison(NLU, ["light", "other"], runs=2, percentages=[0, 50],
                            log_text="")
    assert "skips a configuration it cannot read" in error.value.message


def test_a_training_that_failed_is_an_error_in_rasas_words() -> None:
    # rasa logs the failure, records an F1 of 0.0 and exits 0 (fixtures/nlu-failed).
    failed = FIXTURES / "nlu-failed"
    log = (failed / "rasa.log").read_text()
    assert json.loads((failed / "results.json").read_text())["broken"] == [[0.0]]
    with pytest.raises(ToolkitError) as error:
        read_nlu_comparison(failed, ["broken", "chars"], runs=1, percentages=[0],
                            log_text=log)
    assert ("could not train 1 of its models: 'broken' in run 1 at 0% exclusion: Can't load "
            "class for name 'NoSuchClassifier'") in error.value.message


def test_a_missing_model_without_a_logged_reason_says_so(tmp_path: Path) -> None:
    out = shutil.copytree(NLU, tmp_path / "out")
    (out / "run_2" / "50%_exclusion" / "chars.tar.gz").unlink()
    with pytest.raises(ToolkitError, match="'chars' in run 2 at 50% exclusion: no model was "
                                           "written"):
        _read(out)


def test_an_unreadable_results_file_is_an_error(tmp_path: Path) -> None:
    out = shutil.copytree(NLU, tmp_path / "out")
    (out / "results.json").write_text("{")
    with pytest.raises(ToolkitError, match="Could not read rasa's result file"):
        _read(out)


def test_empty_examples_in_rasas_split_are_not_counted() -> None:
    # A split rasa wrote in another comparison of the example holds bare "- " lines among
    # the examples of some intents (and synonyms and a regex, which are no intent examples).
    split = FIXTURES / "split-with-empty-examples"
    content = yaml.safe_load((split / "train" / "train.yml").read_text())
    lines = [line.strip() for entry in content["nlu"] if "intent" in entry
             for line in entry["examples"].splitlines()]
    empty = [line for line in lines if line == "-"]
    assert len(empty) == 7, "the fixture must hold the empty examples it is about"
    assert training_examples(split) == len(lines) - len(empty) == 72
