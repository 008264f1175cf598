"""Scaffold when the disk says no: an obstacle found before the first write stops it with
nothing written; a write that fails part-way names the files written and those not written,
and leaves no half-written file. Exit 1 either way, never a traceback.

The tests run as root, which writes through chmod, so the faults are real ones root cannot
get past: things in the way, a read-only mount and a full tmpfs (both in a private mount
namespace of the scaffold process, gone when it exits), and a file that appears where a
directory must go while scaffold runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from ci_toolkit.errors import ToolkitError
from ci_toolkit.scaffold.files import CREATE, Outcome
from ci_toolkit.scaffold.options import ScaffoldRequest
from ci_toolkit.scaffold.run import scaffold
from tests.unit.scaffold.disk import snapshot

REPO_ROOT = Path(__file__).resolve().parents[3]
CI, CD, CV, CMP = (f".github/workflows/assistant-{name}.yml"
                   for name in ("ci", "cd", "cross-validation", "config-comparison"))
EXIT_FAILED = 1



def _file_at(relative: str) -> Callable[[Path], None]:
    def arrange(bot: Path) -> None:
        (bot / relative).parent.mkdir(parents=True, exist_ok=True)
        (bot / relative).write_text("mine\n", encoding="utf-8")
    return arrange


def _directory_at(relative: str) -> Callable[[Path], None]:
    return lambda bot: (bot / relative).mkdir(parents=True)


def _fifo_at(relative: str) -> Callable[[Path], None]:
    return lambda bot: os.mkfifo(bot / relative)  # reading it would block scaffold forever


def _broken_link_at(relative: str) -> Callable[[Path], None]:
    return lambda bot: (bot / relative).symlink_to(bot / "nowhere")


# (what is in the way, extra args, the text the error must contain)
OBSTACLES: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    ("file-where-.github-goes", _file_at(".github"), [],
     f"{CI}: .github is a file (or a broken link), but scaffold needs a directory there"),
    ("file-where-workflows-goes", _file_at(".github/workflows"), [],
     f"{CD}: .github/workflows is a file"),
    ("link-to-nowhere-where-.github-goes", _broken_link_at(".github"), [],
     ".github is a file (or a broken link)"),
    ("directory-where-Dockerfile-goes", _directory_at("Dockerfile"), [],
     "Dockerfile: it is a directory, but scaffold writes a file there"),
    ("fifo-where-.dockerignore-goes", _fifo_at(".dockerignore"), [],
     ".dockerignore: it is not a regular file (a pipe, socket or device)"),
    ("broken-link-where-Dockerfile-goes", _broken_link_at("Dockerfile"), [],
     "Dockerfile: it is a broken symbolic link"),
    ("file-where-the-values-directory-goes", _file_at("deploy"),
     ["--chart-preset", "rasa"], "deploy/values.yml: deploy is a file"),
    ("dry-run-sees-it-too", _directory_at("Dockerfile"), ["--dry-run"], "it is a directory"),
]


@pytest.mark.parametrize(("arrange", "args", "message"), [case[1:] for case in OBSTACLES],
                         ids=[case[0] for case in OBSTACLES])
def test_an_obstacle_stops_scaffold_before_the_first_write(
        bot: Path, capsys: pytest.CaptureFixture[str], arrange: Callable[[Path], None],
        args: list[str], message: str) -> None:
    arrange(bot)
    before = snapshot(bot)
    code = main(["scaffold", str(bot), *args])
    err = capsys.readouterr().err
    assert code == EXIT_FAILED, err
    assert "scaffold cannot write every file, so it wrote none" in err
    assert message in err
    assert "--skip" in err and "Traceback" not in err
    assert snapshot(bot) == before


def test_every_obstacle_is_listed_at_once(bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _file_at(".github")(bot)
    _directory_at("Dockerfile")(bot)
    assert main(["scaffold", str(bot)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert all(name in err for name in (CI, CD, CV, CMP, "Dockerfile: it is a directory"))


def test_a_file_that_appears_where_a_directory_must_go_stops_scaffold_part_way(
        bot: Path) -> None:
    """Another process puts a file at deploy/ after scaffold looked (it writes the values
    file last): the error names what was written and what was not."""
    shown: list[Outcome] = []

    def report(outcome: Outcome) -> None:
        shown.append(outcome)
        if len(shown) == 2:
            (bot / "deploy").write_text("in the way\n", encoding="utf-8")

    request = ScaffoldRequest(directory=bot, chart="rasa")
    with pytest.raises(ToolkitError) as raised:
        scaffold(request, notify=lambda text: None, report=report)
    message = str(raised.value)
    assert raised.value.exit_code == EXIT_FAILED
    assert message.startswith("Could not write deploy/values.yml: a file is where its "
                              "directory must be.")
    assert f"Written: {CI}, {CD}, {CV}, {CMP}, Dockerfile, .dockerignore." in message
    assert "Not written: deploy/values.yml." in message
    assert [outcome.status for outcome in shown] == [CREATE] * 6
    assert (bot / "deploy").read_text(encoding="utf-8") == "in the way\n"
    assert not [path for path in bot.rglob(".*.*") if path.name.startswith(".values.yml.")]


# --- real faults in a private mount namespace -----------------------------------------------


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            "mount -t tmpfs -o size=4k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _namespaces_work(),
                                  reason="needs root and mount namespaces (unshare)")


def scaffold_on_a_mount(bot: Path, mount: str, options: str, out: Path, *args: str
                        ) -> tuple[int, str, dict[str, bytes]]:
    """Run `ci-toolkit scaffold` with a tmpfs (``options``) over ``mount`` inside ``bot``;
    copy what the tmpfs holds afterwards to ``out`` (the mount ends with the process)."""
    (bot / mount).mkdir(parents=True, exist_ok=True)
    out.mkdir()
    script = ('mount -t tmpfs -o "$OPTIONS" tmpfs "$BOT/$MOUNT" || exit 97\n'
              '"$PYTHON" -m ci_toolkit.cli scaffold "$BOT" "$@"\n'
              'code=$?\ncp -a "$BOT/$MOUNT/." "$OUT/"\nexit $code\n')
    env = {**os.environ, "OPTIONS": options, "BOT": str(bot), "MOUNT": mount, "OUT": str(out),
           "PYTHON": sys.executable, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                           script, "scaffold", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode != 97, done.stderr
    left = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    return done.returncode, done.stderr, left


@needs_mounts
def test_a_full_disk_part_way_leaves_whole_files_and_says_which(
        bot: Path, pristine: Path, tmp_path: Path) -> None:
    """8 KiB of tmpfs under .github/workflows holds the pull-request workflow (5 KB) but not
    the main-branch one: no half-written file, and the error lists both sides."""
    expected = Path(shutil.copytree(pristine, tmp_path / "expected" / bot.name))
    assert main(["scaffold", str(expected)]) == 0
    code, err, left = scaffold_on_a_mount(bot, ".github/workflows", "size=8k",
                                          tmp_path / "left")
    assert code == EXIT_FAILED, err
    assert ("Could not write .github/workflows/assistant-cd.yml: No space left on device. "
            f"Written: {CI}. Not written: {CD}, {CV}, {CMP}, Dockerfile, .dockerignore.") in err
    assert "Traceback" not in err
    assert left == {"assistant-ci.yml": (expected / CI).read_bytes()}  # no temporary file
    assert not (bot / "Dockerfile").exists()


@needs_mounts
def test_a_full_disk_at_the_first_file_writes_nothing_and_leaves_no_directory(
        bot: Path, tmp_path: Path) -> None:
    code, err, left = scaffold_on_a_mount(bot, ".github", "size=4k", tmp_path / "left")
    assert code == EXIT_FAILED, err
    assert f"Could not write {CI}: No space left on device. Written: none." in err
    assert left == {}
    assert not (tmp_path / "left" / "workflows").exists()  # the directory it made is gone


@needs_mounts
def test_a_read_only_directory_is_found_before_the_first_write(
        bot: Path, tmp_path: Path) -> None:
    code, err, left = scaffold_on_a_mount(bot, ".github", "ro", tmp_path / "left")
    assert code == EXIT_FAILED, err
    assert "scaffold cannot write every file, so it wrote none" in err
    assert f"{CI}: the directory .github is not writable" in err
    assert left == {} and not (bot / "Dockerfile").exists()


@needs_mounts
def test_a_dry_run_in_a_read_only_directory_shows_the_plan(bot: Path, tmp_path: Path) -> None:
    code, err, _ = scaffold_on_a_mount(bot, ".github", "ro", tmp_path / "left", "--dry-run")
    assert code == 0, err
    assert f"create  {CI}" in err and "Dry run: nothing was written." in err
