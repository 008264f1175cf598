"""Read the baseline report that deltas and max-drop gates compare against.

A baseline is usually the report.json of the target branch's last run. The report that
RasaHQ/rasa-train-test-gha wrote (its ``compare_report`` input) is accepted too, so teams can
switch without losing their baseline: its tasks are mapped onto report.json's shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError

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


def from_rtt_report(data: Mapping[str, Any]) -> dict[str, Any]:
    """Map RTT's report (its first data set and configuration) onto report.json's shape."""
    data_name, configurations = next(iter(data.items()))
    configuration_name, tasks = next(iter(configurations.items()))
    report: dict[str, Any] = {
        "schema_version": 1,
        "assistant": {"data_name": data_name, "configuration_name": configuration_name},
        "nlu": {"intent_classification": None, "entity_extraction": {}, "response_selection": None},
        "core": {"story_prediction": None, "conversations": None, "failed_stories": []},
        "from_rtt": True,
    }
    for task, values in tasks.items():
        if not isinstance(values, Mapping):
            continue
        if task in _RTT_TASKS:
            section, name = _RTT_TASKS[task]
            report[section][name] = _rename_metrics(values)
        elif task == "entity_prediction":
            # RTT kept one entity report, DIETClassifier's (RTT:scripts/generate_results_report.py).
            report["nlu"]["entity_extraction"]["DIETClassifier"] = _rename_metrics(values)
    return report


def load_baseline(path: Path) -> dict[str, Any]:
    """Load a baseline report, or raise MissingBaseline / UsageError saying what is wrong."""
    if not path.exists():
        raise MissingBaseline(
            f"the baseline report {path} does not exist, so there are no deltas and no "
            "max-drop gates in this run. (The target branch may have no report yet; once "
            "it has one, pass it with --baseline / CI_TOOLKIT_BASELINE.)"
        )
    if path.is_dir():
        raise UsageError(f"--baseline {path} is a directory. Pass the report.json file in it.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(
            f"the baseline report {path} is not valid JSON ({error}). Pass a report.json "
            "written by ci-toolkit (or RasaHQ/rasa-train-test-gha), for example the one "
            "in the target branch's last artifacts."
        ) from error
    if not isinstance(data, dict):
        raise UsageError(
            f"the baseline report {path} holds a JSON {type(data).__name__}, not an object. "
            "Pass a report.json written by ci-toolkit."
        )
    if isinstance(data.get("schema_version"), int):
        return data
    if _is_rtt_report(data):
        return from_rtt_report(data)
    raise UsageError(
        f"the baseline report {path} is neither a ci-toolkit report.json (no 'schema_version') "
        "nor a RasaHQ/rasa-train-test-gha report. Pass the report.json of an earlier run."
    )
