"""The Markdown summary: snapshot tests on real reports, and its building blocks.

Snapshots live in tests/fixtures/summary/*.md. After an intended change, regenerate them with

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_summary.py

and review the diff. The inputs are the real reports in tests/fixtures/reports/ and the
reports derived from them by tests/fixtures/make_derived_reports.py (in
tests/fixtures/summary/inputs/).
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest

from ci_toolkit.report.gates import GateSettings, evaluate_gates, parse_minimum
from ci_toolkit.report.model import Report
from ci_toolkit.summary.build import build_summary
from ci_toolkit.summary.html import collect_pictures, render_html
from ci_toolkit.summary.markdown import (
    GITHUB_COMMENT_LIMIT,
    cell,
    code,
    fence,
    render_markdown,
    tidy_blank_lines,
)
from ci_toolkit.summary.view import duration, marker
from tests import paths

REPO_ROOT = paths.REPO_ROOT
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SNAPSHOTS = FIXTURES / "summary"
INPUTS = SNAPSHOTS / "inputs"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def real(name: str) -> dict:
    return load(FIXTURES / "reports" / f"{name}.json")


def derived(name: str) -> dict:
    return load(INPUTS / f"{name}.json")


def typed(report: dict | None) -> Report | None:
    return None if report is None else Report.from_dict(report)


def render(report: dict, baseline: dict | None = None, settings: GateSettings | None = None) -> str:
    gates = evaluate_gates(typed(report), typed(baseline), settings) if settings else None
    return render_markdown(build_summary(typed(report), typed(baseline), gates=gates,
                                         root=REPO_ROOT))


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.md"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), (f"no snapshot {path.relative_to(REPO_ROOT)}: run "
                           "UPDATE_SNAPSHOTS=1 pytest tests/unit/test_summary.py and review it")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"the summary differs from {path.relative_to(REPO_ROOT)}"


def headings(markdown: str) -> list[str]:
    return re.findall(r"^#{2,3} (.+)$", markdown, flags=re.M)


# -- snapshots --------------------------------------------------------------------------

def test_snapshot_all_sections() -> None:
    report = derived("all-sections")
    settings = GateSettings(minimums=(parse_minimum("intent_f1>=0.5"),
                                      parse_minimum("response_f1>=0.5")),
                            max_drop=0.02, fail_on_failed_stories=True)
    text = render(report, derived("baseline"), settings)
    assert_snapshot("all-sections", text)
    assert text.startswith("<!-- ci-toolkit:summary:coffeebot -->\n## ❌ Failed: `coffeebot` at ")
    assert [h for h in headings(text) if not h.startswith(("✅", "❌"))] == [
        "Gates", "Metrics", "Cross-validation", "Test stories", "Validation", "Stages", "Artifacts"]
    for piece in ("**Intent classification**", "**Conversations**", "<details><summary>❌ <b>",
                  "```yaml", "rasa data validate", "[Workflow run](", "#artifacts)", "Pictures:",
                  "± "):
        assert piece in text, piece
    assert "not run" not in text


def test_snapshot_missing_sections_say_not_run() -> None:
    text = render(derived("missing-sections"))
    assert_snapshot("missing-sections", text)
    assert "**NLU**: not run: disabled (--no-test)" in text
    assert "**Conversations**: not run" in text
    assert "### Cross-validation\n\nnot run" in text
    assert "`rasa data validate`: not run" in text
    assert "| Metric |" not in text  # no empty tables
    assert "Workflow run" not in text


def test_snapshot_baseline_with_improvements_and_regressions() -> None:
    text = render(derived("regressed"), derived("baseline"), GateSettings(max_drop=0.02))
    assert_snapshot("baseline-deltas", text)
    assert re.search(r"\| ▲ \+0\.\d{4} \|", text)
    assert re.search(r"\| ▼ -0\.\d{4}( ❌ drop > 0\.02)? \|", text)
    assert "| = |" in text
    assert "❌ drop > 0.02" in text  # a delta that crosses the gate is marked
    assert "**Intents that got worse**" in text


def test_snapshot_300_intents_fits_in_one_comment_and_says_what_was_cut() -> None:
    text = render(derived("300-intents"), derived("300-intents-baseline"))
    assert_snapshot("300-intents", text)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "> ✂️ Shortened to fit GitHub's comment size limit: " in text
    assert re.search(r"(showing \d+ of|all) \d+ validation warnings", text)  # cut first
    assert re.search(r"… and \d+ more validation warnings, cut to fit the size limit\.", text)
    assert "(lowest F1; 5 of 300 intents)" in text
    # What is kept is whole: the cut happened between rows, not inside one.
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0


def test_300_intents_uncut_would_exceed_the_limit() -> None:
    # Guards the test above: it must really exercise the cutting.
    full = render_markdown(build_summary(typed(derived("300-intents")), typed(derived("300-intents-baseline")),
                                         root=REPO_ROOT), budget=None)
    assert len(full) > GITHUB_COMMENT_LIMIT
    assert "✂️" not in full and "more intents that got worse" not in full


def test_a_tight_budget_cuts_the_long_lists_least_useful_first() -> None:
    view = build_summary(typed(derived("300-intents")), typed(derived("300-intents-baseline")), root=REPO_ROOT)
    text = render_markdown(view, budget=20000)
    assert len(text) <= 20000
    assert view.cuts[:3] == ["all 80 validation warnings left out",
                             "no YAML for the 60 failed stories",
                             "showing 10 of 300 intents that got worse"]
    assert "… and 290 more intents that got worse, cut to fit the size limit." in text
    # The headline metrics are never cut (an unchanged table is folded, not cut).
    assert "<b>Intent classification</b>: no change" in text and "| Weighted F1 |" in text


def test_when_cutting_lists_is_not_enough_the_end_is_cut_and_said() -> None:
    view = build_summary(typed(derived("all-sections")), typed(derived("baseline")), root=REPO_ROOT)
    text = render_markdown(view, budget=1500)
    assert len(text) <= 1500
    assert text.startswith("<!-- ci-toolkit:summary:coffeebot -->\n## ❌ Failed")
    assert text.endswith("> ✂️ The rest of this summary was cut: it is longer than GitHub allows. "
                         "Read `summary.md` or `report.json` in the run's artifacts.\n")
    assert text.count("<details>") == text.count("</details>")


def test_failed_story_report_shows_the_failing_step() -> None:
    report = real("coffeebot-failed-story")
    text = render(report)
    story = report["core"]["failed_stories"][0]
    step = story["failed_step"]
    assert f"<b>{story['name']}</b>" in text
    assert f"expected {step['kind']} <code>{step['expected']}</code>" in text
    assert f"predicted <code>{step['predicted']}</code>" in text


# -- building blocks ----------------------------------------------------------------------

def test_marker_is_safe_inside_an_html_comment() -> None:
    assert marker("coffeebot") == "<!-- ci-toolkit:summary:coffeebot -->"
    assert marker("my bot --> <b>") == "<!-- ci-toolkit:summary:my_bot_-____b_ -->"
    assert marker("") == "<!-- ci-toolkit:summary:assistant -->"


def test_table_cells_escape_pipes_line_breaks_and_html() -> None:
    # With every "<" escaped no tag can open, so ">" is escaped only where it starts a quote.
    assert cell("a|b\nc <details> & d") == "a\\|b c &lt;details> &amp; d"
    assert cell("> quoted") == "&gt; quoted"


def test_code_spans_survive_backticks_and_pipes() -> None:
    assert code("utter_greet") == "`utter_greet`"
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b") == "`a\\|b`"


def test_fence_is_longer_than_any_backtick_run() -> None:
    assert fence("plain") == "```"
    assert fence("has ```` inside") == "`````"


def test_tidy_blank_lines_keeps_code_blocks_intact() -> None:
    text = "a\n\n\n\nb\n```yaml\nx\n\n\ny\n```\n\n\nc\n\n"
    assert tidy_blank_lines(text) == "a\n\nb\n```yaml\nx\n\n\ny\n```\n\nc\n"


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "n/a"), (0.04, "0.0 s"), (4.13, "4.1 s"), (41.0, "41 s"), (250.1, "4 min 10 s"),
    (120, "2 min"), (3725, "1 h 2 min"),
])
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_cached_stage_says_what_it_saved() -> None:
    report = real("coffeebot")
    stage = dict(report["stages"][0], cached=True, saved_s=41.0, duration_s=0.01)
    report = dict(report, stages=[stage])
    assert f"| {stage['name']} | ♻️ cached, saved 41 s | 0.0 s |" in render(report)


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    report = real("coffeebot")
    intents = report["nlu"]["intent_classification"]["labels"]
    name = next(iter(intents))
    intents["<script>x|y</script>"] = dict(intents[name], f1_score=0.1)
    text = render(report)
    # Only inside a code span, which GitHub shows literally; the pipe cannot split the row.
    assert "`<script>x\\|y</script>`" in text
    assert "<script>" not in text.replace("`<script>x\\|y</script>`", "")
    html = render_html(build_summary(typed(report), root=REPO_ROOT), [])
    assert "<script>" not in html and "&lt;script&gt;x|y&lt;/script&gt;" in html


# -- HTML report --------------------------------------------------------------------------

def test_html_report_embeds_the_pictures(tmp_path: Path) -> None:
    report = real("coffeebot")
    png = next((FIXTURES / "rasa").rglob("*.png"))
    report["artifacts"]["images"] = ["results/story_confusion_matrix.png", "results/missing.png"]
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "story_confusion_matrix.png").write_bytes(png.read_bytes())
    pictures = collect_pictures(typed(report), tmp_path)
    html = render_html(build_summary(typed(report), root=REPO_ROOT), pictures)
    encoded = base64.b64encode(png.read_bytes()).decode()
    assert f'<img src="data:image/png;base64,{encoded}" alt="story_confusion_matrix.png">' in html
    assert "results/missing.png was not found." in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//(?!github\.com)""", html)  # self-contained
    assert "<h2>Metrics</h2>" in html and "<h2>Stages</h2>" in html


def test_cli_writes_markdown_and_html_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from ci_toolkit.cli import main

    for name in list(os.environ):
        if name.startswith(("GITHUB_", "CI_TOOLKIT_")):
            monkeypatch.delenv(name)
    report = real("coffeebot")
    png = next((FIXTURES / "rasa").rglob("*.png"))
    image = tmp_path / report["artifacts"]["images"][0]
    image.parent.mkdir(parents=True)
    image.write_bytes(png.read_bytes())
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report.json").write_text(json.dumps(report), encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    assert main(["summary", "--no-comment", "--html", "out/report.html"]) == 0
    markdown = (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert capsys.readouterr().out == markdown + "\n"  # and shown on the terminal
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert base64.b64encode(png.read_bytes()).decode() in html
