"""A 2-config NLU comparison of the example with real rasa: `ci-toolkit compare` runs rasa's
own comparison (2 runs, exclusion 0% and 50%), reads its files into the comparison section
and draws the PNG with matplotlib in rasa's interpreter. Then the same configs sharded (one
shard per config, one run) and merged into report.json, rendered by `ci-toolkit summary`.

Both configs are without TensorFlow, so the 8 trainings take seconds each: this test is
about rasa's comparison mode and what the toolkit makes of its files, not about a model.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_toolkit.commands.compare import compare
from ci_toolkit.commands.crossval import merge
from ci_toolkit.commands.summary import summary
from tests.rasa_support import LIGHT_NLU_PIPELINE, copy_example, rasa_executable

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

_HEADER = "recipe: default.v1\nassistant_id: {name}\nlanguage: en\n"
# Word counts with an entity extractor, against character n-grams without one.
WORDS = LIGHT_NLU_PIPELINE + "  - name: CRFEntityExtractor\n"
CHARS = """pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: LogisticRegressionClassifier
"""


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_two_configs_two_runs_two_percentages(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "coffeebot")
    (project / "configs").mkdir()
    for name, pipeline in (("words", WORDS), ("chars", CHARS)):
        (project / "configs" / f"{name}.yml").write_text(_HEADER.format(name=name) + pipeline)
    results = tmp_path / "compare"
    done = CliRunner().invoke(compare, [
        str(project), "--config", "configs/words.yml", "configs/chars.yml", "--runs", "2",
        "--percentages", "0", "50", "--rasa", rasa_executable(), "--result-dir", str(results)])
    assert done.exit_code == 0, done.output

    section = json.loads((results / "comparison.json").read_text())
    raw = json.loads((results / "rasa" / "results.json").read_text())
    assert [c["name"] for c in section["configs"]] == ["words", "chars"]
    assert [c["file"] for c in section["configs"]] == ["configs/words.yml", "configs/chars.yml"]
    for config in section["configs"]:
        points = config["points"]
        assert [p["training_data_percentage"] for p in points] == [100, 50]
        for index, point in enumerate(points):
            # rasa's F1 of each run at this percentage, and their mean.
            assert point["intent_f1"]["runs"] == [run[index] for run in raw[config["name"]]]
            assert point["intent_f1"]["mean"] == pytest.approx(
                sum(point["intent_f1"]["runs"]) / 2)
            assert 0 < point["intent_f1"]["mean"] <= 1
        assert points[1]["training_examples"]["mean"] < points[0]["training_examples"]["mean"]
    words, chars = section["configs"]
    assert set(words["points"][0]["entity_f1"]) == {"CRFEntityExtractor"}
    assert chars["points"][0]["entity_f1"] is None
    means = {c["name"]: c["points"][0]["intent_f1"]["mean"] for c in section["configs"]}
    won = section["winner"]
    best = max(means, key=means.__getitem__)
    assert won["config"] == best and won["margin"] == pytest.approx(abs(means["words"] -
                                                                         means["chars"]))

    assert section["plot"] == "comparison.png"
    width, height = _png_size(results / "comparison.png")
    assert width >= 600 and height >= 300
    assert (results / "comparison.png").stat().st_size > 20_000  # two panels of lines
    markdown = (results / "comparison.md").read_text()
    assert f"**{best}** wins" in markdown and "![F1 against the amount of training data]" \
        in markdown


def _shard(project: Path, shard: str, results: Path) -> Path:
    done = CliRunner().invoke(compare, [
        str(project), "--config", "configs/words.yml", "configs/chars.yml", "--runs", "1",
        "--percentages", "25", "--shard", shard, "--seed", "3", "--rasa", rasa_executable(),
        "--result-dir", str(results)])
    assert done.exit_code == 0, done.output[-3000:]
    return results / "compare" / f"shard-{shard.replace('/', '-of-')}" / "shard-report.json"


def test_two_shards_merged_into_the_report_and_the_summary(tmp_path: Path) -> None:
    """2 configs x 1 run = 2 shards, one matrix job each; `merge --report` pools them into
    report.json's comparison section, which `ci-toolkit summary` renders with the plot."""
    project = copy_example(tmp_path / "coffeebot")
    (project / "configs").mkdir()
    for name, pipeline in (("words", WORDS), ("chars", CHARS)):
        (project / "configs" / f"{name}.yml").write_text(_HEADER.format(name=name) + pipeline)
    results = tmp_path / "results"
    reports = [_shard(project, f"{index}/2", results) for index in (1, 2)]
    shards = [json.loads(path.read_text()) for path in reports]
    assert [s["config"] for s in shards] == ["words", "chars"]
    directories = [path.parent for path in reports]
    # Both configs trained and were tested on the same data: the toolkit's seeded split.
    for name in ("train.yml", "test.yml"):
        assert len({(d / "data" / "25%_exclusion" / name).read_text() for d in directories}) == 1

    report = tmp_path / "reports" / "report.json"
    done = CliRunner().invoke(merge, [*map(str, reports), "--report", str(report), "--rasa",
                                      rasa_executable()])
    assert done.exit_code == 0, done.output
    section = json.loads(report.read_text())["comparison"]
    assert [c["name"] for c in section["configs"]] == ["words", "chars"]
    for config, directory in zip(section["configs"], directories):
        (point,) = config["points"]
        rasa_report = json.loads((directory / "rasa" / "25%_exclusion" / "intent_report.json")
                                 .read_text())
        # The intent F1 is rasa's label-weighted F1 of the model on the run's test set.
        assert point["intent_f1"]["runs"] == [rasa_report["weighted avg"]["f1-score"]]
        assert point["training_data_percentage"] == 75
    assert set(section["configs"][0]["points"][0]["entity_f1"]) == {"CRFEntityExtractor"}
    assert section["configs"][1]["points"][0]["entity_f1"] is None
    assert section["plot"] is not None and Path(section["plot"]).is_file()

    html = tmp_path / "reports" / "report.html"
    shown = CliRunner().invoke(summary, [str(report), "--html", str(html), "--no-step-summary",
                                         "--no-comment"], env={"GITHUB_ACTIONS": ""})
    assert shown.exit_code == 0, shown.output
    markdown = (tmp_path / "reports" / "summary.md").read_text()
    assert "### Configuration comparison" in markdown and " wins: mean intent F1" in markdown
    page = html.read_text()
    assert "<h2>Configuration comparison</h2>" in page
    assert '<img src="data:image/png;base64,' in page
