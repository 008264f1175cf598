"""The helm command lines ci-toolkit builds, and the upgrade/rollback path, against a `helm`
stand-in on PATH that records its arguments (no Kubernetes cluster can run here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.cli import main
from ci_toolkit.deploy.conversations import ConversationResult, StepResult
from ci_toolkit.deploy.flow import HelmStep, SmokePlan, run_deploy
from ci_toolkit.deploy.helm import (
    HelmCli,
    HelmTarget,
    ImageKeys,
    UpgradeSpec,
    duration_seconds,
    rollback_args,
    upgrade_args,
)
from ci_toolkit.deploy.smoke_file import Conversation, Step
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.proc import Console
from ci_toolkit.resources import shipped_path
from tests.fakes.fake_helm import FakeHelm, deployed

IMAGE = "ghcr.io/acme/coffee-actions"
SHA = "3f2c1ab"


def spec(**overrides: object) -> UpgradeSpec:
    fields: dict[str, object] = {
        "target": HelmTarget("coffee", "bots", "prod"), "chart": "rasa-x/rasa-x",
        "image_keys": ImageKeys.resolve("rasa-x"), "image_name": IMAGE, "image_tag": SHA,
        "timeout": "5m",
    }
    fields.update(overrides)
    return UpgradeSpec(**fields)  # type: ignore[arg-type]


def test_upgrade_command_line_for_the_rasa_x_chart(tmp_path: Path) -> None:
    values = tmp_path / "values.yml"
    values.write_text("app: {}\n")
    args = upgrade_args(spec(values_files=(values,), set_values=("rasa.tag=3.6.21-full",),
                             reuse_values=True, atomic=True, chart_version="5.0.0"))

    assert args == [
        "upgrade", "--install", "coffee", "rasa-x/rasa-x", "--namespace", "bots",
        "--kube-context", "prod", "--version", "5.0.0", "--reuse-values",
        "--values", str(values), "--set", "rasa.tag=3.6.21-full",
        "--set-string", f"app.name={IMAGE}", "--set-string", f"app.tag={SHA}",
        "--atomic", "--wait", "--timeout", "5m",
    ]


@pytest.mark.parametrize(("preset", "name_key", "tag_key"), [
    ("rasa-x", "app.name", "app.tag"),
    ("rasa", "image.repository", "image.tag"),
    ("assistant-ci", "actionServer.image.repository", "actionServer.image.tag"),
])
def test_image_key_presets(preset: str, name_key: str, tag_key: str) -> None:
    args = upgrade_args(spec(image_keys=ImageKeys.resolve(preset)))
    assert [f"{name_key}={IMAGE}", f"{tag_key}={SHA}"] == [
        args[i + 1] for i, arg in enumerate(args) if arg == "--set-string"]


def test_image_keys_can_be_overridden_for_a_subchart() -> None:
    keys = ImageKeys.resolve("rasa", tag_key="rasa-action-server.image.tag",
                             name_key="rasa-action-server.image.repository")
    args = upgrade_args(spec(image_keys=keys, wait=False))
    assert f"rasa-action-server.image.repository={IMAGE}" in args
    assert "--wait" not in args and "--atomic" not in args
    with pytest.raises(UsageError, match="Unknown image key preset"):
        ImageKeys.resolve("bitnami")


def test_the_image_from_the_build_step_wins_over_set_pairs() -> None:
    args = upgrade_args(spec(set_values=("app.tag=stale",)))
    assert args.index("app.tag=stale") < args.index(f"app.tag={SHA}")


def test_rollback_command_line() -> None:
    assert rollback_args(HelmTarget("coffee", "bots", "prod"), 2, wait=True, timeout="5m") == [
        "rollback", "coffee", "2", "--namespace", "bots", "--kube-context", "prod",
        "--wait", "--timeout", "5m"]
    assert rollback_args(HelmTarget("coffee"), 7, wait=False, timeout="90s") == [
        "rollback", "coffee", "7", "--timeout", "90s"]


def test_durations_and_bad_input_are_usage_errors(tmp_path: Path) -> None:
    assert duration_seconds("1m30s") == 90 and duration_seconds("10m") == 600
    assert duration_seconds("1h") == 3600 and duration_seconds("300s") == 300
    with pytest.raises(UsageError, match="duration"):
        duration_seconds("ten minutes")
    with pytest.raises(UsageError, match="KEY=VALUE"):
        spec(set_values=("novalue",)).check()
    with pytest.raises(UsageError, match="does not exist"):
        spec(values_files=(tmp_path / "missing.yml",)).check()
    with pytest.raises(UsageError, match="both --image-name and --image-tag"):
        spec(image_tag=None).check()
    spec(image_tag=None, reuse_values=True).check()  # the deployed tag is kept


def test_upgrade_reports_the_new_revision_and_rolls_back_to_the_previous(
        fake_helm: FakeHelm) -> None:
    cli = HelmCli("helm", Console(quiet=True))
    step = HelmStep(cli, spec())

    step.upgrade()
    assert (step.previous_revision, step.revision) == (2, 3)
    done = step.rollback()

    assert done == "rolled helm release 'coffee' back to revision 2 (now revision 4)"
    assert [call[0] for call in fake_helm.calls] == [
        "history", "upgrade", "status", "rollback", "status"]
    assert fake_helm.calls[3] == ["rollback", "coffee", "2", "--namespace", "bots",
                                  "--kube-context", "prod", "--wait", "--timeout", "5m"]
    assert fake_helm.history("coffee")[-1]["description"] == "Rollback to 2"


def test_first_install_has_nothing_to_roll_back_to(fake_helm: FakeHelm) -> None:
    step = HelmStep(HelmCli("helm", Console(quiet=True)), spec(target=HelmTarget("new-bot")))
    step.upgrade()

    assert (step.previous_revision, step.revision) == (None, 1)
    with pytest.raises(ToolkitError, match="helm release 'new-bot' stays installed: this run "
                                           "installed it"):
        step.rollback()
    assert "rollback" not in [call[0] for call in fake_helm.calls]


def test_a_failed_revision_is_not_a_rollback_target(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    helm = FakeHelm(tmp_path / "bin", {"coffee": deployed("deployed", "failed")})
    for name, value in helm.env().items():
        monkeypatch.setenv(name, value)
    assert HelmCli("helm", Console(quiet=True)).deployed_revision(HelmTarget("coffee")) == 1


def test_helm_failures_are_toolkit_errors(fake_helm: FakeHelm,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cli = HelmCli("helm", Console(quiet=True))
    monkeypatch.setenv("FAKE_HELM_FAIL", "upgrade")
    with pytest.raises(ToolkitError, match=r"UPGRADE FAILED.*rolled the release back"):
        cli.upgrade(spec(atomic=True))
    monkeypatch.setenv("FAKE_HELM_FAIL", "rollback")
    with pytest.raises(ToolkitError, match="Roll back by hand"):
        cli.rollback(HelmTarget("coffee"), 1)
    with pytest.raises(ToolkitError, match="helm"):
        HelmCli(str(fake_helm.executable.parent / "no-helm"), Console(quiet=True))


class FailingTester:
    """Stands in for the REST conversation (tested for real in the integration tests)."""

    base_url = "http://bot.example"

    def talk(self, conversation: Conversation, deadline: float = 0.0) -> ConversationResult:
        step = StepResult(conversation.steps[0], bot_texts=["Bye"],
                          problems=['expected bot text containing "Hi"'])
        return ConversationResult(conversation, [step])


def test_a_failed_smoke_test_rolls_the_release_back(fake_helm: FakeHelm) -> None:
    helm = HelmStep(HelmCli("helm", Console(quiet=True)), spec())
    smoke = SmokePlan(FailingTester(), [Conversation("hi", (Step("hello", bot=("Hi",)),))],  # type: ignore[arg-type]
                      "smoke.yml", timeout_s=1, interval_s=0.5)
    logs: list[str] = []

    outcome = run_deploy(model=None, helm=helm, smoke=smoke, log=logs.append)

    assert outcome.smoke_result == "failed"
    assert outcome.outputs == {"helm_revision": "3", "helm_previous_revision": "2",
                               "smoke_test": "failed", "rolled_back": "true"}
    assert ["rollback", "coffee", "2"] == fake_helm.calls[-2][:3]


class BrokenModelTarget:
    """A model target whose switch fails, before or after the live model changed."""

    what = "the model"

    def __init__(self, changed: bool) -> None:
        self.will_change = changed
        self.changed = False
        self.rolled_back = False

    def prepare(self) -> None:
        pass

    def activate(self) -> None:
        self.changed = self.will_change
        raise ToolkitError("Rasa X answered 500 on tag model 'm'.")

    def rollback(self) -> str | None:
        self.rolled_back = True
        return "re-tagged model 'old'"

    def outputs(self) -> dict[str, str]:
        return {"model_name": "m"}


@pytest.mark.parametrize("changed", [False, True])
def test_a_failed_model_switch_rolls_back_what_changed(fake_helm: FakeHelm, changed: bool) -> None:
    model = BrokenModelTarget(changed)
    helm = HelmStep(HelmCli("helm", Console(quiet=True)), spec())
    with pytest.raises(ToolkitError) as caught:
        run_deploy(model=model, helm=helm, smoke=None, log=lambda _line: None)

    assert caught.value.message.startswith("Rasa X answered 500")
    assert "rolled helm release 'coffee' back to revision 2" in caught.value.message
    assert model.rolled_back is changed
    assert ("re-tagged model 'old'" in caught.value.message) is changed
    assert fake_helm.calls[-2][:3] == ["rollback", "coffee", "2"]


def test_deploy_command_upgrades_with_the_image_outputs(fake_helm: FakeHelm, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "github_output"
    outputs.touch()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("CI_TOOLKIT_DEPLOY_IMAGE_NAME", IMAGE)
    monkeypatch.setenv("CI_TOOLKIT_DEPLOY_IMAGE_TAG", SHA)
    monkeypatch.setenv("CI_TOOLKIT_HELM_SET", "rasa.replicaCount=2 ingress.enabled=true")

    code = main(["deploy", "--helm-release", "coffee", "--helm-namespace", "bots",
                 "--helm-timeout", "3m"])

    assert code == 0, capsys.readouterr().err
    upgrade = next(call for call in fake_helm.calls if call[0] == "upgrade")
    chart = str(shipped_path("charts") / "assistant")
    assert upgrade[:4] == ["upgrade", "--install", "coffee", chart]
    assert f"actionServer.image.repository={IMAGE}" in upgrade
    assert f"actionServer.image.tag={SHA}" in upgrade
    assert upgrade.count("--set") == 2 and "--atomic" in upgrade
    written = outputs.read_text()
    assert "helm_revision=3\n" in written and "helm_previous_revision=2\n" in written
    assert "smoke_test=skipped\n" in written


def test_deploy_command_needs_a_chart_for_other_presets(fake_helm: FakeHelm,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deploy", "--helm-release", "coffee", "--helm-image-keys", "rasa-x"])
    assert code == 2
    assert "--helm-chart" in capsys.readouterr().err
    assert fake_helm.calls == []


def test_deploy_command_with_nothing_to_do_is_a_usage_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy"]) == 2
    assert "Nothing to deploy" in capsys.readouterr().err


def test_a_failed_upgrade_fails_the_command_and_still_writes_outputs(
        fake_helm: FakeHelm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "out"
    outputs.touch()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("FAKE_HELM_FAIL", "upgrade")

    code = main(["deploy", "--helm-release", "coffee", "--image-name", IMAGE, "--image-tag", SHA])

    assert code == 1
    assert "UPGRADE FAILED" in capsys.readouterr().err
    written = outputs.read_text()
    assert "helm_previous_revision=2\n" in written and "helm_revision=\n" in written
    assert [call[0] for call in fake_helm.calls] == ["history", "upgrade"]
