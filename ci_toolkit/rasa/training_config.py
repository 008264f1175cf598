"""Train without letting rasa rewrite the user's config.yml.

`rasa train` (all, nlu and core) rewrites its --config file when
- `assistant_id` is missing or still rasa's `placeholder_default`: it adds a random one
  (a timestamp and a random name) and writes the whole file back, reformatted
  (rasa/cli/utils.py::validate_assistant_id_in_config);
- `pipeline` or `policies` is missing or empty: it appends the configuration it chose as
  comments (rasa/engine/recipes/default_recipe.py::_dump_config).

Either way the user's file changes behind their back, and the next run's fingerprint
(which hashes the config) no longer matches, so nothing is restored from the cache. So in
those cases rasa trains on a temporary copy, with a stable assistant_id (the assistant's
name) added, and the toolkit prints a notice that says how to make the copy unnecessary.
The user's file is never written. Cross-validation needs no copy: rasa writes its own
temporary config for each fold.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ci_toolkit.pipeline.project import RasaProject, load_yaml

ASSISTANT_ID = "assistant_id"
RASA_PLACEHOLDER = "placeholder_default"  # rasa/shared/constants.py ASSISTANT_ID_DEFAULT_VALUE
AUTOCONFIGURED = {"all": ("pipeline", "policies"), "nlu": ("pipeline",), "core": ("policies",)}


def stable_assistant_id(name: str) -> str:
    """An assistant_id made from the assistant's name: the same on every run."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "assistant"


def _lacks_id(config: dict[str, Any]) -> bool:
    return config.get(ASSISTANT_ID) in (None, "", RASA_PLACEHOLDER)


def _unset_keys(config: dict[str, Any], train_type: str) -> list[str]:
    return [key for key in AUTOCONFIGURED.get(train_type, ()) if not config.get(key)]


def what_rasa_would_rewrite(config: dict[str, Any], *, train_type: str) -> list[str]:
    """The reasons `rasa train --train-type` would write to this config file; [] if none."""
    reasons = []
    if _lacks_id(config):
        reasons.append(f"it has no {ASSISTANT_ID}, so rasa would add a random one and rewrite "
                       "the whole file")
    missing = _unset_keys(config, train_type)
    if missing:
        reasons.append(f"it has no {' or '.join(missing)}, so rasa would append the "
                       "configuration it chose as comments")
    return reasons


def with_assistant_id(text: str, assistant_id: str) -> str:
    """The config text with ``assistant_id`` set and every other byte kept: rasa reads YAML
    1.2, so a re-dump by another YAML library could change values (`no`, `010`). A config
    written in flow style (`{recipe: ...}`) cannot take a line; it is dumped again."""
    line = f"{ASSISTANT_ID}: {assistant_id}"
    existing = re.compile(rf"^{ASSISTANT_ID}\s*:.*$", re.M)
    if existing.search(text):
        changed = existing.sub(lambda _: line, text, count=1)
    else:
        separator = "" if not text or text.endswith("\n") else "\n"
        changed = f"{text}{separator}{line}\n"
    try:
        parsed = yaml.safe_load(changed)
    except yaml.YAMLError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get(ASSISTANT_ID) == assistant_id:
        return changed
    original = yaml.safe_load(text) or {}
    return yaml.safe_dump({**original, ASSISTANT_ID: assistant_id}, sort_keys=False)


@contextmanager
def config_rasa_may_write(project: RasaProject, *, train_type: str, assistant_name: str,
                          notice: Callable[[str], None]) -> Iterator[RasaProject]:
    """The project to give `rasa train`: itself, or one whose config is a temporary copy
    when rasa would otherwise rewrite the user's file."""
    config = load_yaml(project.config, what="The model configuration")
    reasons = what_rasa_would_rewrite(config, train_type=train_type) \
        if isinstance(config, dict) else []
    if not isinstance(config, dict) or not reasons:
        yield project
        return
    name = project.relative(project.config)
    text, fixes, with_id = project.config.read_text(encoding="utf-8"), [], ""
    if _lacks_id(config):
        assistant_id = stable_assistant_id(assistant_name)
        text = with_assistant_id(text, assistant_id)
        fixes.append(f"add `{ASSISTANT_ID}: {assistant_id}`")
        with_id = f" with {ASSISTANT_ID}: {assistant_id}"
    if _unset_keys(config, train_type):
        fixes.append(f"list the {' and '.join(_unset_keys(config, train_type))}")
    notice(f"[train] {name}: {'; '.join(reasons)}. rasa trains on a temporary copy{with_id}; "
           f"{name} is left unchanged. To train on the file itself, {' and '.join(fixes)}.")
    with tempfile.TemporaryDirectory(prefix="ci-toolkit-config-") as tmp:
        copy = Path(tmp) / project.config.name
        copy.write_text(text, encoding="utf-8")
        yield replace(project, config=copy)
