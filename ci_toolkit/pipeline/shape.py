"""Checks of the structure of a project's files: YAML that parses but has the wrong shape.

`policies: 5` or a story whose `steps` is a number parse fine, and then break the
fingerprint or make rasa stop with a schema dump far into a run. Each check here names the
file, the key, what it holds and what it should hold, before any stage runs. Keys the
toolkit does not know are left alone, as rasa leaves them (it warns at most).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError

# What is wrong with a value ("it holds int 5", "item 2 has no string `name`"), or None.
Check = Callable[[Any], str | None]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string"}.get(
        type(value), f"{type(value).__name__} {value!r}"[:60])


def _scalar(value: Any) -> str | None:
    # rasa reads YAML 1.2, PyYAML 1.1: `language: no` is False here, "no" in rasa.
    return f"it holds {_kind(value)}" if isinstance(value, (dict, list)) else None


def _named_item(value: Any) -> str | None:
    """An intent, entity or action: a name, or a single-key mapping of a name to options."""
    if isinstance(value, dict):
        return None if len(value) == 1 else f"is a mapping with {len(value)} keys"
    return f"is {_kind(value)}" if value is None or isinstance(value, list) else None


def _component(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"is {_kind(value)}"
    return None if isinstance(value.get("name"), str) else "has no string `name`"


def _mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"it holds {_kind(value)}"


def _list_of(item: Check | None) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"it holds {_kind(value)}"
        for number, entry in enumerate(value if item else (), start=1):
            problem = item(entry) if item else None
            if problem:
                return f"item {number} {problem}"
        return None
    return check


def _flow(value: Any) -> str | None:
    """A story or rule: a mapping whose `steps`, when given, is a list of mappings."""
    if not isinstance(value, dict):
        return f"is {_kind(value)}"
    steps = value.get("steps")
    if steps is not None and not isinstance(steps, list):
        return f"has `steps` that is {_kind(steps)}"
    bad = next((n for n, step in enumerate(steps or [], 1) if not isinstance(step, dict)), None)
    return f"has step {bad} that is {_kind(steps[bad - 1])}" if bad else None


# key: (check, what it must be, an example of the right shape)
Rules = dict[str, tuple[Check, str, str]]

CONFIG_RULES: Rules = {
    "pipeline": (_list_of(_component), "a list of components, each a mapping with a "
                 "string `name`", "pipeline:\n  - name: WhitespaceTokenizer"),
    "policies": (_list_of(_component), "a list of policies, each a mapping with a string "
                 "`name`", "policies:\n  - name: RulePolicy"),
    "recipe": (_scalar, "a string", "recipe: default.v1"),
    "language": (_scalar, "a string", "language: en"),
    "assistant_id": (_scalar, "a string", "assistant_id: my-assistant"),
    "importers": (_list_of(None), "a list", "importers:\n  - name: RasaFileImporter"),
    "imports": (_list_of(None), "a list of paths", "imports:\n  - ../shared"),
}
DOMAIN_RULES: Rules = {
    **{key: (_list_of(_named_item), "a list of names (or single-key mappings of a name to "
             "its options)", f"{key}:\n  - {example}")
       for key, example in (("intents", "greet"), ("entities", "city"),
                            ("actions", "action_check"))},
    "responses": (_mapping, "a mapping of response names to variations",
                  "responses:\n  utter_greet:\n    - text: Hi"),
    "slots": (_mapping, "a mapping of slot names to slots",
              "slots:\n  city:\n    type: text\n    mappings: []"),
    "forms": (_mapping, "a mapping of form names to forms",
              "forms:\n  city_form:\n    required_slots: [city]"),
}
_FLOWS = {
    key: (_list_of(_flow), f"a list of {key}, each a mapping whose `steps` is a list of "
          "mappings", f"{key}:\n  - {flow}: greet\n    steps:\n      - intent: greet")
    for key, flow in (("stories", "story"), ("rules", "rule"))
}
DATA_RULES: Rules = {
    "nlu": (_list_of(_mapping), "a list of mappings (intents, synonyms, lookup tables)",
            "nlu:\n  - intent: greet\n    examples: |\n      - hi"),
    **_FLOWS,
    "responses": DOMAIN_RULES["responses"],
}
TESTS_RULES: Rules = {**_FLOWS}


def check_shape(content: object, path: Path, *, what: str, rules: Rules) -> None:
    """Raise a UsageError naming the first key of ``content`` whose value has the wrong shape."""
    if not isinstance(content, dict):
        return  # a file that is not a mapping is refused by the caller
    for key, (check, must_be, example) in rules.items():
        value = content.get(key)
        problem = None if value is None else check(value)  # empty reads as "none" in rasa
        if problem:
            raise UsageError(f"{what} {path}: `{key}` must be {must_be}, but {problem}. "
                             f"Write it like\n{example}", file=str(path))


def check_not_recursive(content: object, path: Path, *, what: str) -> None:
    """An alias inside its own anchor (`a: &a [*a]`) builds a value that contains itself;
    neither hashing nor rasa can read it."""
    seen: set[int] = set()  # containers whose insides were checked already (shared aliases)
    stack: list[tuple[object, frozenset[int]]] = [(content, frozenset())]
    while stack:
        value, above = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        if id(value) in above:
            raise UsageError(f"{what} {path} uses a YAML alias that refers to itself (an "
                             "`*alias` inside the value of its own `&anchor`). Write the value "
                             "out instead.", file=str(path))
        if id(value) in seen:
            continue
        seen.add(id(value))
        inside = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        stack.extend((item, above | {id(value)}) for item in inside)
