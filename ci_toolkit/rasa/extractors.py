"""The entity extractors of a pipeline that rasa did not score, and why.

rasa removes the entities of its pre-trained extractors (``PRETRAINED_EXTRACTORS``:
DucklingEntityExtractor, SpacyEntityExtractor) before scoring, so they never get a
``<Extractor>_report.json`` (docs/architecture.md, "How rasa behaves"). A Duckling server
that cannot be reached is worse: rasa logs an error per message, extracts nothing and still
exits 0. Without this list, both read as a clean pass.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DUCKLING = "DucklingEntityExtractor"
PRETRAINED = (DUCKLING, "SpacyEntityExtractor")
PRETRAINED_REASON = "pretrained: rasa does not score it"
# rasa's environment variable that overrides the `url` of every DucklingEntityExtractor.
DUCKLING_URL_ENV = "RASA_DUCKLING_HTTP_URL"
# The lines rasa 3.6 logs per message (rasa/nlu/extractors/duckling_entity_extractor.py).
_CONNECTION_ERROR = "Failed to connect to duckling http server"
_BAD_RESPONSE = re.compile(
    r"Failed to get a proper response from remote duckling at '(?P<url>\S+?)/parse\.? "
    r"Status Code: (?P<status>\d+)")
_NO_URL = "Duckling HTTP component in pipeline, but no `url` configuration"
# Where requests says it tried to connect, for a model whose config is not the project's.
_CONNECTION_TARGET = re.compile(r"HTTP(?P<s>S?)ConnectionPool\(host='(?P<host>[^']+)', "
                                r"port=(?P<port>\d+)\)")


@dataclass(frozen=True)
class DucklingLog:
    """What rasa's log says about the Duckling server."""

    connection_errors: int = 0
    bad_responses: int = 0
    statuses: tuple[str, ...] = ()
    no_url: bool = False
    url_seen: str | None = None


def read_duckling_log(log_text: str) -> DucklingLog:
    connection_errors = bad_responses = 0
    statuses: list[str] = []
    url_seen = None
    for line in log_text.splitlines():
        if _CONNECTION_ERROR in line:
            connection_errors += 1
            target = _CONNECTION_TARGET.search(line)
            if target and url_seen is None:
                scheme = "https" if target.group("s") else "http"
                url_seen = f"{scheme}://{target.group('host')}:{target.group('port')}"
        elif bad := _BAD_RESPONSE.search(line):
            bad_responses += 1
            url_seen = url_seen or bad.group("url")
            if bad.group("status") not in statuses:
                statuses.append(bad.group("status"))
    return DucklingLog(connection_errors, bad_responses, tuple(statuses),
                       no_url=_NO_URL in log_text, url_seen=url_seen)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _duckling_entry(component: Mapping[str, Any], log: DucklingLog,
                    environ: Mapping[str, str]) -> dict[str, Any]:
    url = environ.get(DUCKLING_URL_ENV) or component.get("url") or log.url_seen
    where = f"the Duckling server at {url}" if url else "the Duckling server"
    if log.connection_errors:
        reason = (f"{where} could not be reached "
                  f"({_plural(log.connection_errors, 'connection error')})")
    elif log.bad_responses:
        reason = (f"{where} answered {_plural(log.bad_responses, 'request')} with an error "
                  f"(HTTP status {', '.join(log.statuses)})")
    elif log.no_url:
        reason = (f"it has no `url` in the config and {DUCKLING_URL_ENV} is not set, so it "
                  "extracted nothing")
    else:
        return {"name": DUCKLING, "reason": PRETRAINED_REASON, "unreachable": False}
    return {"name": DUCKLING, "reason": reason, "unreachable": True}


def _pipeline(config: Path | None) -> list[Mapping[str, Any]]:
    """The components of the config's pipeline; none when it cannot be read (training, which
    reads it first, has said why)."""
    if config is None:
        return []
    try:
        loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    pipeline = loaded.get("pipeline") if isinstance(loaded, dict) else None
    return [c for c in pipeline if isinstance(c, dict)] if isinstance(pipeline, list) else []


def _short_name(component: Mapping[str, Any]) -> str:
    # A component may be named by its module path (rasa.nlu.extractors....Duckling...).
    return str(component.get("name", "")).rsplit(".", 1)[-1]


def unevaluated_extractors(config: Path | None, log_text: str,
                           environ: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The extractors rasa did not score: [{name, reason, unreachable}], in pipeline order.

    ``config`` is the model configuration, ``log_text`` what `rasa test nlu` (or
    cross-validation) printed; ``environ`` the environment rasa ran in (default: this one).
    """
    environ = os.environ if environ is None else environ
    log = read_duckling_log(log_text)
    found: list[dict[str, Any]] = []
    for component in _pipeline(config):
        name = _short_name(component)
        if name == DUCKLING:
            entry = _duckling_entry(component, log, environ)
        elif name in PRETRAINED:
            entry = {"name": name, "reason": PRETRAINED_REASON, "unreachable": False}
        else:
            continue
        if entry not in found:
            found.append(entry)
    broken = log.connection_errors or log.bad_responses
    if broken and not any(entry["name"] == DUCKLING for entry in found):
        # A model trained from another config still called Duckling: say so all the same.
        found.append(_duckling_entry({}, log, environ))
    return found
