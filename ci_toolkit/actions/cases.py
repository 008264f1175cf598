"""The team's declarative cases: check them against the domain, and match an answer.

An expected item (an event or a response) matches an actual one when every key it names
has the same value there; keys it does not name are ignored (rasa-sdk adds `timestamp`,
`buttons: []`, ...). A value ``{regex: "..."}`` matches a text that ``re.search`` finds it
in. Nested mappings follow the same rule; lists must have the same length. With
``match: exact`` the lists match item by item, with nothing more or less; with
``match: subset`` the expected items appear in the answer in that order, others between.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ci_toolkit.actions.case_files import Case, is_pattern, load_cases
from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.results import Answer, Finding
from ci_toolkit.errors import UsageError

CASES_DIR = Path("tests") / "actions"


def load_checked_cases(project: Path, domain: ActionDomain) -> list[Case]:
    """The cases under PROJECT/tests/actions, each checked against the domain."""
    cases = load_cases(project / CASES_DIR)
    for case in cases:
        check_against_domain(case, domain)
    return cases


def check_against_domain(case: Case, domain: ActionDomain) -> None:
    """A case that names what the domain does not have is a mistake in the case."""
    def bad(message: str) -> UsageError:
        return UsageError(f"{case.where}: case {case.name!r}: {message}.",
                          file=case.file, line=case.line)

    if case.action not in domain.actions_to_check:
        raise bad(f"the action {case.action!r} is not a custom action of the domain "
                  f"({', '.join(domain.actions_to_check) or 'none'}); fix the name or add "
                  f"it under 'actions:' in {domain.path.name}")
    unknown = [slot for slot in case.given.slots if slot not in domain.slots]
    if unknown:
        raise bad(f"given.slots names {', '.join(unknown)}, not slots of the domain "
                  f"({', '.join(domain.slots)})")
    loop = case.given.active_loop
    if loop is not None and loop not in domain.forms:
        raise bad(f"given.active_loop {loop!r} is not a form of the domain "
                  f"({', '.join(domain.forms) or 'none'})")


def value_matches(expected: Any, actual: Any) -> bool:
    if is_pattern(expected):
        return isinstance(actual, str) and re.search(expected["regex"], actual) is not None
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and value_matches(value, actual[key])
            for key, value in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            value_matches(left, right) for left, right in zip(expected, actual))
    # 1 == 1.0 as in JSON, but true is not 1.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def _list_findings(case: Case, what: str, expected: Sequence[Any], actual: Sequence[Any]
                   ) -> list[Finding]:
    def finding(message: str) -> Finding:
        return Finding(f"case {case.name!r} ({case.where}): {message}", case.action,
                       case.file, case.line)

    if case.expect.match == "exact":
        if len(expected) != len(actual):
            return [finding(f"expected {len(expected)} {what}, {case.action} answered "
                            f"{len(actual)}: {_show(list(actual))}. Fix the action, or the "
                            f"case (match: subset ignores the others).")]
        return [finding(f"{what} {index}: expected {_show(want)}, got {_show(got)}.")
                for index, (want, got) in enumerate(zip(expected, actual), start=1)
                if not value_matches(want, got)]
    position = 0
    for index, want in enumerate(expected, start=1):
        while position < len(actual) and not value_matches(want, actual[position]):
            position += 1
        if position == len(actual):
            return [finding(f"expected {what} {index} {_show(want)} (in this order) is not in "
                            f"the answer: {_show(list(actual))}.")]
        position += 1
    return []


def match_case(case: Case, answer: Answer) -> list[Finding]:
    """What differs between the answer and the case's expectation (empty: it passed)."""
    if case.expect.rejected:
        if answer.status == 400:
            return []
        return [Finding(f"case {case.name!r} ({case.where}): expected {case.action} to reject "
                        f"the call (ActionExecutionRejection, HTTP 400), it answered HTTP "
                        f"{answer.status}.", case.action, case.file, case.line)]
    body = answer.body if isinstance(answer.body, dict) else {}
    findings: list[Finding] = []
    for what, expected in (("events", case.expect.events),
                           ("responses", case.expect.responses)):
        actual = body.get(what)
        if expected is not None:
            findings += _list_findings(case, what, expected,
                                       actual if isinstance(actual, list) else [])
    return findings
