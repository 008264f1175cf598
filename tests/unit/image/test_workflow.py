"""From request to outputs without an engine: the plan, the rasa-sdk check, the outputs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.gha import ActionsRuntime
from ci_toolkit.image.names import ImageNames
from ci_toolkit.image.request import BuildRequest, PushRequest
from ci_toolkit.image.workflow import (
    Runtime,
    image_outputs,
    plan_build,
    publish,
    run_push,
    sdk_version_warning,
)
from ci_toolkit.proc import Console
from tests import paths

SHA = "3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f"
NAMES = ImageNames(repository="ghcr.io/o/actions", tag=SHA, extra_tags=("latest",))


def runtime(tmp_path: Path, **environ: str) -> tuple[Runtime, io.StringIO, io.StringIO]:
    stdout, stderr = io.StringIO(), io.StringIO()
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "output"),
               "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), **environ}
    return Runtime(environ, ActionsRuntime(environ, stdout), Console(stderr)), stdout, stderr


def test_the_plan_resolves_names_domain_actions_and_labels(tmp_path: Path) -> None:
    run, _, stderr = runtime(tmp_path, GITHUB_SHA=SHA, GITHUB_REF="refs/heads/main",
                             GITHUB_REPOSITORY="o/bot", SOURCE_DATE_EPOCH="1700000000")
    plan = plan_build(BuildRequest(context=paths.EXAMPLE, registry="ghcr.io",
                                   image_name="o/actions", extra_tags=("latest",),
                                   smoke_test=True), run)
    assert plan.names == NAMES
    assert plan.expected_actions == ("validate_order_form", "action_place_order")
    args = plan.inputs.build_args
    assert (args["REVISION"], args["GITHUB_REF"], args["SOURCE"], args["CREATED"]) == (
        SHA, "refs/heads/main", "https://github.com/o/bot", "2023-11-14T22:13:20Z")
    assert stderr.getvalue() == ""  # the example pins rasa 3.6, as the default rasa-sdk


def test_a_rasa_sdk_of_another_minor_version_is_a_warning(tmp_path: Path) -> None:
    run, stdout, stderr = runtime(tmp_path, GITHUB_SHA=SHA)
    plan_build(BuildRequest(context=paths.EXAMPLE, rasa_sdk_version="3.7.0"), run)
    assert stderr.getvalue().startswith("warning: The project pins rasa 3.6.21 but the image "
                                        "is built on rasa-sdk 3.7.0.")
    assert stdout.getvalue().startswith("::warning title=ci-toolkit image::The project pins")


@pytest.mark.parametrize(("version", "custom_base", "expected"), [
    (None, False, None),
    ("3.6.9", False, None),
    ("3.7.0", True, None),  # a custom base image or Dockerfile: the user decides
    ("latest", True, "rasa-sdk 'latest' moves under you"),
])
def test_the_rasa_sdk_check(version: str | None, custom_base: bool,
                            expected: str | None) -> None:
    warning = sdk_version_warning(paths.EXAMPLE, version, custom_base)
    if expected is None:
        assert warning is None
    else:
        assert warning is not None and warning.startswith(expected)


def test_outputs_are_printed_written_and_summarised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    run, _, _ = runtime(tmp_path)
    outputs = image_outputs(NAMES, "sha256:1d", "sha256:ab", "passed")
    publish(outputs, run.actions)
    assert outputs["docker_image_ref"] == "ghcr.io/o/actions@sha256:ab"
    assert outputs["docker_image_pushed"] == "true"
    printed = capsys.readouterr().out.splitlines()
    assert f"docker_image_tags=ghcr.io/o/actions:{SHA} ghcr.io/o/actions:latest" in printed
    assert "docker_image_tags<<ghadelimiter_" in (tmp_path / "output").read_text()
    assert "| `smoke_test` | `passed` |" in (tmp_path / "summary.md").read_text()
    unpushed = image_outputs(NAMES, "sha256:1d", None, "skipped")
    assert (unpushed["docker_image_ref"], unpushed["docker_image_digest"]) == (
        NAMES.full_name, "")


def test_push_checks_the_login_before_the_engine(tmp_path: Path) -> None:
    run, _, _ = runtime(tmp_path, CI_TOOLKIT_REGISTRY_USERNAME="bot",
                        DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(UsageError, match="CI_TOOLKIT_REGISTRY_PASSWORD is empty"):
        run_push(PushRequest(context=paths.EXAMPLE, tag="dev"), run)
