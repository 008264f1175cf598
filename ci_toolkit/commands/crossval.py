"""`ci-toolkit merge`: the shards of a cross-validation (`ci-toolkit cross-validate --shard
i/N`, commands/pipeline.py) or of a comparison (`ci-toolkit compare --shard i/N`) spread over
a CI job matrix, pooled into the section a one-machine run writes, and into report.json. Its
options are the fields of MergeRequest (ci_toolkit/crossval/)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import argument_from, option_from
from ci_toolkit.crossval.merge import MergeRequest
from ci_toolkit.pipeline.settings import PipelineSettings

# Besides its options, merge reads the runner's GITHUB_* variables for the report's commit
# and run (through GitHubContext).
ENV_VARS_READ: tuple[str, ...] = ()


@click.command(name="merge")
@argument_from(MergeRequest, "shard_reports", nargs=-1, required=True,
               type=click.Path(dir_okay=False, path_type=Path))
@option_from(MergeRequest, "out", type=click.Path(dir_okay=False, path_type=Path))
@option_from(MergeRequest, "report", type=click.Path(dir_okay=False, path_type=Path))
@option_from(PipelineSettings, "rasa", help="The rasa executable whose matplotlib draws a "
             "merged comparison's plot; without rasa the comparison has no plot.")
def merge(**params: Any) -> None:
    """Pool the shard reports (SHARD_REPORTS...) of a sharded cross-validation into the
    cross_validation section of report.json, or those of a sharded comparison into its
    comparison section. The shard reports say which they are; all must be of one kind."""
    from ci_toolkit.crossval.any_shards import COMPARISON, merge_shard_files

    request = MergeRequest(**params)
    merged = merge_shard_files(request.shard_reports)
    if merged.kind == COMPARISON:
        _comparison(request, merged)
    else:
        _cross_validation(request, merged)


def _provenance(merged: Any) -> Any:
    from ci_toolkit.github_context import GitHubContext
    from ci_toolkit.report.model import Artifacts
    from ci_toolkit.report.standalone import Provenance

    context = GitHubContext.from_environ()
    return Provenance(commit=context.commit_sha(Path.cwd()), context=context,
                      artifacts=Artifacts(results_dir=os.path.relpath(merged.directory)),
                      rasa_version=merged.rasa_version)


def _emit(request: MergeRequest, section: dict[str, Any], what: str) -> None:
    text = json.dumps(section, indent=2, ensure_ascii=False) + "\n"
    if request.out is None:
        if request.report is None:
            click.echo(text, nl=False)
        return
    request.out.parent.mkdir(parents=True, exist_ok=True)
    request.out.write_text(text, encoding="utf-8")
    click.echo(f"{what} section written to {request.out}", err=True)


def _cross_validation(request: MergeRequest, merged: Any) -> None:
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.report.standalone import write_cross_validation

    section = merged.section
    pooled = (section["intent_classification"] or {}).get("pooled") or {}
    weighted = pooled.get("weighted_avg") or {}
    click.echo(f"Merged {section['folds']} folds: intent accuracy {pooled.get('accuracy')}, "
               f"weighted F1 {weighted.get('f1_score')}", err=True)
    _emit(request, section, "Cross-validation")
    if request.report is not None:
        path = write_cross_validation(request.report, section, _provenance(merged),
                                      redact=ActionsRuntime().redact)
        click.echo(f"Report written to {path}", err=True)


def _comparison(request: MergeRequest, merged: Any) -> None:
    from ci_toolkit.commands.compare import headline
    from ci_toolkit.compare.publish import publish_merged_comparison

    click.echo(f"Merged {merged.shards} comparison shards. {headline(merged.section)}",
               err=True)
    section = publish_merged_comparison(merged.section, out=request.out, report=request.report,
                                        rasa=request.rasa, provenance=_provenance(merged))
    if request.out is None and request.report is None:
        _emit(request, section, "Comparison")
    for path, what in ((request.out, "Comparison section"), (request.report, "Report")):
        if path is not None:
            click.echo(f"{what} written to {path}", err=True)
