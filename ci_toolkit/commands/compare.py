"""`ci-toolkit compare`: rasa's comparison of two or more configurations, read into a
comparison section, a Markdown fragment and a plot. Its options are the fields of
CompareRequest (ci_toolkit/compare/request.py)."""

from __future__ import annotations

import os
import re
import time
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
@option_from(CompareRequest, "report", type=click.Path(dir_okay=False, path_type=Path))
@option_from(CompareRequest, "shard")
@option_from(CompareRequest, "seed", type=int)
@option_from(PipelineSettings, "timeout_s", "--timeout", type=click.FloatRange(min=1))
def compare(**params: Any) -> None:
    """Compare two or more model configurations of the project in PROJECT (default: .) on
    its own data, with rasa's comparison mode: each is trained RUNS times on 100 - P% of
    the training data for each exclusion percentage P and tested. Writes
    RESULT_DIR/comparison.json (mean ± std per config and amount of training data, the
    winner and its margin), comparison.md and comparison.png.

    With --shard i/N (N = number of configs x RUNS) only one config's run is done, one job
    of a CI matrix; `ci-toolkit merge` pools the shard reports into the same section."""
    from ci_toolkit.options import check_seconds
    from ci_toolkit.proc import Console

    if params["timeout_s"] is not None:
        check_seconds(params["timeout_s"], option="--timeout")
    request = CompareRequest(**{**params, "configs": tuple(params["configs"]),
                                "percentages": tuple(params["percentages"]),
                                "data": tuple(params["data"])})
    if request.shard is not None:
        _shard(request, Console())
    else:
        _whole(request, Console())


def _shard(request: CompareRequest, console: Any) -> None:
    from ci_toolkit.compare.shard import run_compare_shard
    from ci_toolkit.errors import UsageError

    if request.report is not None or request.out is not None:
        raise UsageError("--report and --out take the whole comparison, which a shard is not. "
                         "Give them to `ci-toolkit merge` of all the shard reports instead.")
    path = run_compare_shard(request, console=console)
    click.echo(f"Shard report written to {path}", err=True)


def _whole(request: CompareRequest, console: Any) -> None:
    from ci_toolkit.compare.publish import add_to_report
    from ci_toolkit.compare.run import run_comparison
    from ci_toolkit.github_context import GitHubContext
    from ci_toolkit.report.model import Artifacts
    from ci_toolkit.report.standalone import Provenance

    started = time.time()
    done = run_comparison(request, console=console)
    click.echo(headline(done.section), err=True)
    click.echo(f"Comparison section written to {done.section_file}"
               + (f", plot to {done.plot_file}" if done.plot_file else ""), err=True)
    if request.report is not None:
        context = GitHubContext.from_environ()
        workdir = done.section_file.parent
        provenance = Provenance(
            commit=context.commit_sha(Path(request.project_dir)), context=context,
            artifacts=Artifacts(results_dir=os.path.relpath(workdir),
                                logs=[os.path.relpath(p) for p in
                                      sorted((workdir / "logs").glob("*.log"))]),
            rasa_version=done.section.get("rasa_version"), started_at=started)
        path = add_to_report(request.report, done.section, done.plot_file, provenance)
        click.echo(f"Comparison added to {path}", err=True)


def headline(section: dict[str, Any]) -> str:
    won = section["winner"]
    where = f"at {won['training_data_percentage']}% of the training data"
    if won["config"] is None:
        return f"Tie between {', '.join(won['tied'])} ({won['metric']} {won['mean']:.3f} {where})."
    return (f"{won['config']} wins: {won['metric']} {won['mean']:.3f} {where}, "
            f"{won['margin']:.3f} ahead of {won['runner_up']}.")
