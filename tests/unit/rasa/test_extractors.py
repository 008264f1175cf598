"""Extractors rasa did not score, and why: one case per way an extractor goes unscored, on
rasa's real log of an unreachable Duckling server (tests/fixtures/rasa/duckling-unreachable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.rasa import reports
from ci_toolkit.rasa.extractors import PRETRAINED_REASON, unevaluated_extractors
from tests import paths

FIXTURE = paths.FIXTURES / "rasa" / "duckling-unreachable"
REAL_LOG = (FIXTURE / "log.txt").read_text(encoding="utf-8")
BASE = "pipeline:\n  - name: WhitespaceTokenizer\n  - name: DIETClassifier\n"
DUCKLING = "  - name: DucklingEntityExtractor\n    url: http://duckling.internal:8000\n"
BAD_RESPONSE = ("2026-12-01 11:13:50 ERROR    rasa.nlu.extractors.duckling_entity_extractor  - "
                "Failed to get a proper response from remote duckling at "
                "'http://duckling.internal:8000/parse. Status Code: 502. Response: Bad Gateway\n")
NO_URL = ("UserWarning: Duckling HTTP component in pipeline, but no `url` configuration in the "
          "config file nor is `RASA_DUCKLING_HTTP_URL` set as an environment variable.\n")


def _entry(name: str, reason: str, unreachable: bool) -> dict[str, object]:
    return {"name": name, "reason": reason, "unreachable": unreachable}


REAL = _entry("DucklingEntityExtractor", "the Duckling server at http://127.0.0.1:9 could not "
              "be reached (105 connection errors)", True)
PRETRAINED_DUCKLING = _entry("DucklingEntityExtractor", PRETRAINED_REASON, False)
CASES = {
    # case: (config text or None for the real fixture's, log, environment, expected)
    "real rasa log, server down": (None, REAL_LOG, {}, [REAL]),
    "real rasa log, url from RASA_DUCKLING_HTTP_URL": (
        None, REAL_LOG, {"RASA_DUCKLING_HTTP_URL": "http://duckling:8000"},
        [dict(REAL, reason="the Duckling server at http://duckling:8000 could not be reached "
                           "(105 connection errors)")]),
    "server works: pretrained, not scored": (BASE + DUCKLING, "", {}, [PRETRAINED_DUCKLING]),
    "spacy: pretrained, not scored": (
        BASE + "  - name: SpacyEntityExtractor\n", REAL_LOG.replace("duckling", "x"), {},
        [_entry("SpacyEntityExtractor", PRETRAINED_REASON, False)]),
    "named by module path": (
        BASE + "  - name: rasa.nlu.extractors.duckling_entity_extractor."
               "DucklingEntityExtractor\n", "", {}, [PRETRAINED_DUCKLING]),
    "server answers with errors": (
        BASE + DUCKLING, BAD_RESPONSE * 3, {},
        [_entry("DucklingEntityExtractor", "the Duckling server at "
                "http://duckling.internal:8000 answered 3 requests with an error (HTTP status "
                "502)", True)]),
    "no url anywhere": (
        BASE + "  - name: DucklingEntityExtractor\n", NO_URL, {},
        [_entry("DucklingEntityExtractor", "it has no `url` in the config and "
                "RASA_DUCKLING_HTTP_URL is not set, so it extracted nothing", True)]),
    "model from another config: the log names the server": (
        BASE, REAL_LOG, {}, [REAL]),
    "no pretrained extractor": (BASE, "", {}, []),
    "config unreadable: nothing to list": ("pipeline: [unclosed\n", "", {}, []),
    "config not a mapping": ("- just a list\n", "", {}, []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_unevaluated_extractors(tmp_path: Path, case: str) -> None:
    text, log, environ, expected = CASES[case]
    config = FIXTURE / "config.yml"
    if text is not None:
        config = tmp_path / "config.yml"
        config.write_text(text, encoding="utf-8")
    assert unevaluated_extractors(config, log, environ) == expected


def test_no_config_still_reads_the_log() -> None:
    assert unevaluated_extractors(None, REAL_LOG, {}) == [REAL]


def test_the_nlu_results_list_the_unreachable_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RASA_DUCKLING_HTTP_URL", raising=False)
    nlu = reports.parse_nlu_results(FIXTURE / "results", config=FIXTURE / "config.yml",
                                    log_text=REAL_LOG)
    assert nlu["unevaluated_extractors"] == [REAL]
    assert nlu["intent_classification"] is not None
    assert "DucklingEntityExtractor" not in nlu["entity_extraction"]


def test_cross_validation_lists_them_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RASA_DUCKLING_HTTP_URL", raising=False)
    cross = reports.parse_cross_validation(FIXTURE / "results", log_text=REAL_LOG, folds=3,
                                           config=FIXTURE / "config.yml")
    assert cross["unevaluated_extractors"] == [REAL]
