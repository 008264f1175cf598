"""The truth with real rasa where only real rasa can show it (tests/unit covers the rest):

- `rasa train` rewrites a config.yml without `assistant_id`; the toolkit gives rasa a copy,
  so the user's file is byte-identical and the next unchanged run restores every stage;
- when rasa fails on a broken config, the stage's reason is rasa's own exception line.

Both use the cheapest settings that train: no validation, the NLU model and its test only
(the first with a pipeline without TensorFlow), no cross-validation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.pipeline_runs import ci_toolkit
from tests.rasa_support import copy_example, use_light_nlu_pipeline

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
CHEAP = ("--no-validate", "--train-type", "nlu", "--test-type", "nlu", "--jobs", "1")


def _private_state(tmp_path: Path) -> dict[str, str]:
    # The cache key file of these runs, not the user's (ci_toolkit/pipeline/cache_key.py).
    return {"XDG_STATE_HOME": str(tmp_path / "state")}


def test_a_config_without_assistant_id_stays_unchanged_and_the_rerun_is_cached(
        tmp_path: Path) -> None:
    project = copy_example(tmp_path / "coffeebot")
    config = project / "config.yml"
    use_light_nlu_pipeline(project)
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith("assistant_id:")))
    original = config.read_bytes()

    first = ci_toolkit(project, *CHEAP, env=_private_state(tmp_path))
    assert first.exit_code == 0, first.output[-3000:]
    assert first.ran() == {"train", "test_nlu"}
    assert config.read_bytes() == original
    assert "has no assistant_id" in first.output and "config.yml is left unchanged" in first.output

    second = ci_toolkit(project, *CHEAP, env=_private_state(tmp_path))
    assert second.exit_code == 0, second.output[-3000:]
    assert second.ran() == set()
    assert second.cached() == {"train", "test_nlu"}
    assert config.read_bytes() == original


def test_a_broken_config_fails_with_rasas_own_exception_line(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "coffeebot")
    config = project / "config.yml"
    # Featurizers without the tokenizer they need: rasa's graph validation refuses it.
    config.write_text(config.read_text().replace("  - name: WhitespaceTokenizer\n", ""))

    run = ci_toolkit(project, *CHEAP, env=_private_state(tmp_path))
    assert run.exit_code == 1, run.output[-3000:]
    train = run.stage("train")
    assert train["status"] == "failed"
    assert train["reason"].startswith(
        "rasa.engine.exceptions.GraphSchemaValidationException: 8 components are missing")
    assert "require a Tokenizer" in train["reason"]
    assert run.stage("test_nlu")["reason"] == "train failed"
