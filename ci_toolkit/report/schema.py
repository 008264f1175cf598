"""Check report.json against ci_toolkit/schemas/report.schema.json, with the standard library.

jsonschema is not a runtime dependency, and the schema uses a small part of JSON Schema:
``type``, ``const``, ``enum``, ``required``, ``properties``, ``additionalProperties``,
``propertyNames``, ``items``, ``anyOf``, ``minimum`` and local ``$ref``s (``#/$defs/...``).
This module implements exactly that part; any other keyword in the schema is an error here, so
the schema cannot grow a rule that is silently not checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "report.schema.json"
# Keywords that describe rather than constrain.
_ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
_CHECKED = {"type", "const", "enum", "required", "properties", "additionalProperties",
            "propertyNames", "items", "anyOf", "minimum", "$ref"}
_JSON_TYPES = {"object": "an object", "array": "an array", "string": "a string",
               "number": "a number", "integer": "an integer", "boolean": "true or false",
               "null": "null"}


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def json_type(value: Any) -> str:
    """The JSON type name of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _has_type(value: Any, expected: str) -> bool:
    actual = json_type(value)
    return actual == expected or (expected == "number" and actual == "integer")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class Validator:
    """Walks a value and a schema side by side; yields (path, problem) for every mismatch."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, reference: str) -> Mapping[str, Any]:
        if not reference.startswith("#/"):
            raise ValueError(f"only local $refs are supported, not {reference!r}")
        node: Any = self.root
        for part in reference[2:].split("/"):
            node = node[part]
        return node

    def errors(self, value: Any, schema: Mapping[str, Any], path: str = "") -> Iterator[
            tuple[str, str]]:
        unknown = set(schema) - _CHECKED - _ANNOTATIONS
        if unknown:
            raise ValueError(f"the schema at {path or 'the root'} uses unsupported keywords: "
                             f"{', '.join(sorted(unknown))}")
        if "$ref" in schema:
            yield from self.errors(value, self.resolve(schema["$ref"]), path)
        if "anyOf" in schema:
            yield from self._any_of(value, schema["anyOf"], path)
        problem = self._scalar_problem(value, schema)
        if problem:
            yield path, problem
            return
        if isinstance(value, Mapping):
            yield from self._object(value, schema, path)
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                yield from self.errors(item, schema["items"], _join(path, index))

    def _any_of(self, value: Any, options: list[Mapping[str, Any]], path: str) -> Iterator[
            tuple[str, str]]:
        found = [list(self.errors(value, option, path)) for option in options]
        if all(found):
            # Report the option that got furthest (its first error is deepest); on a tie the
            # last one, which in this schema is the object rather than null.
            yield max(reversed(found), key=lambda errors: len(errors[0][0]))[0]

    @staticmethod
    def _scalar_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
        expected = schema.get("type")
        if expected is not None:
            allowed = [expected] if isinstance(expected, str) else list(expected)
            if not any(_has_type(value, name) for name in allowed):
                wanted = " or ".join(_JSON_TYPES.get(name, name) for name in allowed)
                return f"is {_show(value)} ({json_type(value)}), but must be {wanted}"
        if "const" in schema and value != schema["const"]:
            return f"is {_show(value)}, but must be {_show(schema['const'])}"
        if "enum" in schema and value not in schema["enum"]:
            return (f"is {_show(value)}, but must be one of: "
                    f"{', '.join(str(option) for option in schema['enum'])}")
        minimum = schema.get("minimum")
        if minimum is not None and _has_type(value, "number") and value < minimum:
            return f"is {_show(value)}, but must be at least {minimum}"
        return None

    def _object(self, value: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> Iterator[
            tuple[str, str]]:
        for key in schema.get("required", ()):
            if key not in value:
                yield _join(path, key), "is missing"
        properties = schema.get("properties", {})
        extra_schema = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for key, item in value.items():
            if names is not None:
                problem = self._scalar_problem(key, names)
                if problem:
                    yield _join(path, key), f"is not an allowed name: the name {problem}"
                    continue
            if key in properties:
                yield from self.errors(item, properties[key], _join(path, key))
            elif extra_schema is False:
                yield _join(path, key), "is not an allowed key"
            elif isinstance(extra_schema, Mapping):
                yield from self.errors(item, extra_schema, _join(path, key))


def schema_errors(data: Any, schema: Mapping[str, Any] | None = None) -> list[str]:
    """Every mismatch of ``data`` with the schema, as "path: problem" lines (empty: valid)."""
    root = report_schema() if schema is None else schema
    return [f"{path or '(the whole file)'} {problem}"
            for path, problem in Validator(root).errors(data, root)]
