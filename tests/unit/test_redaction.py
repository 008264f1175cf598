"""A secret is removed from text in every spelling a server, a URL or JSON can give it."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from ci_toolkit.redaction import REDACTED, Redactor, spellings

# Quote, slash, ampersand, space and a non-ASCII letter: each changes under some encoding.
SECRET = 'pa"ss/w\u00f6rd&x y-42'


def _all_unicode(text: str, *, upper: bool = False) -> str:
    escaped = "".join(f"\\u{ord(char):04x}" for char in text)
    return escaped.upper().replace("\\U", "\\u") if upper else escaped


ENCODINGS = {
    "raw": SECRET,
    "json": json.dumps(SECRET, ensure_ascii=False)[1:-1],
    "json ascii": json.dumps(SECRET)[1:-1],
    "json escaped slash": json.dumps(SECRET, ensure_ascii=False)[1:-1].replace("/", "\\/"),
    "json ascii escaped slash": json.dumps(SECRET)[1:-1].replace("/", "\\/"),
    "url, slash kept": quote(SECRET),
    "url, slash encoded": quote(SECRET, safe=""),
    "url, plus for space": quote_plus(SECRET),
    "all \\u escapes": _all_unicode(SECRET),
    "all \\u escapes, upper case": _all_unicode(SECRET, upper=True),
    "python escapes": SECRET.encode("unicode_escape").decode("ascii"),
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_every_spelling_is_removed(name: str) -> None:
    spelled = ENCODINGS[name]
    assert spelled in spellings(SECRET)
    shown = Redactor([SECRET])(f"Login failed for body {{{spelled}}} at 10:00")
    assert shown == f"Login failed for body {{{REDACTED}}} at 10:00"


def test_a_whole_echoed_login_body_keeps_nothing_of_the_password() -> None:
    body = json.dumps({"username": "ci_user", "password": SECRET})
    echoed = json.dumps({"message": f"Bad login: {body}", "form": quote_plus(body)})
    shown = Redactor([SECRET])(echoed)
    for spelled in ENCODINGS.values():
        assert spelled not in shown
    assert "ci_user" in shown


def test_ascii_secrets_have_few_spellings_and_they_all_go() -> None:
    redact = Redactor(["tok/en-1234567"])
    assert redact('{"t": "tok\\/en-1234567"} tok%2Fen-1234567 tok/en-1234567') == \
        f'{{"t": "{REDACTED}"}} {REDACTED} {REDACTED}'


def test_short_secrets_are_removed_only_as_whole_words() -> None:
    redact = Redactor(["ab", "x", "k3y"])
    assert redact("about a-b xab ab1") == "about a-b xab ab1"
    assert redact("user ab, code x; key k3y.") == f"user {REDACTED}, code {REDACTED}; key {REDACTED}."
    assert redact("=ab=") == f"={REDACTED}="


def test_secrets_of_six_characters_and_more_are_removed_inside_words() -> None:
    assert Redactor(["abc123"])("xxabc123yy") == f"xx{REDACTED}yy"


def test_empty_and_blank_secrets_are_ignored() -> None:
    redact = Redactor([None, "", "   "])
    assert redact("nothing   to hide") == "nothing   to hide"


def test_the_longest_secret_wins_where_two_overlap() -> None:
    redact = Redactor(["secret-one", "secret-one-and-more"])
    assert redact("x secret-one-and-more y") == f"x {REDACTED} y"


def test_secrets_added_later_are_removed_too() -> None:
    redact = Redactor(["first-secret"])
    assert redact("bearer-less second-secret") == "bearer-less second-secret"
    redact.add("second-secret")
    redact.add("second-secret")
    assert redact("first-secret second-secret") == f"{REDACTED} {REDACTED}"


def test_redactor_hides_known_secrets_and_credential_shapes() -> None:
    redact = Redactor(["s3cr3t-value", None, "ab"])
    text = ("GET /model?token=abcdef&x=1 failed with s3cr3t-value; "
            "url: /api/models?api_token=zzz9 Authorization: Bearer eyJhbGciOi.x.y")
    shown = redact(text)
    assert "s3cr3t-value" not in shown and "abcdef" not in shown and "zzz9" not in shown
    assert "eyJhbGciOi" not in shown
    assert "token=***&x=1" in shown and "api_token=***" in shown and "Bearer ***" in shown
    assert redact("about") == "about"  # two-letter "secrets" are not blanked everywhere


@pytest.mark.parametrize(("text", "shown"), [
    ("GET /status?token=abc&x=1", "GET /status?token=***&x=1"),
    ("/api/models?api_token=zz9#top", "/api/models?api_token=***#top"),
    ("'access_token=eyJ.a.b'", "'access_token=***'"),
    ("?password=hunter2 and ?secret=s&key=k", "?password=*** and ?secret=***&key=***"),
    ("Authorization: Bearer eyJhbGciOi.x.y-z", "Authorization: Bearer ***"),
    ("authorization: bearer abc+/=", "authorization: bearer ***"),
])
def test_credential_shapes_are_removed_without_knowing_the_secret(text: str, shown: str) -> None:
    assert Redactor()(text) == shown


def test_data_redacts_every_string_in_nested_values() -> None:
    redact = Redactor(["s3cr3t-value"])
    data = {"outputs": {"url": "http://x?token=abc", "n": 3, "ok": True},
            "lines": ["s3cr3t-value", ("a", "b s3cr3t-value")], "none": None}

    assert redact.data(data) == {
        "outputs": {"url": "http://x?token=***", "n": 3, "ok": True},
        "lines": [REDACTED, ["a", f"b {REDACTED}"]], "none": None,
    }


# (text, what it becomes): the user info of any URL in any message is redacted.
URL_CREDENTIALS = [
    ("GITHUB_API_URL 'http://user:hunter2secret@127.0.0.1:9' failed",
     "GITHUB_API_URL 'http://***@127.0.0.1:9' failed"),
    ("https://x-access-token:ghs_abc@github.com/o/r.git", "https://***@github.com/o/r.git"),
    ("https://ghp_tokenonly@github.com/o/r", "https://***@github.com/o/r"),
    ("http://u:p@ss@host/path?q=1", "http://***@host/path?q=1"),
    ("(redis://:pw123456@cache:6379/0)", "(redis://***@cache:6379/0)"),
    ("see https://example.com/a@b and git@github.com:o/r", None),
    ("mailto:someone@example.com", None),
]


@pytest.mark.parametrize(("text", "expected"), URL_CREDENTIALS)
def test_credentials_in_urls_are_redacted(text: str, expected: str | None) -> None:
    assert Redactor()(text) == (text if expected is None else expected)
