"""`ci-toolkit compare` around rasa (ci_toolkit/compare/run.py), with a stand-in `rasa` that
writes the files a real comparison wrote (fixtures/) or fails as rasa does, exit code 0."""

from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_toolkit.commands.compare import compare
from ci_toolkit.compare.request import CompareRequest
from ci_toolkit.compare.run import run_comparison
from ci_toolkit.compare.shard import run_compare_shard
from ci_toolkit.errors import ToolkitError
from ci_toolkit.proc import Console
from tests.rasa_support import copy_example

FIXTURES = Path(__file__).parent / "fixtures"
# Writes, for the command in argv, what rasa wrote for it (or prints rasa's error), logs argv.
_FAKE = """#!{python}
import json, os, shutil, sys
argv = sys.argv[1:]
if argv == ["--version"]:
    print("Rasa Version      :         3.6.21")
    sys.exit(0)
with open({log!r}, "a") as log:
    log.write(json.dumps(argv) + "\\n")
if {fail!r}:
    print("InvalidConfigException: the config is broken in some way.")
    sys.exit(0)
out = argv[argv.index("--out") + 1]
source = {{"test nlu": {nlu!r}, "train core": {models!r}, "test core": {results!r}}}
shutil.copytree(source[" ".join(argv[:2])], out, dirs_exist_ok=True)
"""


def _fake_rasa(tmp_path: Path, *, fail: bool = False, core_models: Path | None = None,
               core_results: Path | None = None) -> tuple[str, Path]:
    log = tmp_path / "argv.jsonl"
    script = tmp_path / "bin" / "rasa"
    script.parent.mkdir()
    script.write_text(_FAKE.format(python=sys.executable, log=str(log), fail=fail,
                                   nlu=str(FIXTURES / "nlu"),
                                   models=str(core_models or FIXTURES / "core" / "models"),
                                   results=str(core_results or FIXTURES / "core" / "out")))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), log


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "coffeebot")
    for kind, names in (("nlu", ("light.yml", "chars.yml")), ("core", ("memo.yml", "rules.yml"))):
        for name in names:
            shutil.copy(FIXTURES / kind / name, root / name)
    return root


def _argv(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_an_nlu_comparison_runs_rasas_comparison_and_writes_the_section(
        project: Path, tmp_path: Path) -> None:
    rasa, log = _fake_rasa(tmp_path)
    done = CliRunner().invoke(compare, [str(project), "--config", "light.yml", "chars.yml",
                                        "--runs", "2", "--percentages", "0", "50",
                                        "--rasa", rasa, "--out", str(tmp_path / "c.json")])
    assert done.exit_code == 0, done.output
    [argv] = _argv(log)
    results = project / "results" / "compare-nlu"
    assert argv == ["test", "nlu", "--config", str(project / "light.yml"),
                    str(project / "chars.yml"), "--runs", "2", "--percentages", "0", "50",
                    "--nlu", "data", "--domain", "domain.yml",
                    "--out", str(results.resolve() / "rasa")]
    section = json.loads((results / "comparison.json").read_text())
    assert section == json.loads((tmp_path / "c.json").read_text())
    assert [c["name"] for c in section["configs"]] == ["light", "chars"]
    assert section["winner"]["config"] == "chars"
    assert section["rasa_version"] == "3.6.21"
    # This interpreter has no matplotlib: the comparison is kept without its plot.
    assert section["plot"] is None
    assert "Drawing the comparison plot" in done.output
    assert "**chars** wins" in (results / "comparison.md").read_text()
    assert "chars wins: intent_f1 0.708 at 100% of the training data" in done.output


def test_a_core_comparison_trains_then_tests_the_model_directory(project: Path,
                                                                  tmp_path: Path) -> None:
    rasa, log = _fake_rasa(tmp_path)
    request = CompareRequest(project_dir=project, configs=("memo.yml", "rules.yml"),
                             kind="core", runs=2, percentages=(0, 50), rasa=rasa,
                             results_dir=tmp_path / "out")
    done = run_comparison(request, console=Console())
    train, test = _argv(log)
    models = str((tmp_path / "out" / "models").resolve())
    assert train == ["train", "core", "--config", str(project / "memo.yml"),
                     str(project / "rules.yml"), "--runs", "2", "--percentages", "0", "50",
                     "--stories", "data", "--domain", "domain.yml", "--out", models]
    assert test == ["test", "core", "--model", models, "--stories", "tests",
                    "--evaluate-model-directory", "--out",
                    str((tmp_path / "out" / "rasa").resolve())]
    assert done.section["winner"]["config"] == "memo"
    assert done.section["configs"][0]["points"][0]["story_accuracy"]["mean"] == 1.0


def test_a_core_shard_runs_rasas_comparison_of_its_config_once(project: Path,
                                                                tmp_path: Path) -> None:
    """Shard 3 of 2 configs x 2 runs is the second config's first run: rasa's own policy
    comparison of that config alone, with --runs 1 (what rasa wrote for the real comparison's
    rules config, run 1, stands in)."""
    models, results = tmp_path / "one-run" / "models", tmp_path / "one-run" / "out"
    (models / "run_1").mkdir(parents=True)
    for percentage in (0, 50):
        name = f"rules__percentage__{percentage}.tar.gz"
        shutil.copy(FIXTURES / "core" / "models" / "run_1" / name, models / "run_1" / name)
    shutil.copy(FIXTURES / "core" / "models" / "num_stories.json", models)
    results.mkdir()
    (results / "results.json").write_text(json.dumps({"rules": [[5, 2]]}))
    rasa, log = _fake_rasa(tmp_path, core_models=models, core_results=results)
    request = CompareRequest(project_dir=project, configs=("memo.yml", "rules.yml"),
                             kind="core", runs=2, percentages=(0, 50), rasa=rasa,
                             shard="3/4", results_dir=tmp_path / "results")
    path = run_compare_shard(request, console=Console())
    train, _test = _argv(log)
    assert train[:8] == ["train", "core", "--config", str(project / "rules.yml"), "--runs",
                         "1", "--percentages", "0"]
    report = json.loads(path.read_text())
    assert path == tmp_path / "results" / "compare" / "shard-3-of-4" / "shard-report.json"
    assert (report["kind"], report["config"], report["run"]) == ("core", "rules", 1)
    assert report["measurements"] == [
        {"exclusion_percentage": 0, "correct_stories": 5, "story_accuracy": 5 / 6,
         "training_stories": 12},
        {"exclusion_percentage": 50, "correct_stories": 2, "story_accuracy": 2 / 6,
         "training_stories": 6}]
    assert len(report["data_fingerprint"]) == 64


def test_rasas_failure_is_told_in_its_words(project: Path, tmp_path: Path) -> None:
    rasa, _ = _fake_rasa(tmp_path, fail=True)
    request = CompareRequest(project_dir=project, configs=("light.yml", "chars.yml"),
                             runs=1, percentages=(0,), rasa=rasa,
                             results_dir=tmp_path / "out")
    with pytest.raises(ToolkitError) as error:
        run_comparison(request, console=Console())
    assert error.value.message.startswith(
        "rasa test nlu (comparison) wrote no results.json: InvalidConfigException: the "
        "config is broken in some way.")
    assert not (tmp_path / "out" / "comparison.json").exists()


def test_an_earlier_comparisons_files_are_not_taken_for_this_ones(project: Path,
                                                                   tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "nlu", tmp_path / "out" / "rasa")
    rasa, _ = _fake_rasa(tmp_path, fail=True)
    request = CompareRequest(project_dir=project, configs=("light.yml", "chars.yml"),
                             runs=2, percentages=(0, 50), rasa=rasa,
                             results_dir=tmp_path / "out")
    with pytest.raises(ToolkitError, match=r"wrote no results\.json"):
        run_comparison(request, console=Console())
