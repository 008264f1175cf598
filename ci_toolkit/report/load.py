"""Read report.json (and baselines) from disk: the one place a report is parsed and checked.

A report is checked against ci_toolkit/schemas/report.schema.json before it becomes a
``Report``, so every later step can trust its shape. Whatever is wrong is a UsageError that
names the file, the path of the bad key and what to do, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError
from ci_toolkit.report.model import READABLE_VERSIONS, Report
from ci_toolkit.report.schema import schema_errors

# More than this many problems are counted, not listed: the first ones say enough.
_LISTED_PROBLEMS = 5


def read_json_object(path: Path, *, what: str, fix: str) -> dict[str, Any]:
    """The JSON object in ``path``; ``what`` names the file in errors, ``fix`` says what to do."""
    if path.is_dir():
        raise UsageError(f"{what} {path} is a directory. Pass the report.json file in it.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{what} {path} is not valid JSON ({error}). {fix}") from error
    except RecursionError:
        # A hostile or broken file of thousands of nested brackets; no report nests so deep.
        raise UsageError(f"{what} {path} is not a report.json: its JSON is nested too deeply "
                         f"to read. {fix}") from None
    except OSError as error:
        raise UsageError(f"cannot read {what} {path} ({error.strerror or error}). {fix}") from error
    if not isinstance(data, dict):
        raise UsageError(f"{what} {path} holds a JSON {type(data).__name__}, not an object. {fix}")
    return data


def parse_report(data: Mapping[str, Any], *, source: str, fix: str = "") -> Report:
    """Check ``data`` against the report schema and build the Report.

    ``source`` names where the data came from ("the report reports/report.json").
    """
    version = data.get("schema_version")
    if "schema_version" not in data:
        raise UsageError(f"{source} is not a ci-toolkit report.json (it has no schema_version). "
                         f"{fix}".strip())
    # bool is an int to Python, but `true` is no version.
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        readable = " and ".join(str(number) for number in READABLE_VERSIONS)
        raise UsageError(
            f"{source} has schema_version {json.dumps(version)}, but this ci-toolkit reads "
            f"schema versions {readable} only. Use the ci-toolkit version that wrote it, "
            "or run the pipeline again with this one to rewrite it.")
    try:
        problems = schema_errors(data)
    except RecursionError:  # nested too deeply for the validator, though json read it
        raise UsageError(f"{source} is not a report.json: its JSON is nested too deeply. "
                         f"{fix}".strip()) from None
    if problems:
        listed = "; ".join(problems[:_LISTED_PROBLEMS])
        more = len(problems) - _LISTED_PROBLEMS
        listed += f"; and {more} more" if more > 0 else ""
        raise UsageError(f"{source} does not match the report.json schema "
                         f"(docs/report-schema.md): {listed}. {fix}".strip())
    return Report.from_dict(data)


def load_report(path: Path) -> Report:
    """The report at ``path``, checked; a UsageError says what is wrong and how to fix it."""
    if not path.exists():
        raise UsageError(
            f"there is no report at {path}. Run `ci-toolkit run` first (it writes "
            "reports/report.json), or pass the report's path: `ci-toolkit summary PATH`."
        )
    fix = "Pass the report.json that `ci-toolkit run` wrote, or run the pipeline again."
    data = read_json_object(path, what="the report", fix=fix)
    return parse_report(data, source=f"the report {path}", fix=fix)
