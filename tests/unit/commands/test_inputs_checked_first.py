"""Options and input paths are checked before any stage runs: each bad one is exit 2 with a
message that names it, rasa is never started, and nothing already on disk is touched."""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.rasa_support import copy_example

RASA_STAND_IN = "#!{python}\nimport pathlib\npathlib.Path({marker!r}).write_text('started')\n"


def _tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def _model(project: Path) -> Path:
    return _tar_gz(project / "model.tar.gz", {"metadata.json": b"{}", "components/x": b"x" * 4096})


def _truncated_model(project: Path) -> str:
    data = _model(project).read_bytes()
    (project / "model.tar.gz").write_bytes(data[: len(data) // 2])
    return "model.tar.gz"


def _make_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("keep me")
    return str(path)


def _empty_dir(path: Path) -> None:
    for child in sorted(path.rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()


def _config_dir(project: Path) -> list[str]:
    (project / "config.yml").unlink()
    (project / "config.yml").mkdir()
    return []


def _domain_dir(project: Path, content: str | None) -> None:
    (project / "domain.yml").unlink()
    (project / "domain").mkdir()
    if content is not None:
        (project / "domain" / "empty.yml").write_text(content)


Setup = Callable[[Path], list[str]]
CASES: list[tuple[str, Setup, str]] = [
    ("config is a directory", lambda p: ["--config", str(p / "data")],
     "is a directory, but --config takes a file"),
    ("default config.yml is a directory", lambda p: _config_dir(p),
     "is a directory, but --config takes a file"),
    ("result dir is a file", lambda p: ["--result-dir", _make_file(p / "out")],
     "--result-dir"),
    ("report dir is a file", lambda p: ["--report-dir", _make_file(p / "out")],
     "--report-dir"),
    ("models dir is a file", lambda p: ["--models-dir", _make_file(p / "out")],
     "--models-dir"),
    ("cache dir is a file", lambda p: ["--cache-dir", _make_file(p / "out")], "--cache-dir"),
    ("result dir inside a file", lambda p: ["--result-dir", _make_file(p / "out") + "/sub"],
     "cannot be created"),
    ("empty data directory", lambda p: [_empty_dir(p / "data")] and [],
     "The training data directory"),
    ("domain directory without files", lambda p: [_domain_dir(p, None)] and [],
     "The domain directory"),
    ("domain directory of empty files", lambda p: [_domain_dir(p, "")] and [],
     "every file in it) is empty"),
    ("empty tests directory given", lambda p: [_empty_dir(p / "tests")] and ["--tests", "tests"],
     "The test stories directory"),
    ("duplicate key in the domain",
     lambda p: [(p / "domain.yml").write_text((p / "domain.yml").read_text()
                                              + "\nintents:\n  - greet\n")] and [],
     "appears twice"),
    ("--model with --finetune", lambda p: ["--model", str(_model(p)), "--finetune"],
     "--model and --finetune contradict"),
    ("--fixed-model-name with a slash", lambda p: ["--fixed-model-name", "out/model"],
     "path separator"),
    ("--fixed-model-name with a backslash", lambda p: ["--fixed-model-name", "out\\model"],
     "path separator"),
    ("--fixed-model-name starting with a dot", lambda p: ["--fixed-model-name", "..x"],
     "not a plain file name"),
    ("--model is not gzip", lambda p: ["--model", _make_file(p / "m.tar.gz")],
     "not a gzip-compressed tar archive"),
    ("--model is gzip but not tar",
     lambda p: [(p / "m.tar.gz").write_bytes(gzip.compress(b"not a tar" * 100))]
     and ["--model", "m.tar.gz"], "not a readable tar archive"),
    ("--model is truncated", lambda p: ["--model", _truncated_model(p)],
     "not a readable tar archive"),
    ("--model is a tar.gz without rasa metadata",
     lambda p: ["--model", str(_tar_gz(p / "m.tar.gz", {"x.txt": b"x"}))], "not a rasa model"),
    ("--model is a directory", lambda p: ["--model", str(p / "data")], "is a directory"),
    ("--model does not exist", lambda p: ["--model", "nowhere.tar.gz"], "does not exist"),
    ("--finetune without a model to start from", lambda p: ["--finetune"],
     "--finetune starts from the latest model"),
    ("--folds 0", lambda p: ["--folds", "0"], "at least 2 folds"),
    ("every stage off", lambda p: ["--no-validate", "--no-train", "--no-test"],
     "Every stage is switched off"),
]


@pytest.mark.parametrize("setup, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_exit_2_before_rasa_starts(tmp_path: Path, capsys, setup: Setup,
                                                message: str) -> None:
    project = copy_example(tmp_path / "bot")
    marker = tmp_path / "rasa-started"
    rasa = tmp_path / "rasa"
    rasa.write_text(RASA_STAND_IN.format(python=sys.executable, marker=str(marker)))
    rasa.chmod(0o755)
    args = setup(project)
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    code = main(["run", str(project), "--rasa", str(rasa), *args])
    output = capsys.readouterr()
    text = output.out + output.err
    assert code == 2, text
    assert message in text, text
    assert "Traceback" not in text
    assert not marker.exists(), "rasa was started"
    # Nothing on disk changed: no results dir, no report, no file overwritten.
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("command", ["test", "validate", "train", "cross-validate"])
def test_single_stage_commands_check_their_paths_first(tmp_path: Path, capsys,
                                                       command: str) -> None:
    project = copy_example(tmp_path / "bot")
    code = main([command, str(project), "--rasa", "/bin/false",
                 "--result-dir", _make_file(project / "out")])
    assert code == 2
    assert "--result-dir" in capsys.readouterr().err


def test_a_models_dir_that_is_a_file_is_named_by_test(tmp_path: Path, capsys) -> None:
    project = copy_example(tmp_path / "bot")
    code = main(["test", str(project), "--models-dir", _make_file(project / "models")])
    assert code == 2
    assert "--models-dir" in capsys.readouterr().err
