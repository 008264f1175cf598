"""Untrusted text made inert in the PR comment, the job summary and the HTML report.

Intent, entity, story and step names, utterances, validation messages, file paths and the
assistant's name come from the repository under test, which may be a stranger's pull request.
In the Markdown that GitHub renders, such text must not format (emphasis, headings, tables),
link, embed images, open HTML or HTML comments (the sticky comment's marker is one), notify
anyone (``@org/security-team``) or cross-reference issues (``#123``).

Each function returns plain text for one context. ci_toolkit/summary/markdown.py makes them
the template filters and escapes every other value with ``text`` by default.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

# Zero-width joiner: invisible, and it breaks every pattern GitHub links or notifies on.
JOINER = "\u200d"
_BACKTICKS = re.compile(r"`+")
# What GitHub turns into notifications, references or links even inside HTML blocks.
_MENTION = re.compile(r"@(?=[A-Za-z0-9_])")
_ISSUE_REF = re.compile(r"(?i)(#|\bgh-)(?=\d)")
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|\b(www)(?=\.)")
# Markdown punctuation that formats or links anywhere in a line. "_" is inert between two
# letters or digits (GFM's flanking rules), so "utter_greet" stays readable.
_PUNCTUATION = re.compile(r"[\\`*\[\]~|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# Block syntax that only acts at the start of a line: headings, quotes, lists, rules. ("="
# underlines a heading only on the line right after a paragraph line, and no value is ever
# printed there: escaping it would only clutter the "=" of unchanged deltas.)
_LINE_START = re.compile(
    r"^(\s*)(>|#{1,6}(?=\s|$)|[-+](?=[-+\s]|$)|\d{1,9}(?=[.)](?:\s|$)))")
_URL_SAFE = "/:?#[]@!$&'*+,;=%~-._"


def neutralize(value: str) -> str:
    """No @mention, #123/GH-123 reference or bare URL that GitHub would act on."""
    value = _MENTION.sub("@" + JOINER, value)
    value = _ISSUE_REF.sub(lambda match: match.group(1) + JOINER, value)
    return _AUTOLINK.sub(lambda match: (match.group(1) or "") + JOINER, value)


def one_line(value: object) -> str:
    return str(value).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def text(value: object) -> str:
    """Markdown text that shows exactly ``value``: safe in a table cell and as a paragraph."""
    escaped = _PUNCTUATION.sub(lambda match: "\\" + match.group(0), one_line(value))
    escaped = escaped.replace("&", "&amp;").replace("<", "&lt;")
    escaped = _LINE_START.sub(_escape_line_start, escaped)
    return neutralize(escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    space, mark = match.group(1), match.group(2)
    if mark == ">":
        return f"{space}&gt;"
    if mark[0].isdigit():
        return f"{space}{mark}\\"  # "1." -> "1\." is not a list item
    return f"{space}\\{mark}"


def code(value: object) -> str:
    """A code span that survives any backticks in the value, safe inside a table cell.

    Nothing inside a code span is formatted, linked or mentioned. Only a table's pipe needs
    care: ``\\|`` keeps it in the cell, and a backslash before it gets a joiner so that the
    table does not read ``\\\\|`` as an escaped backslash and a cell border.
    """
    content = one_line(value).replace("\\|", "\\" + JOINER + "|")
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    ticks = "`" * (longest + 1)
    padded = f" {content} " if content.startswith("`") or content.endswith("`") else content
    return f"{ticks}{padded}{ticks}".replace("|", "\\|")


def fence(value: object) -> str:
    """A code fence longer than any run of backticks in the block."""
    longest = max((len(run) for run in _BACKTICKS.findall(str(value))), default=0)
    return "`" * max(3, longest + 1)


def html_text(value: object) -> str:
    """Text inside an HTML tag of the Markdown (``<summary>``): escaped, one line (a blank
    line would end the HTML block), and with nothing GitHub links or notifies on.

    Markdown is not parsed inside an HTML block, but its punctuation becomes character
    references anyway, so the text stays inert wherever a renderer draws that line.
    """
    escaped = neutralize(html.escape(one_line(value), quote=True))
    return _PUNCTUATION.sub(lambda match: f"&#{ord(match.group(0))};", escaped)


def safe_url(value: object) -> str | None:
    """An http(s) URL made safe as a link target (percent-encoded), or None for anything
    else (``javascript:``, relative paths, no host)."""
    raw = str(value or "").strip()
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(raw, safe=_URL_SAFE)
