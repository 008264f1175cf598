"""A narrower run never silently replaces the report of a fuller one
(ci_toolkit/pipeline/report_scope.py)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ci_toolkit.cli import main
from ci_toolkit.commands import pipeline as commands
from ci_toolkit.pipeline.report_scope import keep_fuller_report
from tests.rasa_support import copy_example

ALL = ("validate", "train", "test_core", "test_nlu", "cross_validate")


def _report(path: Path, ran: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"stages": [
        {"name": name, "status": "passed" if name in ran else "skipped"} for name in ALL]}))


def _run(reports: Path, ran: tuple[str, ...]) -> SimpleNamespace:
    return SimpleNamespace(
        settings=SimpleNamespace(reports_root=reports),
        results={name: SimpleNamespace(status="passed" if name in ran else "skipped")
                 for name in ALL})


# what report.json held, what this run ran, whether the old one is kept, what the note says
CASES = [
    (ALL[:4], ("validate",), True, "held the results of validate, train, test core and test "
     "nlu; this run ran validate, so the new report no longer has the sections of train, "
     "test core and test nlu"),
    (ALL[:4], (), True, "this run ran no stage"),
    (("validate", "train", "test_nlu"), ("validate", "train", "test_core"), True,
     "no longer has the sections of test nlu"),
    (("validate",), ALL[:4], False, None),
    (ALL[:4], ALL[:4], False, None),
    (None, ("validate",), False, None),
]


@pytest.mark.parametrize("before, now, kept, note", CASES)
def test_a_fuller_report_is_kept_and_the_notice_says_what_it_lost(
        tmp_path: Path, before, now, kept: bool, note: str | None) -> None:
    report = tmp_path / "reports" / "report.json"
    if before is not None:
        _report(report, before)
    notice = keep_fuller_report(_run(tmp_path / "reports", now))
    previous = tmp_path / "reports" / "report-previous.json"
    assert previous.exists() == kept
    if kept:
        assert previous.read_bytes() == report.read_bytes()
        assert "report-previous.json" in notice
    assert (notice is None) if note is None else (note in notice)


@pytest.mark.parametrize("content", ["{", "[]", '{"stages": 3}', '{"stages": [1, {"x": 2}]}'])
def test_an_unreadable_old_report_is_simply_replaced(tmp_path: Path, content: str) -> None:
    (tmp_path / "report.json").write_text(content)
    assert keep_fuller_report(_run(tmp_path, ("validate",))) is None


@pytest.mark.parametrize("command, switch, directory", [
    (commands.validate, "validate", "validate"), (commands.train, "train", "train"),
    (commands.test, "test", "test"),
    (commands.cross_validate, "cross_validation", "cross-validate"),
])
def test_a_single_stage_command_reports_beside_the_pipeline(
        command, switch: str, directory: str, monkeypatch) -> None:
    monkeypatch.delenv("CI_TOOLKIT_REPORT_DIRECTORY", raising=False)
    params = _params(command, "bot", "--model", "m.tar.gz") if switch == "test" else \
        _params(command, "bot")
    settings = commands._only(switch, params)
    assert settings.reports_root == Path("bot") / "reports" / directory
    given = commands._only(switch, {**params, "report_dir": Path("out")})
    assert given.reports_root == Path("out")  # an explicit --report-dir is obeyed


def _params(command, *args: str) -> dict:
    with command.make_context(command.name or "x", list(args)) as ctx:
        return {name: value for name, value in ctx.params.items()
                if name not in commands.SHARD_PARAMS}


def test_the_commands_keep_the_fuller_report(fake_rasa, tmp_path: Path, capsys) -> None:
    project = copy_example(tmp_path / "bot")
    cheap = ["--rasa", str(fake_rasa), "--no-cache", "--jobs", "1"]
    assert main(["run", str(project), *cheap]) in (0, 1)
    full = (project / "reports" / "report.json").read_bytes()

    # A single-stage command reports beside it: report.json is untouched.
    main(["validate", str(project), *cheap])
    assert (project / "reports" / "validate" / "report.json").is_file()
    assert (project / "reports" / "report.json").read_bytes() == full
    capsys.readouterr()

    # A narrower `run` replaces it, keeps the old one and says what went.
    main(["run", str(project), *cheap, "--no-train", "--no-test"])
    err = capsys.readouterr().err
    assert "note:" in err and "no longer has the sections of train, test core and test nlu" in err
    assert (project / "reports" / "report-previous.json").read_bytes() == full
