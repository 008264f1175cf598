"""Untrusted text that reaches the job summary outside the PR summary stays inert: the image
outputs table (names and tags come from the repository's settings) and the smoke test's
report (the bot's replies come from the deployed assistant)."""

from __future__ import annotations

import io

import pytest

from ci_toolkit.deploy.conversations import ConversationResult, SmokeReport, StepResult
from ci_toolkit.deploy.smoke_file import Conversation, Step
from ci_toolkit.gha import ActionsRuntime
from ci_toolkit.image.workflow import publish


def _step_summary(tmp_path, write) -> str:
    summary = tmp_path / "summary.md"
    actions = ActionsRuntime({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
                              "GITHUB_OUTPUT": str(tmp_path / "out")}, stream=io.StringIO())
    write(actions)
    return summary.read_text()


@pytest.mark.parametrize("value", ["`x` @org/security-team", "a|b ![i](http://e/x.png)",
                                   "<img src=x onerror=alert(1)>", "``` [l](http://e)"])
def test_image_outputs_are_code_spans_that_survive_backticks_and_pipes(tmp_path, value,
                                                                       capsys) -> None:
    text = _step_summary(tmp_path, lambda actions: publish({"docker_image_tag": value},
                                                           actions))
    [row] = [line for line in text.splitlines() if "docker_image_tag" in line]
    # Two cells only: no pipe of the value split the table, and the value sits in code.
    assert row.count(" | ") == 1 and row.startswith("| `docker_image_tag` |")
    cell = row.split(" | ", 1)[1].removesuffix(" |")
    ticks = cell[: len(cell) - len(cell.lstrip("`"))]
    assert len(ticks) > max((len(run) for run in value.split("x") if set(run) == {"`"}),
                            default=0)
    assert cell.endswith(ticks)


def test_bot_replies_cannot_close_the_smoke_report_fence() -> None:
    reply = "```\n# Approved @org/security-team ![x](http://e/x.png)\n```"
    step = StepResult(step=Step(user="hi", bot=(), bot_regex=(), intent=None),
                      bot_texts=[reply], problems=["did not say hello"])
    report = SmokeReport(url="http://127.0.0.1:5005", source="tests/smoke.yml", attempts=1,
                         elapsed_s=1.0, conversations=[ConversationResult(
                             conversation=Conversation(name="greet", steps=(), line=1),
                             steps=[step])])
    markdown = report.format_markdown()
    opening = markdown.splitlines()[2]
    fence = opening.removesuffix("text")
    assert len(fence) > 3 and set(fence) == {"`"}
    # The fence closes only at the end: every line in between is inside the code block.
    assert markdown.rstrip().endswith(fence)
    inner = markdown.split(opening, 1)[1].rsplit(fence, 1)[0]
    assert fence not in inner and "```" in inner
