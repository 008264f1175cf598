"""Turn what `rasa data validate` prints into findings: errors vs warnings.

Both classes are printed the same way (UserWarnings on stderr); only some make the command
fail. The table is reference rasa-cli.md, section 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ci_toolkit.pipeline.project import RasaProject, yaml_files

_USER_WARNING = re.compile(r"UserWarning: (?P<message>.*)$")
_CONFLICT = re.compile(r"WARNING\s+rasa\.validator\s+- (?P<message>Story structure conflict .*)$")
_RASA_EXCEPTION = re.compile(
    r"^(?P<kind>[A-Z][A-Za-z]+(?:Exception|Error|Domain|Rule|Config)): (?P<message>.+)$")


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


def _messages(stderr: str, stdout: str) -> list[str]:
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
    for line in stdout.splitlines():
        if match := _RASA_EXCEPTION.match(line.strip()):
            messages.append(f"{match.group('kind')}: {match.group('message')}")
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
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    seen: set[str] = set()
    for message in _messages(stderr, stdout):
        if message in seen:
            continue
        seen.add(message)
        rule, match = classify(message)
        if rule is None:
            # Exceptions (InvalidDomain, YamlValidationException...) always fail validation;
            # anything else unknown is reported as a warning rather than dropped.
            level = "error" if _RASA_EXCEPTION.match(message) else "warning"
            code = "rasa_exception" if level == "error" else "other"
            file, line = None, None
        else:
            level, code = rule.level, rule.code
            file, line = _locate(project, rule, match) if match else (None, None)
        if fail_on_warnings and code != "missing_assistant_id":
            level = "error"
        finding = {"level": level, "code": code, "message": message, "file": file, "line": line}
        (errors if level == "error" else warnings).append(finding)
    return {"errors": errors, "warnings": warnings}
