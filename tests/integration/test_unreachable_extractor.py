"""A DucklingEntityExtractor whose server cannot be reached, with real rasa: rasa logs an error
per test message, writes no report for it and exits 0. The run must not read as a clean pass:
report.json lists the extractor as unreachable with its URL, the summary says so, and
--fail-on-unreachable-extractors fails the run (exit 1) with the reason.

The cheapest settings that train: no validation, the NLU model and its test only, a pipeline
without TensorFlow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.pipeline_runs import ci_toolkit
from tests.rasa_support import copy_example, use_light_nlu_pipeline

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
CHEAP = ("--no-validate", "--train-type", "nlu", "--test-type", "nlu", "--jobs", "1")
URL = "http://127.0.0.1:9"  # the discard port: nothing listens there
DUCKLING = f"  - name: DucklingEntityExtractor\n    url: {URL}\n    dimensions: [number]\n"


def _duckling_without_server(project: Path) -> None:
    use_light_nlu_pipeline(project, extra_components=DUCKLING)


def test_an_unreachable_duckling_server_is_reported_and_can_fail_the_run(
        tmp_path: Path) -> None:
    project = copy_example(tmp_path / "coffeebot")
    _duckling_without_server(project)
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "RASA_DUCKLING_HTTP_URL": ""}

    first = ci_toolkit(project, *CHEAP, env=env)
    assert first.exit_code == 0, first.output[-3000:]
    assert first.report is not None
    [duckling] = first.report["nlu"]["unevaluated_extractors"]
    assert duckling["name"] == "DucklingEntityExtractor" and duckling["unreachable"] is True
    assert duckling["reason"].startswith(f"the Duckling server at {URL} could not be reached (")
    assert "connection errors)" in duckling["reason"]
    # `run` prints the result table; the Markdown summary is `ci-toolkit summary`'s.
    assert "warning: DucklingEntityExtractor was not evaluated: the Duckling server at" in (
        first.stdout)
    subprocess.run([sys.executable, "-m", "ci_toolkit.cli", "summary",
                    str(project / "reports" / "report.json"), "--no-comment"],
                   check=True, capture_output=True, timeout=300,
                   env={k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"})
    summary = (project / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "⚠️ Passed, 1 extractor not evaluated" in summary
    assert "DucklingEntityExtractor was not evaluated: the Duckling server at" in summary

    # The stages come from the cache: what they found about Duckling must come with them.
    gated = ci_toolkit(project, *CHEAP, "--fail-on-unreachable-extractors", env=env)
    assert gated.exit_code == 1, gated.output[-3000:]
    assert gated.cached() == {"train", "test_nlu"}
    assert (f"gate failed: 1 entity extractor could not be evaluated (DucklingEntityExtractor: "
            f"the Duckling server at {URL} could not be reached (") in gated.output
    assert gated.report is not None
    [gate] = gated.report["gates"]
    assert gate["kind"] == "unreachable_extractors" and gate["passed"] is False
