"""The model evaluator's worker draws rasa's plots with matplotlib's text measurements kept
for the whole plot (evaluator_worker._cache_text_layout): the PNG must be byte for byte the
one rasa draws without it, the caches must really be used (fewer FreeType measurements), and
matplotlib (and the garbage collector, paused while a plot is drawn) must be left as it was
after each plot. Run in rasa's own interpreter, with the
matplotlib rasa installs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ci_toolkit.rasa.evaluator import WORKER
from tests.rasa_support import run_in_rasas_interpreter

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

# Draws one confusion matrix (40 intents: 1,600 cell texts, as rasa draws it) with rasa's
# plotting function, then with the worker's, and reports the bytes and measurement counts.
SCRIPT = """
import gc, hashlib, json, sys
import numpy as np
from matplotlib import text
from matplotlib.backends import backend_agg

sys.path.insert(0, sys.argv[1])
import evaluator_worker
from rasa.utils import plotting

calls = {"n": 0}
measure = backend_agg.RendererAgg.get_text_width_height_descent
def counted(self, s, prop, ismath):
    calls["n"] += 1
    return measure(self, s, prop, ismath)
backend_agg.RendererAgg.get_text_width_height_descent = counted

rng = np.random.default_rng(3)
matrix = np.diag(rng.integers(0, 12, 40)) + rng.integers(0, 2, (40, 40)) * rng.integers(0, 3, (40, 40))
classes = [f"intent_{i}_ask_about_things" for i in range(40)]
result = {}
def draw(name, plot):
    calls["n"] = 0
    target = f"{sys.argv[2]}/{name}.png"
    plot(matrix, classes, title="Intent Confusion matrix", output_file=target)
    result[name] = {"sha256": hashlib.sha256(open(target, "rb").read()).hexdigest(),
                    "measured": calls["n"]}

layouts = text.Text._cached
rasas_plot = plotting.plot_confusion_matrix
draw("rasa", plotting.plot_confusion_matrix)
evaluator_worker._cache_text_layout()
draw("worker", plotting.plot_confusion_matrix)
result["restored"] = (text.Text._cached is layouts
                      and backend_agg.RendererAgg.get_text_width_height_descent is counted
                      and gc.isenabled())
result["wrapped"] = plotting.plot_confusion_matrix is not rasas_plot
print(json.dumps(result))
"""


def _draw(tmp_path: Path, env: dict[str, str] | None = None) -> dict:
    return run_in_rasas_interpreter(
        SCRIPT, str(WORKER.parent), str(tmp_path), workdir=tmp_path,
        env={**{k: v for k, v in os.environ.items() if k != "CI_TOOLKIT_PLOTS"},
             "MPLBACKEND": "agg", **(env or {})})


def test_the_worker_draws_rasas_confusion_matrix_byte_for_byte_measuring_each_text_once(
        tmp_path: Path) -> None:
    result = _draw(tmp_path)

    assert result["wrapped"]
    assert result["worker"]["sha256"] == result["rasa"]["sha256"]
    # rasa's own drawing measures every cell's text in each pass; the worker's once per
    # distinct string and renderer.
    assert result["worker"]["measured"] * 20 < result["rasa"]["measured"]
    assert result["restored"]


def test_ci_toolkit_plots_rasa_leaves_rasas_plotting_alone(tmp_path: Path) -> None:
    result = _draw(tmp_path, {"CI_TOOLKIT_PLOTS": "rasa"})

    assert not result["wrapped"]
    assert result["worker"] == result["rasa"]
