"""The comparison plot: F1 (or the share of correct stories) against the amount of training
data, drawn with matplotlib from the section's numbers.

matplotlib is no dependency of the toolkit; rasa has it. So plot_script.py runs in rasa's
own interpreter (found as rasa/evaluator.py finds it) and gets the plot's data as JSON on
stdin; the toolkit's process never imports matplotlib.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ci_toolkit import interrupts
from ci_toolkit.errors import ToolkitError
from ci_toolkit.rasa.evaluator import rasa_interpreter

SCRIPT = Path(__file__).with_name("plot_script.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_S = 300.0  # importing matplotlib on a busy runner takes seconds, not minutes
_PANELS = {
    "intent_f1": ("Intent classification", "Intent F1 (label-weighted average)"),
    "entity_f1": ("Entity extraction", "Entity F1 (label-weighted average)"),
    "story_accuracy": ("Dialogue policies", "Share of test stories fully correct"),
}


def label(text: str) -> str:
    """A legend label that shows ``text`` as written: matplotlib reads $...$ as maths (and
    fails on an unbalanced one)."""
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _series(name: str, index: int, points: list[Mapping[str, Any]], pick: Any
            ) -> dict[str, Any] | None:
    chosen = [(p["training_data_percentage"], pick(p)) for p in points]
    chosen = sorted((x, s) for x, s in chosen if s is not None)
    if not chosen:
        return None
    # One colour per config (matplotlib's cycle "C0".."C9"), the same in every panel.
    return {"label": label(name), "color": f"C{index % 10}", "x": [x for x, _ in chosen],
            "mean": [s["mean"] for _, s in chosen], "std": [s["std"] for _, s in chosen]}


def _panel(section: Mapping[str, Any], metric: str) -> dict[str, Any] | None:
    series = []
    for index, config in enumerate(section["configs"]):
        points = config["points"]
        if metric == "entity_f1":
            # One line per config and extractor: a config may have several extractors.
            extractors = sorted({e for p in points for e in (p.get("entity_f1") or {})})
            for extractor in extractors:
                found = _series(f"{config['name']} ({extractor})", index, points,
                                lambda p, e=extractor: (p.get("entity_f1") or {}).get(e))
                series.append(found)
        else:
            series.append(_series(config["name"], index, points, lambda p: p.get(metric)))
    series = [s for s in series if s is not None]
    if not series:
        return None
    title, y_label = _PANELS[metric]
    return {"title": title, "y_label": y_label, "series": series}


def plot_spec(section: Mapping[str, Any], out: Path) -> dict[str, Any]:
    """What plot_script.py draws: one panel per metric that has numbers."""
    metrics = ("intent_f1", "entity_f1") if section["kind"] == "nlu" else ("story_accuracy",)
    panels = [panel for metric in metrics if (panel := _panel(section, metric)) is not None]
    runs = section["runs"]
    return {
        "out": str(out),
        "title": f"Comparison of {len(section['configs'])} configurations: mean ± std over "
                 f"{runs} run{'s' if runs != 1 else ''}",
        "x_label": "Training data used (%)",
        "panels": panels,
    }


def draw(spec: Mapping[str, Any], *, rasa_executable: str, env: Mapping[str, str]) -> Path:
    """Run plot_script.py in rasa's interpreter; the PNG it wrote, or a ToolkitError."""
    python = rasa_interpreter(rasa_executable)
    if python is None:
        raise ToolkitError(f"Cannot draw the comparison plot: {rasa_executable} is not a "
                           "Python script, so its interpreter (which has matplotlib) is "
                           "unknown. Point --rasa at the `rasa` of a virtualenv.")
    return draw_with(spec, python=python, env=env)


def own_interpreter_draws() -> bool:
    """Whether ci-toolkit's own interpreter has matplotlib: where no rasa is installed (the
    merge job of a matrix installs ci-toolkit with matplotlib only), it draws the plot."""
    return importlib.util.find_spec("matplotlib") is not None


def draw_with(spec: Mapping[str, Any], *, python: str, env: Mapping[str, str]) -> Path:
    """Run plot_script.py in ``python`` (which has matplotlib); the PNG, or a ToolkitError."""
    out = Path(spec["out"])
    out.unlink(missing_ok=True)
    child = interrupts.start(lambda: subprocess.Popen(
        [python, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(env), start_new_session=True))
    try:
        _, stderr = child.communicate(json.dumps(spec), timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        interrupts.stop_group(child, grace_s=0)
        raise ToolkitError(f"Drawing the comparison plot took longer than {TIMEOUT_S:.0f} s "
                           "and was stopped.") from error
    finally:
        interrupts.forget(child)
    interrupts.check()
    if child.returncode != 0 or not _is_png(out):
        last = (stderr.strip().splitlines() or ["no message"])[-1]
        raise ToolkitError(f"Drawing the comparison plot with {python} failed: {last}. The "
                           "comparison section is written without it.")
    return out


def _is_png(path: Path) -> bool:
    try:
        with path.open("rb") as image:
            return image.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    except OSError:
        return False
