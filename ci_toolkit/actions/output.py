"""The results on disk (actions.json, format in docs/action-tests.md) and on the terminal
(one line a check, then every finding of the failed ones)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ci_toolkit.actions.results import ActionsResult, CheckResult

_MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def write_results(result: ActionsResult, path: Path) -> Path:
    """Write actions.json whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    os.replace(partial, path)
    return path


def result_outputs(result: ActionsResult, path: Path) -> dict[str, str]:
    """The step outputs of a contract-test run: `contract_tests` (passed or failed) and
    `actions_results` (actions.json, which `ci-toolkit run --actions-results` reads)."""
    return {"contract_tests": "passed" if result.passed else "failed",
            "actions_results": str(path)}


def _detail(check: CheckResult) -> str:
    if check.findings:
        more = f" (+{len(check.findings) - 1} more)" if len(check.findings) > 1 else ""
        return check.findings[0].message + more
    return check.reason or ""


def table(result: ActionsResult) -> list[str]:
    width = max((len(check.name) for check in result.checks), default=10)
    lines = [f"Action server {result.server.url} (rasa-sdk "
             f"{result.server.sdk_version or 'version unknown'})"]
    for check in result.checks:
        detail = _detail(check)
        if len(detail) > 100:
            detail = detail[:97] + "..."
        lines.append(f"  {_MARKS[check.status]}  {check.name.ljust(width)}  {detail}".rstrip())
    failed = [check for check in result.checks if check.failed]
    for check in failed:
        lines.append(f"{check.name} failed:")
        lines += [f"  - {finding.message}" for finding in check.findings]
    lines.append(f"{result.count('passed')} passed, {result.count('failed')} failed, "
                 f"{result.count('skipped')} skipped in {result.duration_s:.1f} s")
    return lines
