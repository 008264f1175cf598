"""Issue 15 probe findings, one table per class: output directories that cannot be created,
project files of the wrong shape, non-finite --timeout. Each is exit 2 with a message that
names the problem, before rasa starts, and never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.rasa_support import copy_example
from tests.unit.commands.test_inputs_checked_first import RASA_STAND_IN

UNCREATABLE = "/proc/ci-toolkit-nope/out"  # even root cannot create directories in /proc


def _bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str,
               command: str = "run") -> str:
    """Run COMMAND on a copy of the example; assert exit 2 before rasa starts; the output."""
    marker = tmp_path / "rasa-started"
    rasa = tmp_path / "rasa"
    rasa.write_text(RASA_STAND_IN.format(python=sys.executable, marker=str(marker)))
    rasa.chmod(0o755)
    project = tmp_path / "bot"
    code = main([command, str(project), "--rasa", str(rasa), *args])
    output = capsys.readouterr()
    text = output.out + output.err
    assert code == 2, text
    assert "Traceback" not in text
    assert not marker.exists(), "rasa was started"
    return text


@pytest.mark.parametrize("command, option", [
    ("run", "--report-dir"),
    ("run", "--result-dir"),
    ("run", "--models-dir"),
    ("run", "--cache-dir"),
    ("validate", "--report-dir"),
    ("train", "--models-dir"),
    ("test", "--result-dir"),
    ("cross-validate", "--cache-dir"),
])
def test_an_output_dir_that_cannot_be_created_is_exit_2(tmp_path: Path, capsys, command: str,
                                                        option: str) -> None:
    copy_example(tmp_path / "bot")
    text = _bad_input(tmp_path, capsys, option, UNCREATABLE, command=command)
    assert f"{option} {UNCREATABLE} cannot be created" in text


def test_output_dirs_are_created_before_any_stage(tmp_path: Path) -> None:
    from ci_toolkit.pipeline.inputs import check_paths
    from ci_toolkit.pipeline.settings import PipelineSettings

    (tmp_path / "config.yml").touch()  # output directories are made in projects only
    out = tmp_path / "deep" / "er"
    check_paths(PipelineSettings(project_dir=tmp_path, report_dir=out / "r",
                                 result_dir=out / "s", models_dir=out / "m",
                                 cache_dir=out / "c"))
    assert sorted(p.name for p in out.iterdir()) == ["c", "m", "r", "s"]


def test_no_output_dir_is_made_for_a_mistyped_project(tmp_path: Path, capsys) -> None:
    text = _bad_input(tmp_path, capsys)  # tmp_path/bot does not exist
    assert "is not a directory" in text
    assert list(tmp_path.iterdir()) == [tmp_path / "rasa"]


# (case, file, its new content, what the message must say)
SHAPE_CASES = [
    ("policies a number", "config.yml", "recipe: default.v1\npolicies: 5\n",
     "`policies` must be a list of policies"),
    ("pipeline a number", "config.yml", "pipeline: 5\n",
     "`pipeline` must be a list of components, each a mapping with a string `name`, but it "
     "holds int 5. Write it like\npipeline:\n  - name: WhitespaceTokenizer"),
    ("pipeline of strings", "config.yml", "pipeline:\n  - WhitespaceTokenizer\n",
     "`pipeline` must be a list of components, each a mapping with a string `name`"),
    ("component without name", "config.yml", "pipeline:\n  - epochs: 3\n",
     "`pipeline` must be a list of components, each a mapping with a string `name`, but "
     "item 1 has no string `name`"),
    ("language a list", "config.yml", "language: [en]\n", "`language` must be a string"),
    ("recipe a mapping", "config.yml", "recipe: {a: 1}\n", "`recipe` must be a string"),
    ("importers a string", "config.yml", "importers: mine\n", "`importers` must be a list"),
    ("alias inside itself (config)", "config.yml", "language: en\na: &a [*a]\n",
     "uses a YAML alias that refers to itself"),
    ("intents a number", "domain.yml", "intents: 5\n", "`intents` must be a list of names"),
    ("intent a list", "domain.yml", "intents:\n  - [greet]\n", "`intents` must be a list"),
    ("entity a two-key mapping", "domain.yml", "entities:\n  - city\n  - {a: 1, b: 2}\n",
     "but item 2 is a mapping with 2 keys"),
    ("actions a mapping", "domain.yml", "actions: {a: 1}\n", "`actions` must be a list"),
    ("responses a list", "domain.yml", "responses: [utter_x]\n",
     "`responses` must be a mapping"),
    ("slots a number", "domain.yml", "slots: 5\n", "`slots` must be a mapping"),
    ("forms a list", "domain.yml", "forms: [f]\n", "`forms` must be a mapping"),
    ("alias inside itself (domain)", "domain.yml", "intents: &i [greet, *i]\n",
     "uses a YAML alias that refers to itself"),
    ("nlu a number", "data/nlu.yml", "nlu: 5\n", "`nlu` must be a list of mappings"),
    ("nlu of strings", "data/nlu.yml", "nlu: [greet]\n", "`nlu` must be a list of mappings"),
    ("alias inside itself (data)", "data/nlu.yml",
     "nlu:\n  - &x {intent: greet, examples: [*x]}\n", "refers to itself"),
    ("story steps a number", "data/stories.yml", "stories:\n  - story: s\n    steps: 5\n",
     "`stories` must be a list of stories, each a mapping whose `steps` is a list of "
     "mappings, but item 1 has `steps` that is int 5. Write it like\nstories:\n  - story:"),
    ("rules a number", "data/rules.yml", "rules: 5\n", "`rules` must be a list of rules"),
    ("rule step a string", "data/rules.yml", "rules:\n  - rule: r\n    steps: [greet]\n",
     "but item 1 has step 1 that is a string"),
    ("data responses a list", "data/rules.yml", "responses: [x]\n",
     "`responses` must be a mapping"),
    ("test story steps a string", "tests/test_stories.yml",
     "stories:\n  - story: t\n    steps: greet\n", "`stories` must be a list of stories"),
]


@pytest.mark.parametrize("relative, content, message", [c[1:] for c in SHAPE_CASES],
                         ids=[c[0] for c in SHAPE_CASES])
def test_a_project_file_of_the_wrong_shape_is_exit_2(tmp_path: Path, capsys, relative: str,
                                                     content: str, message: str) -> None:
    project = copy_example(tmp_path / "bot")
    (project / relative).write_text(content)
    text = _bad_input(tmp_path, capsys, "--no-cache")
    assert message in text
    assert relative in text


@pytest.mark.parametrize("command", ["run", "validate", "train", "test", "cross-validate"])
@pytest.mark.parametrize("value, message", [
    ("nan", "--timeout must be a finite number of seconds, 1 or more, not nan"),
    ("inf", "--timeout must be a finite number of seconds, 1 or more, not inf"),
    ("-inf", "Invalid value for '--timeout'"),
    ("0.5", "Invalid value for '--timeout'"),
])
def test_a_timeout_that_is_not_a_finite_number_is_exit_2(tmp_path: Path, capsys, command: str,
                                                         value: str, message: str) -> None:
    copy_example(tmp_path / "bot")
    assert message in _bad_input(tmp_path, capsys, "--timeout", value, command=command)


def test_a_timeout_from_the_environment_is_checked_too(tmp_path: Path, capsys,
                                                       monkeypatch) -> None:
    copy_example(tmp_path / "bot")
    monkeypatch.setenv("CI_TOOLKIT_TIMEOUT", "nan")
    assert "--timeout must be a finite number" in _bad_input(tmp_path, capsys)
