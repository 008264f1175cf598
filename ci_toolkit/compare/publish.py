"""Where a comparison goes besides its own directory: report.json's `comparison` section
(`--report`), for a one-machine comparison and for merged shards alike.

In report.json the plot is named by its path as seen from the directory the command ran in
(as the report's `artifacts` are), so `ci-toolkit summary --html` can embed it; comparison.json
names it relative to itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ci_toolkit.compare.run import write_outputs
from ci_toolkit.errors import ToolkitError
from ci_toolkit.proc import Console
from ci_toolkit.rasa import runner
from ci_toolkit.report.standalone import Provenance, write_comparison


def report_section(section: Mapping[str, Any], plot: Path | None) -> dict[str, Any]:
    return {**section, "plot": os.path.relpath(plot) if plot is not None else None}


def add_to_report(path: Path, section: Mapping[str, Any], plot: Path | None,
                  provenance: Provenance) -> Path:
    from ci_toolkit.gha import ActionsRuntime

    return write_comparison(path, report_section(section, plot), provenance,
                            redact=ActionsRuntime().redact)


def _rasa(configured: str | None, console: Console) -> str | None:
    try:
        return runner.find_rasa(configured)
    except ToolkitError as error:
        console.line(f"[compare] No plot: {error}")
        return None


def publish_merged_comparison(section: dict[str, Any], *, out: Path | None,
                              report: Path | None, rasa: str | None,
                              provenance: Provenance) -> dict[str, Any]:
    """Write the merged comparison next to --report (or --out): comparison.json, .md and the
    plot (drawn when rasa or matplotlib is installed here), --out, and the report's section."""
    anchor = report if report is not None else out
    if anchor is None:
        return section
    console = Console()
    executable = _rasa(rasa, console)
    env = runner.rasa_environment(dict(os.environ), rasa_cache=None)
    done = write_outputs(section, anchor.resolve().parent, out=out, rasa=executable, env=env,
                         console=console)
    if report is not None:
        add_to_report(report, done.section, done.plot_file, provenance)
    return done.section
