"""An extractor rasa did not score shows in the summary, and an unreachable one keeps the
headline from reading as a clean pass (Markdown and HTML alike)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ci_toolkit.pipeline.result_table import render_table
from ci_toolkit.report.gates import GateSettings, evaluate_gates
from ci_toolkit.report.model import Report
from ci_toolkit.summary.build import INFORMATION, build_summary
from ci_toolkit.summary.html import render_html
from ci_toolkit.summary.markdown import render_markdown
from tests import paths

UNREACHABLE = {"name": "DucklingEntityExtractor", "unreachable": True,
               "reason": "the Duckling server at http://127.0.0.1:9 could not be reached (105 "
                         "connection errors)"}
PRETRAINED = {"name": "SpacyEntityExtractor", "reason": "pretrained: rasa does not score it",
              "unreachable": False}
WARNING = ("⚠️ DucklingEntityExtractor was not evaluated: the Duckling server at "
           "http://127.0.0.1:9 could not be reached (105 connection errors)")
INFO = f"{INFORMATION} SpacyEntityExtractor was not evaluated: pretrained: rasa does not score it"


def _report(nlu: list[dict], cross: list[dict] | None = None, *, verdict: str = "passed",
            no_nlu: bool = False) -> dict[str, Any]:
    path = paths.FIXTURES / "reports" / "coffeebot.json"
    report = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    report["verdict"] = verdict
    if nlu:
        report["nlu"]["unevaluated_extractors"] = nlu
    if cross:
        report["cross_validation"]["unevaluated_extractors"] = cross
    if no_nlu:
        report["nlu"] = None
    return report


def _plain(markdown: str) -> str:
    # The Markdown escaping breaks autolinks with a zero-width joiner: read past it.
    return markdown.replace("\u200d", "")


# case: (report, gate settings or None, headline, lines the summary must contain)
CASES: dict[str, tuple[dict, GateSettings | None, str, list[str]]] = {
    "clean pass": (_report([]), None, "✅ Passed", []),
    "unreachable duckling": (_report([UNREACHABLE]), None,
                             "⚠️ Passed, 1 extractor not evaluated", [WARNING]),
    "pretrained only: still a clean pass": (_report([PRETRAINED]), None, "✅ Passed", [INFO]),
    "both": (_report([UNREACHABLE, PRETRAINED]), None,
             "⚠️ Passed, 1 extractor not evaluated", [WARNING, INFO]),
    "only cross-validation found it": (_report([], [UNREACHABLE]), None,
                                       "⚠️ Passed, 1 extractor not evaluated", [WARNING]),
    "NLU test did not run": (_report([], [UNREACHABLE], no_nlu=True), None,
                             "⚠️ Passed, 1 extractor not evaluated", [WARNING]),
    "failed run stays failed": (_report([UNREACHABLE], verdict="failed"), None, "❌ Failed",
                                [WARNING]),
    "gate fails on it": (_report([UNREACHABLE]),
                         GateSettings(fail_on_unreachable_extractors=True), "❌ Failed",
                         [WARNING, "1 entity extractor could not be evaluated"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_summary_says_which_extractor_was_not_evaluated(case: str) -> None:
    data, settings, headline, lines = CASES[case]
    report = Report.from_dict(data)
    gates = evaluate_gates(report, None, settings) if settings else None
    view = build_summary(report, gates=gates, root=paths.REPO_ROOT)
    assert view.headline == headline
    markdown = _plain(render_markdown(view, budget=None))
    assert markdown.splitlines()[1].startswith(f"## {headline}: ")
    html = render_html(view, [])
    assert f">{headline}: <code>" in html
    for line in lines:
        assert line in markdown
    for line in lines:
        assert line in html
    if not lines:
        assert "was not evaluated" not in markdown


def test_the_note_is_under_the_entity_tables() -> None:
    view = build_summary(Report.from_dict(_report([UNREACHABLE])), root=paths.REPO_ROOT)
    [entities] = [table for table in view.tasks if table.title.startswith("Entities")]
    assert entities.notes == [WARNING]
    assert all(not table.notes for table in view.tasks if table is not entities)


@pytest.mark.parametrize(("extractors", "lines"), [
    ([UNREACHABLE], ["DucklingEntityExtractor NOT EVALUATED",
                     "warning: DucklingEntityExtractor was not evaluated: the Duckling server "
                     "at http://127.0.0.1:9 could not be reached (105 connection errors)"]),
    ([PRETRAINED], []),
    ([], []),
])
def test_the_terminal_result_table_warns(extractors: list[dict], lines: list[str]) -> None:
    table = render_table(Report.from_dict(_report(extractors)))
    for line in lines:
        assert line in table
    if not lines:
        assert "NOT EVALUATED" not in table and "was not evaluated" not in table
