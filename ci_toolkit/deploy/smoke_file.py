"""The smoke test's conversations file: read, checked, and turned into typed steps.

The file (YAML)::

    conversations:
      - name: greeting                       # shown in the report
        steps:
          - user: hello                       # sent to /webhooks/rest/webhook
            bot: "Coffeebot"                  # a substring of the bot's reply (or a list)
            intent: greet                     # checked with POST /model/parse
          - user: are you a bot?
            bot_regex: "(?i)\\bbot\\b"        # a regular expression (re.search)

Every mistake is a UsageError that names the file and the line, raised before anything is
deployed (see ``deploy/plan.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError


@dataclass(frozen=True)
class Step:
    user: str
    bot: tuple[str, ...] = ()
    bot_regex: str | None = None
    intent: str | None = None

    def expectations(self) -> list[str]:
        expected = [f'bot text containing "{text}"' for text in self.bot]
        if self.bot_regex:
            expected.append(f"bot text matching /{self.bot_regex}/")
        if self.intent:
            expected.append(f'intent "{self.intent}"')
        return expected


@dataclass(frozen=True)
class Conversation:
    name: str
    steps: tuple[Step, ...]
    line: int | None = None




def load_conversations(path: Path) -> list[Conversation]:
    """Read and check a conversations file; a mistake is a UsageError that points at it."""
    import yaml

    text = _read_conversations(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as error:
        mark = getattr(error, "problem_mark", None)
        raise UsageError(f"{path} is not valid YAML: {error}", file=str(path),
                         line=mark.line + 1 if mark else None) from None

    def bad(message: str, node: Any) -> UsageError:
        line = node.start_mark.line + 1 if node is not None else None
        return UsageError(f"{path}: {message}. See examples/coffeebot/tests/smoke.yml for the "
                          "format.", file=str(path), line=line)

    if not isinstance(root, yaml.MappingNode) or not isinstance(data, Mapping):
        raise bad("the file must be a mapping with a 'conversations' list", root)
    items = data.get("conversations")
    items_node = _child(root, "conversations")
    if not isinstance(items, list) or not items:
        raise bad("'conversations' must be a non-empty list", items_node or root)
    conversations = []
    for index, (item, node) in enumerate(zip(items, _item_nodes(items_node, len(items))),
                                         start=1):
        steps_ok = isinstance(item, Mapping) and isinstance(item.get("steps"), list)
        if not steps_ok or not item["steps"]:
            raise bad(f"conversation {index} needs a non-empty 'steps' list", node)
        step_nodes = _item_nodes(_child(node, "steps") or node, len(item["steps"]))
        steps = [_parse_step(raw, lambda message, n=step_node: bad(message, n),
                             f"conversation {index}, step {number}")
                 for number, (raw, step_node) in enumerate(zip(item["steps"], step_nodes),
                                                           start=1)]
        name = item.get("name")
        conversations.append(Conversation(str(name) if name else f"conversation {index}",
                                          tuple(steps), node.start_mark.line + 1))
    return conversations


def _read_conversations(path: Path) -> str:
    where = "(see examples/coffeebot/tests/smoke.yml)"
    if path.is_dir():
        raise UsageError(f"The smoke test conversations file '{path}' is a directory. Pass the "
                         f"YAML file itself {where}.")
    if not path.is_file():
        raise UsageError(f"The smoke test conversations file '{path}' does not exist. Write one "
                         f"{where} or fix the path.")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start}). "
                         f"Save it as UTF-8 YAML {where}.", file=str(path)) from None
    except OSError as error:
        raise UsageError(f"Cannot read the smoke test conversations file '{path}': "
                         f"{error.strerror or error}.", file=str(path)) from None


def _child(node: Any, key: str) -> Any:
    for key_node, value_node in getattr(node, "value", []):
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _item_nodes(node: Any, count: int) -> list[Any]:
    """The node of each item of a YAML list, for line numbers. Where the YAML does not line
    up with the data (a merge key ``<<``), each item points at the enclosing node."""
    import yaml

    if isinstance(node, yaml.SequenceNode) and len(node.value) == count:
        return list(node.value)
    return [node] * count


def _parse_step(raw: Any, bad: Callable[[str], UsageError], where: str) -> Step:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("user"), str) or not raw["user"]:
        raise bad(f"{where} needs 'user:' with the message to send")
    unknown = set(raw) - {"user", "bot", "bot_regex", "intent"}
    if unknown:
        raise bad(f"{where} has unknown key(s) {sorted(map(str, unknown))}; use user, bot, "
                  "bot_regex, intent")
    bot = raw.get("bot", [])
    bot_list = [bot] if isinstance(bot, str) else bot
    if not isinstance(bot_list, list) or not all(isinstance(text, str) for text in bot_list):
        raise bad(f"{where}: 'bot' must be a text or a list of texts")
    regex, intent = raw.get("bot_regex"), raw.get("intent")
    for key, value in (("bot_regex", regex), ("intent", intent)):
        if value is not None and not isinstance(value, str):
            raise bad(f"{where}: '{key}' must be a text")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as error:
            raise bad(f"{where}: 'bot_regex' is not a valid regular expression ({error})") from None
    return Step(user=raw["user"], bot=tuple(bot_list), bot_regex=regex, intent=intent)
