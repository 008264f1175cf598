from __future__ import annotations

from pathlib import Path

from ci_toolkit.rasa.failed_stories import parse_failed_stories

# The shape documented for rasa 3.6 (docs/architecture.md, "How rasa behaves"): an intent misclassification
# comment carries the predicted intent and the user text with entity markup.
WRONG_INTENT = """version: "3.1"
stories:
- story: happy path 1 (tests/test_stories.yml)
  steps:
  - intent: greet
    user: |-
      hello there!
  - action: utter_greet
  - intent: mood_great  # predicted: mood_unhappy: [amazing](mood)
"""


def test_all_good_file_has_no_failed_stories() -> None:
    text = "# None of the test stories failed - all good!\n"
    assert parse_failed_stories(text, project_root=Path(".")) == []


def test_wrong_intent_step_carries_prediction_and_text() -> None:
    [story] = parse_failed_stories(WRONG_INTENT, project_root=Path("."))
    assert story["name"] == "happy path 1"
    assert story["line"] is None  # the source file does not exist here
    assert story["failed_step"] == {"index": 3, "kind": "intent", "expected": "mood_great",
                                    "predicted": "mood_unhappy", "text": "[amazing](mood)"}


def test_story_joined_through_checkpoints_keeps_its_name() -> None:
    text = WRONG_INTENT.replace("happy path 1 (tests", "part 1 > part 2 (tests")
    [story] = parse_failed_stories(text, project_root=Path("."))
    assert story["name"] == "part 1 > part 2"
    assert story["yaml"].startswith("- story: part 1 > part 2")
