"""The pipeline tests' stand-in `rasa` (it writes the files real rasa writes, copied from
tests/fixtures/rasa/) and a private cache key for every test."""

from __future__ import annotations

import io
import json
import stat
import sys
from pathlib import Path

import pytest

from ci_toolkit.pipeline.run import Pipeline
from ci_toolkit.pipeline.settings import PipelineSettings
from ci_toolkit.proc import Console
from tests import paths
from tests.rasa_support import copy_example

FIXTURES = paths.FIXTURES / "rasa"


@pytest.fixture(autouse=True)
def private_cache_key(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs sign their cache with a key file of their own, never the user's
    (ci_toolkit/pipeline/cache_key.py)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.delenv("CI_TOOLKIT_CACHE_KEY", raising=False)


STAND_IN = r'''#!{python}
import json, os, shutil, sys, time
from pathlib import Path
args = sys.argv[1:]
fixtures = Path({fixtures!r})
journal = Path({journal!r})
behaviour = json.loads(Path({behaviour!r}).read_text())
def arg(name):
    return args[args.index(name) + 1]
command = " ".join(a for a in args[:2] if not a.startswith("-"))
with journal.open("a") as j:
    j.write(json.dumps({{"start": command, "t": time.monotonic(),
                        "rasa_cache_size": os.environ.get("RASA_MAX_CACHE_SIZE")}}) + "\n")
time.sleep(0.2)
mode = behaviour.get(command, "ok")
if mode.startswith("fixture:"):  # replay what real rasa printed (tests/fixtures/rasa/)
    case = fixtures / mode.split(":", 1)[1]
    sys.stdout.write((case / "stdout.txt").read_text())
    sys.stderr.write((case / "stderr.txt").read_text())
    sys.exit(int((case / "exit_code").read_text()))
if command == "data validate":
    if mode == "errors":
        print((fixtures / "validate-errors" / "stderr.txt").read_text(), file=sys.stderr)
        print("Project validation completed with errors.")
        sys.exit(1)
elif command.startswith("train"):
    if mode == "no-model":
        print("No training data given. Please provide stories and NLU data.")
        sys.exit(0)  # what rasa train nlu/core does
    out = Path(arg("--out")); out.mkdir(parents=True, exist_ok=True)
    (out / "model.tar.gz").write_bytes(b"model")
    print(f"Your Rasa model is trained and saved at '{{out / 'model.tar.gz'}}'.")
elif command == "test core":
    if mode == "no-model":
        print("Unable to test: could not find a model. Use 'rasa train' to train a Rasa model.")
        sys.exit(0)
    out = Path(arg("--out"))
    for name in ("story_report.json", "failed_test_stories.yml"):
        shutil.copy(fixtures / "core-failed-stories" / name, out / name)
elif command == "test nlu" and "--cross-validation" in args:
    out = Path(arg("--out"))
    for p in (fixtures / "cross-validation").glob("*.json"):
        shutil.copy(p, out / p.name)
    print((fixtures / "cross-validation" / "log.txt").read_text(), file=sys.stderr)
elif command == "test nlu":
    out = Path(arg("--out"))
    for p in (fixtures / "nlu").glob("*.json"):
        shutil.copy(p, out / p.name)
with journal.open("a") as j:
    j.write(json.dumps({{"end": command, "t": time.monotonic()}}) + "\n")
'''


@pytest.fixture
def stand_in(tmp_path: Path):
    journal = tmp_path / "journal.jsonl"
    behaviour = tmp_path / "behaviour.json"
    behaviour.write_text("{}")
    rasa = tmp_path / "bin" / "rasa"
    rasa.parent.mkdir()
    rasa.write_text(STAND_IN.format(python=sys.executable, fixtures=str(FIXTURES),
                                    journal=str(journal), behaviour=str(behaviour)))
    rasa.chmod(rasa.stat().st_mode | stat.S_IEXEC)

    def run(behave: dict[str, str] | None = None, **options):
        behaviour.write_text(json.dumps(behave or {}))
        journal.unlink(missing_ok=True)
        project = copy_example(tmp_path / "bot") if not (tmp_path / "bot").exists() else tmp_path / "bot"
        options.setdefault("no_cache", True)
        settings = PipelineSettings(project_dir=project, rasa=str(rasa), cross_validation=True,
                                    **options)
        result = Pipeline(settings, console=Console(io.StringIO()), environ={}).execute()
        events = [json.loads(line) for line in journal.read_text().splitlines()] if journal.exists() else []
        return result, events
    return run
