"""Quality gates: minimum metrics, maximum drops against a baseline, failed test stories,
unreachable entity extractors, failed action-server contract tests.

Each gate becomes one GateResult (ci_toolkit/report/model.py, docs/report-schema.md) with, in
addition to the documented keys, ``kind`` ("min" | "max_drop" | "failed_stories" |
"unreachable_extractors" | "action_errors"), ``metric`` (the full dotted path it checked, or
None) and ``skipped`` (true when it could not be checked, e.g. max-drop without a baseline;
a skipped gate counts as passed).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.errors import UsageError
from ci_toolkit.options import setting
from ci_toolkit.report.metrics import (
    ALIASES,
    FRACTION_METRICS,
    METRIC_SECTIONS,
    canonical_metric,
    explain_missing,
    headline_metrics,
)
from ci_toolkit.report.metrics import metric as metric_value
from ci_toolkit.report.model import GateResult, Report

# Float noise (0.1 + 0.2 - 0.3) must not fail a gate that is met exactly.
TOLERANCE = 1e-9
_MINIMUM = re.compile(r"^\s*(?P<metric>[^<>=!\s]+)\s*>=\s*(?P<value>\S+)\s*$")
_PATH = re.compile(r"^[A-Za-z0-9_\-/]+(\.[A-Za-z0-9_\-/]+)*$")


@dataclass(frozen=True)
class GateSettings:
    """The gate options of `ci-toolkit run` and `ci-toolkit summary`, declared once."""

    baseline: Path | None = setting(
        None, envvar="BASELINE", metavar="REPORT_JSON",
        help="A report.json to compare with, usually the target branch's last report. Gives "
             "the ▲/▼ deltas and the --max-drop gate. A missing file is only a warning (the "
             "first run has no baseline); RasaHQ/rasa-train-test-gha reports are accepted too.")
    # (full metric path in report.json, threshold)
    minimums: tuple[tuple[str, float], ...] = setting(
        (), envvar="MIN",
        help="Fail unless METRIC is at least VALUE, e.g. 'intent_f1>=0.9'. Repeatable; in the "
             "environment separate several by newlines, commas or spaces. METRIC is a short "
             "name (intent_accuracy, intent_f1, intent_macro_f1, entity_f1, entity_precision, "
             "entity_recall, response_accuracy, response_f1, conversation_accuracy, "
             "action_accuracy, action_f1, cv_intent_f1, ...) or a dotted path in report.json "
             "such as 'nlu.entity_extraction.CRFEntityExtractor.weighted_avg.f1_score'.")
    max_drop: float | None = setting(
        None, envvar="MAX_DROP", metavar="FRACTION",
        help="Fail when any headline metric (accuracy, F1, precision, recall of each task) is "
             "lower than in --baseline by more than this, e.g. 0.02.")
    fail_on_failed_stories: bool = setting(
        False, envvar="FAIL_ON_FAILED_STORIES",
        help="Fail when any test story fails (rasa itself exits 0 then). Default: allow, and "
             "list them in the summary.")

    fail_on_unreachable_extractors: bool = setting(
        False, envvar="FAIL_ON_UNREACHABLE_EXTRACTORS",
        help="Fail when an entity extractor could not do its work, e.g. a "
             "DucklingEntityExtractor whose server cannot be reached (rasa only logs an error "
             "per message and exits 0). Default: allow, and say so in the summary.")
    actions_results: Path | None = setting(
        None, envvar="ACTIONS_RESULTS", metavar="ACTIONS_JSON",
        help="The actions.json of `ci-toolkit actions test`: its results become the report's "
             "`actions` section and the summary's Action server section.")
    fail_on_action_errors: bool = setting(
        False, envvar="FAIL_ON_ACTION_ERRORS",
        help="Fail when an action-server contract check failed (--actions-results), or when "
             "the report has no contract-test results. Default: allow, and list the failed "
             "checks in the summary.")

    @property
    def allow_failed_stories(self) -> bool:
        return not self.fail_on_failed_stories

    @property
    def configured(self) -> bool:
        return (bool(self.minimums) or self.max_drop is not None or self.fail_on_failed_stories
                or self.fail_on_unreachable_extractors or self.fail_on_action_errors)

    def check(self) -> GateSettings:
        """The settings, or a UsageError (exit 2) before anything runs.

        A --baseline that is given but missing stays a warning (the target branch's first run
        has no report yet); only --max-drop without any --baseline is an error.
        """
        for metric, threshold in self.minimums:
            fraction(threshold, f"the minimum of {metric}")
        if self.max_drop is not None:
            fraction(self.max_drop, "--max-drop")
            if self.baseline is None:
                raise UsageError(
                    "--max-drop needs a baseline to compare with, but no --baseline was given. "
                    "Pass --baseline REPORT_JSON (CI_TOOLKIT_BASELINE), usually the target "
                    "branch's last report.json, or drop --max-drop (CI_TOOLKIT_MAX_DROP).")
        if self.actions_results is not None:
            from ci_toolkit.report.action_results import load_action_results

            # Read now: a wrong path fails before the pipeline runs, not after.
            load_action_results(self.actions_results)
        return self


def _alias_help() -> str:
    return ", ".join(sorted(ALIASES))


def fraction(value: object, what: str) -> float:
    """``value`` as a number from 0 to 1, or a UsageError naming ``what``."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UsageError(f"{what} is '{value}', which is not a number. Write a fraction "
                         "such as 0.02.") from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise UsageError(f"{what} is '{value}', but it must be between 0 and 1: metrics "
                         "are fractions (0.9 is 90%).")
    return number


def parse_minimum(text: str) -> tuple[str, float]:
    """Parse ``METRIC>=VALUE`` into (full metric path, threshold).

    METRIC is an alias (``intent_f1``), or a dotted path in report.json, with or without its
    ``nlu.``/``core.`` prefix (``intent_classification.weighted_avg.f1_score``).
    """
    match = _MINIMUM.match(text)
    if not match:
        raise UsageError(
            f"cannot read the minimum '{text}'. Write METRIC>=VALUE, for example "
            "'intent_f1>=0.9' or 'nlu.intent_classification.accuracy>=0.85'."
        )
    metric, raw_value = match.group("metric"), match.group("value")
    threshold = fraction(raw_value, f"the value of the minimum '{text}'")
    if metric not in ALIASES and "." not in metric:
        raise UsageError(
            f"'{metric}' in '{text}' is neither a short metric name nor a dotted path in "
            f"report.json. Short names: {_alias_help()}. Or give a path such as "
            "'nlu.intent_classification.weighted_avg.f1_score'."
        )
    if not _PATH.match(metric):
        raise UsageError(f"'{metric}' in '{text}' is not a dotted path such as 'a.b.c'.")
    path = canonical_metric(metric)
    section, *_, leaf = path.split(".")
    if section not in METRIC_SECTIONS or leaf not in FRACTION_METRICS:
        raise UsageError(
            f"'{metric}' in '{text}' names no metric of report.json: a path starts with "
            f"{', '.join(METRIC_SECTIONS)} (or a task such as intent_classification) and ends "
            f"with {', '.join(FRACTION_METRICS)}, e.g. "
            "'nlu.intent_classification.weighted_avg.f1_score'. Short names: "
            f"{_alias_help()}.")
    return path, threshold


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _minimum_gate(report: Report, baseline: Report | None,
                  metric: str, threshold: float) -> GateResult:
    value = metric_value(report, metric)
    previous = metric_value(baseline, metric)
    name = f"min {metric}"
    if value is None:
        return GateResult(
            name=name, kind="min", metric=metric, passed=False, value=None, threshold=threshold,
            baseline=previous,
            message=f"{metric} must be at least {threshold:.4f}, but "
                    f"{explain_missing(report.data, metric)}. Run the stage that produces it, or "
                    "remove this gate.",
        )
    passed = value >= threshold - TOLERANCE
    relation = "meets" if passed else "is below"
    return GateResult(name=name, kind="min", metric=metric, passed=passed, value=value,
                   threshold=threshold, baseline=previous,
                   message=f"{metric} is {_number(value)}, which {relation} the minimum "
                           f"{threshold:.4f}.")


def _max_drop_gates(report: Report, baseline: Report | None,
                    max_drop: float) -> list[GateResult]:
    if baseline is None:
        return [GateResult(
            name=f"max drop {max_drop:g}", kind="max_drop", metric=None, passed=True, value=None,
            threshold=max_drop, baseline=None, skipped=True,
            message="not checked: there is no baseline report to compare with (--baseline).",
        )]
    results = []
    for headline in headline_metrics(report):
        previous = metric_value(baseline, headline.path)
        if previous is None or headline.value is None:
            continue  # a task the baseline did not evaluate cannot have dropped
        drop = previous - headline.value
        passed = drop <= max_drop + TOLERANCE
        if passed:
            message = (f"{headline.path} is {_number(headline.value)} (baseline "
                       f"{_number(previous)}), within the allowed drop of {max_drop:.4f}.")
        else:
            message = (f"{headline.path} fell by {drop:.4f} ({_number(previous)} → "
                       f"{_number(headline.value)}), more than the allowed {max_drop:.4f}.")
        results.append(GateResult(
            name=f"max drop {headline.path}", kind="max_drop", metric=headline.path,
            passed=passed, value=headline.value, threshold=max_drop, baseline=previous,
            message=message,
        ))
    if not results:
        results.append(GateResult(
            name=f"max drop {max_drop:g}", kind="max_drop", metric=None, passed=True, value=None,
            threshold=max_drop, baseline=None, skipped=True,
            message="not checked: the report and the baseline share no headline metric.",
        ))
    return results


def failed_story_count(report: Report) -> int | None:
    """How many test stories failed, or None when the core tests did not run."""
    core = report.core
    if core is None:
        return None
    count = len(core.failed_stories)
    conversations = core.conversations
    if conversations is not None:
        correct, total = conversations.correct, conversations.total
        if isinstance(correct, int) and isinstance(total, int):
            count = max(count, total - correct)
    return count


def _failed_stories_gate(report: Report) -> GateResult:
    count = failed_story_count(report)
    name = "no failed test stories"
    if count is None:
        return GateResult(
            name=name, kind="failed_stories", metric="core.failed_stories", passed=False,
            value=None, threshold=0, baseline=None,
            message="failed test stories are not allowed, but the report has no core test "
                    "results (the test_core stage did not run). Run the story tests, or allow "
                    "failed stories (--allow-failed-stories).",
        )
    passed = count == 0
    message = ("every test story passed." if passed else
               f"{count} test stor{'y' if count == 1 else 'ies'} failed, and failed stories are "
               "not allowed (--fail-on-failed-stories).")
    return GateResult(name=name, kind="failed_stories", metric="core.failed_stories",
                   passed=passed, value=count, threshold=0, baseline=None, message=message)


def _unreachable_extractors_gate(report: Report) -> GateResult:
    name, metric = "no unreachable extractors", "nlu.unevaluated_extractors"
    if report.nlu is None and report.cross_validation is None:
        return GateResult(
            name=name, kind="unreachable_extractors", metric=metric, passed=True, value=None,
            threshold=0, baseline=None, skipped=True,
            message="not checked: neither the NLU test nor cross-validation ran.")
    unreachable = report.unreachable_extractors
    if not unreachable:
        return GateResult(name=name, kind="unreachable_extractors", metric=metric, passed=True,
                          value=0, threshold=0, baseline=None,
                          message="every entity extractor of the pipeline could do its work.")
    why = "; ".join(f"{extractor.name}: {extractor.reason}" for extractor in unreachable)
    return GateResult(
        name=name, kind="unreachable_extractors", metric=metric, passed=False,
        value=len(unreachable), threshold=0, baseline=None,
        message=f"{len(unreachable)} entity extractor{'s' if len(unreachable) != 1 else ''} "
                f"could not be evaluated ({why}), and unreachable extractors are not allowed "
                "(--fail-on-unreachable-extractors). Start the server or fix its url in the "
                "config, or remove the extractor from the pipeline.")


def _action_errors_gate(report: Report) -> GateResult:
    name, metric = "no failed action checks", "actions.counts.failed"
    actions = report.actions
    if actions is None:
        return GateResult(
            name=name, kind="action_errors", metric=metric, passed=False, value=None,
            threshold=0, baseline=None,
            message="failed action checks are not allowed, but the report has no action-server "
                    "results. Run `ci-toolkit actions test` and pass its actions.json with "
                    "--actions-results (CI_TOOLKIT_ACTIONS_RESULTS), or turn the gate off "
                    "(--allow-action-errors).")
    failed = actions.failed_checks
    if not failed:
        return GateResult(name=name, kind="action_errors", metric=metric, passed=True, value=0,
                          threshold=0, baseline=None,
                          message=f"all {len(actions.checks)} action checks passed or were "
                                  "skipped.")
    named = ", ".join(check.name for check in failed[:3])
    more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
    return GateResult(
        name=name, kind="action_errors", metric=metric, passed=False, value=len(failed),
        threshold=0, baseline=None,
        message=f"{len(failed)} of {len(actions.checks)} action checks failed ({named}{more}), "
                "and failed action checks are not allowed (--fail-on-action-errors). The "
                "summary's Action server section shows each request and answer.")


def evaluate_gates(report: Report, baseline: Report | None,
                   settings: GateSettings) -> list[GateResult]:
    """Check every configured gate; a gate that names a missing metric fails, with the reason."""
    results = [_minimum_gate(report, baseline, name, threshold)
               for name, threshold in settings.minimums]
    if settings.max_drop is not None:
        results.extend(_max_drop_gates(report, baseline, settings.max_drop))
    if settings.fail_on_failed_stories:
        results.append(_failed_stories_gate(report))
    if settings.fail_on_unreachable_extractors:
        results.append(_unreachable_extractors_gate(report))
    if settings.fail_on_action_errors:
        results.append(_action_errors_gate(report))
    return results


def failed_gates(gates: list[GateResult]) -> list[GateResult]:
    return [gate for gate in gates if not gate.passed]


def gate_failure_message(gates: list[GateResult]) -> str:
    """One message naming every failed gate, for the error boundary."""
    failed = failed_gates(gates)
    lines = [f"{len(failed)} quality gate{'s' if len(failed) != 1 else ''} failed:"]
    lines.extend(f"  - {gate.message}" for gate in failed)
    return "\n".join(lines)
