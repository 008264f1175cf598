"""The data of the summary: plain objects with numbers already formatted as text.

The Markdown template (PR comment, step summary) and the HTML template both render a
SummaryView, so they always show the same thing. ci_toolkit/summary/build.py builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
WEAKEST_INTENTS = 5
MAX_TEXT = 400  # characters of one message or utterance
MAX_STORY_YAML = 3000  # characters of one failed story's YAML
MAX_EXCHANGE = 2500  # characters of one action request or answer, as JSON


def marker(assistant_name: str) -> str:
    """The hidden marker that identifies this assistant's sticky comment."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in assistant_name.strip())
    return f"<!-- ci-toolkit:summary:{safe.replace('--', '-_') or 'assistant'} -->"


def shorten(text: object, limit: int = MAX_TEXT) -> str:
    text = ("" if text is None else str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plural(count: int, one: str, many: str | None = None) -> str:
    """"1 failed story", "2 failed stories", "3 metrics"."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min"


@dataclass
class CutList(Generic[T]):
    """A list the summary may shorten to fit the size limit; it says how much was left out."""

    what: str
    items: list[T]
    shown: int = -1  # -1: all

    def __post_init__(self) -> None:
        if self.shown < 0:
            self.shown = len(self.items)

    @property
    def visible(self) -> list[T]:
        return self.items[: self.shown]

    @property
    def hidden(self) -> int:
        return len(self.items) - len(self.visible)


@dataclass
class MetricRow:
    label: str
    value: str  # "0.9400", with "❌ below the minimum 0.9" when a min gate failed
    delta: str  # "▼ -0.0300", with "❌ …" when a max-drop gate failed; "" without baseline


@dataclass
class MetricTable:
    title: str
    rows: list[MetricRow]
    status: str | None = None  # instead of rows: "not run: …"
    # Lines under the table: "⚠️ DucklingEntityExtractor was not evaluated: …"
    notes: list[str] = field(default_factory=list)
    # Against a baseline, every value the same: the table folds into <details>.
    unchanged: bool = False


@dataclass
class CrossValidationRow:
    task: str
    accuracy: str  # "0.9100 ± 0.0200 ▲ +0.0100"
    f1: str
    precision: str


@dataclass
class CrossValidationSection:
    status: str | None  # "not run: …" instead of rows
    folds: str | None
    rows: list[CrossValidationRow]
    unchanged: bool = False  # as MetricTable.unchanged


@dataclass
class ComparisonSummary:
    """The configuration comparison: plain text everywhere (config names as the user wrote
    them); the templates escape every cell."""

    title: str  # "NLU pipelines (3 runs each)"
    verdict: str  # "light wins: mean intent F1 0.900 at 100% ..., 0.100 ahead of chars ..."
    header: list[str]
    rows: list[list[str]]
    note: str  # what the numbers are
    plot: str | None  # the PNG's path, as report.json names it


@dataclass
class LabelRow:
    name: str
    f1: str
    precision: str
    recall: str
    support: str
    delta: str
    confused_with: str


@dataclass
class StoryRow:
    name: str
    where: str | None  # "tests/test_stories.yml:12"
    link: str | None
    step_index: int | None  # 1-based among the story's steps
    step_kind: str  # "action" | "intent" | "step"
    expected: str | None
    predicted: str | None
    utterance: str | None
    yaml: str


@dataclass
class FindingRow:
    level: str
    code: str
    where: str
    message: str


@dataclass
class StageRow:
    name: str
    status: str
    duration: str


@dataclass
class GateRow:
    passed: bool
    skipped: bool
    name: str
    message: str


@dataclass
class ActionCheckRow:
    name: str
    status: str  # "passed" | "failed" | "skipped"
    note: str  # the first finding, or why it was skipped
    findings: list[str]
    request: str  # pretty JSON, cut to MAX_EXCHANGE; "" when none was sent
    answer: str  # the answer's body as pretty JSON, cut; "" when there was none
    answer_status: str  # "HTTP 500" or "gRPC UNKNOWN", or "" when there was no answer


@dataclass
class ActionsSummary:
    """The action server's contract tests: the failed checks first, each with its request
    and answer, then the others folded."""

    server: str  # "http://127.0.0.1:5055"
    sdk_version: str | None
    counts: str  # "7 passed, 1 failed, 1 skipped"
    total: int
    failed: CutList[ActionCheckRow]
    others: list[ActionCheckRow]


@dataclass
class SummaryView:
    marker: str
    verdict: str
    assistant: str
    commit: str | None
    commit_url: str | None
    total_time: str
    context: list[tuple[str, str]]  # ("Rasa", "3.6.21"), ("data", "default"), ...
    has_baseline: bool
    baseline_commit: str | None
    gates: list[GateRow]
    tasks: list[MetricTable]
    cross_validation: CrossValidationSection
    worse_intents: CutList[LabelRow]
    weakest_intents: CutList[LabelRow]
    intent_count: int
    conversations_note: str | None
    failed_stories: CutList[StoryRow]
    story_yaml_shown: int
    validation_status: str | None
    validation_errors: CutList[FindingRow]
    validation_warnings: CutList[FindingRow]
    stages: list[StageRow]
    images: list[str]
    results_dir: str | None
    run_url: str | None
    artifacts_url: str | None
    tool: str
    cuts: list[str] = field(default_factory=list)
    unreachable_extractors: int = 0  # extractors that could not do their work
    failed_story_count: int = 0  # a pass with failed stories (gates off) must say so
    baseline_commit_url: str | None = None
    # One line of what changed against the baseline: "intent weighted F1 -0.031, 1 story
    # newly failing, 2 metrics better", "no change against the baseline" or "no baseline".
    changes: str = "no baseline"
    actions: ActionsSummary | None = None  # None: the contract tests did not run
    comparison: ComparisonSummary | None = None  # None: no comparison in the report

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def headline(self) -> str:
        """"✅ Passed", "❌ Failed", or a pass that is not clean: "⚠️ Passed with 1 failed
        story", "⚠️ Passed, 1 extractor not evaluated" (with the gates off, a regression or a
        broken extractor must not read as a clean pass)."""
        if not self.passed:
            return "❌ Failed"
        stories, extractors = self.failed_story_count, self.unreachable_extractors
        problems = []
        if stories:
            problems.append(f" with {plural(stories, 'failed story', 'failed stories')}")
        if extractors:
            problems.append(f", {plural(extractors, 'extractor')} not evaluated")
        if self.failed_action_checks:
            problems.append(f", {plural(self.failed_action_checks, 'failed action check')}")
        return "⚠️ Passed" + "".join(problems) if problems else "✅ Passed"

    @property
    def failed_action_checks(self) -> int:
        return len(self.actions.failed.items) if self.actions is not None else 0

    @property
    def gates_failed(self) -> int:
        return sum(1 for gate in self.gates if not gate.passed)
