"""The test stages load the model once (ci_toolkit/rasa/evaluator.py) and still write exactly
what `rasa test core` and `rasa test nlu`, run as two separate commands, write; and a failing
test story is reported, fails the run with its gate and passes without it.

One test on a model with every kind of TensorFlow component rasa has (DIETClassifier with
its randomly connected layers, ResponseSelector, TEDPolicy), each small and trained for a few
epochs: the worker loads them for evaluation only (no training step), so the comparison with
rasa's own loads in the raw commands is what proves that load exact. The pipeline trains the
model and tests it with one load, the raw commands load it twice, and the rerun without the
gate restores both stages from the cache. What the loads cost on the example's own model is
measured in benchmarks/model_loads.py, not here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ci_toolkit.pipeline.project import load_project
from ci_toolkit.rasa import runner
from tests import project_changes
from tests.integration.pipeline_runs import ci_toolkit
from tests.rasa_support import RASA_ENV, copy_example, rasa_executable

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

LOADING = "Loading model"  # rasa's processor logs it each time it loads a model
# rasa orders a report's labels by iterating a set, so the order (and with it the last bit of
# a weighted average summed in that order) follows Python's per-process hash seed: two runs
# of the same separate command differ there too. One seed for both sides makes the
# comparison exact.
SAME_HASH_SEED = {"PYTHONHASHSEED": "0"}
# Rasa's plots are pictures of the same numbers; the numbers themselves are compared.
COMPARED = {".json", ".yml", ".txt"}
# Small, but every layer kind of the example's components: transformer, randomly connected
# dense layers (density < 1), CRF entity head, response and dialogue embeddings; TED as the
# example has it.
SMALL_TENSORFLOW_CONFIG = """recipe: default.v1
assistant_id: coffeebot-evaluator-test
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 5
    number_of_transformer_layers: 1
    transformer_size: 32
    hidden_layers_sizes: {text: [32], label: [32]}
    embedding_dimension: 10
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 5
  - name: FallbackClassifier
    threshold: 0.3
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
  - name: TEDPolicy
    max_history: 5
    epochs: 5
"""


def _separate_commands(project: Path, model: Path, out: Path) -> str:
    """Run the two raw rasa commands the pipeline replaces; their combined output."""
    loaded = load_project(project)
    env = runner.rasa_environment({**RASA_ENV, **SAME_HASH_SEED}, rasa_cache=None)
    output = []
    for argv in (runner.test_core_argv(loaded, model=model, out=out / "core", extra=()),
                 runner.test_nlu_argv(loaded, model=model, out=out / "nlu", extra=())):
        done = subprocess.run([rasa_executable(), *argv], cwd=project, env=env, text=True,
                              capture_output=True, timeout=1200, check=False)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        output.append(done.stdout + done.stderr)
    return "".join(output)


def _files(directory: Path) -> dict[str, str]:
    return {path.relative_to(directory).as_posix(): path.read_text()
            for path in sorted(directory.rglob("*"))
            if path.is_file() and path.suffix in COMPARED}


def test_one_model_load_writes_what_the_two_commands_write_and_a_failing_story_is_gated(
        tmp_path: Path) -> None:
    project = copy_example(tmp_path / "coffeebot")
    (project / "config.yml").write_text(SMALL_TENSORFLOW_CONFIG)
    project_changes.add_failing_test_story(project)

    # Two jobs: both test stages are ready at once and must still share the one load.
    ours = tmp_path / "ours"
    options = ("--no-validate", "--jobs", "2", "--result-dir", str(ours))
    env = {**SAME_HASH_SEED, "XDG_STATE_HOME": str(tmp_path / "state")}
    run = ci_toolkit(project, *options, "--fail-on-failed-stories", env=env)
    assert run.exit_code == 1, run.output[-3000:]
    assert run.ran() == {"train", "test_core", "test_nlu"}
    both_logs = "".join((ours / "logs" / f"{stage}.log").read_text()
                        for stage in ("test_core", "test_nlu"))
    assert both_logs.count(LOADING) == 1, both_logs[-3000:]
    assert "evaluation-only load" not in both_logs  # no fallback to rasa's load

    assert run.report is not None
    raw_output = _separate_commands(project, Path(run.report["model"]["path"]),
                                    tmp_path / "raw")
    assert raw_output.count(LOADING) == 2
    _assert_same_files(tmp_path / "raw", ours)

    report = run.report
    failed = report["core"]["failed_stories"]
    assert [s["name"] for s in failed] == ["greeting answered with the wrong response"]
    assert failed[0]["failed_step"]["expected"] == "utter_goodbye"
    assert failed[0]["failed_step"]["predicted"] == "utter_greet"
    assert report["core"]["conversations"]["correct"] == 6
    assert report["verdict"] == "failed"
    assert [g["passed"] for g in report["gates"]] == [False]
    assert "1 of 7 test stories failed" in run.output

    # Without the gate the same result is reported but does not fail the run. (The gate is
    # no input of the tests, so their results come from the cache: rasa does not run.)
    allowed = ci_toolkit(project, *options, env=env)
    assert allowed.exit_code == 0, allowed.output[-3000:]
    assert allowed.cached() == {"train", "test_core", "test_nlu"}
    assert allowed.report is not None
    assert allowed.report["core"]["failed_stories"][0]["name"] == failed[0]["name"]


def _assert_same_files(raw_dir: Path, ours_dir: Path) -> None:
    raw, ours = _files(raw_dir), _files(ours_dir)
    ours = {name: text for name, text in ours.items() if not name.startswith("logs/")}
    assert sorted(ours) == sorted(raw)
    assert {"core/story_report.json", "core/failed_test_stories.yml",
            "nlu/intent_report.json", "nlu/DIETClassifier_report.json",
            "nlu/response_selection_report.json", "core/TEDPolicy_report.json"} <= set(ours)
    for name in raw:
        if name.endswith(".json"):
            assert json.loads(ours[name]) == json.loads(raw[name]), name
        else:
            assert ours[name] == raw[name], name
