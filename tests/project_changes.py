"""Edits that turn a copy of the example assistant into the broken or changed projects the
tests need. The committed rasa output fixtures under tests/fixtures/rasa/ were produced by
real rasa runs on copies changed by exactly these functions."""

from __future__ import annotations

from pathlib import Path

UNKNOWN_ACTION_STORY = """
  - story: uses an action the domain lacks
    steps:
      - intent: greet
      - action: action_check_loyalty_points
      - intent: greet
      - action: utter_greet
"""

UNLISTED_INTENT_NLU = """
  - intent: ask_price
    examples: |
      - how much is a latte
      - what does a coffee cost
"""

FAILING_TEST_STORY = """
  - story: greeting answered with the wrong response
    steps:
      - user: |
          hello there
        intent: greet
      - action: utter_goodbye
"""


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _replace(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not in {path}"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def add_validation_errors(project: Path) -> None:
    """A story using an action missing from the domain (error) and an unlisted intent (warning)."""
    _append(project / "data" / "stories.yml", UNKNOWN_ACTION_STORY)
    _append(project / "data" / "nlu.yml", UNLISTED_INTENT_NLU)


def break_domain(project: Path) -> None:
    """The order form requires a slot that the domain does not define."""
    _replace(project / "domain.yml", "      - drink\n      - size\n",
             "      - drink\n      - size\n      - milk\n")


def add_failing_test_story(project: Path) -> None:
    _append(project / "tests" / "test_stories.yml", FAILING_TEST_STORY)


def change_response_text(project: Path) -> None:
    _replace(project / "domain.yml", "Bye, enjoy your coffee!", "Goodbye, and enjoy your coffee!")


def change_nlu_data(project: Path) -> None:
    _replace(project / "data" / "nlu.yml", "      - cya\n", "      - cya\n      - ciao\n")


def change_story(project: Path) -> None:
    _replace(project / "data" / "stories.yml", "      - intent: thank\n      - action: utter_you_are_welcome\n",
             "      - intent: thank\n      - action: utter_you_are_welcome\n      - intent: goodbye\n      - action: utter_goodbye\n")
