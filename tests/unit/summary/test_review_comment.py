"""The comment a reviewer reads in ten seconds (issue 14): the verdict never hides failed
stories, one line says what changed, unchanged tables and long lists fold, the PR's head
commit and the baseline's commit are linked, and it fits one comment at 5,000 intents."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ci_toolkit.github_context import GitHubContext
from ci_toolkit.report.model import Report
from ci_toolkit.summary.build import build_summary
from ci_toolkit.summary.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from ci_toolkit.summary.stopped import head_commit, stopped_markdown
from tests import paths

INPUTS = paths.FIXTURES / "summary" / "inputs"
HEAD = "feedface" * 5
SERVER = "https://github.com/octo-org/coffee-assistant"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def derived(name: str) -> dict[str, Any]:
    return load(INPUTS / f"{name}.json")


def failed_story_report(passed: bool) -> dict[str, Any]:
    report = load(paths.FIXTURES / "reports" / "coffeebot-failed-story.json")
    report["verdict"] = "passed" if passed else "failed"
    return report


def summary(report: dict[str, Any], baseline: dict[str, Any] | None = None, **kwargs: Any
            ) -> tuple[Any, str]:
    view = build_summary(Report.from_dict(report),
                         Report.from_dict(baseline) if baseline else None,
                         root=paths.REPO_ROOT, **kwargs)
    return view, render_markdown(view)


# -- item 4: a pass with failed stories is never a bare ✅ --------------------------------

@pytest.mark.parametrize(("verdict", "stories", "extractors", "headline"), [
    ("passed", 0, 0, "✅ Passed"),
    ("passed", 1, 0, "⚠️ Passed with 1 failed story"),
    ("passed", 3, 0, "⚠️ Passed with 3 failed stories"),
    ("passed", 0, 2, "⚠️ Passed, 2 extractors not evaluated"),
    ("passed", 2, 1, "⚠️ Passed with 2 failed stories, 1 extractor not evaluated"),
    ("failed", 1, 1, "❌ Failed"),
])
def test_headline_says_what_a_pass_hides(verdict: str, stories: int, extractors: int,
                                         headline: str) -> None:
    view, _ = summary(derived("all-sections"))
    view = replace(view, verdict=verdict, failed_story_count=stories,
                   unreachable_extractors=extractors)
    assert view.headline == headline


def test_gates_off_pass_with_a_failed_story_warns_in_headline_and_stage_table() -> None:
    _, text = summary(failed_story_report(passed=True), gates=[])
    assert text.splitlines()[1].startswith("## ⚠️ Passed with 1 failed story: `coffeebot`")
    assert "| test_core | ⚠️ passed: 1 of 7 test stories failed |" in text


# -- item 8: the change line --------------------------------------------------------------

def _same(report: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(report)


def _one_more_failing(report: dict[str, Any]) -> dict[str, Any]:
    baseline = copy.deepcopy(report)
    baseline["core"]["failed_stories"] = []
    return baseline


@pytest.mark.parametrize(("case", "report", "baseline", "expected"), [
    ("no baseline", "all-sections", None, r"^no baseline$"),
    ("same report", "all-sections", _same, r"^no change against the baseline$"),
    ("regressed", "regressed", "baseline",
     r"^intent accuracy \u22120\.181, intent macro F1 \u22120\.171, intent weighted F1 "
     r"\u22120\.160, 2 more metrics worse, 3 intents with a lower F1, 4 metrics better$"),
    ("intents fell, headlines did not", "300-intents", "300-intents-baseline",
     r"^300 intents with a lower F1$"),
    ("a story newly failing", "all-sections", _one_more_failing,
     r"^(.*, )?1 story newly failing$"),
])
def test_change_line(case: str, report: str, baseline: Any, expected: str) -> None:
    current = derived(report)
    base = baseline(current) if callable(baseline) else (derived(baseline) if baseline else None)
    view, text = summary(current, base)
    assert re.search(expected, view.changes), (case, view.changes)
    third = text.splitlines()[3]  # marker, verdict, blank, the change line
    assert third.startswith("**Changes**") and "\\" not in view.changes, third


def test_unchanged_tables_stages_and_pictures_fold_and_pictures_link_to_artifacts() -> None:
    report = derived("all-sections")
    _, text = summary(report, _same(report))
    assert "<details><summary><b>Intent classification</b>: no change</summary>" in text
    assert re.search(r"<details><summary>Test folds, mean ± std.*: no change</summary>", text)
    assert re.search(r"### Stages\n\n<details><summary>\d+ stages in ", text)
    assert "<details><summary>Pictures: " in text
    artifacts = report["run"]["github"]["run_url"] + "#artifacts"
    assert f"[`nlu/intent_histogram.png`]({artifacts})" in text
    assert "![" not in text  # never embedded
    _, changed = summary(derived("regressed"), derived("baseline"))
    assert "**Intent classification**\n\n| Metric |" in changed  # a change stays open


# -- item 7: the commits ------------------------------------------------------------------

def test_the_comment_names_the_head_commit_and_links_the_baseline_commit() -> None:
    report, baseline = derived("all-sections"), derived("baseline")
    view, text = summary(report, baseline, head_commit=HEAD)
    assert view.commit == HEAD[:7] and view.commit_url == f"{SERVER}/commit/{HEAD}"
    assert f"[`{HEAD[:7]}`]({SERVER}/commit/{HEAD})" in text.splitlines()[1]
    merge = report["run"]["commit"]
    assert merge[:7] not in text.splitlines()[1]
    base_sha = baseline["run"]["commit"]
    assert f"against [`{base_sha[:7]}`]({SERVER}/commit/{base_sha}):" in text


@pytest.mark.parametrize(("event_name", "payload", "expected"), [
    ("pull_request", {"pull_request": {"head": {"sha": HEAD.upper()}}}, HEAD),
    ("pull_request_target", {"pull_request": {"head": {"sha": HEAD}}}, HEAD),
    ("push", {"pull_request": {"head": {"sha": HEAD}}}, None),
    ("pull_request", {"pull_request": {"head": {"sha": "abc"}}}, None),
    ("pull_request", {"pull_request": {"head": {"sha": "x](http://evil)"}}}, None),
    ("pull_request", {"pull_request": {"head": None}}, None),
    ("pull_request", {}, None),
])
def test_head_commit_comes_from_the_event(tmp_path: Path, event_name: str, payload: dict,
                                          expected: str | None) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload), encoding="utf-8")
    context = GitHubContext(event_name=event_name, event_path=str(event))
    assert head_commit(context) == expected


def test_stopped_comment_escapes_the_reason_and_links_commit_and_log() -> None:
    context = GitHubContext(actions=True, repository="octo-org/coffee-assistant", run_id="9")
    text = stopped_markdown(assistant_name="coffeebot", reason="<img src=x> @org/team [x](y)",
                            context=context, commit=HEAD)
    lines = text.splitlines()
    assert lines[0] == "<!-- ci-toolkit:summary:coffeebot -->"
    assert lines[1].startswith("## ❌ ci-toolkit stopped before a report was written: ")
    assert "<img" not in text and "[x](y)" not in text and "@org/team" not in text
    assert f"[`{HEAD[:7]}`]({SERVER}/commit/{HEAD})" in text
    assert f"[job log]({SERVER}/actions/runs/9)" in text
    generic = stopped_markdown(assistant_name="a", reason=" ", context=GitHubContext(),
                               commit=None)
    assert "the job log says why" in generic


# -- item 8: 5,000 intents in one comment -------------------------------------------------

def _many_intents(report: dict[str, Any], count: int) -> dict[str, Any]:
    report = copy.deepcopy(report)
    labels = report["nlu"]["intent_classification"]["labels"]
    shapes = list(labels.values())
    report["nlu"]["intent_classification"]["labels"] = {
        f"ask_about_menu_item_{index:04d}": dict(shapes[index % len(shapes)],
                                                 f1_score=round(0.2 + (index % 700) / 1000, 4))
        for index in range(count)}
    return report


def test_5000_intents_fit_in_one_comment_with_the_cuts_said() -> None:
    report = _many_intents(derived("300-intents"), 5000)
    baseline = _many_intents(derived("300-intents-baseline"), 5000)
    for label in baseline["nlu"]["intent_classification"]["labels"].values():
        label["f1_score"] = 0.99  # every intent got worse: the longest list there is
    view, text = summary(report, baseline)
    assert view.intent_count == 5000 and len(view.worse_intents.items) == 5000
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "> ✂️ Shortened to fit GitHub's comment size limit: " in text
    assert re.search(r"… and \d+ more intents that got worse, cut to fit the size limit\.", text)
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0
    assert text.splitlines()[1].startswith("## ❌ Failed")
    assert text.splitlines()[3].startswith("**Changes**")
