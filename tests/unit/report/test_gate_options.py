"""Gate options are checked before anything runs: each bad one is exit 2 with a message that
names it, for `ci-toolkit summary` and `ci-toolkit run` alike. `run` checks them before it
looks for rasa: the rasa given here is a stand-in that records being started."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests import paths

RASA_STAND_IN = "#!{python}\nimport pathlib\npathlib.Path({marker!r}).write_text('started')\n"
NOT_A_FRACTION = "but it must be between 0 and 1"

# (case, arguments, environment, the message the error must contain); every case exits 2.
CASES: list[tuple[str, list[str], dict[str, str], str]] = [
    ("max-drop nan", ["--max-drop", "nan", "--baseline", "b.json"], {},
     f"--max-drop is 'nan', {NOT_A_FRACTION}"),
    ("max-drop inf", ["--max-drop", "inf", "--baseline", "b.json"], {},
     f"--max-drop is 'inf', {NOT_A_FRACTION}"),
    ("max-drop negative", ["--max-drop", "-0.01", "--baseline", "b.json"], {},
     f"--max-drop is '-0.01', {NOT_A_FRACTION}"),
    ("max-drop above 1", ["--max-drop", "2", "--baseline", "b.json"], {},
     f"--max-drop is '2', {NOT_A_FRACTION}"),
    ("max-drop not a number", ["--max-drop", "two", "--baseline", "b.json"], {},
     "--max-drop is 'two', which is not a number"),
    ("max-drop nan from the environment", ["--baseline", "b.json"],
     {"CI_TOOLKIT_MAX_DROP": "NaN"}, f"--max-drop is 'NaN', {NOT_A_FRACTION}"),
    ("max-drop without baseline", ["--max-drop", "0.02"], {},
     "--max-drop needs a baseline to compare with, but no --baseline was given. Pass "
     "--baseline REPORT_JSON"),
    ("max-drop from the environment without baseline", [], {"CI_TOOLKIT_MAX_DROP": "0.02"},
     "or drop --max-drop (CI_TOOLKIT_MAX_DROP)"),
    ("min unknown short name", ["--min", "intent_f2>=0.9"], {},
     "'intent_f2' in 'intent_f2>=0.9' is neither a short metric name nor a dotted path"),
    ("min path outside the metrics", ["--min", "model.name.accuracy>=0.9"], {},
     "'model.name.accuracy' in 'model.name.accuracy>=0.9' names no metric of report.json"),
    ("min path to a whole task", ["--min", "nlu.intent_classification>=0.9"], {},
     "names no metric of report.json: a path starts with nlu, core, cross_validation"),
    ("min above 1", ["--min", "intent_f1>=90"], {},
     f"the value of the minimum 'intent_f1>=90' is '90', {NOT_A_FRACTION}"),
    ("min negative", ["--min", "intent_f1>=-0.5"], {}, NOT_A_FRACTION),
    ("min nan", ["--min", "intent_f1>=nan"], {}, f"is 'nan', {NOT_A_FRACTION}"),
    ("min inf from the environment", [], {"CI_TOOLKIT_MIN": "intent_f1>=inf"},
     f"is 'inf', {NOT_A_FRACTION}"),
    ("min not a number", ["--min", "intent_f1>=high"], {}, "is 'high', which is not a number"),
    ("actions results missing", ["--actions-results", "nope.json"], {},
     "there are no action results at nope.json (--actions-results, CI_TOOLKIT_ACTIONS_RESULTS)"),
    ("actions results missing from the environment", [],
     {"CI_TOOLKIT_ACTIONS_RESULTS": "results/actions/actions.json"},
     "there are no action results at results/actions/actions.json"),
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "CI_TOOLKIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def _rasa_stand_in(tmp_path: Path) -> tuple[Path, Path]:
    marker, rasa = tmp_path / "rasa-started", tmp_path / "rasa"
    rasa.write_text(RASA_STAND_IN.format(python=sys.executable, marker=str(marker)))
    rasa.chmod(0o755)
    return rasa, marker


def _summary_args(tmp_path: Path) -> list[str]:
    report = tmp_path / "reports" / "report.json"
    report.parent.mkdir()
    report.write_text((paths.FIXTURES / "reports" / "coffeebot.json").read_text(encoding="utf-8"),
                      encoding="utf-8")
    return ["summary", str(report), "--no-comment"]


@pytest.mark.parametrize("command", ["summary", "run"])
@pytest.mark.parametrize(("args", "environ", "message"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_gate_options_are_exit_2_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str, args: list[str], environ: dict[str, str], message: str) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    rasa, started = _rasa_stand_in(tmp_path)
    head = (_summary_args(tmp_path) if command == "summary"
            else ["run", str(tmp_path / "project"), "--rasa", str(rasa)])
    code = main([*head, *args])
    output = capsys.readouterr()
    text = output.out + output.err
    assert code == 2, text
    assert message in text, text
    assert "Traceback" not in text
    assert not started.exists(), "rasa was started"
    # Nothing was written: no summary, no results, no report.
    assert sorted(path.name for path in tmp_path.rglob("*") if path.is_file()) == sorted(
        name for name in ("report.json", "rasa") if command == "summary" or name == "rasa")


def test_a_given_but_missing_baseline_is_only_a_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The scaffolded workflows always pass the target branch's report, which the first run
    # of a repository does not have yet.
    code = main([*_summary_args(tmp_path), "--max-drop", "0.02", "--baseline", "missing.json"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning: the baseline report missing.json does not exist" in err
    assert json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
