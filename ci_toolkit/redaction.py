"""Keep secrets out of every message, annotation, job summary and report.

A server may echo a request back (a 401 whose body repeats the login JSON), requests puts
whole URLs into its exception texts, and a docker daemon may quote a registry's answer. So a
secret can come back raw, JSON-escaped, URL-encoded or unicode-escaped. ``Redactor`` knows the
secrets of a run and removes each of them in every one of those spellings, plus anything that
looks like a credential in a query string, an Authorization header or a URL's user info.
Standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "***"

# Query parameters and headers that carry credentials in the Rasa APIs (and common others).
# Lower-case names as query strings and form bodies spell them, so that prose such as
# "is not KEY=VALUE" stays readable.
_SECRET_QUERY = re.compile(
    r"(?<![\w-])((?:api_)?token|access_token|password|secret|key)=([^&\s'\"#)]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# The user:password@ (or token@) of a URL in any message: the user info ends at the last "@"
# before the path, so an unencoded "@" in the password is covered too.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@'\"<>]*(?:@[^\s/?#@'\"<>]*)*@")

# Below this length a secret is matched only as a whole word, so that a three-letter
# password does not blank out every word that contains those letters.
_WHOLE_WORD_BELOW = 6


def spellings(secret: str) -> set[str]:
    """The ways a secret can appear in text that passed through JSON, URLs or escapes,
    including a URL-encoded JSON body (a form or a log line that quotes the request)."""
    json_escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
    ascii_escaped = json.dumps(secret, ensure_ascii=True)[1:-1]
    all_unicode = "".join(f"\\u{ord(char):04x}" for char in secret)
    escaped = {secret, json_escaped, ascii_escaped,
               all_unicode, all_unicode.upper().replace("\\U", "\\u"),
               secret.encode("unicode_escape").decode("ascii")}
    # JSON may also escape "/" as "\/", whether or not it escapes non-ASCII characters.
    escaped.update(form.replace("/", "\\/") for form in (json_escaped, ascii_escaped))
    encoded = {url_form for form in escaped
               for url_form in (quote(form, safe=""), quote(form), quote_plus(form))}
    return {form for form in escaped | encoded if form}


class Redactor:
    """Removes known secrets in every spelling, and credential-looking values, from text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or not secret.strip() or secret in self._secrets:
            return
        self._secrets.append(secret)
        self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._secrets:
            alternatives = []
            forms = {form for secret in self._secrets for form in spellings(secret)}
            for form in sorted(forms, key=len, reverse=True):
                escaped = re.escape(form)
                if len(form) < _WHOLE_WORD_BELOW:
                    escaped = rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
                alternatives.append(escaped)
            self._pattern = re.compile("|".join(alternatives))
        return self._pattern

    def __call__(self, text: str) -> str:
        text = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
        pattern = self._compiled()
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def data(self, value: object) -> object:
        """The same for every string inside JSON-like data (a report, an outputs mapping)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value
