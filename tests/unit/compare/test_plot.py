"""The comparison plot's input (ci_toolkit/compare/plot.py): what plot_script.py is given on
stdin, and how a failed drawing is reported. The drawing itself, with matplotlib in rasa's
interpreter, is tests/integration/test_compare.py."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from ci_toolkit.compare.plot import PNG_SIGNATURE, draw, label, plot_spec
from ci_toolkit.compare.section import build_section
from ci_toolkit.errors import ToolkitError


def _section() -> dict:
    light = [[{"intent_f1": 0.9, "entity_f1": {"CRFEntityExtractor": 0.7}},
              {"intent_f1": 0.5, "entity_f1": {"CRFEntityExtractor": 0.3}}]]
    chars = [[{"intent_f1": 0.8, "entity_f1": None}, {"intent_f1": 0.6, "entity_f1": None}]]
    return build_section("nlu", {"light": light, "$chars": chars},
                         files={"light": "light.yml", "$chars": "$chars.yml"}, runs=1,
                         percentages=[0, 50], rasa_version=None)


def test_one_panel_per_metric_with_a_line_per_config_over_the_training_data() -> None:
    spec = plot_spec(_section(), Path("/tmp/out.png"))
    assert spec["out"] == "/tmp/out.png"
    assert spec["x_label"] == "Training data used (%)"
    intents, entities = spec["panels"]
    assert [s["label"] for s in intents["series"]] == ["light", r"\$chars"]
    light = intents["series"][0]
    assert light["x"] == [50, 100]  # ascending amount of training data
    assert light["mean"] == [0.5, 0.9] and light["std"] == [0.0, 0.0]
    # The entity line of a config has the colour of its intent line.
    assert entities["series"] == [{"label": "light (CRFEntityExtractor)", "color": "C0",
                                   "x": [50, 100], "mean": [0.3, 0.7], "std": [0.0, 0.0]}]
    assert intents["series"][1]["color"] == "C1"


def test_no_entity_panel_without_entity_figures() -> None:
    section = build_section("nlu", {"a": [[{"intent_f1": 0.9, "entity_f1": None}]],
                                    "b": [[{"intent_f1": 0.8, "entity_f1": None}]]},
                            files={"a": "a", "b": "b"}, runs=1, percentages=[0],
                            rasa_version=None)
    assert [p["title"] for p in plot_spec(section, Path("x.png"))["panels"]] == [
        "Intent classification"]


def test_matplotlib_maths_is_shown_as_written() -> None:
    assert label("a$x$") == r"a\$x\$"
    assert label("back\\slash") == "back\\\\slash"


def _fake_rasa(tmp_path: Path, script: str) -> str:
    """A `rasa` whose interpreter runs ``script`` (Python, in this test's interpreter)
    in place of the plot script it is given."""
    stub = tmp_path / "stub.py"
    stub.write_text(script)
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {stub}\n")
    rasa = tmp_path / "rasa"
    rasa.write_text(f"#!{python}\n")
    for path in (python, rasa):
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(rasa)


def test_the_spec_goes_to_rasas_interpreter_on_stdin(tmp_path: Path) -> None:
    script = ("import json, sys; spec = json.load(sys.stdin); "
              "open(spec[\"out\"] + \".json\", \"w\").write(json.dumps(spec)); "
              f"open(spec[\"out\"], \"wb\").write({PNG_SIGNATURE!r})")
    spec = plot_spec(_section(), tmp_path / "plot.png")
    assert draw(spec, rasa_executable=_fake_rasa(tmp_path, script),
                env=dict(os.environ)) == tmp_path / "plot.png"
    assert json.loads((tmp_path / "plot.png.json").read_text()) == spec


def test_a_failed_drawing_says_why(tmp_path: Path) -> None:
    script = "import sys; sys.exit(\"ImportError: No module named matplotlib\")"
    spec = plot_spec(_section(), tmp_path / "plot.png")
    with pytest.raises(ToolkitError, match="No module named matplotlib"):
        draw(spec, rasa_executable=_fake_rasa(tmp_path, script), env=dict(os.environ))


def test_a_file_that_is_no_png_is_a_failure(tmp_path: Path) -> None:
    script = "import json, sys; open(json.load(sys.stdin)[\"out\"], \"w\").write(\"pdf\")"
    spec = plot_spec(_section(), tmp_path / "plot.png")
    with pytest.raises(ToolkitError, match="Drawing the comparison plot"):
        draw(spec, rasa_executable=_fake_rasa(tmp_path, script), env=dict(os.environ))


def test_a_rasa_that_is_no_python_script_cannot_plot(tmp_path: Path) -> None:
    binary = tmp_path / "rasa"
    binary.write_bytes(b"\x7fELF")
    with pytest.raises(ToolkitError, match="is not a Python script"):
        draw(plot_spec(_section(), tmp_path / "p.png"), rasa_executable=str(binary), env={})


def test_without_rasa_the_toolkits_own_matplotlib_draws_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ci_toolkit.compare import run as compare_run
    from ci_toolkit.proc import Console

    script = ("import json, sys; "
              f"open(json.load(sys.stdin)[\"out\"], \"wb\").write({PNG_SIGNATURE!r})")
    python = str(Path(_fake_rasa(tmp_path, script)).with_name("python"))  # its interpreter
    said = io.StringIO()
    console = Console(said)
    # Neither rasa nor matplotlib: the comparison is kept without its picture, and says why.
    monkeypatch.setattr(compare_run, "own_interpreter_draws", lambda: False)
    assert compare_run._plot(_section(), tmp_path / "a.png", executable=None, env={},
                             console=console) is None
    assert "neither rasa nor matplotlib is installed here" in said.getvalue()
    # ci-toolkit installed with matplotlib (the matrix merge job): its own interpreter draws.
    monkeypatch.setattr(compare_run, "own_interpreter_draws", lambda: True)
    monkeypatch.setattr(compare_run.sys, "executable", python)
    assert compare_run._plot(_section(), tmp_path / "b.png", executable=None,
                             env=dict(os.environ), console=console) == tmp_path / "b.png"
