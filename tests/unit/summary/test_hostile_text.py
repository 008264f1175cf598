"""Hostile text through the whole summary: nothing in the Markdown or HTML is active.

Every name and message in a report comes from the repository under test. Each case puts
one hostile value into one place of a real report, renders the whole summary (Markdown for
the PR comment and job summary, and the HTML report) and checks, with ``active_parts``,
that the value cannot format, link, embed, open HTML, notify or reference anything.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from ci_toolkit.escape import JOINER, code, html_text, neutralize, safe_url, text
from ci_toolkit.report.model import Report
from ci_toolkit.summary.build import build_summary
from ci_toolkit.summary.html import render_html
from ci_toolkit.summary.markdown import render_markdown
from tests import paths
from tests.unit.compare.shards import section as comparison_section

# Everything GitHub's Markdown acts on, in one value. A blank line would end an HTML block.
HOSTILE = ("x | y *STAR* _UNDER_ ~~DEL~~ `tick` [link](http://evil.example/a) "
           "![img](http://evil.example/i.png) <img src=x onerror=alert(1)> <script>s()</script> "
           "<!-- ci-toolkit:summary:beta --> @org/security-team #123 GH-7 "
           "https://evil.example/raw www.evil.example a\\|b &#64;ent\n\n# injected heading")
LINE_STARTS = ["# heading", "> quote", "- item", "+ item", "1. item", "2) item", "---"]
OUR_TAGS = {"details", "/details", "summary", "/summary", "b", "/b", "code", "/code", "sub",
            "/sub"}
# An even number of backslashes (none, or escaped backslashes) before a character.
UNESCAPED = r"(?<!\\)(?:\\\\)*"
OUR_LINK = re.compile(r"(?<!\\)\[((?:\\.|[^\\\[\]])*)\]"
                      r"\(https://github\.com/octo-org/coffee-assistant/[^()\s]*\)")
OUR_HEADING = re.compile(r"^(## (✅|❌|⚠️) |### (Gates|Metrics|Cross-validation|Test stories|"
                         r"Validation|Stages|Artifacts|Action server|Configuration comparison)$)")


def strip_code(markdown: str) -> str:
    """The Markdown without fenced blocks and code spans: their content is shown literally."""
    lines, fence_open = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence_open is None and stripped.startswith("```"):
            fence_open = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            continue
        if fence_open is not None:
            if stripped == fence_open:
                fence_open = None
            continue
        lines.append(re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "CODE", line))
    return "\n".join(lines)


def _table_problems(markdown: str) -> list[str]:
    problems, columns = [], None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        # A pipe is a border unless escaped; "\\" before it is an escaped backslash.
        pipes = len(re.findall(UNESCAPED + r"\|", line))
        if columns is None:
            columns = pipes
        elif pipes != columns:
            problems.append(f"a table row has {pipes} borders, the header {columns}: {line}")
    return problems


def active_parts(markdown: str) -> list[str]:
    """What GitHub would act on outside our own syntax; empty when the summary is inert."""
    first, _, rest = markdown.partition("\n")
    problems = [] if re.fullmatch(r"<!-- ci-toolkit:summary:[\w.-]+ -->", first) else [
        f"the first line is not the marker: {first}"]
    problems += _table_problems(rest)
    plain = strip_code(rest)
    # Our own links (to the repository, percent-encoded) keep only their text.
    plain = OUR_LINK.sub(lambda match: match.group(1), plain)
    checks: list[tuple[str, str]] = [
        (UNESCAPED + r"\[", "a link or an image"),
        (r"(?i)(https?://|www\.)", "a bare URL"),
        (r"(?<![\w])@[A-Za-z0-9]", "an @mention"),
        (r"(?i)(?<![\w&])(#|\bgh-)\d", "an issue reference"),
        (r"<!--", "an HTML comment"),
        (UNESCAPED + r"(\*STAR|_UNDER|~~DEL)", "emphasis"),
    ]
    for pattern, what in checks:
        problems += [f"{what}: …{plain[max(0, m.start() - 30):m.end() + 30]}…"
                     for m in re.finditer(pattern, plain)]
    for tag in re.findall(r"<(/?[A-Za-z][\w-]*)", plain):
        if tag.lower() not in OUR_TAGS:
            problems.append(f"an HTML tag <{tag}>")
    for line in plain.splitlines():
        if re.match(r"\s{0,3}(#{1,6}(\s|$)|>|[-+*](\s|$)|\d{1,9}[.)](\s|$)|-{3,}\s*$)", line) \
                and not OUR_HEADING.match(line) and not line.startswith("> ✂️"):
            problems.append(f"a line that starts a block: {line}")
    return problems


def real() -> dict[str, Any]:
    path = paths.FIXTURES / "reports" / "coffeebot-failed-story.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    report["run"]["commit"] = "0123456789abcdef0123456789abcdef01234567"
    report["run"]["github"] = {"server_url": "https://github.com",
                               "repository": "octo-org/coffee-assistant", "run_id": "1",
                               "run_url": "https://github.com/octo-org/coffee-assistant/"
                                          "actions/runs/1"}
    return report


def _intent(report: dict, value: str) -> None:
    labels = report["nlu"]["intent_classification"]["labels"]
    first = next(iter(labels))
    labels[value] = dict(labels[first], f1_score=0.01, confused_with={value: 3})


def _story(field: str) -> Callable[[dict, str], None]:
    def put(report: dict, value: str) -> None:
        story = report["core"]["failed_stories"][0]
        if field in story:
            story[field] = value
        else:
            story["failed_step"][field] = value
    return put


def _finding(field: str) -> Callable[[dict, str], None]:
    def put(report: dict, value: str) -> None:
        report["validation"]["errors"] = [{"level": "error", "code": "bad", "file": "domain.yml",
                                           "line": 3, "message": "m", field: value}]
    return put


def _set(*keys: str) -> Callable[[dict, str], None]:
    def put(report: dict, value: str) -> None:
        target = report
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return put


def _failed_stage(report: dict, value: str) -> None:
    report["stages"][-1].update(status="failed", reason=value)
    report["cross_validation"] = None


def _entity_extractor(report: dict, value: str) -> None:
    entities = report["nlu"]["entity_extraction"]
    entities[value] = entities.pop(next(iter(entities)))


def _unevaluated_extractor(report: dict, value: str) -> None:
    # The reason carries the Duckling url from the config, which anyone can write.
    report["nlu"]["unevaluated_extractors"] = [
        {"name": value, "reason": f"the Duckling server at {value} could not be reached",
         "unreachable": True}]


def _recorded_gate(report: dict, value: str) -> None:
    report["gates"][0].update(name=value, message=value)


def _compared_config(report: dict, value: str) -> None:
    report["comparison"] = comparison_section((value, "ok"), plot=value)


def _compared_extractor(report: dict, value: str) -> None:
    report["comparison"] = comparison_section()
    for point in report["comparison"]["configs"][0]["points"]:
        point["entity_f1"] = {value: point["entity_f1"]["CRFEntityExtractor"]}


PLACES: dict[str, Callable[[dict, str], None]] = {
    "assistant name": _set("assistant", "name"),
    "data name": _set("assistant", "data_name"),
    "configuration name": _set("assistant", "configuration_name"),
    "intent name and confusion": _intent,
    "entity extractor": _entity_extractor,
    "unevaluated extractor": _unevaluated_extractor,
    "story name": _story("name"),
    "story file": _story("file"),
    "story yaml": _story("yaml"),
    "step kind": _story("kind"),
    "expected": _story("expected"),
    "predicted": _story("predicted"),
    "utterance": _story("text"),
    "validation message": _finding("message"),
    "validation code": _finding("code"),
    "validation file": _finding("file"),
    "stage reason": _failed_stage,
    "gate name and message": _recorded_gate,
    "tool version": _set("tool", "version"),
    "rasa version": _set("run", "rasa_version"),
    "results dir": _set("artifacts", "results_dir"),
    "picture name": lambda report, value: report["artifacts"].update(images=[value]),
    "tool name": _set("tool", "name"),
    "commit": _set("run", "commit"),
    "compared config and plot": _compared_config,
    "compared entity extractor": _compared_extractor,
}


def hostile_report(place: str, value: str) -> Report:
    report = copy.deepcopy(real())
    PLACES[place](report, value)
    return Report.from_dict(report)


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("value", [HOSTILE, *LINE_STARTS], ids=["all", *LINE_STARTS])
def test_hostile_text_is_inert_in_the_markdown(place: str, value: str) -> None:
    view = build_summary(hostile_report(place, value), root=paths.REPO_ROOT)
    markdown = render_markdown(view, budget=None)
    assert active_parts(markdown) == []


@pytest.mark.parametrize("place", sorted(PLACES))
def test_hostile_text_is_inert_in_the_html_report(place: str) -> None:
    html = render_html(build_summary(hostile_report(place, HOSTILE), root=paths.REPO_ROOT), [])
    assert "<script>" not in html and "<img src=x" not in html
    assert "<!-- ci-toolkit" not in html
    assert 'href="http://evil' not in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://evil.example/x) [y](z",
                                 "data:text/html,<script>", "//evil.example"])
def test_only_http_links_from_the_report_become_links(url: str) -> None:
    report = real()
    report["run"]["github"]["run_url"] = url
    report["run"]["github"]["server_url"] = url
    view = build_summary(Report.from_dict(report), root=paths.REPO_ROOT)
    markdown = render_markdown(view, budget=None)
    html = render_html(view, [])
    assert "javascript:" not in markdown and 'href="javascript' not in html
    assert "[Workflow run](" not in markdown or "[Workflow run](http" in markdown
    assert all(target.startswith(("http://", "https://"))
               for target in re.findall(r"\]\(([^)]*)\)", markdown))


def test_the_checker_finds_every_kind_of_active_text() -> None:
    # Guards the tests above: the raw hostile value, unescaped, must be caught everywhere.
    found = "\n".join(active_parts(
        "<!-- ci-toolkit:summary:x -->\n| a | b |\n|---|---|\n| " + HOSTILE.replace("\n", " ")
        + " | c |\n\n# injected\n- item\n"))
    for what in ("a link or an image", "a bare URL", "an @mention",
                 "an issue reference", "an HTML comment", "emphasis", "an HTML tag <img>",
                 "a table row has", "a line that starts a block: # injected",
                 "a line that starts a block: - item"):
        assert what in found, what


@pytest.mark.parametrize(("function", "value", "expected"), [
    (text, "a|b\nc <details> & d", "a\\|b c &lt;details> &amp; d"),
    (text, "*b* _i_ ~s~ `c` [l](u) utter_greet", "\\*b\\* \\_i\\_ \\~s\\~ \\`c\\` \\[l\\](u) utter_greet"),
    (text, "back\\|slash", "back\\\\\\|slash"),
    (text, "# h", "\\# h"),
    (text, "> q", "&gt; q"),
    (text, "- i", "\\- i"),
    (text, "1. i", "1\\. i"),
    (text, "0.9400", "0.9400"),
    (text, "▼ -0.0300 ❌ drop > 0.02", "▼ -0.0300 ❌ drop > 0.02"),
    (text, "<!-- ci-toolkit:summary:beta -->", "&lt;!-- ci-toolkit:summary:beta -->"),
    (neutralize, "@org/team #12 gh-3 http://x www.y a@b.c", f"@{JOINER}org/team #{JOINER}12 "
     f"gh-{JOINER}3 http:{JOINER}//x www{JOINER}.y a@{JOINER}b.c"),
    (code, "a`b", "``a`b``"),
    (code, "a\\|b", f"`a\\{JOINER}\\|b`"),
    (html_text, "<b>\n\n@x", f"&lt;b&gt;  @{JOINER}x"),
    (safe_url, "https://github.com/o/r/blob/c/a b(1).yml#L3",
     "https://github.com/o/r/blob/c/a%20b%281%29.yml#L3"),
    (safe_url, "javascript:alert(1)", None),
    (safe_url, "http://[::1", None),
])
def test_escaping_per_context(function: Callable[[object], str | None], value: str,
                              expected: str | None) -> None:
    assert function(value) == expected
