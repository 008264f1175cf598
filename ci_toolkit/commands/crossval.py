"""`ci-toolkit merge`: the shards of a cross-validation spread over a CI job matrix
(`ci-toolkit cross-validate --shard i/N`, commands/pipeline.py) pooled into one
cross-validation section. Its options are the fields of MergeRequest (ci_toolkit/crossval/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import argument_from, option_from
from ci_toolkit.crossval.merge import MergeRequest

# Besides its options, merge reads no environment.
ENV_VARS_READ: tuple[str, ...] = ()


@click.command(name="merge")
@argument_from(MergeRequest, "shard_reports", nargs=-1, required=True,
               type=click.Path(dir_okay=False, path_type=Path))
@option_from(MergeRequest, "out", type=click.Path(dir_okay=False, path_type=Path))
def merge(**params: Any) -> None:
    """Pool the shard reports of a sharded cross-validation (SHARD_REPORTS...) into the
    cross-validation section of report.json."""
    from ci_toolkit.crossval.merge import merge_files

    request = MergeRequest(**params)
    section = merge_files(request.shard_reports)
    text = json.dumps(section, indent=2, ensure_ascii=False) + "\n"
    intents = section["intent_classification"] or {}
    pooled = intents.get("pooled") or {}
    weighted = pooled.get("weighted_avg") or {}
    click.echo(f"Merged {section['folds']} folds: intent accuracy {pooled.get('accuracy')}, "
               f"weighted F1 {weighted.get('f1_score')}", err=True)
    if request.out is None:
        click.echo(text, nl=False)
        return
    request.out.parent.mkdir(parents=True, exist_ok=True)
    request.out.write_text(text, encoding="utf-8")
    click.echo(f"Cross-validation section written to {request.out}", err=True)
