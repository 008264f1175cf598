"""Read the baseline report that deltas and max-drop gates compare against.

A baseline is usually the report.json of the target branch's last run. The report that
RasaHQ/rasa-train-test-gha wrote (its ``compare_report`` input) is accepted too, so teams can
switch without losing their baseline: its tasks are mapped onto report.json's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_toolkit.errors import UsageError
from ci_toolkit.report.load import parse_report, read_json_object
from ci_toolkit.report.model import Report

if TYPE_CHECKING:
    from ci_toolkit.gha import ActionsRuntime

# RTT task name -> (section, task) in report.json.
_RTT_TASKS = {
    "intent_classification": ("nlu", "intent_classification"),
    "response_selection": ("nlu", "response_selection"),
    "story_prediction": ("core", "story_prediction"),
}
_RTT_AVERAGES = {"weighted avg": "weighted_avg", "macro avg": "macro_avg", "micro avg": "micro_avg",
                 "weighted_avg": "weighted_avg", "macro_avg": "macro_avg", "micro_avg": "micro_avg"}


class MissingBaseline(Exception):
    """The baseline file does not exist: a warning, not an error (as in RTT)."""


def _rename_metrics(section: Mapping[str, Any]) -> dict[str, Any]:
    renamed: dict[str, Any] = {}
    for key, value in section.items():
        if key in _RTT_AVERAGES and isinstance(value, Mapping):
            renamed[_RTT_AVERAGES[key]] = {
                metric.replace("-", "_"): number for metric, number in value.items()
            }
        elif key == "accuracy":
            renamed[key] = value
    return renamed


def _is_rtt_report(data: Mapping[str, Any]) -> bool:
    # {data_name: {configuration_name: {task: {...}}}}
    for configurations in data.values():
        if not isinstance(configurations, Mapping):
            return False
        for tasks in configurations.values():
            if not isinstance(tasks, Mapping) or not tasks:
                return False
            if not set(tasks) & {*_RTT_TASKS, "entity_prediction"}:
                return False
    return bool(data)


def from_rtt_report(data: Mapping[str, Any]) -> Report:
    """Map RTT's report (its first data set and configuration) onto a Report."""
    data_name, configurations = next(iter(data.items()))
    configuration_name, tasks = next(iter(configurations.items()))
    sections: dict[str, dict[str, Any]] = {
        "nlu": {"intent_classification": None, "entity_extraction": {}, "response_selection": None},
        "core": {"story_prediction": None, "conversations": None, "failed_stories": []},
    }
    for task, values in tasks.items():
        if not isinstance(values, Mapping):
            continue
        if task in _RTT_TASKS:
            section, name = _RTT_TASKS[task]
            sections[section][name] = _rename_metrics(values)
        elif task == "entity_prediction":
            # RTT kept one entity report, DIETClassifier's (RTT:scripts/generate_results_report.py).
            sections["nlu"]["entity_extraction"]["DIETClassifier"] = _rename_metrics(values)
    return Report.from_dict({
        "assistant": {"data_name": data_name, "configuration_name": configuration_name},
        **sections, "rtt": dict(data), "from_rtt": True,
    })


_FIX = ("Pass a report.json written by ci-toolkit (or RasaHQ/rasa-train-test-gha), for example "
        "the one in the target branch's last artifacts.")


def load_baseline(path: Path) -> Report:
    """Load a baseline report, or raise MissingBaseline / UsageError saying what is wrong."""
    if not path.exists():
        raise MissingBaseline(
            f"the baseline report {path} does not exist, so there are no deltas and no "
            "max-drop gates in this run. (The target branch may have no report yet; once "
            "it has one, pass it with --baseline / CI_TOOLKIT_BASELINE.)"
        )
    data = read_json_object(path, what="the baseline report", fix=_FIX)
    if "schema_version" in data:
        return parse_report(data, source=f"the baseline report {path}", fix=_FIX)
    if _is_rtt_report(data):
        return from_rtt_report(data)
    raise UsageError(
        f"the baseline report {path} is neither a ci-toolkit report.json (no 'schema_version') "
        "nor a RasaHQ/rasa-train-test-gha report. Pass the report.json of an earlier run."
    )


def read_baseline(path: Path | None, *, actions: ActionsRuntime) -> Report | None:
    """The baseline at ``path``, or None when none is given or the file is missing (a warning:
    the target branch's first run has no report yet)."""
    if path is None:
        return None
    try:
        return load_baseline(path)
    except MissingBaseline as missing:
        actions.warn(str(missing), title="ci-toolkit baseline")
        return None
