"""Why rasa failed, in rasa's own words, from real rasa output (tests/fixtures/rasa/failure-*,
made by tests/fixtures/rasa/make_failure_fixtures.py on broken copies of the example)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.pipeline.project import RasaProject
from ci_toolkit.rasa.failures import condense, rasa_failure
from ci_toolkit.rasa.validation import RASA_EXCEPTION, parse_findings
from tests import paths

FIXTURES = paths.FIXTURES / "rasa"
# make_failure_fixtures.py writes the temporary project's path as this.
PROJECT = Path("/tmp/coffeebot")


def _output(case: str) -> tuple[str, str]:
    out = FIXTURES / f"failure-{case}"
    return (out / "stdout.txt").read_text(), (out / "stderr.txt").read_text()


# case, exit code rasa gave, what the reason must say, (file, line) it must point at
CASES = [
    ("train-no-tokenizer", 1,
     ["rasa.engine.exceptions.GraphSchemaValidationException: 8 components are missing",
      "The following components require a Tokenizer"], (None, None)),
    ("train-unknown-component", 1,
     ["InvalidConfigException: Can't load class for name 'RegexFeaturiser'"], (None, None)),
    ("train-duplicate-key", 1,
     ["YamlSyntaxException: Failed to read 'domain.yml'.", 'found duplicate key "intents"',
      "(domain.yml:76)"], ("domain.yml", 76)),
    ("validate-duplicate-key", 1, ['found duplicate key "intents" (domain.yml:76)'],
     ("domain.yml", 76)),
    ("train-schema-error", 1,
     ["YamlValidationException: Failed to validate 'data/nlu.yml'",
      "Here are the errors found during validation: data/nlu.yml:163: Key 'exmples' was not "
      "defined. Path: '/nlu/16'; data/nlu.yml:163: Key 'intent' was not defined"],
     ("data/nlu.yml", 163)),
    ("validate-schema-error", 1,
     ["Here are the errors found during validation: data/nlu.yml:163: Key 'exmples'"],
     ("data/nlu.yml", 163)),
]


@pytest.mark.parametrize("case, exit_code, says, where", CASES, ids=[c[0] for c in CASES])
def test_the_reason_is_rasas_own_last_error(case: str, exit_code: int, says: list[str],
                                            where: tuple[str | None, int | None]) -> None:
    assert (FIXTURES / f"failure-{case}" / "exit_code").read_text().strip() == str(exit_code)
    failure = rasa_failure(*_output(case), root=PROJECT)
    assert failure is not None
    reason = str(failure)
    for text in says:
        assert text in reason
    assert (failure.file, failure.line) == where
    assert "\n" not in reason and "/tmp/coffeebot" not in reason
    assert "yamlchecker" not in reason and "^ (line" not in reason  # rasa's noise is gone


def test_no_failure_in_a_clean_run() -> None:
    out = FIXTURES / "validate-clean"
    assert rasa_failure((out / "stdout.txt").read_text(), (out / "stderr.txt").read_text()) is None


def test_the_last_traceback_wins_over_an_earlier_chained_one() -> None:
    stderr = ("Traceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'a'\n\n"
              "During handling of the above exception, another exception occurred:\n\n"
              "Traceback (most recent call last):\n  File \"y\", line 2\n"
              "rasa.shared.exceptions.InvalidConfigException: the real reason\n")
    assert str(rasa_failure("", stderr)) == \
        "rasa.shared.exceptions.InvalidConfigException: the real reason"


def test_a_very_long_message_is_cut_with_a_mark() -> None:
    failure = condense("ValueError", ["x" * 5000])
    assert len(str(failure)) <= 600 and str(failure).endswith("…")


@pytest.mark.parametrize("case, where", [("validate-duplicate-key", ("domain.yml", 76)),
                                         ("validate-schema-error", ("data/nlu.yml", 163))])
def test_validation_keeps_the_detail_file_and_line(case: str, where: tuple[str, int]) -> None:
    stdout, stderr = _output(case)
    project = RasaProject(root=PROJECT, config=PROJECT / "config.yml",
                          domain=PROJECT / "domain.yml", data=(PROJECT / "data",), tests=None,
                          actions=None, credentials=None, endpoints=None)
    findings = parse_findings(stdout=stdout, stderr=stderr, project=project,
                              fail_on_warnings=False)
    [error] = [f for f in findings["errors"] if f["code"] == RASA_EXCEPTION]
    assert (error["file"], error["line"]) == where
    assert ("Key 'exmples' was not defined" in error["message"]
            or 'found duplicate key "intents"' in error["message"])
