"""Reading the team's case files (tests/actions/*.yml) into typed cases, every mistake a
UsageError that names the file and the line. The format is documented in
docs/action-tests.md; ``cases.py`` runs and matches them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from ci_toolkit.actions.protocol import Given, Message
from ci_toolkit.errors import UsageError

MatchMode = Literal["exact", "subset"]
MATCH_MODES: tuple[str, ...] = ("exact", "subset")
_CASE_KEYS = {"name", "action", "given", "expect"}
_GIVEN_KEYS = {"slots", "message", "events", "active_loop"}
_MESSAGE_KEYS = {"intent", "entities", "text"}
_EXPECT_KEYS = {"events", "responses", "match", "rejected"}
_DOCS = "See docs/action-tests.md for the format."


class _Located(yaml.SafeLoader):
    """Mappings and lists that remember the line they start on, for error messages."""


class LineDict(dict[str, Any]):
    line: int | None = None


class LineList(list[Any]):
    line: int | None = None


def _located_map(loader: _Located, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))


def _located_seq(loader: _Located, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node))


_Located.add_constructor("tag:yaml.org,2002:map", _located_map)
_Located.add_constructor("tag:yaml.org,2002:seq", _located_seq)


@dataclass(frozen=True)
class Expectation:
    events: tuple[Any, ...] | None = None  # None: not checked
    responses: tuple[Any, ...] | None = None
    match: MatchMode = "exact"
    rejected: bool = False  # the action must refuse (ActionExecutionRejection, HTTP 400)


@dataclass(frozen=True)
class Case:
    name: str
    action: str
    given: Given
    expect: Expectation
    file: str
    line: int | None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def case_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir()
                  if path.suffix in (".yml", ".yaml") and path.is_file())


def load_cases(directory: Path) -> list[Case]:
    cases: list[Case] = []
    for path in case_files(directory):
        cases += load_case_file(path)
    names: dict[str, str] = {}
    for case in cases:
        if case.name in names:
            raise UsageError(f"{case.where}: the case name {case.name!r} is used twice (first "
                             f"at {names[case.name]}). Give each case its own name.",
                             file=case.file, line=case.line)
        names[case.name] = case.where
    return cases


def load_case_file(path: Path) -> list[Case]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Located)  # a SafeLoader
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 text ({error.reason}).", file=str(path)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise UsageError(f"{path}{f':{line}' if line else ''} is not valid YAML: "
                         f"{getattr(error, 'problem', None) or error}. {_DOCS}",
                         file=str(path), line=line) from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) \
            or not data["cases"]:
        raise _bad(path, data, "the file must be a mapping with a non-empty 'cases:' list")
    return [_case(path, raw, number) for number, raw in enumerate(data["cases"], start=1)]


def _line(value: Any, fallback: Any = None) -> int | None:
    return getattr(value, "line", None) or getattr(fallback, "line", None)


def _bad(path: Path, node: Any, message: str, fallback: Any = None) -> UsageError:
    line = _line(node, fallback)
    where = f"{path}:{line}" if line else str(path)
    return UsageError(f"{where}: {message}. {_DOCS}", file=str(path), line=line)


def _unknown(path: Path, raw: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(str(key) for key in set(raw) - allowed)
    if unknown:
        raise _bad(path, raw, f"{what} has unknown key(s) {', '.join(unknown)}; use "
                              f"{', '.join(sorted(allowed))}")


def _case(path: Path, raw: Any, number: int) -> Case:
    if not isinstance(raw, dict):
        raise _bad(path, raw, f"case {number} must be a mapping with 'action' and 'expect'")
    label = f"case {number}"
    _unknown(path, raw, _CASE_KEYS, label)
    action = raw.get("action")
    if not isinstance(action, str) or not action:
        raise _bad(path, raw, f"{label} needs 'action:' with the name of the action to run")
    name = raw.get("name", f"{path.stem} #{number}")
    if not isinstance(name, str) or not name:
        raise _bad(path, raw, f"{label}: 'name' must be a text")
    if not isinstance(raw.get("expect"), dict):
        raise _bad(path, raw.get("expect"), f"{label} ({name}) needs 'expect:' with events, "
                                            "responses or rejected", raw)
    return Case(name=name, action=action, given=_given(path, raw.get("given"), raw, name),
                expect=_expect(path, raw["expect"], name), file=str(path), line=_line(raw))


def _given(path: Path, raw: Any, case: Any, name: str) -> Given:
    if raw is None:
        return Given()
    if not isinstance(raw, dict):
        raise _bad(path, raw, f"case {name!r}: 'given' must be a mapping", case)
    _unknown(path, raw, _GIVEN_KEYS, f"case {name!r}: 'given'")
    slots = raw.get("slots") or {}
    if not isinstance(slots, dict) or not all(isinstance(key, str) for key in slots):
        raise _bad(path, slots, f"case {name!r}: 'given.slots' must map slot names to "
                                "values", raw)
    events = raw.get("events") or []
    if not isinstance(events, list) or not all(isinstance(event, dict) and
                                               isinstance(event.get("event"), str)
                                               for event in events):
        raise _bad(path, events, f"case {name!r}: 'given.events' must be a list of events, "
                                 "each with an 'event' type (e.g. {event: slot, name: drink, "
                                 "value: latte})", raw)
    loop = raw.get("active_loop")
    if loop is not None and not isinstance(loop, str):
        raise _bad(path, raw, f"case {name!r}: 'given.active_loop' must be a form name")
    return Given(slots=dict(slots), message=_message(path, raw.get("message"), raw, name),
                 events=tuple(events), active_loop=loop)


def _message(path: Path, raw: Any, given: Any, name: str) -> Message:
    if raw is None:
        return Message()
    if not isinstance(raw, dict):
        raise _bad(path, raw, f"case {name!r}: 'given.message' must be a mapping with "
                              "intent, entities and text", given)
    _unknown(path, raw, _MESSAGE_KEYS, f"case {name!r}: 'given.message'")
    for key in ("intent", "text"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise _bad(path, raw, f"case {name!r}: 'given.message.{key}' must be a text")
    entities = raw.get("entities") or []
    if not isinstance(entities, list) or not all(
            isinstance(entity, dict) and isinstance(entity.get("entity"), str)
            and "value" in entity for entity in entities):
        raise _bad(path, entities, f"case {name!r}: 'given.message.entities' must be a list "
                                   "of {entity: NAME, value: VALUE}", raw)
    return Message(intent=raw.get("intent"), entities=tuple(entities), text=raw.get("text"))


def _expect(path: Path, raw: dict[str, Any], name: str) -> Expectation:
    _unknown(path, raw, _EXPECT_KEYS, f"case {name!r}: 'expect'")
    match = raw.get("match", "exact")
    if match not in MATCH_MODES:
        raise _bad(path, raw, f"case {name!r}: 'expect.match' is {match!r}; use exact or "
                              "subset")
    rejected = raw.get("rejected", False)
    if not isinstance(rejected, bool):
        raise _bad(path, raw, f"case {name!r}: 'expect.rejected' must be true or false")
    lists: dict[str, tuple[Any, ...] | None] = {}
    for key in ("events", "responses"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, list)
                                  or not all(isinstance(item, dict) for item in value)):
            raise _bad(path, value, f"case {name!r}: 'expect.{key}' must be a list of "
                                    "mappings", raw)
        if value is not None:
            _check_patterns(path, value, name)
        lists[key] = tuple(value) if value is not None else None
    if rejected and (lists["events"] is not None or lists["responses"] is not None):
        raise _bad(path, raw, f"case {name!r}: a rejected action answers no events or "
                              "responses; give either 'rejected: true' or the lists")
    if not rejected and lists["events"] is None and lists["responses"] is None:
        raise _bad(path, raw, f"case {name!r}: 'expect' needs events, responses or "
                              "rejected: true")
    return Expectation(events=lists["events"], responses=lists["responses"], match=match,
                       rejected=rejected)


def is_pattern(value: Any) -> bool:
    """``{regex: "..."}``: a text the actual value must match (re.search)."""
    return isinstance(value, dict) and set(value) == {"regex"}


def _check_patterns(path: Path, value: Any, name: str) -> None:
    if is_pattern(value):
        pattern = value["regex"]
        if not isinstance(pattern, str):
            raise _bad(path, value, f"case {name!r}: a 'regex' must be a text")
        try:
            re.compile(pattern)
        except re.error as error:
            raise _bad(path, value, f"case {name!r}: {pattern!r} is not a valid regular "
                                    f"expression ({error})") from None
    elif isinstance(value, dict):
        for item in value.values():
            _check_patterns(path, item, name)
    elif isinstance(value, list):
        for item in value:
            _check_patterns(path, item, name)
