"""Smoke test a deployed assistant: short conversations through the REST channel.

The conversations come from a YAML file (``deploy/smoke_file.py``). Every conversation talks
as a fresh sender, so conversations do not leak state into each other. The REST channel
needs ``rest:`` in the server's credentials.yml and no token. Intent checks use
``POST /model/parse``, which needs ``--enable-api`` and, when the server has an
``--auth-token``, that token (CI_TOOLKIT_RASA_TOKEN); parsing does not touch the tracker.

While a rollout settles, some requests may reach an old pod or a pod that is still
loading, so a failed round is repeated until it passes or the timeout is spent. The timeout
bounds the whole smoke test, HTTP retries included. The report shows the last complete round.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ci_toolkit.deploy.http import HttpCaller, Log, RetryPolicy, join_url
from ci_toolkit.deploy.smoke_file import Conversation, Step
from ci_toolkit.errors import ToolkitError
from ci_toolkit.escape import fence
from ci_toolkit.retry import Clock, Sleep

if TYPE_CHECKING:
    import requests

WEBHOOK_PATH = "webhooks/rest/webhook"


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
    out_of_time: bool = False  # cut short by the smoke test's deadline

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
    # The round that the deadline cut short, when an earlier, complete round is shown.
    cut_short_round: int | None = None

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
        if self.cut_short_round is not None:
            lines.append(f"Round {self.cut_short_round} ran out of time; the last complete "
                         "round is shown.")
        elif not self.passed and self.attempts > 1:
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
        # The bot's replies are untrusted: a fence longer than any backtick run keeps them
        # inert, whatever they contain.
        body = self.format_text()
        ticks = fence(body)
        return f"### Smoke test\n\n{ticks}text\n{body}\n{ticks}"


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
        url_option: str = "--smoke-url",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.request_timeout_s = request_timeout_s
        self.http = HttpCaller(session, service="Smoke test", secrets=(token,), log=log,
                               time_option="--smoke-timeout", url_option=url_option,
                               server="the Rasa server",
                               retry=RetryPolicy(total_s=request_timeout_s,
                                                 read_timeout_s=request_timeout_s))

    def _post(self, path: str, body: dict[str, Any], what: str, *, deadline: float,
              shape: type, described: str, params: dict[str, str] | None = None) -> Any:
        left = deadline - self.http.clock()
        if left <= 0:
            raise _OutOfTime()
        # Each request gets what is left of the smoke test's time, at most request_timeout_s.
        budget = min(self.request_timeout_s, left)
        policy = replace(self.http.retry, total_s=budget, read_timeout_s=budget)
        response = self.http.request("POST", join_url(self.base_url, path), what=what,
                                     json=body, params=params, retry=policy)
        if response.status_code == 404 and path == WEBHOOK_PATH:
            raise ToolkitError(f"{self.base_url}/{WEBHOOK_PATH} does not exist (404): the REST "
                               "channel is off. Add `rest:` to the assistant's credentials.yml.")
        if response.status_code in (401, 403):
            raise ToolkitError(f"The server refused {what} ({response.status_code}). Set the "
                               "secret CI_TOOLKIT_RASA_TOKEN to the server's --auth-token.")
        if response.status_code != 200:
            raise self.http.unexpected(response, what=what, expected="200")
        return self.http.json(response, what=what, shape=shape, described=described)

    def talk(self, conversation: Conversation, deadline: float = math.inf
             ) -> ConversationResult:
        """One conversation; ``deadline`` (on ``self.http.clock``) ends it early."""
        result = ConversationResult(conversation)
        sender = f"ci-toolkit-smoke-{uuid.uuid4().hex[:12]}"
        try:
            for step in conversation.steps:
                result.steps.append(self._step(step, sender, deadline))
        except _OutOfTime:
            result.error, result.out_of_time = "not finished: the smoke test ran out of time", True
        except ToolkitError as error:
            result.error = self.http.redact(error.message)
            result.out_of_time = self.http.clock() >= deadline
        return result

    def _step(self, step: Step, sender: str, deadline: float) -> StepResult:
        answer = self._post(WEBHOOK_PATH, {"sender": sender, "message": step.user},
                            "the REST channel", deadline=deadline, shape=list,
                            described="a list of bot messages")
        texts = [str(message["text"]) for message in answer
                 if isinstance(message, Mapping) and message.get("text")]
        result = StepResult(step, bot_texts=texts)
        joined = "\n".join(texts)
        for expected in step.bot:
            if expected not in joined:
                result.problems.append(f'expected bot text containing "{expected}"')
        if step.bot_regex and not re.search(step.bot_regex, joined):
            result.problems.append(f"expected bot text matching /{step.bot_regex}/")
        if step.intent:
            parsed = self._post("model/parse", {"text": step.user}, "POST /model/parse",
                                deadline=deadline, shape=Mapping, described="a parse result",
                                params={"token": self._token} if self._token else None)
            result.intent, names = _parsed_intents(parsed)
            if step.intent not in names:
                result.problems.append(f'expected intent "{step.intent}"')
        return result


class _OutOfTime(Exception):
    """The smoke test's deadline passed before a request could start."""


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
    """Run every conversation; repeat failed rounds until they pass or ``timeout_s`` is spent.

    ``timeout_s`` bounds the whole smoke test, every round and HTTP retry included: each
    request gets only what is left of it, and a round starts only if the pause before it
    leaves time. ``clock`` must be the tester's clock (both default to time.monotonic). A
    round that the deadline cut short is reported only if no earlier round finished."""
    started = clock()
    deadline = started + timeout_s
    complete: SmokeReport | None = None
    number = 0
    while True:
        number += 1
        results = [tester.talk(conversation, deadline) for conversation in conversations]
        report = SmokeReport(tester.base_url, source, number, clock() - started, results)
        if report.passed:
            return report
        cut_short = any(result.out_of_time for result in results)
        if not cut_short:
            complete = report
        if deadline - clock() <= interval_s:
            break
        log(f"Smoke test round {number}: {report.failed_count} conversation(s) failed; "
            f"trying again in {interval_s:.0f} s (until {timeout_s:.0f} s have passed).")
        sleep(interval_s)
    if complete is None or complete is report:
        return report
    return replace(complete, attempts=number, elapsed_s=report.elapsed_s,
                   cut_short_round=number)
