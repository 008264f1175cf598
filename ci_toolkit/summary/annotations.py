"""``::error``/``::warning`` annotations on the diff for validation findings and failed stories."""

from __future__ import annotations

from pathlib import Path

from ci_toolkit.gha import ActionsRuntime
from ci_toolkit.report.model import FailedStep, Finding, Report
from ci_toolkit.summary.locations import locate

# GitHub shows only the first annotations of a step; more than this only floods the log.
MAX_ANNOTATIONS_PER_KIND = 50


def _step_sentence(step: FailedStep | None) -> str:
    if step is None:
        return "."
    text = (f" at step {step.index}: expected {step.kind or 'step'} "
            f"'{step.expected}', predicted '{step.predicted}'")
    if step.text:
        text += f" for \"{step.text}\""
    return text + "."


def _findings(report: Report, actions: ActionsRuntime, *, root: Path, workspace: Path,
              key: str, level: str, findings: list[Finding]) -> int:
    for finding in findings[:MAX_ANNOTATIONS_PER_KIND]:
        path, _ = locate(finding.file, project_dir=report.assistant.project_dir, root=root,
                         relative_to=workspace)
        code = finding.code
        actions.annotate(level, str(finding.message or code or "validation finding"),
                         file=path, line=finding.line,
                         title=f"rasa data validate: {code}" if code else "rasa data validate")
    if len(findings) > MAX_ANNOTATIONS_PER_KIND:
        more = len(findings) - MAX_ANNOTATIONS_PER_KIND
        actions.annotate("notice", f"{more} more validation {key} are listed in the summary "
                                   "and report.json.")
    return min(len(findings), MAX_ANNOTATIONS_PER_KIND)


def _failed_stories(report: Report, actions: ActionsRuntime, *, root: Path,
                    workspace: Path) -> int:
    stories = report.core.failed_stories if report.core is not None else []
    for story in stories[:MAX_ANNOTATIONS_PER_KIND]:
        name = str(story.name or "unnamed story")
        path, line = locate(story.file, project_dir=report.assistant.project_dir, root=root,
                            story=name, relative_to=workspace)
        line = story.line if isinstance(story.line, int) else line
        message = f"Test story '{name}' failed{_step_sentence(story.failed_step)}"
        actions.annotate("error", message, file=path, line=line, title="Failed test story")
    if len(stories) > MAX_ANNOTATIONS_PER_KIND:
        actions.annotate("notice", f"{len(stories) - MAX_ANNOTATIONS_PER_KIND} more failed test "
                         "stories are listed in the summary and report.json.")
    return min(len(stories), MAX_ANNOTATIONS_PER_KIND)


def emit_annotations(report: Report, actions: ActionsRuntime, *, root: Path | None = None,
                     workspace: str = "") -> int:
    """Annotations for validation findings and failed test stories.

    Files are given relative to the repository root (``workspace``, $GITHUB_WORKSPACE, else
    ``root``) so that GitHub shows them on the diff. Returns how many annotations were written.
    """
    root = root or Path.cwd()
    repository_root = Path(workspace or root)
    written = 0
    if report.validation is not None:
        for key, level, findings in (("errors", "error", report.validation.errors),
                                     ("warnings", "warning", report.validation.warnings)):
            written += _findings(report, actions, root=root, workspace=repository_root,
                                 key=key, level=level, findings=findings)
    return written + _failed_stories(report, actions, root=root, workspace=repository_root)
