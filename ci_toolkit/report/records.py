"""The building blocks of report.json's typed form: ``Record`` (a section that round-trips
its JSON form, keeping keys it does not know) and the codecs that turn nested sections,
lists, mappings and enums into objects and back. ci_toolkit/report/model.py and
ci_toolkit/report/actions_model.py declare the sections with them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="Record")
E = TypeVar("E", bound=Enum)


class Status(str, Enum):
    """What became of a stage. A stage restored from the cache has its own status plus
    ``cached: true``."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Codec:
    """How one field goes from its JSON form to its typed form and back."""

    load: Callable[[Any], Any]
    dump: Callable[[Any], Any]


def one(record: type[Record]) -> Codec:
    return Codec(lambda raw: None if raw is None else record.from_dict(raw),
                 lambda value: None if value is None else value.to_dict())


def many(record: type[Record]) -> Codec:
    return Codec(lambda raw: [record.from_dict(item) for item in raw or ()],
                 lambda values: [value.to_dict() for value in values])


def named(record: type[Record]) -> Codec:
    return Codec(lambda raw: {name: record.from_dict(item) for name, item in (raw or {}).items()},
                 lambda values: {name: value.to_dict() for name, value in values.items()})


def choice(enum: type[E]) -> Codec:
    return Codec(lambda raw: None if raw is None else enum(raw),
                 lambda value: None if value is None else value.value)


@dataclass(frozen=True)
class Record:
    """A section of the report. Keys the class does not know are kept in ``extra``."""

    FIELDS: ClassVar[Mapping[str, Codec]] = {}  # the fields that are not plain JSON values
    # Fields added after schema_version 1 was published: left out of the JSON form while empty,
    # so a report that never had them round-trips unchanged.
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False)

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        values: dict[str, Any] = {}
        known = set()
        for declared in fields(cls):
            if declared.name == "extra":
                continue
            known.add(declared.name)
            codec = cls.FIELDS.get(declared.name)
            if declared.name in data:
                raw = data[declared.name]
                values[declared.name] = codec.load(raw) if codec else raw
            elif declared.default is MISSING and declared.default_factory is MISSING:
                values[declared.name] = codec.load(None) if codec else None
        extra = {key: value for key, value in data.items() if key not in known}
        return cls(**values, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for declared in fields(self):
            if declared.name == "extra":
                continue
            value = getattr(self, declared.name)
            if declared.name in self.OPTIONAL and not value:
                continue
            codec = self.FIELDS.get(declared.name)
            data[declared.name] = codec.dump(value) if codec else value
        data.update(self.extra)
        return data
