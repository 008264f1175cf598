"""The smoke-test conversations file, and the redaction of secrets from HTTP messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.deploy.conversations import Step, _parsed_intents, load_conversations
from ci_toolkit.deploy.http import Redactor, without_query
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


def test_redactor_hides_known_secrets_and_credential_shapes() -> None:
    redact = Redactor(["s3cr3t-value", None, "ab"])
    text = ("GET /model?token=abcdef&x=1 failed with s3cr3t-value; "
            "url: /api/models?api_token=zzz9 Authorization: Bearer eyJhbGciOi.x.y")
    shown = redact(text)
    assert "s3cr3t-value" not in shown and "abcdef" not in shown and "zzz9" not in shown
    assert "eyJhbGciOi" not in shown
    assert "token=***&x=1" in shown and "api_token=***" in shown and "Bearer ***" in shown
    assert redact("about") == "about"  # two-letter "secrets" are not blanked everywhere


def test_urls_are_shown_without_query_or_user_info() -> None:
    assert without_query("https://user:pw@rasa.example.com:8443/api/x?api_token=t") == \
        "https://rasa.example.com:8443/api/x"
