"""The scaffold flow without a terminal: messages and outcomes go to the callbacks given."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.errors import ToolkitError
from ci_toolkit.scaffold.context import template_context
from ci_toolkit.scaffold.deploy_values import deploy_settings
from ci_toolkit.scaffold.files import CREATE, IDENTICAL, Outcome
from ci_toolkit.scaffold.layout import resolve
from ci_toolkit.scaffold.options import ScaffoldRequest
from ci_toolkit.scaffold.run import next_steps, scaffold


def _run(request: ScaffoldRequest) -> tuple[list[str], list[Outcome]]:
    messages: list[str] = []
    shown: list[Outcome] = []
    scaffold(request, notify=messages.append, report=shown.append)
    return messages, shown


def test_a_dry_run_reports_every_file_and_writes_none(bot: Path) -> None:
    before = sorted(bot.rglob("*"))
    messages, shown = _run(ScaffoldRequest(directory=bot, dry_run=True))
    assert {outcome.status for outcome in shown} == {CREATE}
    assert messages[-1] == "Dry run: nothing was written."
    assert messages[0].startswith("Using rasa ")
    assert sorted(bot.rglob("*")) == before


def test_next_steps_follow_a_write_and_a_conflict_is_an_error(bot: Path) -> None:
    request = ScaffoldRequest(directory=bot, deploy_target="rasa-x")
    messages, _ = _run(request)
    assert "Next: review and commit the files." in messages[-1]
    assert "  RASAX_TOKEN: a Rasa X API token" in messages[-1]

    messages, shown = _run(request)  # a second run changes nothing and says nothing more
    assert {outcome.status for outcome in shown} == {IDENTICAL}
    assert not any("Next:" in message for message in messages)

    (bot / "Dockerfile").write_text("FROM mine\n", encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"1 file\(s\) differ .*: Dockerfile\. Review"):
        _run(request)
    assert (bot / "Dockerfile").read_text(encoding="utf-8") == "FROM mine\n"


def test_without_a_deploy_the_next_steps_name_no_secrets(bot: Path) -> None:
    options = resolve(ScaffoldRequest(directory=bot)).options
    assert next_steps(options) == "\nNext: review and commit the files."


@pytest.mark.parametrize(("target", "chart", "image_registry"), [
    ("none", "none", "ghcr.io"), ("rasa-x", "rasa-x", "ghcr.io"),
    ("rasa-server", "rasa", "registry.example.com"), ("none", "assistant-ci", "quay.io")])
def test_the_settings_named_after_a_write_are_those_the_workflow_uses(
        bot: Path, target: str, chart: str, image_registry: str) -> None:
    options = resolve(ScaffoldRequest(directory=bot, deploy_target=target, chart=chart,
                                      registry=image_registry)).options
    assert deploy_settings(options) == template_context(options)["deploy_settings"]


def test_a_skip_pattern_that_matches_no_file_is_named(bot: Path) -> None:
    """A typo in --skip would let --force replace the file it was meant to keep."""
    (bot / "Dockerfile").write_text("FROM mine\n", encoding="utf-8")
    messages, shown = _run(ScaffoldRequest(directory=bot, skip=("Dockerfil", "Dockerfile"),
                                           force=True, dry_run=True))
    assert any(message.startswith("--skip 'Dockerfil' matches none of the files scaffold "
                                  "writes: .github/workflows/assistant-ci.yml, ")
               for message in messages)
    assert not any("--skip 'Dockerfile'" in message for message in messages)
    assert {outcome.path.name: outcome.status for outcome in shown}["Dockerfile"] == "skip"
