"""Turn what `rasa data validate` prints into findings: errors vs warnings.

Both classes are printed the same way (UserWarnings on stderr); only some make the command
fail. The table is in docs/architecture.md, "How rasa behaves".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ci_toolkit.pipeline.project import RasaProject, yaml_files
from ci_toolkit.rasa import failures

_USER_WARNING = re.compile(r"UserWarning: (?P<message>.*)$")
_CONFLICT = re.compile(r"WARNING\s+rasa\.validator\s+- (?P<message>Story structure conflict .*)$")
# The code of the finding made from an exception that stopped validation.
RASA_EXCEPTION = "rasa_exception"


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    pattern: re.Pattern[str]
    # Where to point an annotation: a regex (with the captured name) searched in these files.
    locate_in: str | None = None
    locate: str | None = None


def _rule(code: str, level: str, pattern: str, where: str | None = None,
          locate: str | None = None) -> Rule:
    return Rule(code, level, re.compile(pattern), where, locate)


_BLOCK = r"^\s*-\s*(?:story|rule):\s*['\"]?{block}"
_LISTED = r"^\s*-\s*{name}\s*:?\s*$"
RULES = (
    # errors: `rasa data validate` fails on them
    _rule("unknown_action", "error",
          r"The action '(?P<name>[^']+)' is used in the '(?P<block>[^']+)' block", "data", _BLOCK),
    _rule("unknown_form", "error",
          r"The form '(?P<name>[^']+)' is used in the '(?P<block>[^']+)' block", "data", _BLOCK),
    _rule("form_slot_missing", "error",
          r"The form slot '(?P<name>[^']+)' in form '[^']+' is not present", "domain",
          r"^\s*-\s*{name}\s*$"),
    _rule("slot_mapping_form", "error",
          r"Slot '(?P<name>[^']+)' has a mapping condition for form", "domain", r"^\s*{name}:\s*$"),
    _rule("mapping_policy", "error",
          r"The intent (?P<name>\S+) in the domain file is using the MappingPolicy", "domain",
          r"{name}"),
    _rule("empty_domain", "error", r"Encountered empty domain"),
    # warnings: fatal only with --fail-on-warnings
    _rule("intent_not_in_nlu", "warning",
          r"The intent '(?P<name>[^']+)' is listed in the domain file, but is not found",
          "domain", _LISTED),
    _rule("intent_not_in_domain", "warning",
          r"labeled with intent '(?P<name>[^']+)'\. This intent is not listed", "data",
          r"^\s*-\s*intent:\s*{name}\s*$"),
    _rule("story_intent_not_in_domain", "warning",
          r"The intent '(?P<name>[^']+)' is used in your stories, but it is not listed", "data",
          r"intent:\s*{name}\s*$"),
    _rule("unused_intent", "warning",
          r"The intent '(?P<name>[^']+)' is not used in any story or rule", "domain", _LISTED),
    _rule("ambiguous_example", "warning",
          r"The example '(?P<name>.+)' was found labeled with multiple", "data",
          r"^\s*-\s*{name}\s*$"),
    _rule("invalid_utterance", "warning",
          r"The action '(?P<name>utter_[^']+)' is used in the stories, but is not a valid "
          r"utterance", "data", r"action:\s*{name}\s*$"),
    _rule("unused_utterance", "warning",
          r"The utterance '(?P<name>[^']+)' is not used in any story or rule", "domain",
          r"^\s*{name}:\s*$"),
    _rule("story_conflict", "warning", r"Story structure conflict"),
    _rule("missing_assistant_id", "warning", r"assistant_id", "config"),
)


def _messages(stderr: str) -> list[str]:
    messages: list[str] = []
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        if match := _USER_WARNING.search(line):
            messages.append(match.group("message").strip())
        elif match := _CONFLICT.search(line):
            # The conflicting stories follow on indented lines.
            details = []
            for following in lines[index + 1:]:
                if not following.startswith("  ") or not following.strip():
                    break
                details.append(following.strip())
            messages.append("; ".join([match.group("message"), *details]))
    return messages


def _locate(project: RasaProject, rule: Rule,
            match: re.Match[str]) -> tuple[str | None, int | None]:
    if rule.locate_in is None:
        return None, None
    roots = {"data": list(project.data), "domain": [project.domain],
             "config": [project.config]}[rule.locate_in]
    if rule.locate is None:
        return (project.relative(roots[0]), None) if roots else (None, None)
    values = {key: re.escape(value) for key, value in match.groupdict().items() if value}
    pattern = re.compile(rule.locate.format(**values))
    for root in roots:
        for path in yaml_files(root) if root.exists() else []:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if pattern.search(line):
                    return project.relative(path), number
    return None, None


def classify(message: str) -> tuple[Rule | None, re.Match[str] | None]:
    for rule in RULES:
        match = rule.pattern.search(message)
        if match:
            return rule, match
    return None, None


def parse_findings(
    *, stdout: str, stderr: str, project: RasaProject, fail_on_warnings: bool
) -> dict[str, list[dict[str, Any]]]:
    # An exception (InvalidDomain, YamlValidationException...) stopped validation: an
    # error, with the file and line rasa named.
    errors: list[dict[str, Any]] = [
        {"level": "error", "code": RASA_EXCEPTION, "message": str(failure),
         "file": failure.file, "line": failure.line}
        for failure in failures.printed_errors(stdout, root=project.root)]
    warnings: list[dict[str, Any]] = []
    seen: set[str] = set()
    for message in _messages(stderr):
        if message in seen:
            continue
        seen.add(message)
        rule, match = classify(message)
        if rule is None:  # unknown: reported as a warning rather than dropped
            level, code, file, line = "warning", "other", None, None
        else:
            level, code = rule.level, rule.code
            file, line = _locate(project, rule, match) if match else (None, None)
        if fail_on_warnings and code != "missing_assistant_id":
            level = "error"
        finding = {"level": level, "code": code, "message": message, "file": file, "line": line}
        (errors if level == "error" else warnings).append(finding)
    return {"errors": errors, "warnings": warnings}
