"""The comparison section as a Markdown fragment, for the job summary and the PR comment.

Config and extractor names come from the repository under test (a stranger's pull request
may name a config `@org.yml`), so each goes through escape.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ci_toolkit import escape

_METRIC_NAMES = {"intent_f1": "intent F1", "story_accuracy": "share of correct test stories"}
_TRAINING_DATA = {
    "nlu": "the share of the run's training split (rasa tests each run on a fresh 20% of the "
           "data and trains on the rest)",
    "core": "the share of the training stories; every model is tested on all test stories",
}
NONE = "\u2013"  # an en dash: no value
_KIND_NAMES = {"nlu": "NLU pipelines", "core": "policies"}


def mean_std(value: Mapping[str, Any] | None) -> str:
    if not value:
        return NONE
    return f"{value['mean']:.3f} ± {value['std']:.3f}"


def _bold(name: str) -> str:
    return f"**{escape.text(name)}**"


def verdict(section: Mapping[str, Any], name: Callable[[str], str] = _bold) -> str:
    """The winner and its margin, or the tie; ``name`` formats each config name (bold and
    escaped for Markdown; ``str`` for plain text that its renderer escapes)."""
    won = section["winner"]
    metric = _METRIC_NAMES[won["metric"]]
    where = f"at {won['training_data_percentage']}% of the training data"
    if won["config"] is None:
        names = ", ".join(name(tied) for tied in won["tied"])
        return f"Tie: {names} have the same mean {metric} {where} ({won['mean']:.3f})."
    return (f"{name(won['config'])} wins: mean {metric} {won['mean']:.3f} {where}, "
            f"{won['margin']:.3f} ahead of {name(won['runner_up'])} "
            f"({won['runner_up_mean']:.3f}).")


def table_header(section: Mapping[str, Any]) -> list[str]:
    if section["kind"] == "nlu":
        return ["Configuration", "Training data", "Intent F1", "Entity F1"]
    return ["Configuration", "Training data", "Correct test stories (share)"]


def table_cells(section: Mapping[str, Any]) -> list[list[str | list[str]]]:
    """One row per config and amount of training data, as plain text (names unescaped); the
    entity cell is a list, one entry per extractor (empty: none)."""
    nlu = section["kind"] == "nlu"
    rows: list[list[str | list[str]]] = []
    for config in section["configs"]:
        for point in config["points"]:
            cells: list[str | list[str]] = [config["name"],
                                            f"{point['training_data_percentage']}%"]
            if nlu:
                entities = point.get("entity_f1") or {}
                cells += [mean_std(point.get("intent_f1")),
                          [f"{extractor} {mean_std(summary)}"
                           for extractor, summary in sorted(entities.items())]]
            else:
                cells.append(mean_std(point.get("story_accuracy")))
            rows.append(cells)
    return rows


def _cell(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "<br>".join(escape.text(item) for item in value) if value else NONE
    return escape.text(value)


def _rows(section: Mapping[str, Any]) -> list[str]:
    header = table_header(section)
    rows = ["| " + " | ".join(header) + " |",
            "|---|" + "---:|" * (len(header) - 1)]
    rows += ["| " + " | ".join(_cell(c) for c in cells) + " |" for cells in table_cells(section)]
    return rows


def training_data_note(section: Mapping[str, Any]) -> str:
    return (f"Mean ± standard deviation over the runs. Training data: "
            f"{_TRAINING_DATA[section['kind']]}; rasa's exclusion percentage p trains on "
            "100 - p% of it.")


def kind_title(section: Mapping[str, Any]) -> str:
    runs = section["runs"]
    return f"{_KIND_NAMES[section['kind']]} ({runs} run{'s' if runs != 1 else ''} each)"


def comparison_markdown(section: Mapping[str, Any], *, plot_href: str | None = None) -> str:
    """The fragment: a heading, the verdict, the table and (given its address) the plot."""
    lines = [f"### Comparison of {kind_title(section)}", "", verdict(section), "",
             *_rows(section), "", training_data_note(section)]
    if plot_href:
        lines += ["", f"![F1 against the amount of training data]({plot_href})"]
    return "\n".join(lines) + "\n"
