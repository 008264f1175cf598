"""The summary's Action server section: failures first, each with its request and answer
folded; everything in it inert, even an answer that tries to close the fold; the verdict
and the line of what changed count the failed checks."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from ci_toolkit.actions.results import Answer
from ci_toolkit.report.action_results import with_actions
from ci_toolkit.report.model import Report, Verdict
from ci_toolkit.summary.build import build_summary
from ci_toolkit.summary.html import render_html
from ci_toolkit.summary.markdown import COMMENT_BUDGET, render_markdown
from tests.unit.report.action_results_data import actions_result, write_actions_json
from tests.unit.summary.test_hostile_text import HOSTILE, active_parts, real, strip_code

# An answer that tries every way out of its fold and its code block.
ESCAPING_ANSWER = {"error": "</details>\n\n</summary>``` ```` @octocat <img src=x "
                            "onerror=alert(1)> <b>bold</b> #12 [x](http://evil.example)"}


def report_with(tmp_path: Path, *, verdict: str = "passed", **changes: object) -> Report:
    data = real()
    # Only the action checks may make the headline anything but a clean pass.
    data["verdict"], data["gates"], data["core"]["failed_stories"] = verdict, [], []
    report = Report.from_dict(data)
    return with_actions(report, write_actions_json(tmp_path, actions_result(**changes)))


def section(markdown: str) -> str:
    return markdown.split("### Action server", 1)[1].split("\n### ", 1)[0]


def test_failures_come_first_with_their_request_and_answer_folded(tmp_path: Path) -> None:
    markdown = render_markdown(build_summary(report_with(tmp_path)))
    part = section(markdown)
    assert "❌ 1 of 3 contract checks failed (1 passed, 1 failed, 1 skipped) against " \
           "`http://127.0.0.1:41187` (rasa-sdk `3.6.2`)." in part
    fold = part.index("<details><summary>❌ <b>protocol: action_explode</b>")
    assert fold < part.index("2 checks passed or skipped")
    request, answer = part.index("Request:"), part.index("Answer (HTTP 500):")
    assert fold < request < answer < part.index("</details>")
    assert '"next_action": "action_explode"' in part and '"error": "boom"' in part
    assert "| ⏭️ | `unit tests of the actions package` | no test files in actions/ |" in part
    # Before the metrics a reviewer reads only the headline: it must not read as clean.
    assert markdown.splitlines()[1].startswith("## ⚠️ Passed, 1 failed action check:")
    assert "**Changes**: 1 of 3 action checks failed; no baseline." in markdown


def test_a_failed_verdict_still_counts_the_checks_in_the_line_of_changes(tmp_path: Path
                                                                         ) -> None:
    view = build_summary(report_with(tmp_path, verdict="failed"))
    assert view.headline == "❌ Failed" and view.changes.startswith("1 of 3 action checks")


def test_all_passed_is_one_line_and_a_folded_table(tmp_path: Path) -> None:
    markdown = render_markdown(build_summary(report_with(tmp_path, failed=False)))
    part = section(markdown)
    assert "✅ 2 contract checks, none failed (1 passed, 0 failed, 1 skipped)" in part
    assert "Request:" not in part and part.count("<details>") == 1
    assert markdown.splitlines()[1].startswith("## ✅ Passed:")
    assert "action checks" not in markdown.split("\n\n")[1]


def test_a_report_without_contract_tests_has_no_section() -> None:
    report = Report.from_dict(real())
    assert report.actions is None
    assert "Action server" not in render_markdown(build_summary(report))
    assert "Action server" not in render_html(build_summary(report), [])


def _outside_fences(markdown: str) -> str:
    return strip_code(markdown)


@pytest.mark.parametrize("answer", [ESCAPING_ANSWER, HOSTILE, ["`" * 12, "</details>"]],
                         ids=["closes-the-fold", "hostile-text", "backtick-runs"])
def test_an_answer_cannot_close_its_fold_or_act(tmp_path: Path, answer: object) -> None:
    markdown = render_markdown(build_summary(report_with(tmp_path, answer_body=answer)), None)
    assert active_parts(markdown) == []
    plain = _outside_fences(markdown)
    # Every fold we open is closed by us: none by the answer, which stays inside its fence.
    assert plain.count("<details>") == plain.count("</details>")
    assert "@octocat" not in plain and "<img" not in plain and "<b>bold" not in plain
    fences = re.findall(r"^(`{3,})json$", markdown, flags=re.MULTILINE)
    assert len(fences) == 2  # the request and the answer
    longest_run = max(len(run) for run in re.findall(r"`+", str(answer)))
    assert len(fences[1]) > longest_run


def test_hostile_names_findings_and_server_are_inert(tmp_path: Path) -> None:
    report = report_with(tmp_path, name=HOSTILE, message=HOSTILE)
    assert report.actions is not None
    markdown = render_markdown(build_summary(report), None)
    assert active_parts(markdown) == []
    page = render_html(build_summary(report), [])
    part = page.split("<h2>Action server</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<img" not in part and "<script" not in part and "&lt;img" in part


def test_the_html_report_shows_the_exchange_escaped(tmp_path: Path) -> None:
    page = render_html(build_summary(report_with(tmp_path, answer_body=ESCAPING_ANSWER)), [])
    part = page.split("<h2>Action server</h2>", 1)[1].split("<h2>", 1)[0]
    assert part.count("<details>") == part.count("</details>") == 1
    assert "&lt;/details&gt;" in part and "&lt;b&gt;bold&lt;/b&gt;" in part
    assert "Answer (HTTP 500):" in part and "action_explode" in part


def test_many_large_failures_are_cut_to_fit_the_comment(tmp_path: Path) -> None:
    from ci_toolkit.actions.results import ActionsResult

    one = actions_result(answer_body={"error": "x" * 5000})
    failed = one.checks[1]
    checks = tuple(type(failed)(f"protocol: action_{n}", "protocol", "failed",
                                action=f"action_{n}", findings=failed.findings,
                                request=failed.request, answer=failed.answer)
                   for n in range(60))
    data = real()
    data["verdict"] = Verdict.FAILED.value
    report = with_actions(Report.from_dict(data), write_actions_json(
        tmp_path, ActionsResult(one.server, checks)))
    markdown = render_markdown(build_summary(report), COMMENT_BUDGET)
    assert len(markdown) <= COMMENT_BUDGET
    assert "more failed action checks, cut to fit the size limit" in markdown
    assert "… (cut: the whole exchange is in actions.json)" in markdown
    assert active_parts(markdown) == []


def test_the_summary_command_reads_the_results_and_checks_the_gate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from ci_toolkit.cli import main

    for name in list(os.environ):
        if name.startswith(("GITHUB_", "CI_TOOLKIT_")):
            monkeypatch.delenv(name)
    report = tmp_path / "report.json"
    data = real()
    data["verdict"], data["gates"], data["core"]["failed_stories"] = "passed", [], []
    report.write_text(json.dumps(data), encoding="utf-8")
    results = write_actions_json(tmp_path)
    monkeypatch.setenv("CI_TOOLKIT_ACTIONS_RESULTS", str(results))
    assert main(["summary", str(report), "--no-comment"]) == 0  # no gate: a warning only
    markdown = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert markdown.splitlines()[1].startswith("## ⚠️ Passed, 1 failed action check")
    assert "### Action server" in markdown
    capsys.readouterr()
    assert main(["summary", str(report), "--no-comment", "--fail-on-action-errors"]) == 1
    err = capsys.readouterr().err
    assert "1 of 3 action checks failed (protocol: action_explode)" in err
    markdown = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert markdown.splitlines()[1].startswith("## ❌ Failed")
    assert "| ❌ | `no failed action checks` |" in markdown


def test_a_grpc_answer_shows_its_grpc_status_not_the_http_one_it_maps_to(tmp_path: Path
                                                                         ) -> None:
    result = actions_result()
    failed = result.checks[1]
    grpc_answer = Answer(500, {"error": "boom"}, grpc={"code": "UNKNOWN", "details": "the machine is on fire"})
    result = replace(result, checks=(result.checks[0], replace(failed, answer=grpc_answer),
                                     *result.checks[2:]))
    report = with_actions(Report.from_dict(real()), write_actions_json(tmp_path, result))
    part = section(render_markdown(build_summary(report)))
    assert "Answer (gRPC UNKNOWN):" in part and "Answer (HTTP" not in part
