"""Read the actions.json that `ci-toolkit actions test` wrote and make it report.json's
`actions` section: the one place that file is parsed and checked for the report.

`ci-toolkit run --actions-results FILE` puts the section into the report it writes (the gate
``--fail-on-action-errors`` then judges it with the others); `ci-toolkit summary
--actions-results FILE` puts it into the report it summarises. A file that is missing, is
not JSON or does not have actions.json's shape is a UsageError that names it and the fix.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError
from ci_toolkit.report.actions_model import Actions
from ci_toolkit.report.load import read_json_object
from ci_toolkit.report.model import SCHEMA_VERSION, Report
from ci_toolkit.report.schema import Validator, report_schema

# The actions.json format this ci-toolkit reads (ci_toolkit/actions/results.py writes it).
ACTIONS_FORMAT_VERSION = 1
_FIX = ("Pass the actions.json that `ci-toolkit actions test` wrote (in "
        "PROJECT/results/actions/ by default), or run the contract tests again.")
_LISTED_PROBLEMS = 5


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def section_data(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """actions.json's object as the report's section: its format version checked and
    dropped, the file it came from added."""
    version = data.get("format_version")
    if isinstance(version, bool) or version != ACTIONS_FORMAT_VERSION:
        raise UsageError(f"the action results {path} have format_version {version!r}, but "
                         f"this ci-toolkit reads format version {ACTIONS_FORMAT_VERSION}. "
                         f"{_FIX}")
    section = {key: value for key, value in data.items() if key != "format_version"}
    section["results_file"] = _relative(path)
    return section


def load_action_results(path: Path) -> Actions:
    """The `actions` section from an actions.json, checked against the report schema."""
    if not path.exists():
        raise UsageError(f"there are no action results at {path} (--actions-results, "
                         f"CI_TOOLKIT_ACTIONS_RESULTS). {_FIX}")
    section = section_data(read_json_object(path, what="the action results", fix=_FIX), path)
    root = report_schema()
    problems = [f"{where or '(the whole file)'} {problem}" for where, problem in
                Validator(root).errors(section, root["$defs"]["actions"])]
    if problems:
        listed = "; ".join(problems[:_LISTED_PROBLEMS])
        more = len(problems) - _LISTED_PROBLEMS
        listed += f"; and {more} more" if more > 0 else ""
        raise UsageError(f"the action results {path} are not an actions.json "
                         f"(docs/action-tests.md): {listed}. {_FIX}")
    return Actions.from_dict(section)


def with_actions(report: Report, path: Path | None) -> Report:
    """The report with the `actions` section read from ``path`` (unchanged when None). The
    report becomes a current-version report: only that version has the section."""
    if path is None:
        return report
    return replace(report, actions=load_action_results(path), schema_version=SCHEMA_VERSION)
