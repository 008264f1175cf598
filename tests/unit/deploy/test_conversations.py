"""The smoke-test conversations file, the smoke-test rounds, and URLs as they are shown."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ci_toolkit.deploy.conversations import (
    ConversationResult,
    SmokeReport,
    StepResult,
    _parsed_intents,
    run_smoke_test,
)
from ci_toolkit.deploy.http import without_query
from ci_toolkit.deploy.smoke_file import Conversation, Step, load_conversations
from ci_toolkit.errors import UsageError
from tests import paths

EXAMPLE = paths.EXAMPLE / "tests" / "smoke.yml"


def test_the_example_file_loads() -> None:
    conversations = load_conversations(EXAMPLE)
    assert conversations[0].name == "greeting"
    assert conversations[0].steps[0] == Step("hello", bot=("I'm Coffeebot",), intent="greet")
    assert conversations[0].line is not None and conversations[0].line > 1
    assert all(step.expectations() for c in conversations for step in c.steps)


@pytest.mark.parametrize(("text", "message", "line"), [
    ("conversations: []\n", "non-empty list", 1),
    ("- user: hi\n", "must be a mapping", 1),
    ("conversations:\n  - name: a\n    steps: []\n", "conversation 1 needs a non-empty 'steps'", 2),
    ("conversations:\n  - steps:\n      - bot: hi\n", "conversation 1, step 1 needs 'user:'", 3),
    ("conversations:\n  - steps:\n      - user: hi\n        reply: x\n",
     "unknown key(s) ['reply']", 3),
    ("conversations:\n  - steps:\n      - user: hi\n        bot_regex: '('\n",
     "not a valid regular expression", 3),
    ("conversations:\n  - steps:\n      - user: hi\n        bot: {a: 1}\n",
     "'bot' must be a text or a list", 3),
    ("conversations: [\n", "is not valid YAML", 2),
])
def test_mistakes_point_at_the_file_and_line(tmp_path: Path, text: str, message: str,
                                             line: int) -> None:
    path = tmp_path / "smoke.yml"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        load_conversations(path)
    assert message in caught.value.message
    assert (caught.value.file, caught.value.line) == (str(path), line)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_conversations(tmp_path / "nope.yml")


def test_retrieval_intents_match_by_their_full_name() -> None:
    parsed = {"intent": {"name": "faq", "confidence": 0.9},
              "response_selector": {"all_retrieval_intents": ["faq"], "default": {
                  "response": {"intent_response_key": "faq/wifi"}}}}
    shown, names = _parsed_intents(parsed)
    assert shown == "faq/wifi" and names == {"faq", "faq/wifi"}
    assert _parsed_intents({"intent": {"name": "greet"}}) == ("greet", {"greet"})


def test_urls_are_shown_without_query_or_user_info() -> None:
    assert without_query("https://user:pw@rasa.example.com:8443/api/x?api_token=t") == \
        "https://rasa.example.com:8443/api/x"
    # A URL that cannot be parsed is still shown, without what may be secret.
    assert without_query("http://[::1/x?token=t") == "http://[::1/x"
    assert without_query("http://user:pw@[::1") == "http://[::1"


class RoundsTester:
    """Fails the first ``failing`` rounds; each round takes ``round_s`` on the fake clock and
    is cut short by the deadline as SmokeTester does."""

    base_url = "http://bot.example"

    def __init__(self, failing: int, clock: list[float], round_s: float = 1.0) -> None:
        self.failing = failing
        self.clock = clock
        self.round_s = round_s
        self.rounds = 0

    def talk(self, conversation: Conversation, deadline: float = math.inf
             ) -> ConversationResult:
        self.rounds += 1
        if self.clock[0] + self.round_s > deadline:
            self.clock[0] = deadline
            return ConversationResult(conversation, error="not finished", out_of_time=True)
        self.clock[0] += self.round_s
        problems = ["expected something else"] if self.rounds <= self.failing else []
        return ConversationResult(conversation, [StepResult(conversation.steps[0],
                                                            problems=problems)])


def run_rounds(tester: RoundsTester, clock: list[float], timeout_s: float,
               logs: list[str]) -> tuple[SmokeReport, list[float]]:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    report = run_smoke_test(tester, [Conversation("hi", (Step("hello"),))],  # type: ignore[arg-type]
                            source="smoke.yml", timeout_s=timeout_s, interval_s=5.0,
                            log=logs.append, sleep=sleep, clock=lambda: clock[0])
    return report, slept


def test_failed_rounds_are_repeated_until_one_passes() -> None:
    clock = [0.0]
    logs: list[str] = []
    report, slept = run_rounds(RoundsTester(2, clock), clock, 60.0, logs)

    assert report.passed and report.attempts == 3
    assert report.elapsed_s == 13.0 and slept == [5.0, 5.0]
    assert logs[0] == ("Smoke test round 1: 1 conversation(s) failed; trying again in 5 s "
                       "(until 60 s have passed).")
    assert report.headline() == ("Smoke test passed against http://bot.example: "
                                 "1 conversation(s) (3 round(s) in 13 s).")


def test_no_round_starts_when_the_pause_before_it_would_use_up_the_time() -> None:
    clock = [0.0]
    logs: list[str] = []
    report, slept = run_rounds(RoundsTester(100, clock), clock, 14.0, logs)

    # Rounds (1 s each) start at 0 and 6; after the one at 12 only 1 s is left, less than
    # the 5 s pause, so the smoke test ends at 13 s, inside its 14 s.
    assert not report.passed and report.attempts == 3 and slept == [5.0, 5.0]
    assert report.elapsed_s == 13.0 and clock[0] <= 14.0
    assert "The last round is shown." in report.format_text()
    assert len(logs) == 2


def test_a_round_cut_short_by_the_deadline_does_not_hide_the_last_complete_one() -> None:
    clock = [0.0]
    report, _slept = run_rounds(RoundsTester(100, clock, round_s=4.0), clock, 14.0, [])

    # Rounds at 0-4 and 9-13; none after (1 s left). With 20 s, the third round (from 18 s)
    # is cut at 20 s, and the second one is reported.
    assert report.attempts == 2 and report.cut_short_round is None
    clock = [0.0]
    report, _slept = run_rounds(RoundsTester(100, clock, round_s=4.0), clock, 20.0, [])
    assert clock[0] == 20.0 and report.attempts == 3 and report.cut_short_round == 3
    assert report.conversations[0].steps[0].problems == ["expected something else"]
    assert "Round 3 ran out of time; the last complete round is shown." in report.format_text()
