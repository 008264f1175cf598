"""The "Configuration comparison" part of the summary, from report.json's `comparison`
section. The numbers and the wording are the comparison's own Markdown fragment's
(compare/markdown.py), as plain text for the templates to escape."""

from __future__ import annotations

from ci_toolkit.compare.markdown import (
    NONE,
    kind_title,
    table_cells,
    table_header,
    training_data_note,
    verdict,
)
from ci_toolkit.report.model import Report
from ci_toolkit.summary.view import ComparisonSummary


def _text(cell: str | list[str]) -> str:
    if isinstance(cell, list):
        return "; ".join(cell) if cell else NONE
    return cell


def comparison_summary(report: Report) -> ComparisonSummary | None:
    if report.comparison is None:
        return None
    section = report.comparison.to_dict()
    return ComparisonSummary(
        title=kind_title(section), verdict=verdict(section, name=str),
        header=table_header(section),
        rows=[[_text(cell) for cell in cells] for cells in table_cells(section)],
        note=training_data_note(section), plot=report.comparison.plot)
