"""What a project's domain promises the action server: custom actions, forms, slots and
responses, read from ``domain.yml`` or a domain directory (whose files rasa merges)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import load_yaml, yaml_files

# Slots rasa adds to every domain (rasa/shared/core/domain.py, _add_default_slots), so an
# action may set them although the team never declared them.
SESSION_METADATA_SLOT = "session_started_metadata"
REQUESTED_SLOT = "requested_slot"  # added when the domain has forms
KNOWLEDGE_BASE_ACTION = "action_query_knowledge_base"
KNOWLEDGE_BASE_SLOTS = ("knowledge_base_listed_objects", "knowledge_base_last_object",
                        "knowledge_base_last_object_type")
DOMAIN_CANDIDATES = ("domain.yml", "domain.yaml", "domain")
_MERGED_MAPPINGS = ("slots", "forms", "responses", "session_config")
_MERGED_LISTS = ("intents", "entities", "actions")


@dataclass(frozen=True)
class ActionDomain:
    """The parts of a domain the contract tests need, and the merged domain itself (sent
    in each request, as rasa does: form validation actions read their slots from it)."""

    path: Path
    actions: tuple[str, ...]  # custom actions, validate_<form> included when declared
    forms: tuple[str, ...]
    slots: tuple[str, ...]  # declared slots and the ones rasa adds
    responses: tuple[str, ...]
    intents: tuple[str, ...]
    content: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def form_validation_actions(self) -> tuple[str, ...]:
        return tuple(f"validate_{form}" for form in self.forms)

    @property
    def actions_to_check(self) -> tuple[str, ...]:
        """Every custom action, then each form's validation action not listed already."""
        extra = [name for name in self.form_validation_actions if name not in self.actions]
        return (*self.actions, *extra)


def find_domain(project: Path) -> Path:
    for candidate in DOMAIN_CANDIDATES:
        if (project / candidate).exists():
            return project / candidate
    raise UsageError(
        f"No domain found in {project}: the action contract tests read domain.yml (or a "
        "domain/ directory) for the custom actions to call. Run the command in the project "
        "directory or pass the project as its argument.")


def load_domain(path: Path) -> ActionDomain:
    """Read a domain file or directory; bad YAML or a wrong shape is a UsageError."""
    if not path.exists():
        raise UsageError(f"The domain {path} does not exist. Point the command at the project "
                         "that holds domain.yml or a domain/ directory.")
    files = yaml_files(path)
    if not files:
        raise UsageError(f"The domain directory {path} holds no .yml or .yaml file.")
    merged: dict[str, Any] = {}
    for file in files:
        _merge(merged, _read(file))
    return _from_content(path, merged)


def _read(file: Path) -> dict[str, Any]:
    content = load_yaml(file, what="Domain file")
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise UsageError(f"Domain file {file} must be a YAML mapping (intents:, slots:, "
                         f"actions: ...), but it holds {type(content).__name__}.",
                         file=str(file), line=1)
    for key in _MERGED_MAPPINGS:
        if content.get(key) is not None and not isinstance(content[key], dict):
            raise UsageError(f"Domain file {file}: '{key}' must be a mapping of names, "
                             f"not {type(content[key]).__name__}.", file=str(file))
    for key in _MERGED_LISTS:
        if content.get(key) is not None and not isinstance(content[key], list):
            raise UsageError(f"Domain file {file}: '{key}' must be a list of names, "
                             f"not {type(content[key]).__name__}.", file=str(file))
    return content


def _merge(merged: dict[str, Any], content: dict[str, Any]) -> None:
    for key, value in content.items():
        if value is None:
            continue
        if key in _MERGED_MAPPINGS:
            merged.setdefault(key, {}).update(value)
        elif key in _MERGED_LISTS:
            merged.setdefault(key, []).extend(value)
        else:
            merged[key] = value


def _names(entries: Iterable[Any]) -> list[str]:
    """Names of a domain list; rasa allows ``- name: {options}`` next to plain names."""
    names: list[str] = []
    for entry in entries:
        name = next(iter(entry), None) if isinstance(entry, dict) else entry
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def _from_content(path: Path, content: dict[str, Any]) -> ActionDomain:
    actions = _names(content.get("actions") or [])
    forms = list(content.get("forms") or {})
    slots = list(content.get("slots") or {})
    added = [SESSION_METADATA_SLOT]
    if forms:
        added.append(REQUESTED_SLOT)
    if KNOWLEDGE_BASE_ACTION in actions:
        added.extend(KNOWLEDGE_BASE_SLOTS)
    slots += [name for name in added if name not in slots]
    # The domain sent to the server carries the slots rasa adds, as rasa's own does.
    sent = {**content, "slots": {**(content.get("slots") or {}),
                                 **{name: {"type": "any", "mappings": []}
                                    for name in added if name not in (content.get("slots")
                                                                       or {})}}}
    return ActionDomain(
        path=path,
        actions=tuple(name for name in actions if not name.startswith("utter_")),
        forms=tuple(str(form) for form in forms),
        slots=tuple(str(slot) for slot in slots),
        responses=tuple(str(name) for name in content.get("responses") or {}),
        intents=tuple(_names(content.get("intents") or [])),
        content=sent,
    )
