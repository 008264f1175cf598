"""The matrix workflows scaffold writes: the sharded cross-validation and the config
comparison. A decide job (a label or a watched path), one shard job per fold or per config
and run, and a merge job, the only one that may write to the pull request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ci_toolkit.scaffold.context import PINNED_ACTIONS
from ci_toolkit.scaffold.options import DEFAULT_ACTION_REPO
from tests.unit.scaffold.test_render import load, scaffold, statuses

CV, COMPARE = (".github/workflows/assistant-cross-validation.yml",
               ".github/workflows/assistant-config-comparison.yml")
REPO_ROOT = Path(__file__).resolve().parents[3]


def step_of(job: dict[str, Any], action: str) -> dict[str, Any]:
    """The job's step that uses this repository's matrix/ACTION."""
    prefix = f"{DEFAULT_ACTION_REPO}/matrix/{action}@"
    return next(step for step in job["steps"] if step.get("uses", "").startswith(prefix))


def uploads(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step["with"] for step in job["steps"]
            if step.get("uses", "").startswith("actions/upload-artifact@")]


def downloads(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step["with"] for step in job["steps"]
            if step.get("uses", "").startswith("actions/download-artifact@")]


@pytest.mark.parametrize("name", [CV, COMPARE])
def test_decide_then_a_matrix_then_one_merge_that_alone_writes_to_the_pull_request(
        bot: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, _, err = scaffold(capsys, str(bot))
    assert code == 0, err
    workflow = load(bot, name)
    assert "labeled" in workflow[True]["pull_request"]["types"]
    jobs = workflow["jobs"]
    assert list(jobs) == ["decide", "shard", "merge"]
    assert jobs["decide"]["outputs"]["run"] == "${{ steps.decide.outputs.run }}"
    assert jobs["shard"]["needs"] == "decide"
    assert jobs["shard"]["if"] == "needs.decide.outputs.run == 'true'"
    assert jobs["shard"]["strategy"]["fail-fast"] is False
    assert jobs["merge"]["needs"] == ["decide", "shard"]
    assert jobs["merge"]["if"] == "${{ !cancelled() && needs.decide.outputs.run == 'true' }}"
    writers = [job_name for job_name, job in jobs.items()
               if "write" in job["permissions"].values()]
    assert writers == ["merge"]
    assert jobs["merge"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    # The changed files are the diff of base and head: the decide job needs the history.
    checkout = jobs["decide"]["steps"][0]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    assert step_of(jobs["decide"], "decide")["with"]["label"] == "needs-nlu-test"
    # Each shard uploads its report under a name the merge job's download pattern matches.
    shard_upload = uploads(jobs["shard"])[0]
    pattern = downloads(jobs["merge"])[0]["pattern"]
    assert shard_upload["name"].startswith(pattern.rstrip("*"))
    shards = step_of(jobs["shard"], "shard")["with"]["shards"]
    assert shard_upload["path"].endswith(f"shard-${{{{ matrix.shard }}}}-of-{shards}/shard-report.json")
    merge = step_of(jobs["merge"], "merge")["with"]
    assert merge["shard_reports"] == downloads(jobs["merge"])[0]["path"]
    # Its own sticky comment: the pull-request workflow's stays.
    assert merge["assistant_name"] != "coffeebot"


def test_the_cross_validation_runs_one_job_per_fold(bot: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--folds", "7")
    assert code == 0, err
    jobs = load(bot, CV)["jobs"]
    assert jobs["shard"]["strategy"]["matrix"]["shard"] == list(range(1, 8))
    inputs = step_of(jobs["shard"], "shard")["with"]
    assert (inputs["command"], inputs["shard"], inputs["shards"]) == (
        "cross-validate", "${{ matrix.shard }}", "7")
    assert uploads(jobs["shard"])[0]["path"] == \
        "results/cross-validate/shard-${{ matrix.shard }}-of-7/shard-report.json"
    paths = step_of(jobs["decide"], "decide")["with"]["paths"].splitlines()
    assert "config.yml" in paths and "data/**" in paths
    assert ".github/workflows/assistant-cross-validation.yml" in paths


def test_the_comparison_runs_one_job_per_config_and_run_on_the_two_configs(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--comparison-runs", "2")
    assert code == 0, err
    jobs = load(bot, COMPARE)["jobs"]
    assert jobs["shard"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    decide = step_of(jobs["decide"], "decide")["with"]
    assert decide["paths"].splitlines() == ["config.yml"]  # the configuration only
    assert decide["configuration"] == "config.yml"
    configs_dir = decide["write_configs"]
    upload = uploads(jobs["decide"])[0]
    assert upload["path"] == configs_dir
    download = downloads(jobs["shard"])[0]
    assert download["name"] == upload["name"]
    inputs = step_of(jobs["shard"], "shard")["with"]
    assert (inputs["command"], inputs["shards"], inputs["runs"]) == ("compare", "4", "2")
    # The configs are read relative to the project, where the shard job downloaded them.
    assert inputs["configs"].split() == [f"{download['path']}/base.yml",
                                         f"{download['path']}/pull-request.yml"]
    assert "configuration" not in inputs


def test_the_label_is_an_option_and_another_label_cancels_nothing(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--trigger-label", "nlu: full")
    assert code == 0, err
    for name in (CV, COMPARE):
        workflow = load(bot, name)
        assert step_of(workflow["jobs"]["decide"], "decide")["with"]["label"] == "nlu: full"
        group = workflow["concurrency"]["group"]
        assert "github.event.label.name != 'nlu: full' && github.run_id" in group


@pytest.mark.parametrize(("args", "complaint"), [
    (["--trigger-label", "it's"], "--trigger-label \"it's\" is not valid"),
    (["--trigger-label", " padded"], "--trigger-label ' padded' is not valid"),
    (["--trigger-label", "x" * 51], "is not valid: use up to 50"),
    (["--comparison-runs", "0"], "--comparison-runs 0 is not valid: use 1 to 10 runs"),
])
def test_bad_matrix_options_are_refused_before_anything_is_written(
        bot: Path, capsys: pytest.CaptureFixture[str], args: list[str], complaint: str) -> None:
    code, _, err = scaffold(capsys, str(bot), *args)
    assert code == 2
    assert complaint in err
    assert not (bot / ".github").exists()


def test_the_config_comparison_can_be_left_out(bot: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--no-config-comparison")
    assert code == 0, err
    assert COMPARE not in statuses(err) and CV in statuses(err)
    assert not (bot / COMPARE).exists()


def test_without_paths_filters_every_pull_request_cross_validates(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--no-paths-filter")
    assert code == 0, err
    decide = step_of(load(bot, CV)["jobs"]["decide"], "decide")["with"]
    assert decide["paths"] == ""
    # The comparison still watches the configuration: comparing a config with itself on
    # every pull request would only cost.
    compare = step_of(load(bot, COMPARE)["jobs"]["decide"], "decide")["with"]
    assert compare["paths"].splitlines() == ["config.yml"]


@pytest.mark.parametrize("action", ["decide", "shard", "merge"])
def test_each_matrix_action_reads_its_inputs_through_the_environment(action: str) -> None:
    """No run: script interpolates an expression, every input is used, and every action it
    uses is pinned to the commit the workflows use."""
    definition = yaml.safe_load((REPO_ROOT / "matrix" / action / "action.yml").read_text(
        encoding="utf-8"))
    text = yaml.safe_dump(definition["runs"])
    for name in definition["inputs"]:
        assert f"inputs.{name}" in text or f"inputs.{name}" in str(definition["outputs"]), name
    pinned = {ref.split(" #")[0] for ref in PINNED_ACTIONS.values()}
    for step in definition["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]
        if "uses" in step:  # the commits the scaffolded workflows pin too
            assert step["uses"] in pinned, step["uses"]
