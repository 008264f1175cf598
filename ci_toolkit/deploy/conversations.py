"""Smoke test a deployed assistant: short conversations through the REST channel.

The conversations file (YAML)::

    conversations:
      - name: greeting                       # shown in the report
        steps:
          - user: hello                       # sent to /webhooks/rest/webhook
            bot: "Coffeebot"                  # a substring of the bot's reply (or a list)
            intent: greet                     # checked with POST /model/parse
          - user: are you a bot?
            bot_regex: "(?i)\\bbot\\b"        # a regular expression (re.search)

Every conversation talks as a fresh sender, so conversations do not leak state into each
other. The REST channel needs ``rest:`` in the server's credentials.yml and no token. Intent
checks use ``POST /model/parse``, which needs ``--enable-api`` and, when the server has an
``--auth-token``, that token (CI_TOOLKIT_RASA_TOKEN); parsing does not touch the tracker.

While a rollout settles, some requests may reach an old pod or a pod that is still
loading, so a failed round is repeated until it passes or the timeout is spent. The report
shows the last round.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_toolkit.deploy.http import HttpCaller, Log, RetryPolicy, join_url
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.retry import Clock, Sleep, poll

if TYPE_CHECKING:
    import requests

WEBHOOK_PATH = "webhooks/rest/webhook"


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


@dataclass
class StepResult:
    step: Step
    bot_texts: list[str] = field(default_factory=list)
    intent: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class ConversationResult:
    conversation: Conversation
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(not step.problems for step in self.steps)


@dataclass
class SmokeReport:
    url: str
    source: str
    attempts: int
    elapsed_s: float
    conversations: list[ConversationResult]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.conversations)

    @property
    def failed_count(self) -> int:
        return sum(not result.passed for result in self.conversations)

    def headline(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        total = len(self.conversations)
        detail = (f"{total} conversation(s)" if self.passed
                  else f"{self.failed_count} of {total} conversation(s) failed")
        return (f"Smoke test {verdict} against {self.url}: {detail} "
                f"({self.attempts} round(s) in {self.elapsed_s:.0f} s).")

    def format_text(self) -> str:
        lines = [self.headline()]
        if not self.passed and self.attempts > 1:
            lines.append("The last round is shown.")
        for result in self.conversations:
            line = result.conversation.line
            where = f" ({self.source} line {line})" if line else ""
            mark = "ok    " if result.passed else "FAILED"
            lines.append(f"  {mark} {result.conversation.name}{where}")
            if result.passed:
                continue
            if result.error:
                lines.append(f"         {result.error}")
            for number, step in enumerate(result.steps, start=1):
                if not step.problems:
                    continue
                lines.append(f'         step {number}: user said "{step.step.user}"')
                for problem in step.problems:
                    lines.append(f"           - {problem}")
                said = " | ".join(step.bot_texts) if step.bot_texts else "(nothing)"
                lines.append(f'           bot said: "{said}"')
                if step.intent is not None:
                    lines.append(f'           parsed intent: "{step.intent}"')
        return "\n".join(lines)

    def format_markdown(self) -> str:
        return f"### Smoke test\n\n```text\n{self.format_text()}\n```"


# -- the conversations file --------------------------------------------------------------


def load_conversations(path: Path) -> list[Conversation]:
    """Read and check a conversations file; a mistake is a UsageError that points at it."""
    import yaml

    if not path.is_file():
        raise UsageError(f"The smoke test conversations file '{path}' does not exist. Write one "
                         "(see examples/coffeebot/tests/smoke.yml) or fix the path.")
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise UsageError(f"{path} is not valid YAML: {error}", file=str(path),
                         line=mark.line + 1 if mark else None) from None

    def bad(message: str, node: Any) -> UsageError:
        line = node.start_mark.line + 1 if node is not None else None
        return UsageError(f"{path}: {message}. See examples/coffeebot/tests/smoke.yml for the "
                          "format.", file=str(path), line=line)

    if not isinstance(root, yaml.MappingNode):
        raise bad("the file must be a mapping with a 'conversations' list", root)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items_node = _child(root, "conversations")
    items = data.get("conversations")
    if not isinstance(items, list) or not items or items_node is None:
        raise bad("'conversations' must be a non-empty list", items_node or root)
    conversations = []
    for index, (item, node) in enumerate(zip(items, items_node.value), start=1):
        steps_ok = isinstance(item, Mapping) and isinstance(item.get("steps"), list)
        if not steps_ok or not item["steps"]:
            raise bad(f"conversation {index} needs a non-empty 'steps' list", node)
        steps = []
        for number, (raw, step_node) in enumerate(zip(item["steps"], _child(node, "steps").value),
                                                  start=1):
            steps.append(_parse_step(raw, lambda message, n=step_node: bad(message, n),
                                     f"conversation {index}, step {number}"))
        name = str(item.get("name") or f"conversation {index}")
        conversations.append(Conversation(name, tuple(steps), node.start_mark.line + 1))
    return conversations


def _child(node: Any, key: str) -> Any:
    for key_node, value_node in getattr(node, "value", []):
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _parse_step(raw: Any, bad: Callable[[str], UsageError], where: str) -> Step:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("user"), str) or not raw["user"]:
        raise bad(f"{where} needs 'user:' with the message to send")
    unknown = set(raw) - {"user", "bot", "bot_regex", "intent"}
    if unknown:
        raise bad(f"{where} has unknown key(s) {sorted(unknown)}; use user, bot, bot_regex, intent")
    bot = raw.get("bot", [])
    bot_list = [bot] if isinstance(bot, str) else bot
    if not isinstance(bot_list, list) or not all(isinstance(text, str) for text in bot_list):
        raise bad(f"{where}: 'bot' must be a text or a list of texts")
    regex = raw.get("bot_regex")
    if regex is not None:
        try:
            re.compile(str(regex))
        except re.error as error:
            raise bad(f"{where}: 'bot_regex' is not a valid regular expression ({error})") from None
    intent = raw.get("intent")
    return Step(user=raw["user"], bot=tuple(bot_list),
                bot_regex=str(regex) if regex is not None else None,
                intent=str(intent) if intent is not None else None)


# -- talking to the assistant -------------------------------------------------------------


def _parsed_intents(body: Any) -> tuple[str | None, set[str]]:
    """(the intent to show, every name that counts as a match) from a /model/parse answer.

    Retrieval intents parse as ``faq``; the response selector knows ``faq/wifi``.
    """
    if not isinstance(body, Mapping):
        return None, set()
    intent = body.get("intent") or {}
    name = intent.get("name") if isinstance(intent, Mapping) else None
    names = {name} if name else set()
    shown = name
    selector = body.get("response_selector") or {}
    if isinstance(selector, Mapping):
        for entry in selector.values():
            response = entry.get("response", {}) if isinstance(entry, Mapping) else {}
            key = response.get("intent_response_key") if isinstance(response, Mapping) else None
            if key and name and key.startswith(f"{name}/"):
                names.add(key)
                shown = key
    return shown, names


class SmokeTester:
    """Talks to one Rasa server (through its REST channel and, for intents, its HTTP API)."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        *,
        token: str | None = None,
        request_timeout_s: float = 30.0,
        log: Log = lambda _line: None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        # One attempt per request: the rounds of run_smoke_test are the retries.
        self.http = HttpCaller(session, service="Smoke test", secrets=(token,), log=log,
                               time_option="--smoke-timeout",
                               retry=RetryPolicy(total_s=request_timeout_s,
                                                 read_timeout_s=request_timeout_s))

    def _post(self, path: str, body: dict[str, Any], what: str,
              params: dict[str, str] | None = None) -> Any:
        response = self.http.request("POST", join_url(self.base_url, path), what=what,
                                     json=body, params=params)
        if response.status_code == 404 and path == WEBHOOK_PATH:
            raise ToolkitError(f"{self.base_url}/{WEBHOOK_PATH} does not exist (404): the REST "
                               "channel is off. Add `rest:` to the assistant's credentials.yml.")
        if response.status_code in (401, 403):
            raise ToolkitError(f"The server refused {what} ({response.status_code}). Set the "
                               "secret CI_TOOLKIT_RASA_TOKEN to the server's --auth-token.")
        if response.status_code != 200:
            raise ToolkitError(f"{what} answered {response.status_code}: "
                               f"{self.http.detail(response)}")
        try:
            return response.json()
        except ValueError:
            raise ToolkitError(f"{what} did not answer with JSON.") from None

    def talk(self, conversation: Conversation) -> ConversationResult:
        result = ConversationResult(conversation)
        sender = f"ci-toolkit-smoke-{uuid.uuid4().hex[:12]}"
        try:
            for step in conversation.steps:
                answer = self._post(WEBHOOK_PATH, {"sender": sender, "message": step.user},
                                    "the REST channel")
                texts = [str(message["text"]) for message in answer or []
                         if isinstance(message, Mapping) and message.get("text")]
                step_result = StepResult(step, bot_texts=texts)
                joined = "\n".join(texts)
                for expected in step.bot:
                    if expected not in joined:
                        step_result.problems.append(f'expected bot text containing "{expected}"')
                if step.bot_regex and not re.search(step.bot_regex, joined):
                    step_result.problems.append(f"expected bot text matching /{step.bot_regex}/")
                if step.intent:
                    parsed = self._post("model/parse", {"text": step.user}, "POST /model/parse",
                                        params={"token": self._token} if self._token else None)
                    step_result.intent, names = _parsed_intents(parsed)
                    if step.intent not in names:
                        step_result.problems.append(f'expected intent "{step.intent}"')
                result.steps.append(step_result)
        except ToolkitError as error:
            result.error = self.http.redact(error.message)
        return result


def run_smoke_test(
    tester: SmokeTester,
    conversations: list[Conversation],
    *,
    source: str,
    timeout_s: float,
    interval_s: float = 5.0,
    log: Log = lambda _line: None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> SmokeReport:
    """Run every conversation; repeat failed rounds until they pass or ``timeout_s`` is spent."""
    started = clock()
    rounds: list[SmokeReport] = []

    def round_passed() -> SmokeReport | None:
        results = [tester.talk(conversation) for conversation in conversations]
        rounds.append(SmokeReport(tester.base_url, source, len(rounds) + 1, clock() - started,
                                  results))
        return rounds[-1] if rounds[-1].passed else None

    def wait(delay_s: float) -> None:
        log(f"Smoke test round {len(rounds)}: {rounds[-1].failed_count} conversation(s) failed; "
            f"trying again in {delay_s:.0f} s (until {timeout_s:.0f} s have passed).")
        sleep(delay_s)

    poll(round_passed, timeout_s=timeout_s, interval_s=interval_s, sleep=wait, clock=clock)
    return rounds[-1]
