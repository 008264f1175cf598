"""The rules a scaffold value must follow, each returning what is wrong (None when it is fine).

They live apart from the options so each can be read next to the rule it mirrors: GitHub's
own cron parser for schedules, git's check-ref-format for branch names, the Docker reference
grammar for image names, helm and Kubernetes for release and namespace names.
"""

from __future__ import annotations

import posixpath
import re

# --- cron, as GitHub accepts it on `on: schedule` -----------------------------------------
# GitHub's workflow parser splits on single spaces; each field is `*`, a number, a name
# (month and weekday only, any case), a range `a-b` with a <= b, a step `x/n` whose start is
# one of those and n >= 1, or a comma list of these. Weekdays run 0-6 (no 7 for Sunday).

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (field, lowest, highest, names: the first name stands for `lowest`)
CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of the month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of the week", 0, 6, _DAYS),
)


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    """A single number or name as its number, None when it is neither or out of range."""
    if text.lower() in names:
        return low + names.index(text.lower())
    if text.isdigit() and text.isascii():
        number = int(text)
        return number if low <= number <= high else None
    return None


def _cron_part(part: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    """One comma-separated item: `*`, a value, a range, or either of those with a step."""
    start, slash, step = part.partition("/")
    if slash and not (step.isdigit() and step.isascii() and 1 <= int(step) <= high):
        return False
    if start == "*":
        return True
    first, dash, last = start.partition("-")
    lower = _cron_value(first, low, high, names)
    if not dash:
        return lower is not None
    upper = _cron_value(last, low, high, names)
    return lower is not None and upper is not None and lower <= upper


def cron_problem(expression: str) -> str | None:
    """What keeps GitHub from accepting ``expression`` as a schedule, None when it is fine."""
    fields = expression.split(" ")
    if len(fields) != 5:
        return (f"a cron expression has five fields separated by single spaces (minute, "
                f"hour, day of the month, month, day of the week); this one has "
                f"{len(fields)}")
    for text, (name, low, high, names) in zip(fields, CRON_FIELDS):
        if not all(_cron_part(part, low, high, names) for part in text.split(",")):
            spelled = f", or {names[0].upper()}-{names[-1].upper()}" if names else ""
            return (f"the {name} field '{text}' is not valid: use * or {low}-{high}{spelled}, "
                    "a range a-b, a step such as */15, or a list such as 1,15")
    return None


# --- names ----------------------------------------------------------------------------------

# git check-ref-format, in the characters a workflow's branch filter takes literally
# (no * ? + [ ] ! : those are glob characters in `branches:`).
_BRANCH_CHARACTERS = re.compile(r"^[A-Za-z0-9._/-]+$")


def branch_problem(name: str) -> str | None:
    if not _BRANCH_CHARACTERS.match(name):
        return "use letters, digits, '.', '_', '-' and '/' (other characters are globs or " \
               "not allowed in a workflow's branch filter)"
    components = name.split("/")
    if (name.startswith("-") or ".." in name or name.endswith(".") or name == "HEAD"
            or any(not part or part.startswith(".") or part.endswith(".lock")
                   for part in components)):
        return "git does not allow this branch name (no leading '-', no '..', no empty or " \
               "dot-leading part, no '.lock' or '.' at the end, not HEAD)"
    return None


# The Docker reference grammar: path components of lower-case letters and digits joined by
# one '.', one or two '_', or any number of '-'.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
IMAGE_NAME = re.compile(rf"^{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*$")


def image_name_problem(name: str) -> str | None:
    if not IMAGE_NAME.match(name):
        return "use a lower-case image name without a tag, such as my-org/my-assistant-actions " \
               "(the registry goes in --registry)"
    first = name.split("/", 1)[0]
    if "/" in name and ("." in first or first == "localhost"):
        # Docker reads such a first part as a registry host: the image would be pushed
        # to <registry>/<this host>/... instead.
        return f"'{first}' looks like a registry host: put it in --registry and only the " \
               "image's path here, such as my-org/my-assistant-actions"
    return None


# A GitHub label (at most 50 characters), in the characters that are safe as a YAML scalar and
# inside a quoted string of a workflow expression (the concurrency group compares it).
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:/+-]{0,49}$")


def label_problem(label: str) -> str | None:
    if label != label.strip() or not _LABEL.match(label):
        return ("use up to 50 letters, digits, spaces, '_', '.', ':', '/', '+' and '-', "
                "starting with a letter or digit, such as needs-nlu-test")
    return None


REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$")
HELM_RELEASE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,51}[a-z0-9])?$")  # helm: at most 53
NAMESPACE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")  # a DNS label: at most 63

# --- paths ------------------------------------------------------------------------------------

_PATH = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")


def path_problem(path: str, *, inside: str) -> str | None:
    """Why ``path`` (relative, POSIX) cannot be written into a workflow, or None."""
    if path.startswith("/"):
        return f"the path is outside {inside}: use a relative path inside it"
    if not _PATH.match(path):
        return (f"use a relative path inside {inside} made of letters, digits, '_', '.', '-' "
                "and '/' (scaffold writes it into workflows, where other characters are "
                "globs or need quoting)")
    if ".." in path.split("/"):
        return f"the path leaves {inside}: use a relative path inside it"
    if any(len(part.encode()) > 255 for part in path.split("/")):
        return "a file or directory name in it is longer than 255 characters"
    return None


def stays_inside(base: str, relative: str) -> bool:
    """Whether ``relative``, taken from the directory ``base``, stays under the root."""
    joined = posixpath.normpath(posixpath.join(base, relative))
    return not (joined == ".." or joined.startswith("../") or joined.startswith("/"))


_REMOTE_CHART = re.compile(r"^(?:oci|https?)://[a-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~-]+)+$")
_LOCAL_OR_REPO_CHART = re.compile(r"^[A-Za-z0-9_./-]+$")


def chart_ref_problem(chart_ref: str, project_dir: str) -> str | None:
    """A chart is `repo/chart`, an `oci://` or `https://` reference, or a local directory
    inside the repository (helm runs in the assistant's directory)."""
    if _REMOTE_CHART.match(chart_ref):
        return None
    if not _LOCAL_OR_REPO_CHART.match(chart_ref) or chart_ref.startswith("-"):
        return ("use a chart reference such as rasa-x/rasa-x, oci://registry/charts/name or "
                "./charts/assistant")
    if chart_ref.startswith("/") or not stays_inside(project_dir, chart_ref):
        return ("a local chart must be inside the repository (the workflow's checkout), "
                "relative to the assistant's directory, such as ./charts/assistant")
    return None
