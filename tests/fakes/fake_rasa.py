"""A stand-in for the `rasa` executable, for unit tests of the pipeline.

It writes the files real rasa writes, copied from the committed outputs of real runs
(tests/fixtures/rasa/), so the toolkit's parsing and scheduling see what they would see
with rasa, in a fraction of a second instead of minutes. It also journals every command
(start and end times, and RASA_MAX_CACHE_SIZE) so that tests can check order and overlap.

Per command the test chooses a behaviour (`FakeRasa.behave`):
- "ok" (default): what a passing run writes;
- "errors": `data validate` finds a validation error and exits 1;
- "no-model": `train` or `test core` print rasa's message and exit 0 without a model,
  as real rasa does (docs/architecture.md, "How rasa behaves");
- "fixture:<case>": print what real rasa printed in tests/fixtures/rasa/<case>/ and exit
  with its exit code.

`install(directory)` writes a small launcher script that runs `main` with this directory as
its state, and returns a `FakeRasa` whose `path` is the executable to give as `rasa`.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rasa"
VERSION = "3.6.21"
# Long enough that two stages started side by side overlap measurably.
COMMAND_TIME_S = 0.2

LAUNCHER = """#!{python}
import sys
sys.path.insert(0, {here!r})
import fake_rasa
sys.exit(fake_rasa.main(sys.argv[1:], fake_rasa.Path({state!r})))
"""


@dataclass(frozen=True)
class FakeRasa:
    path: Path  # the executable
    state: Path  # behaviour.json and journal.jsonl

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    @property
    def journal(self) -> Path:
        return self.state / "journal.jsonl"

    def behave(self, modes: dict[str, str] | None = None) -> None:
        """Set the behaviour per command (e.g. {"train": "no-model"}) and clear the journal."""
        (self.state / "behaviour.json").write_text(json.dumps(modes or {}))
        self.journal.unlink(missing_ok=True)

    def events(self) -> list[dict[str, Any]]:
        """The journal since the last `behave`: {"start": command, "t", "rasa_cache_size"}
        and {"end": command, "t"}; `--version` is journaled as the command ""."""
        if not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines()]


def install(directory: Path) -> FakeRasa:
    """Write the executable to DIRECTORY/bin/rasa, with its state in DIRECTORY."""
    executable = directory / "bin" / "rasa"
    executable.parent.mkdir(parents=True, exist_ok=True)
    executable.write_text(LAUNCHER.format(python=sys.executable, here=str(Path(__file__).parent),
                                          state=str(directory)))
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    fake = FakeRasa(path=executable, state=directory)
    fake.behave()
    return fake


def _option(args: list[str], name: str) -> Path:
    return Path(args[args.index(name) + 1])


def _copy(source: Path, out: Path, pattern: str) -> None:
    for path in source.glob(pattern):
        shutil.copy(path, out / path.name)


def _validate(mode: str) -> int:
    if mode == "errors":
        print((FIXTURES / "validate-errors" / "stderr.txt").read_text(), file=sys.stderr)
        print("Project validation completed with errors.")
        return 1
    return 0


def _train(args: list[str], mode: str) -> int:
    if mode == "no-model":
        print("No training data given. Please provide stories and NLU data.")
        return 0  # what rasa train nlu/core does
    out = _option(args, "--out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.tar.gz").write_bytes(b"model")
    print(f"Your Rasa model is trained and saved at '{out / 'model.tar.gz'}'.")
    return 0


def _test_core(args: list[str], mode: str) -> int:
    if mode == "no-model":
        print("Unable to test: could not find a model. Use 'rasa train' to train a Rasa model.")
        return 0
    out = _option(args, "--out")
    for name in ("story_report.json", "failed_test_stories.yml"):
        shutil.copy(FIXTURES / "core-failed-stories" / name, out / name)
    return 0


def _test_nlu(args: list[str]) -> int:
    out = _option(args, "--out")
    if "--cross-validation" in args:
        _copy(FIXTURES / "cross-validation", out, "*.json")
        print((FIXTURES / "cross-validation" / "log.txt").read_text(), file=sys.stderr)
    else:
        _copy(FIXTURES / "nlu", out, "*.json")
    return 0


def _replay(case: str) -> int:
    """Print what real rasa printed in one of tests/fixtures/rasa/ and exit as it did."""
    recorded = FIXTURES / case
    sys.stdout.write((recorded / "stdout.txt").read_text())
    sys.stderr.write((recorded / "stderr.txt").read_text())
    return int((recorded / "exit_code").read_text())


def _run(command: str, args: list[str], mode: str) -> int:
    if mode.startswith("fixture:"):
        return _replay(mode.split(":", 1)[1])
    if command == "data validate":
        return _validate(mode)
    if command.startswith("train"):
        return _train(args, mode)
    if command == "test core":
        return _test_core(args, mode)
    if command == "test nlu":
        return _test_nlu(args)
    if "--version" in args:
        print(f"Rasa Version      :         {VERSION}")
    return 0


def main(args: list[str], state: Path) -> int:
    behaviour = json.loads((state / "behaviour.json").read_text())
    command = " ".join(a for a in args[:2] if not a.startswith("-"))
    journal = state / "journal.jsonl"
    with journal.open("a") as log:
        log.write(json.dumps({"start": command, "t": time.monotonic(),
                              "rasa_cache_size": os.environ.get("RASA_MAX_CACHE_SIZE")}) + "\n")
    time.sleep(COMMAND_TIME_S)
    code = _run(command, args, behaviour.get(command, "ok"))
    with journal.open("a") as log:
        log.write(json.dumps({"end": command, "t": time.monotonic()}) + "\n")
    return code
