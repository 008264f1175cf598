"""Read a project's NLU training data (rasa YAML) into the parts a split needs.

Intent examples are kept as rasa reads them from an ``examples: |`` block, entity
annotations (``[latte](drink)``) included verbatim, so a fold's file trains on exactly the
text the user wrote. Every other NLU entry (``regex:``, ``lookup:``, ``synonym:``) is kept
whole: it is knowledge about the language, not an example to test on, so every training
fold gets all of them. ``responses:`` (retrieval intents' answers kept in data files) go to
every training fold too. Stories and rules are not NLU data and are left out.

Everything is put in a canonical order (files sorted, examples sorted, entries sorted by
their JSON), so the result does not depend on how the data is spread over files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import YAML_SUFFIXES, load_yaml

INTENT_KEYS = frozenset({"intent", "examples", "metadata"})


@dataclass(frozen=True)
class NluData:
    # intent -> its examples, sorted and each once; the text after "- " in the block.
    examples: dict[str, tuple[str, ...]]
    # regex/lookup/synonym entries, in canonical order.
    other_entries: tuple[dict[str, Any], ...] = ()
    responses: dict[str, Any] = field(default_factory=dict)
    # intent -> its `metadata:` (the first one written, when an intent appears twice).
    intent_metadata: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical data: equal on every machine that has the same data."""
        canonical = json.dumps(
            {"examples": self.examples, "other": self.other_entries,
             "responses": self.responses, "metadata": self.intent_metadata},
            sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def data_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files under ``paths`` (files or directories), sorted and without repeats."""
    found: set[Path] = set()
    for path in paths:
        if path.is_file():
            found.add(path.resolve())
        elif path.is_dir():
            found.update(p.resolve() for p in path.rglob("*")
                         if p.is_file() and p.suffix in YAML_SUFFIXES)
        else:
            raise UsageError(f"The training data path {path} does not exist. Pass the "
                             "directory or files of the NLU data with --data.")
    return sorted(found)


def _block_examples(block: Any, *, intent: str, path: Path) -> list[str]:
    if not isinstance(block, str):
        raise UsageError(
            f"{path}: the examples of intent {intent!r} are not a block of '- ' lines. "
            "Write them as `examples: |` followed by one `- example` per line.", file=str(path))
    examples = []
    for line in block.splitlines():
        text = line.strip()
        if not text:
            continue
        if not text.startswith("- ") or not text[2:].strip():
            raise UsageError(
                f"{path}: the line {line.strip()!r} in the examples of intent {intent!r} is "
                "not an example. Each line of an examples block must be `- <example>`.",
                file=str(path))
        examples.append(text[2:].strip())
    return examples


class _Collector:
    def __init__(self) -> None:
        self.examples: dict[str, list[str]] = {}
        self.other: list[dict[str, Any]] = []
        self.responses: dict[str, Any] = {}
        self.metadata: dict[str, Any] = {}

    def add_entry(self, entry: Any, path: Path) -> None:
        if not isinstance(entry, dict):
            raise UsageError(f"{path}: an entry of `nlu:` is not a mapping ({entry!r}). Each "
                             "entry starts with `- intent:`, `- regex:`, `- lookup:` or "
                             "`- synonym:`.", file=str(path))
        if "intent" not in entry:
            self.other.append(entry)
            return
        intent = entry["intent"]
        unknown = sorted(set(entry) - INTENT_KEYS)
        if not isinstance(intent, str) or not intent or unknown:
            problem = f"unknown keys {unknown}" if unknown else f"the intent name {intent!r}"
            raise UsageError(f"{path}: an intent entry has {problem}. An intent entry has "
                             "`intent: <name>`, `examples: |` and optionally `metadata:`.",
                             file=str(path))
        self.examples.setdefault(intent, []).extend(
            _block_examples(entry.get("examples"), intent=intent, path=path))
        if "metadata" in entry:
            self.metadata.setdefault(intent, entry["metadata"])

    def add_file(self, path: Path) -> None:
        content = load_yaml(path, what="The training data file")
        if not isinstance(content, dict):
            return  # rasa skips files that are not NLU data; so does the split
        entries = content.get("nlu")
        if entries is not None and not isinstance(entries, list):
            raise UsageError(f"{path}: `nlu:` must be a list of entries, not "
                             f"{type(entries).__name__}.", file=str(path))
        for entry in entries or []:
            self.add_entry(entry, path)
        responses = content.get("responses")
        if isinstance(responses, dict):
            self.responses.update(responses)


def read_nlu_data(paths: Iterable[Path]) -> NluData:
    """The NLU data in the YAML files under ``paths``; a UsageError names a malformed file."""
    collector = _Collector()
    for path in data_files(paths):
        collector.add_file(path)
    if not collector.examples:
        raise UsageError("The training data has no intent examples (no `nlu:` entry with "
                         "`intent:` and `examples:`), so there is nothing to cross-validate.")
    other = sorted(collector.other, key=lambda e: json.dumps(e, sort_keys=True, default=str))
    return NluData(
        # rasa drops repeated examples of an intent (TrainingData.sanitize_examples); so
        # does the split, or a fold would count an example rasa never predicts.
        examples={intent: tuple(sorted(set(found))) for intent, found in
                  sorted(collector.examples.items())},
        other_entries=tuple(other),
        responses=dict(sorted(collector.responses.items())),
        intent_metadata=dict(sorted(collector.metadata.items())),
    )
