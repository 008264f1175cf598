"""Replace one benchmark's section of benchmarks/RESULTS.md, leaving the others alone."""

from __future__ import annotations


def replace_section(text: str, heading: str, section: list[str]) -> str:
    """``text`` with the section under ``heading`` (a `## ` line) replaced by ``section``, or
    ``section`` added at the end; every other section is left as it was, byte for byte."""
    body = "\n".join(section).rstrip("\n") + "\n"
    if text.startswith(heading + "\n"):
        start = 0
    elif (found := text.find("\n" + heading + "\n")) != -1:
        start = found + 1
    elif not text:
        return body
    else:
        # Only newlines are added, so the section before keeps its bytes.
        separator = "" if text.endswith("\n\n") else "\n" if text.endswith("\n") else "\n\n"
        return text + separator + body
    end = text.find("\n## ", start + len(heading))
    if end == -1:
        return text[:start] + body
    return text[:start] + body + "\n" + text[end + 1:]
