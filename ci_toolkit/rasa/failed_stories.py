"""Read `failed_test_stories.yml`: which story failed, and at which step.

PyYAML drops comments, and the comments are the point here: rasa marks each wrong
prediction with an end-of-line comment (docs/architecture.md, "How rasa behaves"; real
output in tests/fixtures/rasa/):

    - action: utter_greet  # predicted: action_default_fallback
    - intent: mood_great   # predicted: mood_unhappy: amazing
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_STORY_HEADER = re.compile(r"^- (story|rule): (?P<name>.*?)(?: \((?P<file>[^()]*)\))?\s*$")
_STEP_START = re.compile(
    r"^(?P<indent>\s*)- (?P<key>[a-z_]+):\s*(?P<value>[^#]*?)\s*(?:#\s*(?P<comment>.*))?$")
# Any `key: value  # comment` line, the step's first line or one nested in it.
_COMMENTED = re.compile(r"^\s*(?:- )?(?P<key>[a-z_]+):\s*(?P<value>[^#]*?)\s*#\s*(?P<comment>.*)$")
_PREDICTED = re.compile(r"predicted:\s*(?P<what>.*)$")
_ALL_GOOD = "None of the test stories failed"


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if _STORY_HEADER.match(line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def _steps(lines: list[str]) -> list[list[str]]:
    """Group a story's lines into steps: each starts with `- key:` at the steps' indent."""
    steps: list[list[str]] = []
    step_indent: int | None = None
    for line in lines:
        match = _STEP_START.match(line)
        if match and (step_indent is None or len(match.group("indent")) == step_indent):
            step_indent = len(match.group("indent"))
            steps.append([line])
        elif steps:
            steps[-1].append(line)
    return steps


def _user_text(step: list[str]) -> str | None:
    for index, line in enumerate(step):
        stripped = line.strip()
        if stripped.startswith("user:"):
            inline = stripped[len("user:"):].strip()
            if inline and inline not in ("|", "|-", ">", ">-"):
                return inline.strip("'\"")
            following = [text.strip() for text in step[index + 1:] if text.strip()]
            return following[0] if following else None
    return None


def _failed_step(steps: list[list[str]]) -> dict[str, Any] | None:
    for index, step in enumerate(steps, start=1):
        for line in step:
            match = _COMMENTED.match(line)
            if not match:
                continue
            predicted = _PREDICTED.search(match.group("comment"))
            if not predicted:
                continue
            kind = match.group("key")
            what = predicted.group("what").strip()
            text = _user_text(step)
            if kind == "intent" and ": " in what:
                # `predicted: <intent>: <text with entity markup>`
                what, text = what.split(": ", 1)
            return {
                "index": index,
                "kind": kind,
                "expected": match.group("value").strip(),
                "predicted": what,
                "text": text,
            }
    return None


def _story_line(project_root: Path, file: str | None, name: str) -> int | None:
    """Line of the story in its source file, so an annotation lands on it in the diff."""
    if not file:
        return None
    path = Path(file)
    path = path if path.is_absolute() else project_root / path
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*-\s*(?:story|rule):\s*['\"]?{re.escape(name)}['\"]?\s*$")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


def parse_failed_stories(text: str, *, project_root: Path) -> list[dict[str, Any]]:
    if _ALL_GOOD in text and "- story:" not in text:
        return []
    stories = []
    for block in _blocks(text):
        header = _STORY_HEADER.match(block[0])
        assert header is not None
        name = header.group("name")
        file = header.group("file")
        body = [line for line in block[1:] if line.strip() != "steps:"]
        stories.append({
            "name": name,
            "file": file,
            "line": _story_line(project_root, file, name),
            "failed_step": _failed_step(_steps(body)),
            "yaml": "\n".join(block),
        })
    return stories
