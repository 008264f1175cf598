"""The "Configuration comparison" part of the summary (ci_toolkit/summary/comparison.py, the
templates): the numbers, the winner and margin, the plot embedded in the HTML report and
named in the comment, and config names from the repository made inert."""

from __future__ import annotations

import base64
import json
import re
from html import escape
from pathlib import Path

import pytest

from ci_toolkit.report.model import Report
from ci_toolkit.summary.build import build_summary
from ci_toolkit.summary.html import html_report
from ci_toolkit.summary.markdown import render_markdown
from tests import paths
from tests.unit.compare.shards import section
from tests.unit.summary.test_hostile_text import active_parts, real, strip_code

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
                       "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def _report(names: tuple[str, str] = ("light", "chars"), plot: str | None = None,
            github: bool = True) -> Report:
    data = real()
    if not github:
        data["run"]["github"] = None
    data["comparison"] = section(names, plot=plot)
    return Report.from_dict(data)


def test_the_comment_shows_means_winner_margin_and_where_the_plot_is() -> None:
    view = build_summary(_report(plot="results/compare-nlu/comparison.png"),
                         root=paths.REPO_ROOT)
    markdown = render_markdown(view, budget=None)
    part = markdown[markdown.index("### Configuration comparison"):]
    assert "NLU pipelines (1 run each): light wins: mean intent F1 0.900 at 100% of the " \
           "training data, 0.100 ahead of chars (0.800)." in part
    assert "| Configuration | Training data | Intent F1 | Entity F1 |" in part
    assert "| light | 100% | 0.900 ± 0.000 | CRFEntityExtractor 0.500 ± 0.000 |" in part
    assert "| chars | 50% | 0.600 ± 0.000 | \u2013 |" in part
    assert "Plot: [`results/compare-nlu/comparison.png`](https://github.com/octo-org/" \
           "coffee-assistant/actions/runs/1#artifacts) in the run's artifacts" in part
    assert active_parts(markdown) == []


def test_without_a_run_the_comment_names_the_plot_file() -> None:
    markdown = render_markdown(build_summary(_report(plot="cmp/comparison.png", github=False),
                                             root=paths.REPO_ROOT), budget=None)
    assert "Plot: `cmp/comparison.png`; the HTML report" in markdown


def test_a_report_without_a_comparison_has_no_such_part() -> None:
    view = build_summary(Report.from_dict(real()), root=paths.REPO_ROOT)
    assert view.comparison is None
    assert "Configuration comparison" not in render_markdown(view, budget=None)


def test_the_html_report_embeds_the_plot(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "comparison.png").write_bytes(PNG)
    report = _report(plot="out/comparison.png")
    html = html_report(build_summary(report, root=tmp_path), report, root=tmp_path)
    part = html[html.index("<h2>Configuration comparison</h2>"):]
    assert '<img src="data:image/png;base64,' in part
    assert base64.b64encode(PNG).decode() in part
    assert "<td>light</td><td class=\"num\">100%</td>" in part


def test_the_html_report_says_when_the_plot_is_missing(tmp_path: Path) -> None:
    report = _report(plot="gone/comparison.png")
    html = html_report(build_summary(report, root=tmp_path), report, root=tmp_path)
    assert "The plot gone/comparison.png was not found." in html


HOSTILE_NAMES = ["</details>", "`tick`", "@team", "<img src=x onerror=alert(1)>",
                 "a|b *c* [l](http://evil.example)", "```", "#12"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_config_names_are_inert(name: str, tmp_path: Path) -> None:
    report = _report((name, "ok"), plot=f"{name}.png")
    view = build_summary(report, root=tmp_path)
    markdown = render_markdown(view, budget=None)
    assert active_parts(markdown) == []
    plain = strip_code(markdown)
    assert plain.count("<details>") == plain.count("</details>")
    html = html_report(view, report, root=tmp_path)
    part = html[html.index("<h2>Configuration comparison</h2>"):html.index("<h2>Test stories")]
    tags = set(re.findall(r"</?([a-z0-9]+)", part))
    assert tags <= {"h2", "p", "b", "table", "tr", "th", "td"}, tags
    assert escape(name) in part


def test_the_comparison_part_is_in_the_json_form_of_the_report() -> None:
    data = json.loads(json.dumps(_report().to_dict()))
    assert data["comparison"]["winner"]["config"] == "light"
