"""The ``domain_digest`` a request carries, computed as rasa computes a domain's fingerprint.

rasa-sdk (3.9 and later) keeps the last domain it was sent and the digest that came with it
(``ActionExecutor.update_and_return_domain``). A request whose ``domain_digest`` is not the
cached one and that has no ``domain`` is refused: HTTP 449 with ``{"error": ...,
"action_name": ...}``, or over gRPC NOT_FOUND with a ResourceNotFound of type DOMAIN in the
details; rasa then sends the request again with the domain. The SDK only compares digests, it
never computes one, so any string works; the toolkit uses rasa's algorithm
(``rasa.shared.utils.io.get_dictionary_fingerprint``, with the intents as sorted names as in
``Domain.fingerprint``) over the domain it sends.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _text_hash(text: str) -> str:
    # rasa's get_text_hash: a content fingerprint, not a security measure.
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def container_fingerprint(value: Any) -> str:
    """rasa's ``deep_container_fingerprint``: a dict's hash does not depend on the order of
    its keys, a list's does depend on the order of its items."""
    if isinstance(value, dict):
        return _text_hash(json.dumps(
            {container_fingerprint(key): container_fingerprint(item)
             for key, item in value.items()}, sort_keys=True))
    if isinstance(value, list):
        return _text_hash(json.dumps([container_fingerprint(item) for item in value]))
    return _text_hash(str(value))


def _intent_names(intents: Any) -> list[str]:
    names = []
    for intent in intents if isinstance(intents, list) else []:
        if isinstance(intent, dict):
            names += [str(name) for name in intent]
        elif isinstance(intent, str):
            names.append(intent)
    return sorted(names)


def domain_digest(content: dict[str, Any]) -> str:
    """The fingerprint of a domain (its merged content, as sent in requests)."""
    return container_fingerprint({**content, "intents": _intent_names(content.get("intents"))})


def run_digest(content: dict[str, Any], run_id: str) -> str:
    """The digest the domain-digest check sends: the domain's fingerprint with a suffix of
    this run, so that a long-running server (``--url``) that an earlier run taught the plain
    fingerprint still has not cached it."""
    return f"{domain_digest(content)}-{run_id}"
