"""`ci-toolkit compare`: rasa's comparison of two or more configurations, read into a
comparison section, a Markdown fragment and a plot. Its options are the fields of
CompareRequest (ci_toolkit/compare/request.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import argument_from, option_from
from ci_toolkit.compare.request import CompareRequest
from ci_toolkit.pipeline.settings import PipelineSettings

# Besides its options, compare reads the environment rasa runs with (no toolkit variable).
ENV_VARS_READ: tuple[str, ...] = ()

# Options that take several values after one flag, as rasa's own do (`--config a.yml b.yml`);
# click options take one value per flag, so the extra values are given their own flag.
_GREEDY = {"--config": "--config", "-c": "--config", "--percentages": "--percentages",
           "-p": "--percentages"}
_NUMBER = re.compile(r"^-?\d+$")


def spread_values(args: Sequence[str]) -> list[str]:
    """``--config a b --runs 2`` -> ``--config a --config b --runs 2``. A value ends at the
    next word that starts with '-', except a number after --percentages (so -5 is reported
    as out of range rather than as an unknown option)."""
    result: list[str] = []
    flag: str | None = None
    follows_flag = False  # the next value is the one right after the flag: no flag to add
    for index, arg in enumerate(args):
        if arg == "--":  # the rest is arguments, whatever they look like
            return [*result, *args[index:]]
        is_value = flag is not None and (not arg.startswith("-") or (
            flag == "--percentages" and bool(_NUMBER.match(arg))))
        if is_value:
            result += [arg] if follows_flag else [flag, arg]  # type: ignore[list-item]
            follows_flag = False
            continue
        name, has_value, _ = arg.partition("=")
        flag = _GREEDY.get(name)
        follows_flag = flag is not None and not has_value
        result.append(arg)
    return result


class _SpreadCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_values(args))


@click.command(name="compare", cls=_SpreadCommand)
@argument_from(PipelineSettings, "project_dir", metavar="[PROJECT]", default=".",
               required=False, type=click.Path(file_okay=False, path_type=Path))
@option_from(CompareRequest, "configs", "--config", "-c", multiple=True)
@option_from(CompareRequest, "runs", type=int)
@option_from(CompareRequest, "percentages", "--percentages", "-p", multiple=True, type=int)
@option_from(CompareRequest, "kind")
@option_from(PipelineSettings, "domain")
@option_from(PipelineSettings, "data", help="The training data file or directory (one). "
             "[default: data]")
@option_from(PipelineSettings, "tests")
@option_from(PipelineSettings, "rasa")
@option_from(CompareRequest, "results_dir", "--result-dir",
             type=click.Path(file_okay=False, path_type=Path))
@option_from(CompareRequest, "out", type=click.Path(dir_okay=False, path_type=Path))
@option_from(PipelineSettings, "timeout_s", "--timeout", type=click.FloatRange(min=1))
def compare(**params: Any) -> None:
    """Compare two or more model configurations of the project in PROJECT (default: .) on
    its own data, with rasa's comparison mode: each is trained RUNS times on 100 - P% of
    the training data for each exclusion percentage P and tested. Writes
    RESULT_DIR/comparison.json (mean ± std per config and amount of training data, the
    winner and its margin), comparison.md and comparison.png."""
    from ci_toolkit.compare.run import run_comparison
    from ci_toolkit.options import check_seconds
    from ci_toolkit.proc import Console

    if params["timeout_s"] is not None:
        check_seconds(params["timeout_s"], option="--timeout")
    request = CompareRequest(**{**params, "configs": tuple(params["configs"]),
                                "percentages": tuple(params["percentages"]),
                                "data": tuple(params["data"])})
    done = run_comparison(request, console=Console())
    click.echo(_headline(done.section), err=True)
    click.echo(f"Comparison section written to {done.section_file}"
               + (f", plot to {done.plot_file}" if done.plot_file else ""), err=True)


def _headline(section: dict[str, Any]) -> str:
    won = section["winner"]
    where = f"at {won['training_data_percentage']}% of the training data"
    if won["config"] is None:
        return f"Tie between {', '.join(won['tied'])} ({won['metric']} {won['mean']:.3f} {where})."
    return (f"{won['config']} wins: {won['metric']} {won['mean']:.3f} {where}, "
            f"{won['margin']:.3f} ahead of {won['runner_up']}.")
