"""The pipeline on another supported rasa 3 release than the pinned 3.6.21: every stage runs,
rasa's files are read, and the report names the release that ran.

Rasa's command line changes between releases (3.6 added validation inside `rasa train` and
its --skip-validation, which 3.5 refuses), so each supported release is run for real. A
configuration without TensorFlow keeps this to rasa's start-up time per stage.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.pipeline_runs import ci_toolkit
from tests.rasa_support import (
    OTHER_RASA_RELEASE,
    copy_example,
    other_rasa_executable,
    use_light_nlu_pipeline,
)

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


def test_every_stage_runs_on_another_supported_rasa_release(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "coffeebot")
    use_light_nlu_pipeline(project, light_policies=True)

    run = ci_toolkit(project, "--jobs", "2", env={"CI_TOOLKIT_RASA": other_rasa_executable(),
                                                  "XDG_STATE_HOME": str(tmp_path / "state")})

    assert run.exit_code == 0, run.output[-3000:]
    assert run.report is not None and run.report["run"]["rasa_version"] == OTHER_RASA_RELEASE
    assert run.ran() == {"validate", "train", "test_core", "test_nlu"}
    assert "--skip-validation" not in Path(run.stage("train")["log_file"]).read_text()
    assert run.report["core"]["conversations"]["total"] == 6
    assert run.report["nlu"]["intent_classification"]["weighted_avg"]["f1_score"] > 0.5
