"""Exact formats of GitHub Actions workflow commands and environment files.

The expected strings follow the runner's own parsing (actions/runner: ActionCommand.Unescape*
and the file commands' heredoc parser), re-implemented here so a round trip proves the
runner would read back exactly what was written.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ci_toolkit.gha import (
    ActionsRuntime,
    escape_data,
    escape_property,
    format_annotation,
    format_output,
)
from tests import paths


def runner_unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def runner_unescape_property(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


def runner_parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """actions/runner ActionCommand.TryParseV2: ::name k=v,k=v::data."""
    assert line.startswith("::")
    end_of_name = line.index("::", 2)
    head, data = line[2:end_of_name], line[end_of_name + 2:]
    name, _, props = head.partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, _, value = pair.partition("=")
        properties[key] = runner_unescape_property(value)
    return name, properties, runner_unescape_data(data)


def runner_read_file_command(text: str) -> dict[str, str]:
    """actions/runner's parser of $GITHUB_OUTPUT / $GITHUB_ENV.

    It reads line by line up to each "\\n", drops a "\\r" before it, and joins heredoc
    lines with the runner's newline ("\\n" on Linux): CRLF inside a value arrives as LF.
    """
    values: dict[str, str] = {}
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if heredoc >= 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2:]
            assert name and delimiter, f"invalid heredoc line {line!r}"
            body: list[str] = []
            while True:
                assert index < len(lines), f"no closing delimiter {delimiter!r}"
                current = lines[index]
                index += 1
                if current == delimiter:
                    break
                body.append(current)
            values[name] = "\n".join(body)
        else:
            assert equals > 0, f"invalid line {line!r}"
            values[line[:equals]] = line[equals + 1:]
    return values


@pytest.fixture
def actions(tmp_path: Path) -> tuple[ActionsRuntime, io.StringIO]:
    stream = io.StringIO()
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    return ActionsRuntime(environ, stream), stream


def test_escape_data_handles_percent_first_then_line_breaks() -> None:
    assert escape_data("100% done\r\nnext %0A") == "100%25 done%0D%0Anext %250A"
    # ':' and ',' are plain in a message: only properties end at them.
    assert escape_data("a: b, c") == "a: b, c"


def test_escape_property_also_escapes_colon_and_comma() -> None:
    assert escape_property("C:\\dir,x%\n") == "C%3A\\dir%2Cx%25%0A"


def test_annotation_with_every_property_is_exact() -> None:
    line = format_annotation("error", "50% of 2 stories failed\r\nsee: logs, please",
                             file="data/a,b:c.yml", line=12, title="Failed: story, 1")
    assert line == ("::error file=data/a%2Cb%3Ac.yml,line=12,title=Failed%3A story%2C 1"
                    "::50%25 of 2 stories failed%0D%0Asee: logs, please")
    assert runner_parse_command(line) == (
        "error",
        {"file": "data/a,b:c.yml", "line": "12", "title": "Failed: story, 1"},
        "50% of 2 stories failed\r\nsee: logs, please",
    )


@pytest.mark.parametrize(("level", "kwargs", "expected"), [
    ("warning", {}, "::warning::plain"),
    ("notice", {"line": 3}, "::notice line=3::plain"),
    ("error", {"file": "domain.yml"}, "::error file=domain.yml::plain"),
])
def test_annotation_without_some_properties(level: str, kwargs: dict, expected: str) -> None:
    assert format_annotation(level, "plain", **kwargs) == expected


def test_annotation_level_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown annotation level"):
        format_annotation("fatal", "x")


def test_single_line_output_is_name_equals_value() -> None:
    assert format_output("verdict", "passed") == "verdict=passed\n"
    assert format_output("empty", "") == "empty=\n"


def test_multi_line_output_uses_a_fresh_heredoc_delimiter() -> None:
    first = format_output("gates", '[\n  {"passed": true}\n]')
    match = re.fullmatch(
        r"gates<<(ghadelimiter_[0-9a-f-]{36})\n\[\n  \{\"passed\": true\}\n\]\n\1\n", first)
    assert match, first
    second = format_output("gates", "a\nb")
    assert second.split("\n")[0] != first.split("\n")[0]  # a new delimiter each time


def test_outputs_round_trip_through_the_runner_parser(actions: tuple[ActionsRuntime, io.StringIO],
                                                      tmp_path: Path) -> None:
    runtime, _ = actions
    values = {
        "summary_path": "reports/summary.md",
        "report": '{"default": {"config.yml": {"intent_classification": {"accuracy": 1.0}}}}',
        "multi": "line one\nline two with = and << inside\n",
        "carriage": "a\rb",
        "equals": "a=b=c",
    }
    assert runtime.set_outputs(values)
    written = (tmp_path / "output").read_bytes().decode("utf-8")
    assert runner_read_file_command(written) == values
    # The runner turns CRLF inside a value into LF; nothing else is lost.
    assert runtime.set_output("crlf", "a\r\nb")
    assert runner_read_file_command((tmp_path / "output").read_bytes().decode())["crlf"] == "a\nb"


def test_outputs_are_appended_not_overwritten(actions: tuple[ActionsRuntime, io.StringIO],
                                              tmp_path: Path) -> None:
    runtime, _ = actions
    (tmp_path / "output").write_text("earlier=step\n", encoding="utf-8")
    runtime.set_output("verdict", "failed")
    assert (tmp_path / "output").read_text(encoding="utf-8") == "earlier=step\nverdict=failed\n"


def test_step_summary_appends_blocks_separated_by_a_blank_line(
        actions: tuple[ActionsRuntime, io.StringIO], tmp_path: Path) -> None:
    runtime, _ = actions
    assert runtime.append_step_summary("## One\n\ntext\n\n\n")
    assert runtime.append_step_summary("## Two")
    assert (tmp_path / "summary").read_text(encoding="utf-8") == "## One\n\ntext\n\n## Two\n\n"


def test_without_env_files_nothing_is_written(tmp_path: Path) -> None:
    runtime = ActionsRuntime({"GITHUB_ACTIONS": "true"}, io.StringIO())
    assert runtime.set_output("a", "b") is False
    assert runtime.append_step_summary("x") is False


def test_commands_are_silent_outside_actions() -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({}, stream)
    runtime.annotate("error", "boom", file="a.yml", line=1)
    runtime.add_mask("secret")
    with runtime.group("train"):
        pass
    assert stream.getvalue() == ""


def test_mask_every_line_of_a_secret_escaped(actions: tuple[ActionsRuntime, io.StringIO]) -> None:
    runtime, stream = actions
    runtime.add_mask("first%line\n\nsecond\r\n")
    runtime.add_mask(None)
    assert stream.getvalue() == "::add-mask::first%25line\n::add-mask::second\n"


def test_group_closes_even_when_the_block_fails(
        actions: tuple[ActionsRuntime, io.StringIO]) -> None:
    runtime, stream = actions
    with pytest.raises(RuntimeError), runtime.group("test: core\nstories"):
        runtime.command("inside")
        raise RuntimeError("stage failed")
    assert stream.getvalue() == "::group::test: core%0Astories\ninside\n::endgroup::\n"


def test_annotate_writes_one_line_per_call(actions: tuple[ActionsRuntime, io.StringIO]) -> None:
    runtime, stream = actions
    runtime.annotate("warning", "two\nlines", file="data/nlu.yml", line=4, title="rasa: x")
    assert stream.getvalue() == "::warning file=data/nlu.yml,line=4,title=rasa%3A x::two%0Alines\n"


# -- annotations for a report (ci_toolkit.summary.annotations.emit_annotations) ------------------------

REPO_ROOT = paths.REPO_ROOT
REPORTS = REPO_ROOT / "tests" / "fixtures" / "reports"


def load_report(name: str) -> dict:
    import json

    return json.loads((REPORTS / f"{name}.json").read_text(encoding="utf-8"))


def annotation_lines(report: dict, tmp_path: Path) -> list[str]:
    from ci_toolkit.report.model import Report
    from ci_toolkit.summary.annotations import emit_annotations

    stream = io.StringIO()
    runtime = ActionsRuntime({"GITHUB_ACTIONS": "true"}, stream)
    emit_annotations(Report.from_dict(report), runtime, root=REPO_ROOT, workspace=str(REPO_ROOT))
    return stream.getvalue().splitlines()


def story_message(story: dict) -> str:
    step = story["failed_step"]
    return (f"Test story '{story['name']}' failed at step {step['index']}: expected "
            f"{step['kind']} '{step['expected']}', predicted '{step['predicted']}'.")


def test_failed_story_annotation_uses_the_recorded_line(tmp_path: Path) -> None:
    # The run happened in a copy of the project ("coffeebot/"), which is not on disk here:
    # the annotation still names the project-relative file and the line rasa's run found.
    report = load_report("coffeebot-failed-story")
    report["validation"] = None
    story = report["core"]["failed_stories"][0]
    path = f"{report['assistant']['project_dir']}/{story['file']}"
    assert annotation_lines(report, tmp_path) == [
        f"::error file={path},line={story['line']},title=Failed test story::"
        f"{escape_data(story_message(story))}"]


def test_failed_story_annotation_finds_the_story_line_in_the_repository(tmp_path: Path) -> None:
    report = load_report("coffeebot")  # ran on examples/coffeebot in this repository
    report["validation"] = None
    failed = load_report("coffeebot-failed-story")["core"]["failed_stories"][0]
    stories_file = REPO_ROOT / report["assistant"]["project_dir"] / failed["file"]
    lines = stories_file.read_text(encoding="utf-8").splitlines()
    line, name = next((number, match.group(1)) for number, text in enumerate(lines, start=1)
                      if (match := re.match(r"\s*- story: (.+?)\s*$", text)))
    story = dict(failed, name=name, line=None)
    report["core"]["failed_stories"] = [story]
    path = f"{report['assistant']['project_dir']}/{failed['file']}"
    assert annotation_lines(report, tmp_path) == [
        f"::error file={path},line={line},title=Failed test story::"
        f"{escape_data(story_message(story))}"]


def test_validation_findings_become_errors_and_warnings_with_escaping(tmp_path: Path) -> None:
    report = load_report("coffeebot")
    project = report["assistant"]["project_dir"]
    report["validation"] = {
        "errors": [{"level": "error", "code": "unknown_action", "file": "domain.yml", "line": 7,
                    "message": "Action 'x' is used in 'a, b: c' but 100% missing\nadd it"}],
        "warnings": [{"level": "warning", "code": "unused_intent", "file": None, "line": None,
                      "message": "The intent 'inform' is not used in any story or rule."}],
    }
    report["core"]["failed_stories"] = []
    assert annotation_lines(report, tmp_path) == [
        f"::error file={project}/domain.yml,line=7,title=rasa data validate%3A unknown_action::"
        "Action 'x' is used in 'a, b: c' but 100%25 missing%0Aadd it",
        "::warning title=rasa data validate%3A unused_intent::"
        "The intent 'inform' is not used in any story or rule.",
    ]
