"""The end of `ci-toolkit run`: build, judge, write, show, set outputs; the exit code."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ci_toolkit.gha import ActionsRuntime
from ci_toolkit.github_context import GitHubContext
from ci_toolkit.pipeline.run import PipelineRun
from ci_toolkit.pipeline.stages import StageResult
from ci_toolkit.report.build import build_report, collect_artifacts, rtt_view
from ci_toolkit.report.gates import GateSettings, parse_minimum
from ci_toolkit.report.model import Report
from ci_toolkit.report.publish import publish_run
from tests import paths

FIXTURE = json.loads((paths.FIXTURES / "reports" / "coffeebot.json").read_text(encoding="utf-8"))
SECTIONS = {"validate": "validation", "test_nlu": "nlu", "test_core": "core",
            "cross_validate": "cross_validation"}


@dataclass
class FakeSettings:
    root: Path
    assistant_name: str | None = None
    data_name: str = "default"
    configuration_label: str = "config.yml"

    @property
    def results_root(self) -> Path:
        return self.root / "results"

    @property
    def reports_root(self) -> Path:
        return self.root / "reports"


@dataclass
class FakeProject:
    root: Path
    name: str = "coffeebot"


@dataclass
class FakeRun:
    """What publish_run reads of a PipelineRun, with the stage data of a real report."""

    settings: FakeSettings
    project: FakeProject
    rasa_version: str | None = "3.6.21"
    started_at: float = 1_700_000_000.0
    finished_at: float = 1_700_000_100.5
    results: dict[str, StageResult] = field(default_factory=dict)
    model: dict[str, str] | None = None

    @property
    def passed(self) -> bool:
        return all(result.status != "failed" for result in self.results.values())

    # The real rule: only the result directories of stages that ran or were restored.
    artifact_dirs = PipelineRun.artifact_dirs


def fake_run(tmp_path: Path) -> Any:
    results = {}
    for stage in FIXTURE["stages"]:
        key = SECTIONS.get(stage["name"])
        results[stage["name"]] = StageResult(
            name=stage["name"], status=stage["status"], reason=stage["reason"],
            duration_s=stage["duration_s"], cached=stage["cached"], saved_s=stage["saved_s"],
            fingerprint=stage["fingerprint"],
            data={key: FIXTURE[key]} if key else {})
    model = {"path": str(tmp_path / "models" / "m.tar.gz"), "name": "m.tar.gz",
             "source": "trained"}
    return FakeRun(FakeSettings(tmp_path), FakeProject(tmp_path), results=results, model=model)


ACTIONS_ENV = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "ABC123", "GITHUB_REF": "refs/heads/main",
               "GITHUB_REPOSITORY": "octo/coffee", "GITHUB_RUN_ID": "42"}


def test_build_report_takes_commit_context_and_artifacts_as_given(tmp_path: Path) -> None:
    run = fake_run(tmp_path)
    context = GitHubContext.from_environ(ACTIONS_ENV)
    report = build_report(run, commit="c0ffee", context=context,
                          artifacts=collect_artifacts(run))
    data = report.to_dict()
    for key in ("validation", "nlu", "core", "cross_validation"):
        assert data[key] == FIXTURE[key], key
    # The fixture's "rtt" predates issue 14 (CV numbers win): tests/unit/report/test_build.py.
    assert data["rtt"] == rtt_view(Report.from_dict(FIXTURE))
    assert data["rtt"]["default"]["config.yml"]["intent_classification"]["accuracy"] == \
        FIXTURE["cross_validation"]["intent_classification"]["pooled"]["accuracy"]
    assert [stage["name"] for stage in data["stages"]] == [s["name"] for s in FIXTURE["stages"]]
    assert data["run"]["commit"] == "c0ffee" and data["run"]["ref"] == "refs/heads/main"
    assert data["run"]["github"] == {"server_url": "https://github.com", "repository": "octo/coffee",
                                     "run_id": "42",
                                     "run_url": "https://github.com/octo/coffee/actions/runs/42"}
    assert data["run"]["duration_s"] == 100.5 and data["verdict"] == "passed"
    # The fixture is a version 1 report; version 2 adds the `actions` section, null here.
    assert [key for key in data if key != "actions"] == list(FIXTURE)
    assert data["schema_version"] == 2 and data["actions"] is None
    outside = build_report(run, commit=None, context=GitHubContext.from_environ({}),
                           artifacts=collect_artifacts(run))
    assert outside.run.github is None and outside.run.ref is None


def publish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gates: GateSettings | None,
            ) -> tuple[int, ActionsRuntime]:
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "github_output"
    output.touch()
    actions = ActionsRuntime({**ACTIONS_ENV, "GITHUB_OUTPUT": str(output)}, io.StringIO())
    code = publish_run(fake_run(tmp_path), gates=gates, baseline=None,
                       context=GitHubContext.from_environ(ACTIONS_ENV), actions=actions)
    return code, actions


def test_publish_run_writes_the_report_shows_the_table_and_sets_outputs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = publish(tmp_path, monkeypatch, None)
    assert code == 0
    written = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert Report.from_dict(written).to_dict() == written and written["gates"] == []
    assert written["run"]["commit"] == "abc123"
    rtt = json.loads((tmp_path / "reports" / "report-rtt.json").read_text(encoding="utf-8"))
    assert rtt == written["rtt"]
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "verdict: PASSED in 1m40s; report: reports/report.json"
    outputs = (tmp_path / "github_output").read_text(encoding="utf-8")
    for name in ("report", "report_path", "model_path", "model_name", "verdict"):
        assert f"{name}=" in outputs or f"{name}<<" in outputs, name
    assert "model_name=m.tar.gz" in outputs and "verdict=passed" in outputs
    assert f"report={json.dumps(rtt, separators=(',', ':'))}" in outputs


def test_a_failed_gate_fails_the_verdict_and_the_exit_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    metric = "nlu.entity_extraction.CRFEntityExtractor.weighted_avg.f1_score"
    gates = GateSettings(minimums=(parse_minimum(f"{metric}>=0.5"),))
    code, _ = publish(tmp_path, monkeypatch, gates)
    assert code == 1
    written = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert written["verdict"] == "failed" and written["gates"][0]["passed"] is False
    assert list(written["gates"][0]) == ["name", "kind", "metric", "passed", "value",
                                         "threshold", "baseline", "message", "skipped"]
    out = capsys.readouterr().out
    assert f"gate failed: {metric} must be at least 0.5000" in out
    assert "verdict: FAILED" in out


SECRET = "hunter2-Registry/pw"


@pytest.mark.parametrize("where", ["validation message", "failed story text", "stage reason",
                                   "intent name"])
def test_a_secret_of_the_environment_never_reaches_report_json_or_the_outputs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        where: str) -> None:
    run = fake_run(tmp_path)
    echoed = json.dumps(f"rasa echoed {SECRET}")[1:-1]  # JSON-escaped: "\/" for "/"
    if where == "validation message":
        run.results["validate"].data["validation"] = {"errors": [], "warnings": [
            {"level": "warning", "code": "other", "file": None, "line": None, "message": echoed}]}
    elif where == "failed story text":
        core = json.loads(json.dumps(FIXTURE["core"]))
        core["failed_stories"] = [{"name": f"story {SECRET}", "file": "tests/t.yml", "line": 1,
                                   "failed_step": {"index": 1, "kind": "intent", "text": echoed,
                                                   "expected": "greet", "predicted": "deny"},
                                   "yaml": f"- story: {SECRET}"}]
        run.results["test_core"].data["core"] = core
    elif where == "stage reason":
        run.results["train"].reason = f"rasa train failed: {echoed}"
    else:
        nlu = json.loads(json.dumps(FIXTURE["nlu"]))
        labels = nlu["intent_classification"]["labels"]
        labels[SECRET] = labels.pop(next(iter(labels)))
        run.results["test_nlu"].data["nlu"] = nlu
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "github_output"
    environ = {**ACTIONS_ENV, "GITHUB_OUTPUT": str(output), "CI_TOOLKIT_REGISTRY_PASSWORD": SECRET}
    publish_run(run, gates=None, baseline=None, context=GitHubContext.from_environ(ACTIONS_ENV),
                actions=ActionsRuntime(environ, io.StringIO()))
    files = [tmp_path / "reports" / "report.json", tmp_path / "reports" / "report-rtt.json", output]
    texts = {path.name: path.read_text(encoding="utf-8") for path in files}
    texts["stdout"] = capsys.readouterr().out
    for spelled in (SECRET, json.dumps(SECRET)[1:-1], SECRET.replace("/", "\\/")):
        assert not [name for name, text in texts.items() if spelled in text], spelled
    assert "***" in texts["report.json"]
    json.loads(texts["report.json"])  # still JSON


@pytest.mark.parametrize("how", ["missing directory", "a directory"])
def test_outputs_that_cannot_be_written_fail_the_run_after_the_report_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    from ci_toolkit.gha import EnvFileError

    monkeypatch.chdir(tmp_path)
    output = tmp_path / "no-such-dir" / "out" if how == "missing directory" else tmp_path
    actions = ActionsRuntime({**ACTIONS_ENV, "GITHUB_OUTPUT": str(output)}, io.StringIO())
    with pytest.raises(EnvFileError, match=r"cannot write to GITHUB_OUTPUT=.*: (the directory "
                                           r".* does not exist|it is a directory)") as raised:
        publish_run(fake_run(tmp_path), gates=None, baseline=None,
                    context=GitHubContext.from_environ(ACTIONS_ENV), actions=actions)
    assert raised.value.exit_code == 1
    assert (tmp_path / "reports" / "report.json").is_file()  # nothing is lost


def test_the_action_results_join_the_report_and_the_gate_judges_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.report.action_results_data import write_actions_json

    results = write_actions_json(tmp_path)
    code, _ = publish(tmp_path, monkeypatch, GateSettings(actions_results=results))
    written = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert code == 0 and written["verdict"] == "passed"  # no gate: recorded, not judged
    assert written["schema_version"] == 2 and written["actions"]["counts"]["failed"] == 1
    assert written["actions"]["results_file"] == "actions.json"
    assert written["actions"]["checks"][0]["answer"] == {"status": 500, "body": {"error": "boom"}}
    code, _ = publish(tmp_path, monkeypatch, GateSettings(actions_results=results,
                                                          fail_on_action_errors=True))
    written = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert code == 1 and written["verdict"] == "failed"
    assert written["gates"][0]["kind"] == "action_errors" and not written["gates"][0]["passed"]
    assert "1 of 3 action checks failed" in capsys.readouterr().out


def test_a_secret_in_an_action_answer_never_reaches_report_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.report.action_results_data import actions_result, write_actions_json

    results = write_actions_json(tmp_path, actions_result(answer_body={"token": SECRET}))
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "github_output"
    environ = {**ACTIONS_ENV, "GITHUB_OUTPUT": str(output), "CI_TOOLKIT_REGISTRY_PASSWORD": SECRET}
    publish_run(fake_run(tmp_path), gates=GateSettings(actions_results=results), baseline=None,
                context=GitHubContext.from_environ(ACTIONS_ENV),
                actions=ActionsRuntime(environ, io.StringIO()))
    text = (tmp_path / "reports" / "report.json").read_text(encoding="utf-8")
    assert SECRET not in text and json.loads(text)["actions"]["checks"][0]["answer"]["body"] == {
        "token": "***"}
