"""`ci-toolkit actions test`: bad input exits 2 before any server starts, with the cause."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ci_toolkit import cli
from tests import paths


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "bot"
    project.mkdir()
    shutil.copy(paths.EXAMPLE / "domain.yml", project / "domain.yml")
    return project


def test_help_names_the_env_vars(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["actions", "test", "--help"]) == 0
    out = capsys.readouterr().out
    for name in ("CI_TOOLKIT_ACTIONS_PYTHON", "CI_TOOLKIT_ACTION_SERVER_URL",
                 "CI_TOOLKIT_ACTIONS_RESULTS_DIR", "tests/actions/*.yml"):
        assert name in out


def test_a_project_without_a_domain(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    assert cli.main(["actions", "test", str(tmp_path)]) == 2
    assert "No domain found" in capsys.readouterr().err


def test_a_bad_case_file_stops_before_the_server_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    (project / "tests" / "actions").mkdir(parents=True)
    bad = project / "tests" / "actions" / "bad.yml"
    bad.write_text("cases:\n  - action: action_place_order\n    expect: {match: any}\n")
    # No interpreter with rasa-sdk is needed to find the mistake.
    code = cli.main(["actions", "test", str(project), "--python", "/nonexistent/python"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: case 'bad #1': 'expect.match' is 'any'; use exact or subset" in err
    assert not (project / "results").exists()


def test_a_case_for_an_action_the_domain_lacks(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    (project / "tests" / "actions").mkdir(parents=True)
    (project / "tests" / "actions" / "a.yml").write_text(
        "cases:\n  - action: action_refund\n    expect: {events: []}\n")
    assert cli.main(["actions", "test", str(project), "--python", "/nonexistent"]) == 2
    assert "the action 'action_refund' is not a custom action" in capsys.readouterr().err


def test_a_python_without_rasa_sdk(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                   ) -> None:
    project = _project(tmp_path)
    assert cli.main(["actions", "test", str(project), "--python", "/bin/true"]) == 2
    assert "is not a Python 3 interpreter" in capsys.readouterr().err


def test_a_given_server_that_is_not_there(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    code = cli.main(["actions", "test", str(project), "--url", "http://127.0.0.1:9",
                     "--results-dir", str(tmp_path / "out")])
    assert code == 1
    assert "http://127.0.0.1:9 does not answer GET /health" in capsys.readouterr().err


def test_the_default_python_is_the_one_next_to_rasa(tmp_path: Path) -> None:
    from ci_toolkit.actions.workflow import default_python
    from ci_toolkit.errors import UsageError

    rasa = tmp_path / "venv" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text("#!/bin/sh\n")
    rasa.chmod(0o755)
    with pytest.raises(UsageError, match="No python next to the rasa executable"):
        default_python(str(rasa))
    (rasa.parent / "python").write_text("")
    assert default_python(str(rasa)) == str(rasa.parent / "python")


def _python_with_sdk(tmp_path: Path, version: str) -> str:
    """An "interpreter" that answers the environment probe with that rasa-sdk."""
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\necho '{{\"rasa_sdk\": \"{version}\", \"pytest\": false}}'\n")
    python.chmod(0o755)
    return str(python)


def test_help_says_which_rasa_sdk_grpc_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["actions", "test", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--grpc" in out and "rasa-sdk 3.9 or later" in out and "--grpc-tls" in out


def test_grpc_on_an_sdk_without_it_names_the_version(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    python = _python_with_sdk(tmp_path, "3.6.2")
    assert cli.main(["actions", "test", str(project), "--python", python, "--grpc"]) == 2
    err = capsys.readouterr().err
    assert f"--grpc needs rasa-sdk 3.9.0 or later (its gRPC action server), but {python} " \
           "has rasa-sdk 3.6.2" in " ".join(err.split())
    assert not (project / "results" / "actions" / "action-server.log").exists()


@pytest.mark.parametrize(("options", "message"), [
    (["--grpc", "--url", "http://127.0.0.1:9"], "leave out one of them"),
    (["--grpc-tls"], "--grpc-tls serves gRPC over TLS: add --grpc"),
])
def test_grpc_options_that_do_not_go_together(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str],
        message: str) -> None:
    assert cli.main(["actions", "test", str(_project(tmp_path)), *options]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_the_domain_is_the_pipelines_domain_when_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "bot"
    (project / "config").mkdir(parents=True)
    shutil.copy(paths.EXAMPLE / "domain.yml", project / "config" / "assistant-domain.yml")
    (project / "tests" / "actions").mkdir(parents=True)
    (project / "tests" / "actions" / "a.yml").write_text(
        "cases:\n  - action: action_refund\n    expect: {events: []}\n")
    # Found by neither name rasa looks for: without the domain nothing can be checked.
    assert cli.main(["actions", "test", str(project), "--python", "/nonexistent"]) == 2
    assert "No domain found" in capsys.readouterr().err
    # The action's `domain` input reaches the command as the pipeline's CI_TOOLKIT_DOMAIN: the
    # cases are now checked against that domain (and the bad one is found).
    monkeypatch.setenv("CI_TOOLKIT_DOMAIN", "config/assistant-domain.yml")
    assert cli.main(["actions", "test", str(project), "--python", "/nonexistent"]) == 2
    assert "the action 'action_refund' is not a custom action" in capsys.readouterr().err
    monkeypatch.setenv("CI_TOOLKIT_DOMAIN", "config/missing.yml")
    assert cli.main(["actions", "test", str(project), "--python", "/nonexistent"]) == 2
    assert f"The domain {project / 'config' / 'missing.yml'} does not exist" in \
        capsys.readouterr().err
