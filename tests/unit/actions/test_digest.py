"""The domain_digest: rasa's fingerprint algorithm (the expected values were computed by
rasa 3.6.21's own ``rasa.shared.utils.io.get_dictionary_fingerprint``)."""

from __future__ import annotations

from ci_toolkit.actions.digest import container_fingerprint, domain_digest, run_digest

SLOTS = {"drink": {"type": "text", "mappings": [{"type": "from_entity", "entity": "drink"}]}}
DOMAIN = {"intents": ["affirm", "greet"], "slots": SLOTS, "actions": ["action_b", "action_a"],
          "version": "3.1", "n": 1, "x": None}
RASA_FINGERPRINT = "05665f7a831c8914935a5571290eb401"


def test_the_fingerprint_is_rasas() -> None:
    assert container_fingerprint(DOMAIN) == RASA_FINGERPRINT
    assert container_fingerprint({"b": [1, 2], "a": {"y": "z"}}) == \
        "679393059510775ab3c506ef981e1a6e"


def test_key_order_does_not_count_but_list_order_does() -> None:
    assert container_fingerprint({"a": {"y": "z"}, "b": [1, 2]}) == \
        container_fingerprint({"b": [1, 2], "a": {"y": "z"}})
    assert container_fingerprint({"b": [2, 1], "a": {"y": "z"}}) == \
        "68ef099f2bc0335321fa111fb1c0fcfb"


def test_the_intents_count_by_name_in_any_order() -> None:
    # Domain.fingerprint: an intent with properties counts by its name; names are sorted.
    shuffled = {**DOMAIN, "intents": [{"greet": {"use_entities": []}}, "affirm"]}
    assert domain_digest(shuffled) == RASA_FINGERPRINT
    assert domain_digest({**DOMAIN, "intents": ["affirm"]}) != RASA_FINGERPRINT
    assert domain_digest({**DOMAIN, "intents": "not a list"}) == \
        container_fingerprint({**DOMAIN, "intents": []})


def test_the_checks_digest_is_new_in_each_run() -> None:
    first, second = run_digest(DOMAIN, "run1"), run_digest(DOMAIN, "run2")
    assert first == f"{RASA_FINGERPRINT}-run1" and first != second
