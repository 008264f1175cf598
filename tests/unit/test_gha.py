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


# -- secrets never reach what the runtime writes --------------------------------------------

SECRET = "s3cr3t/Value+42"
SECRET_ENV = {"GITHUB_ACTIONS": "true", "CI_TOOLKIT_RASA_TOKEN": SECRET}


def _annotation(runtime: ActionsRuntime, text: str) -> None:
    runtime.annotate("error", text, file=f"data/{text}.yml", line=1, title=text)


def _warning(runtime: ActionsRuntime, text: str) -> None:
    runtime.warn(text, title=text)


def _group(runtime: ActionsRuntime, text: str) -> None:
    with runtime.group(text):
        pass


# How the runtime writes -> where it ends up ("stream": stdout, "err": stderr, or a file)
WRITERS = [
    ("annotation", _annotation, "stream"),
    ("warning annotation", _warning, "stream"),
    ("warning on stderr", _warning, "err"),
    ("group title", _group, "stream"),
    ("output", lambda runtime, text: runtime.set_output("report", text), "output"),
    ("multi-line output", lambda runtime, text: runtime.set_output("r", f"a\n{text}"), "output"),
    ("step summary", lambda runtime, text: runtime.append_step_summary(text), "summary"),
]
SPELLINGS = {"raw": SECRET, "json": SECRET.replace("/", "\\/"),
             "url-encoded": "s3cr3t%2FValue%2B42"}


@pytest.mark.parametrize(("spelling", "writer", "where"),
                         [(spelling, writer, where) for spelling in SPELLINGS
                          for _, writer, where in WRITERS],
                         ids=[f"{name}-{spelling}" for spelling in SPELLINGS
                              for name, _, _ in WRITERS])
def test_secrets_of_the_environment_never_reach_what_the_runtime_writes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str, writer, where: str,
) -> None:
    stream = io.StringIO()
    environ = {**SECRET_ENV, "GITHUB_OUTPUT": str(tmp_path / "output"),
               "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    runtime = ActionsRuntime(environ, stream)
    writer(runtime, f"rasa said: login {SPELLINGS[spelling]} failed")
    written = {"stream": stream.getvalue(), "err": capsys.readouterr().err,
               "output": (tmp_path / "output").read_text(encoding="utf-8")
               if (tmp_path / "output").exists() else "",
               "summary": (tmp_path / "summary").read_text(encoding="utf-8")
               if (tmp_path / "summary").exists() else ""}
    assert "rasa said: login *** failed" in written[where]
    assert not any(SPELLINGS[name] in text for text in written.values() for name in SPELLINGS)


def test_a_masked_value_is_redacted_too_but_the_mask_itself_carries_it() -> None:
    stream = io.StringIO()
    runtime = ActionsRuntime({"GITHUB_ACTIONS": "true"}, stream)
    runtime.add_mask("registry-pa55word")
    runtime.annotate("error", "denied for registry-pa55word")
    assert stream.getvalue() == ("::add-mask::registry-pa55word\n"
                                 "::error::denied for ***\n")


@pytest.mark.parametrize(("environ", "secrets"), [
    ({"GITHUB_TOKEN": "ghs_x1"}, ["ghs_x1"]),
    ({"CI_TOOLKIT_REGISTRY_PASSWORD": "pw"}, ["pw"]),
    ({"CI_TOOLKIT_RASAX_PASSWORD": "p", "CI_TOOLKIT_RASAX_TOKEN": "t"}, ["p", "t"]),
    ({"MY_API_KEY": "k-123456789", "DEPLOY_SECRET": "abc"}, ["k-123456789", "abc"]),
    # A switch or a number named like a secret is not one: redacting "false" would corrupt
    # every JSON output.
    ({"TOKENIZERS_PARALLELISM": "false", "SOME_TOKEN_TTL": "3600"}, []),
    # ... but a known secret is one whatever its value.
    ({"GITHUB_TOKEN": "1"}, ["1"]),
    ({"PATH": "/usr/bin", "CI_TOOLKIT_RASA": "/bin/rasa", "EMPTY_TOKEN": ""}, []),
])
def test_which_environment_variables_are_secrets(environ: dict[str, str],
                                                 secrets: list[str]) -> None:
    from ci_toolkit.gha import secret_values

    assert secret_values(environ) == secrets


# -- $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY that cannot be written -------------------------

ENV_FILE_CASES = [
    # (variable, how the path is wrong, exit code or None for a warning, the message)
    ("GITHUB_OUTPUT", "missing directory", 1, "the directory {parent} does not exist"),
    ("GITHUB_OUTPUT", "a directory", 1, "it is a directory"),
    ("GITHUB_STEP_SUMMARY", "missing directory", None, "the directory {parent} does not exist"),
    ("GITHUB_STEP_SUMMARY", "a directory", None, "it is a directory"),
]


def _bad_path(tmp_path: Path, how: str) -> Path:
    if how == "a directory":
        (tmp_path / "dir").mkdir()
        return tmp_path / "dir"
    return tmp_path / "no-such-dir" / "file"


@pytest.mark.parametrize(("variable", "how", "code", "message"), ENV_FILE_CASES)
def test_env_files_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          variable: str, how: str, code: int | None,
                                          message: str) -> None:
    from ci_toolkit.gha import EnvFileError

    path = _bad_path(tmp_path, how)
    stream = io.StringIO()
    runtime = ActionsRuntime({"GITHUB_ACTIONS": "true", variable: str(path)}, stream)
    expected = message.format(parent=path.parent)
    if code is not None:
        for attempt in (runtime.check_output_file, lambda: runtime.set_output("a", "b")):
            with pytest.raises(EnvFileError) as raised:
                attempt()
            assert raised.value.exit_code == code
            assert f"cannot write to {variable}={path}: {expected}" in raised.value.message
    else:
        runtime.check_output_file()  # the job summary is not checked: it is only a warning
        assert runtime.append_step_summary("## text") is False
        err = capsys.readouterr().err
        assert f"warning: the job summary was not written: cannot write to {variable}" in err
        assert expected in err and expected in stream.getvalue()


def test_an_error_in_the_job_summary_is_redacted_and_inert(tmp_path: Path) -> None:
    from ci_toolkit.errors import ToolkitError
    from ci_toolkit.gha import report_error

    summary = tmp_path / "summary"
    stream, stderr = io.StringIO(), io.StringIO()
    runtime = ActionsRuntime({**SECRET_ENV, "GITHUB_STEP_SUMMARY": str(summary)}, stream)
    message = f"story '[x](http://evil.example) @org/team' failed: token {SECRET}\n# heading"
    assert report_error(ToolkitError(message), runtime, stderr=stderr) == 1
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("**ci-toolkit error:** story '\\[x\\](http:")
    assert "@org" not in written and "\n#" not in written and SECRET not in written
    assert SECRET not in stderr.getvalue() + stream.getvalue()
    assert "token ***" in stderr.getvalue() and "token ***" in stream.getvalue()


def test_an_error_is_the_steps_error_output_redacted_for_a_later_step(tmp_path: Path) -> None:
    from ci_toolkit.errors import ToolkitError
    from ci_toolkit.gha import report_error

    output = tmp_path / "output"
    runtime = ActionsRuntime({**SECRET_ENV, "GITHUB_OUTPUT": str(output)}, io.StringIO())
    message = f"domain.yml:77 is not valid YAML\nsecond line, token {SECRET}"
    assert report_error(ToolkitError(message), runtime, stderr=io.StringIO()) == 1
    written = runner_read_file_command(output.read_text(encoding="utf-8"))
    assert written == {"error": "domain.yml:77 is not valid YAML\nsecond line, token ***"}
