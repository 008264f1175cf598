"""Generate a large Rasa assistant, reproducibly from a seed, for the benchmarks.

    python benchmarks/generate_assistant.py OUT_DIR [--intents 200] [--examples 10] [--seed 7]
                                                [--epochs 10]

It writes config.yml (the example's config, with --epochs for DIET, ResponseSelector and
TED when given), domain.yml, data/nlu.yml, data/stories.yml,
data/rules.yml and tests/test_stories.yml: one intent per topic with templated paraphrases,
one response and one rule per intent, a handful of multi-turn stories and test stories.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
from pathlib import Path

import yaml

SUBJECTS = ["my order", "the delivery", "a refund", "my account", "the invoice", "a voucher",
            "the app", "my password", "the warranty", "a return", "the subscription", "my card",
            "the store hours", "a booking", "the menu", "my address", "the newsletter", "a gift card"]
ASKS = ["how do I change", "can you help me with", "I have a question about", "tell me about",
        "I need information on", "what is the status of", "is there a problem with",
        "I want to cancel", "please explain", "who handles", "where can I find", "can I update"]
QUALIFIERS = ["", " today", " please", " right now", " for my family", " again", " online",
              " in the shop", " this week", " quickly"]
WORDS = ["alpha", "bravo", "cedar", "delta", "ember", "fjord", "gamma", "harbor", "indigo",
         "jasper", "kepler", "lumen", "meadow", "nova", "orbit", "pixel", "quartz", "raven",
         "sierra", "tundra", "umber", "violet", "willow", "xenon", "yarrow", "zephyr"]


def _topic_names(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add(f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{len(names)}")
    return sorted(names)


def generate(out: Path, *, intents: int, examples: int, seed: int,
             epochs: int | None = None) -> int:
    """Write the assistant; return how many NLU examples it has."""
    rng = random.Random(seed)
    topics = _topic_names(intents, rng)
    shutil.rmtree(out, ignore_errors=True)
    (out / "data").mkdir(parents=True)
    (out / "tests").mkdir()
    example = Path(__file__).resolve().parent.parent / "examples" / "coffeebot"
    config = (example / "config.yml").read_text().replace("coffeebot-example", "benchmark-large")
    if epochs is not None:
        config = re.sub(r"epochs: \d+", f"epochs: {epochs}", config)
    (out / "config.yml").write_text(config)

    nlu = []
    for topic in topics:
        keyword = topic.split("_")[0] + " " + topic.split("_")[1]
        texts: set[str] = set()
        while len(texts) < examples:
            texts.add(f"{rng.choice(ASKS)} {rng.choice(SUBJECTS)} {keyword}{rng.choice(QUALIFIERS)}")
        nlu.append({"intent": topic, "examples": "".join(f"- {t}\n" for t in sorted(texts))})
    for name, texts in (("greet", ["hi", "hello", "hey there", "good morning", "hello bot"]),
                        ("goodbye", ["bye", "goodbye", "see you", "bye bye", "cya later"])):
        nlu.append({"intent": name, "examples": "".join(f"- {t}\n" for t in texts)})

    domain = {
        "version": "3.1",
        "intents": ["greet", "goodbye", *topics],
        "responses": {
            "utter_greet": [{"text": "Hello! How can I help?"}],
            "utter_goodbye": [{"text": "Goodbye!"}],
            **{f"utter_{t}": [{"text": f"Here is what I know about {t.replace('_', ' ')}."}]
               for t in topics},
        },
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    rules = [{"rule": f"answer {t}", "steps": [{"intent": t}, {"action": f"utter_{t}"}]}
             for t in topics]
    rules += [{"rule": "say goodbye", "steps": [{"intent": "goodbye"}, {"action": "utter_goodbye"}]}]
    stories = []
    for index in range(20):
        first, second = rng.sample(topics, 2)
        stories.append({"story": f"conversation {index}", "steps": [
            {"intent": "greet"}, {"action": "utter_greet"},
            {"intent": first}, {"action": f"utter_{first}"},
            {"intent": second}, {"action": f"utter_{second}"}]})
    tests = []
    for index in range(20):
        topic = rng.choice(topics)
        keyword = topic.split("_")[0] + " " + topic.split("_")[1]
        tests.append({"story": f"test {index}", "steps": [
            {"user": f"{rng.choice(ASKS)} {rng.choice(SUBJECTS)} {keyword}", "intent": topic},
            {"action": f"utter_{topic}"}]})

    def dump(path: Path, content: object) -> None:
        path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=120))

    dump(out / "domain.yml", domain)
    dump(out / "data" / "nlu.yml", {"version": "3.1", "nlu": nlu})
    dump(out / "data" / "rules.yml", {"version": "3.1", "rules": rules})
    dump(out / "data" / "stories.yml", {"version": "3.1", "stories": stories})
    dump(out / "tests" / "test_stories.yml", {"version": "3.1", "stories": tests})
    return sum(item["examples"].count("\n") for item in nlu)


# The benchmark's three kinds of change, for an assistant written by generate().

def _edit(path: Path, change) -> None:
    content = yaml.safe_load(path.read_text())
    change(content)
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=120))


def change_response_text(project: Path) -> None:
    _edit(project / "domain.yml",
          lambda d: d["responses"]["utter_goodbye"][0].update(text="Goodbye, see you soon!"))


def change_nlu_data(project: Path) -> None:
    def add_example(nlu: dict) -> None:
        greet = next(item for item in nlu["nlu"] if item["intent"] == "greet")
        greet["examples"] += "- hi there bot\n"
    _edit(project / "data" / "nlu.yml", add_example)


def change_story(project: Path) -> None:
    _edit(project / "data" / "stories.yml", lambda d: d["stories"][0]["steps"].extend(
        [{"intent": "goodbye"}, {"action": "utter_goodbye"}]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--intents", type=int, default=200)
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()
    count = generate(args.out, intents=args.intents, examples=args.examples, seed=args.seed,
                     epochs=args.epochs)
    print(f"{args.out}: {args.intents} intents, {count} examples")


if __name__ == "__main__":
    main()
