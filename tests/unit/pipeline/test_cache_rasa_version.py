"""A stage result is reused only for the rasa that produced it: when rasa's version cannot
be read, the fingerprint cannot tell two executables apart, so nothing is restored or
stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.rasa_support import copy_example

NO_VERSION = "[cache] rasa's version could not be read: every stage runs"
RESTORED = "restored from the cache"
SCRIPTS = {
    # Exit 0 on everything, but no version on --version.
    "ok": "#!/bin/sh\necho fake rasa \"$@\"\nexit 0\n",
    "failing": "#!/bin/sh\necho 'plain failure' >&2\nexit 1\n",
    "versioned": "#!/bin/sh\nif [ \"$1\" = --version ]; then "
                 "echo 'Rasa Version      :         3.6.21'; fi\nexit 0\n",
}


def _script(tmp_path: Path, name: str) -> str:
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(SCRIPTS[name])
    path.chmod(0o755)
    return str(path)


# (first rasa, second rasa, second run's exit code, in its output, not in its output)
CASES = [
    ("ok", "failing", 1, NO_VERSION, RESTORED),
    ("ok", "ok", 0, NO_VERSION, RESTORED),
    ("versioned", "versioned", 0, RESTORED, NO_VERSION),
]


@pytest.mark.parametrize("first, second, code, present, absent", CASES)
def test_results_are_cached_only_for_a_known_rasa(tmp_path: Path, capsys, monkeypatch,
                                                  first: str, second: str, code: int,
                                                  present: str, absent: str) -> None:
    monkeypatch.delenv("CI_TOOLKIT_NO_CACHE", raising=False)
    project = copy_example(tmp_path / "bot")
    assert main(["validate", str(project), "--rasa", _script(tmp_path, first)]) == 0
    capsys.readouterr()
    assert main(["validate", str(project), "--rasa", _script(tmp_path, second)]) == code
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert present in output
    assert absent not in output
    assert output.count(NO_VERSION) <= 1
