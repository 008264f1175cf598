"""The comparison section as a Markdown fragment, for the job summary and the PR comment.

Config and extractor names come from the repository under test (a stranger's pull request
may name a config `@org.yml`), so each goes through escape.py.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def _entities(value: Mapping[str, Mapping[str, Any]] | None) -> str:
    if not value:
        return NONE
    return "<br>".join(f"{escape.text(name)} {mean_std(summary)}"
                       for name, summary in sorted(value.items()))


def verdict(section: Mapping[str, Any]) -> str:
    won = section["winner"]
    metric = _METRIC_NAMES[won["metric"]]
    where = f"at {won['training_data_percentage']}% of the training data"
    if won["config"] is None:
        names = ", ".join(f"**{escape.text(name)}**" for name in won["tied"])
        return f"Tie: {names} have the same mean {metric} {where} ({won['mean']:.3f})."
    return (f"**{escape.text(won['config'])}** wins: mean {metric} {won['mean']:.3f} {where}, "
            f"{won['margin']:.3f} ahead of **{escape.text(won['runner_up'])}** "
            f"({won['runner_up_mean']:.3f}).")


def _rows(section: Mapping[str, Any]) -> list[str]:
    nlu = section["kind"] == "nlu"
    header = ("| Configuration | Training data | Intent F1 | Entity F1 |\n|---|---:|---:|---:|"
              if nlu else "| Configuration | Training data | Correct test stories (share) |"
                          "\n|---|---:|---:|")
    rows = [header]
    for config in section["configs"]:
        name = escape.text(config["name"])
        for point in config["points"]:
            cells = [name, f"{point['training_data_percentage']}%"]
            if nlu:
                cells += [mean_std(point.get("intent_f1")), _entities(point.get("entity_f1"))]
            else:
                cells.append(mean_std(point.get("story_accuracy")))
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def comparison_markdown(section: Mapping[str, Any], *, plot_href: str | None = None) -> str:
    """The fragment: a heading, the verdict, the table and (given its address) the plot."""
    runs = section["runs"]
    lines = [f"### Comparison of {_KIND_NAMES[section['kind']]} "
             f"({runs} run{'s' if runs != 1 else ''} each)", "", verdict(section), "",
             *_rows(section), "",
             f"Mean ± standard deviation over the runs. Training data: "
             f"{_TRAINING_DATA[section['kind']]}; rasa's exclusion percentage p trains on "
             "100 - p% of it."]
    if plot_href:
        lines += ["", f"![F1 against the amount of training data]({plot_href})"]
    return "\n".join(lines) + "\n"
