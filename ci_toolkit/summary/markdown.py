"""Render the summary view to Markdown, cut to fit GitHub's comment size limit.

GitHub rejects a comment body longer than 65,536 characters. Long lists are cut, least
useful first, each as little as needed (binary search on how many items to show), and the
summary says what was cut. A final hard cut guards against any single huge item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from ci_toolkit.escape import code, fence, html_text, safe_url, text
from ci_toolkit.resources import package_template_dir

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

    from ci_toolkit.summary.build import CutList, SummaryView

__all__ = ["cell", "code", "fence", "render_markdown", "tidy_blank_lines"]
GITHUB_COMMENT_LIMIT = 65536
# Stay below the limit with room to spare: GitHub may count some characters (emoji with
# variation selectors) differently from Python.
COMMENT_BUDGET = 64000
# The job summary of one step may hold 1 MiB; characters here, bytes there.
STEP_SUMMARY_BUDGET = 250_000
# Markdown text escaping, under the name the templates use for it.
cell = text


def _filters() -> dict[str, Callable[[object], Markup]]:
    """Each filter's result is Markdown that is safe as it is (markupsafe's Markup, so that
    neither the default escaping below nor autoescaping touches it again)."""
    from markupsafe import Markup

    def wrap(function: Callable[[object], str]) -> Callable[[object], Markup]:
        return lambda value: Markup(function(value))

    return {
        "cell": wrap(text), "code": wrap(code), "fence": wrap(fence), "html": wrap(html_text),
        "url": wrap(lambda value: safe_url(value) or ""),
        # Only for text that goes into a code fence (or is our own, like the marker).
        "verbatim": wrap(str),
    }


def _escape_by_default(value: object) -> Markup:
    """Every value a template prints without a filter is untrusted text: escape it."""
    from markupsafe import Markup

    return value if isinstance(value, Markup) else Markup(text(value))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(package_template_dir())),
        # Escaping is the default: `finalize` escapes every printed value as Markdown text
        # unless a filter or a macro already made it Markdown (Markup). Autoescaping is on
        # only so that macros return Markup; finalize runs first, so no HTML escaping is
        # ever applied on top.
        autoescape=True,
        finalize=_escape_by_default,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_filters())
    return env


def tidy_blank_lines(markdown: str) -> str:
    """At most one blank line between blocks (outside code fences), one newline at the end.

    The templates then need not fight Jinja's whitespace rules for every block.
    """
    lines: list[str] = []
    fence_open: str | None = None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence_open is None and stripped.startswith("```"):
            fence_open = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        elif fence_open is not None and stripped == fence_open:
            fence_open = None
        elif fence_open is None and not stripped and (not lines or not lines[-1].strip()):
            continue
        lines.append(line)
    return "\n".join(lines).strip("\n") + "\n"


def render_template(view: SummaryView) -> str:
    return tidy_blank_lines(environment().get_template("summary.md.j2").render(view=view))


@dataclass
class _Knob:
    """One thing that can be shortened: how many of a list to show."""

    key: str
    describe: Callable[[int, int], str]
    get: Callable[[], int]
    set: Callable[[int], None]
    total: int


def _list_knob(items: CutList, minimum: int = 0) -> tuple[_Knob, int]:
    def set_shown(count: int) -> None:
        items.shown = count

    def describe(shown: int, total: int) -> str:
        if shown == 0:
            return f"all {total} {items.what} left out"
        return f"showing {shown} of {total} {items.what}"

    knob = _Knob(items.what, describe,
                 lambda: items.shown, set_shown, len(items.items))
    return knob, minimum


def _knobs(view: SummaryView) -> list[tuple[_Knob, int]]:
    def set_yaml(count: int) -> None:
        view.story_yaml_shown = count

    def describe_yaml(shown: int, total: int) -> str:
        if shown == 0:
            return f"no YAML for the {total} failed stories"
        return f"YAML for {shown} of {total} failed stories"

    yaml_knob = _Knob("story yaml", describe_yaml,
                      lambda: view.story_yaml_shown, set_yaml, len(view.failed_stories.items))
    # The failed action checks carry their request and answer: long, so cut like stories.
    actions = [] if view.actions is None else [_list_knob(view.actions.failed, minimum=5),
                                                _list_knob(view.actions.failed)]
    # Least useful first: a reviewer needs the headline and the worst regressions most.
    return [
        _list_knob(view.validation_warnings),
        (yaml_knob, 0),
        _list_knob(view.worse_intents, minimum=10),
        _list_knob(view.failed_stories, minimum=5),
        _list_knob(view.validation_errors, minimum=5),
        *actions[:1],
        _list_knob(view.worse_intents),
        _list_knob(view.failed_stories),
        _list_knob(view.validation_errors),
        *actions[1:],
        _list_knob(view.weakest_intents),
    ]


def _describe_cuts(knobs: list[tuple[_Knob, int]]) -> list[str]:
    cuts: dict[str, str] = {}
    for knob, _ in knobs:
        # The same list can have two knobs; it is described once, by its current state.
        if knob.get() < knob.total:
            cuts[knob.key] = knob.describe(knob.get(), knob.total)
    return list(cuts.values())


def render_markdown(view: SummaryView, budget: int | None = COMMENT_BUDGET) -> str:
    """The summary as Markdown of at most ``budget`` characters; cuts are announced in it.

    ``budget=None`` keeps everything. Cutting changes how many items of the view's lists
    are shown (in place).
    """
    text = render_template(view)
    if budget is None or len(text) <= budget:
        return text
    knobs = _knobs(view)

    def attempt() -> str:
        view.cuts = _describe_cuts(knobs)
        return render_template(view)

    for knob, minimum in knobs:
        current = knob.get()
        if current <= minimum:
            continue
        knob.set(minimum)
        text = attempt()
        if len(text) > budget:
            continue  # even the minimum is too long: cut the next list too
        low, high = minimum, current  # low fits; find the largest count that fits
        while low < high:
            middle = (low + high + 1) // 2
            knob.set(middle)
            if len(attempt()) <= budget:
                low = middle
            else:
                high = middle - 1
        knob.set(low)
        return attempt()
    return _hard_cut(text, budget)


def _hard_cut(text: str, budget: int) -> str:
    note = ("\n\n> ✂️ The rest of this summary was cut: it is longer than GitHub allows. "
            "Read `summary.md` or `report.json` in the run's artifacts.\n")
    closers = "\n```\n</details>"
    cut = text[: max(0, budget - len(note) - len(closers))]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    # Close what the cut may have left open, so the note renders as text.
    if cut.count("```") % 2:
        cut += "\n```"
    if cut.count("<details>") > cut.count("</details>"):
        cut += "\n</details>"
    return cut + note
