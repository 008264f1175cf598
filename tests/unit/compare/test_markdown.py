"""The comparison's Markdown fragment (ci_toolkit/compare/markdown.py): the verdict, the
table, and config names from the repository made inert."""

from __future__ import annotations

from ci_toolkit.compare.markdown import comparison_markdown
from ci_toolkit.compare.section import build_section


def _section(names: tuple[str, str], first: float = 0.9) -> dict:
    a, b = names
    return build_section(
        "nlu",
        {a: [[{"intent_f1": first, "entity_f1": {"CRFEntityExtractor": 0.5}}]],
         b: [[{"intent_f1": 0.8, "entity_f1": None}]]},
        files={a: f"{a}.yml", b: f"{b}.yml"}, runs=1, percentages=[0], rasa_version=None)


def test_the_verdict_the_table_and_the_plot() -> None:
    text = comparison_markdown(_section(("light", "chars")), plot_href="comparison.png")
    assert text.startswith("### Comparison of NLU pipelines (1 run each)\n")
    assert ("**light** wins: mean intent F1 0.900 at 100% of the training data, 0.100 ahead "
            "of **chars** (0.800).") in text
    assert "| light | 100% | 0.900 ± 0.000 | CRFEntityExtractor 0.500 ± 0.000 |" in text
    assert "| chars | 100% | 0.800 ± 0.000 | \u2013 |" in text
    assert text.rstrip().endswith("![F1 against the amount of training data](comparison.png)")


def test_a_tie_names_every_config_tied() -> None:
    text = comparison_markdown(_section(("a", "b"), first=0.8))
    assert "Tie: **a**, **b** have the same mean intent F1" in text
    assert "![" not in text


def test_config_names_from_the_repository_are_inert() -> None:
    text = comparison_markdown(_section(("@org/team|x", "<img src=x>")))
    assert "@org" not in text.replace("@\u200dorg", "")  # no mention
    assert "<img" not in text
    assert "team\\|x" in text  # the pipe stays in its cell
