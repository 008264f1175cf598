"""The one error reporter: the CLI and the action helper say a failure the same way."""

from __future__ import annotations

import io
import signal
from pathlib import Path

import click
import pytest

from ci_toolkit import action_helpers, cli
from ci_toolkit.errors import Interrupted, ToolkitError, UsageError
from ci_toolkit.gha import ActionsRuntime, report_error

MESSAGE = "The domain has 2 problems. Fix them, then run again."


def actions_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    summary = tmp_path / "summary.md"
    summary.touch()
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), **extra}


def test_in_actions_an_error_is_a_line_an_annotation_and_a_summary_line(tmp_path: Path) -> None:
    environ = actions_env(tmp_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    error = UsageError(MESSAGE, file="domain.yml", line=12)
    code = report_error(error, ActionsRuntime(environ, stdout), stderr=stderr)
    assert code == 2
    assert stderr.getvalue() == f"error: {MESSAGE}\n"
    assert stdout.getvalue() == f"::error file=domain.yml,line=12::{MESSAGE}\n"
    assert Path(environ["GITHUB_STEP_SUMMARY"]).read_text() == (
        f"**ci-toolkit error:** {MESSAGE}\n\n")


def test_outside_actions_only_the_line(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    stdout, stderr = io.StringIO(), io.StringIO()
    runtime = ActionsRuntime({"GITHUB_STEP_SUMMARY": str(summary)}, stdout)
    assert report_error(ToolkitError(MESSAGE), runtime, stderr=stderr) == 1
    assert (stderr.getvalue(), stdout.getvalue()) == (f"error: {MESSAGE}\n", "")
    assert not summary.exists()


def test_a_summary_that_cannot_be_written_does_not_hide_the_error(tmp_path: Path) -> None:
    environ = actions_env(tmp_path, GITHUB_STEP_SUMMARY=str(tmp_path / "missing" / "s.md"))
    stdout, stderr = io.StringIO(), io.StringIO()
    assert report_error(ToolkitError(MESSAGE), ActionsRuntime(environ, stdout),
                        stderr=stderr) == 1
    assert stderr.getvalue() == f"error: {MESSAGE}\n"
    assert stdout.getvalue() == f"::error::{MESSAGE}\n"


@click.command()
def failing() -> None:
    raise UsageError(MESSAGE, file="domain.yml", line=12)


def test_the_cli_reports_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    environ = actions_env(tmp_path)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(cli.COMMANDS, "failing", (__name__, "failing", "Fails."))
    assert cli.main(["failing"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {MESSAGE}\n"
    assert captured.out == f"::error file=domain.yml,line=12::{MESSAGE}\n"
    assert Path(environ["GITHUB_STEP_SUMMARY"]).read_text() == (
        f"**ci-toolkit error:** {MESSAGE}\n\n")


def test_the_action_helper_reports_through_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    environ = actions_env(tmp_path, GITHUB_WORKSPACE=str(tmp_path),
                          CI_TOOLKIT_RASA_VERSION="latest")
    assert action_helpers.main(["prepare"], environ) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: rasa_version 'latest' is not supported")
    assert captured.out.startswith("::error::rasa_version 'latest' is not supported")
    assert Path(environ["GITHUB_STEP_SUMMARY"]).read_text().startswith(
        "**ci-toolkit error:** rasa_version 'latest' is not supported")


def test_an_unreadable_file_in_the_action_helper_is_reported_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    environ = actions_env(tmp_path, GITHUB_WORKSPACE=str(tmp_path),
                          GITHUB_OUTPUT=str(tmp_path / "no-such-dir" / "output"))
    assert action_helpers.main(["prepare"], environ) == 1
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]
    expected = f"cannot write to GITHUB_OUTPUT={environ['GITHUB_OUTPUT']}: the directory "
    assert last.startswith(f"error: {expected}")
    assert captured.out.startswith(f"::error::{expected}")


@click.command()
@click.argument("how")
def stopped(how: str) -> None:
    if how == "ctrl-c-in-a-prompt":
        raise click.exceptions.Abort()
    raise Interrupted(getattr(signal, how))


# How a command is cut short -> (exit code, the message on stderr)
INTERRUPT_CASES = [
    ("SIGINT", 130, "error: ci-toolkit was interrupted by SIGINT; no process of its own was "
                    "running. Nothing from the interrupted work was saved; run the command "
                    "again.\n"),
    ("SIGTERM", 143, "error: ci-toolkit was interrupted by SIGTERM;"),
    ("SIGHUP", 129, "error: ci-toolkit was interrupted by SIGHUP;"),
    ("ctrl-c-in-a-prompt", 130, "Interrupted.\n"),
]


@pytest.mark.parametrize(("how", "code", "message"), INTERRUPT_CASES)
def test_an_interrupt_exits_with_128_plus_the_signal_and_one_line(
    how: str, code: int, message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setitem(cli.COMMANDS, "stopped", (__name__, "stopped", "Stops."))
    assert cli.main(["stopped", how]) == code
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and captured.err.count("\n") == 1
    assert captured.out == ""


@pytest.mark.parametrize(("name", "value", "masked"), [
    ("GITHUB_TOKEN", "ghp-cli-mask-0001", True),
    ("CI_TOOLKIT_REGISTRY_PASSWORD", "registry-cli-mask-0002", True),
    ("CI_TOOLKIT_RASAX_TOKEN", "rasax-cli-mask-0003", True),
    ("ACTIONS_RUNTIME_TOKEN", "runtime-cli-mask-0004", True),
    ("CI_TOOLKIT_TRAIN_FORCE", "true", False),
    ("LANG", "C.UTF-8-cli-mask", False),
])
def test_every_command_masks_the_environments_secrets_once_in_actions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    name: str, value: str, masked: bool,
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv(name, value)
    # Two runtimes in one process (cli.main, then a command that masks its token again).
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.count(f"::add-mask::{value}") == (1 if masked else 0)
    if masked:
        ActionsRuntime().add_mask(value)
        assert "::add-mask::" not in capsys.readouterr().out


def test_outside_actions_nothing_is_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-cli-mask-0005")
    assert cli.main(["--version"]) == 0
    assert "::add-mask::" not in capsys.readouterr().out


def test_the_help_names_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    for code in ("0 passed", "1 a stage", "2 bad usage", "3 a bug", "129 hung up (SIGHUP)",
                 "130 interrupted", "143 terminated"):
        assert code in shown
