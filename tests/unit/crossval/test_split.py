"""The split is the same everywhere, stratified, and puts every example in one test fold
(ci_toolkit/crossval/nlu_data.py, ci_toolkit/crossval/split.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from ci_toolkit.crossval.nlu_data import read_nlu_data
from ci_toolkit.crossval.split import assign_folds, fold_documents, make_fold, write_fold
from ci_toolkit.errors import UsageError
from tests.paths import EXAMPLE

GREETINGS = [f"hello number {n}" for n in range(7)]
ORDERS = ["one [latte](drink) please", 'a [cocoa]{"entity": "drink", "value": "hot chocolate"}',
          "I want a [small](size) [tea](drink)", "coffee please", "an espresso", "a mocha"]
KNOWLEDGE = """
  - regex: size
    examples: |
      - \\b(small|large)\\b
  - lookup: drink
    examples: |
      - latte
      - tea
  - synonym: hot chocolate
    examples: |
      - cocoa
"""


def _block(examples: list[str]) -> str:
    return "".join(f"      - {example}\n" for example in examples)


def write_data(directory: Path, *, split_files: bool = False, reverse: bool = False) -> Path:
    """The same NLU data in one file, or spread over several files in another order."""
    greet, order = list(GREETINGS), list(ORDERS)
    if reverse:
        greet.reverse()
        order.reverse()
    parts = {
        "greet.yml": f"nlu:\n  - intent: greet\n    examples: |\n{_block(greet[:4])}",
        "more.yml": f"nlu:\n  - intent: greet\n    examples: |\n{_block(greet[4:])}"
                    f"  - intent: order\n    examples: |\n{_block(order)}",
        "knowledge.yml": f"nlu:{KNOWLEDGE}",
        "stories.yml": "stories:\n  - story: s\n    steps:\n      - intent: greet\n",
    }
    directory.mkdir(parents=True)
    if split_files:
        for name, text in parts.items():
            (directory / name).write_text(f'version: "3.1"\n{text}', encoding="utf-8")
    else:
        body = "\n".join(text.removeprefix("nlu:") for name, text in parts.items()
                         if name != "stories.yml")
        (directory / "nlu.yml").write_text(f'version: "3.1"\nnlu:{body}', encoding="utf-8")
    return directory


def test_reading_keeps_examples_verbatim_and_the_knowledge_entries(tmp_path: Path) -> None:
    data = read_nlu_data([write_data(tmp_path / "data")])
    assert data.examples == {"greet": tuple(sorted(GREETINGS)), "order": tuple(sorted(ORDERS))}
    kinds = sorted(next(iter(entry)) for entry in data.other_entries)
    assert kinds == ["lookup", "regex", "synonym"]


def test_a_repeated_example_is_kept_once_as_rasa_does(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text("nlu:\n  - intent: greet\n    examples: |\n      - hi\n      - hi\n"
                    "  - intent: bye\n    examples: |\n      - hi\n", encoding="utf-8")
    assert read_nlu_data([path]).examples == {"bye": ("hi",), "greet": ("hi",)}


def test_the_data_does_not_depend_on_files_or_their_order(tmp_path: Path) -> None:
    one = read_nlu_data([write_data(tmp_path / "one")])
    spread = read_nlu_data([write_data(tmp_path / "spread", split_files=True, reverse=True)])
    assert spread == one
    assert spread.fingerprint() == one.fingerprint()
    for index in (1, 2, 3):
        assert fold_documents(make_fold(spread, index=index, folds=3, seed=7), spread) == \
            fold_documents(make_fold(one, index=index, folds=3, seed=7), one)


def test_the_same_seed_writes_the_same_files_and_another_seed_other_folds(
        tmp_path: Path) -> None:
    data = read_nlu_data([write_data(tmp_path / "data")])
    first = write_fold(make_fold(data, index=2, folds=3, seed=1), data, tmp_path / "a")
    again = write_fold(make_fold(data, index=2, folds=3, seed=1), data, tmp_path / "b")
    assert first.train.read_bytes() == again.train.read_bytes()
    assert first.test.read_bytes() == again.test.read_bytes()
    others = {make_fold(data, index=2, folds=3, seed=seed).test["greet"] for seed in range(6)}
    assert len(others) > 1


def test_the_deal_is_pinned() -> None:
    # The split must stay the same across toolkit versions too: changing the algorithm
    # silently would make shards of two versions disagree.
    assert assign_folds(("a", "b", "c", "d", "e"), intent="greet", folds=2, seed=0) == \
        [["a", "d", "c"], ["b", "e"]]


@pytest.mark.parametrize("folds", [2, 3, 6])
def test_every_example_is_in_exactly_one_test_fold_and_stratified(tmp_path: Path,
                                                                  folds: int) -> None:
    data = read_nlu_data([write_data(tmp_path / "data")])
    tested: Counter[tuple[str, str]] = Counter()
    for index in range(1, folds + 1):
        fold = make_fold(data, index=index, folds=folds, seed=3)
        for intent, examples in data.examples.items():
            test, train = fold.test[intent], fold.train[intent]
            assert sorted(test + train) == sorted(examples)  # nothing lost, nothing twice
            # Stratified: each intent's test share is its fair share, give or take one.
            assert len(examples) // folds <= len(test) <= -(-len(examples) // folds)
            tested.update((intent, example) for example in test)
    assert tested == Counter((i, e) for i, found in data.examples.items() for e in found)


def test_fold_files_are_rasa_yaml_with_knowledge_in_training_only(tmp_path: Path) -> None:
    data = read_nlu_data([write_data(tmp_path / "data")])
    files = write_fold(make_fold(data, index=1, folds=2, seed=0), data, tmp_path / "fold")
    train = yaml.safe_load(files.train.read_text(encoding="utf-8"))
    test = yaml.safe_load(files.test.read_text(encoding="utf-8"))
    assert train["version"] == test["version"] == "3.1"
    assert [e for e in train["nlu"] if "intent" not in e] == list(data.other_entries)
    assert all("intent" in entry for entry in test["nlu"])
    assert "examples: |" in files.test.read_text(encoding="utf-8")
    # Re-reading both files gives the original data back: annotations survive verbatim.
    assert read_nlu_data([files.train, files.test]) == data


def test_the_example_assistant_splits(tmp_path: Path) -> None:
    data = read_nlu_data([EXAMPLE / "data"])
    assert {"greet", "faq/wifi"} <= set(data.examples)
    assert any(next(iter(entry)) == "synonym" for entry in data.other_entries)
    fold = make_fold(data, index=3, folds=3, seed=0)
    assert set(fold.test) == set(data.examples)


def test_too_few_examples_for_the_folds_names_the_intent(tmp_path: Path) -> None:
    data = read_nlu_data([write_data(tmp_path / "data")])
    with pytest.raises(UsageError) as caught:
        make_fold(data, index=1, folds=7, seed=0)
    message = str(caught.value)
    assert "'order' (6)" in message and "greet" not in message
    assert "rasa's own cross-validation would silently drop" in message


@pytest.mark.parametrize("index, folds, says", [
    (1, 1, "at least 2 folds"), (0, 3, "numbered 1 to 3"), (4, 3, "numbered 1 to 3")])
def test_bad_fold_numbers(tmp_path: Path, index: int, folds: int, says: str) -> None:
    data = read_nlu_data([write_data(tmp_path / "data")])
    with pytest.raises(UsageError, match=says):
        make_fold(data, index=index, folds=folds, seed=0)


@pytest.mark.parametrize("text, says", [
    ("nlu:\n  - intent: greet\n    examples: |\n      hello\n", "not an example"),
    ("nlu:\n  - intent: greet\n    examples:\n      - hello\n", "not a block of '- ' lines"),
    ("nlu:\n  - intent: greet\n    example: |\n      - hi\n", "unknown keys ['example']"),
    ("nlu:\n  - intent: \n    examples: |\n      - hi\n", "the intent name None"),
    ("nlu:\n  - just text\n", "is not a mapping"),
    ("nlu: {intent: greet}\n", "must be a list"),
    ("nlu:\n  - intent: greet\n    examples: |\n      - hi\n  - intent: greet\n", "not a block"),
    ("nlu:\n  - regex: x\n    examples: |\n      - y\n", "no intent examples"),
    ("nlu:\n  - intent: [greet\n", "not valid YAML"),
])
def test_malformed_data_is_named(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        read_nlu_data([path])
    assert says in str(caught.value)


def test_a_missing_data_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_nlu_data([tmp_path / "nothing"])
