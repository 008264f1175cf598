"""A self-contained HTML report: the summary's tables plus rasa's pictures, in one file.

The confusion matrices and histograms that rasa drew are embedded as base64 ``data:`` URIs,
so the file can be downloaded from the artifacts and opened anywhere, offline.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ci_toolkit.escape import safe_url
from ci_toolkit.resources import package_template_dir

if TYPE_CHECKING:
    import jinja2

    from ci_toolkit.report.model import Report
    from ci_toolkit.summary.view import SummaryView

_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Picture:
    name: str  # relative to the results directory: "nlu/intent_confusion_matrix.png"
    path: str  # as named in the report
    data_uri: str | None  # None: the file was not found


def _title(name: str) -> str:
    """"nlu/intent_histogram.png" -> "nlu: Intent histogram"."""
    path = Path(name)
    title = path.stem.replace("_", " ")
    title = title[:1].upper() + title[1:]
    return f"{path.parent.as_posix()}: {title}" if path.parent != Path() else title


def picture(image: str, root: Path, name: str) -> Picture:
    """The image at ``image`` (relative to ``root`` unless absolute), encoded; empty when it
    is missing or no image."""
    path = Path(image) if Path(image).is_absolute() else root / image
    media_type = _MEDIA_TYPES.get(path.suffix.lower())
    data_uri = None
    if media_type and path.is_file():
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        data_uri = f"data:{media_type};base64,{encoded}"
    return Picture(name, str(image), data_uri)


def collect_pictures(report: Report, root: Path) -> list[Picture]:
    """Every image the report lists, read from disk and encoded; missing ones are kept, empty."""
    pictures = []
    results = report.artifacts.results_dir
    for image in report.artifacts.images:
        name = Path(image).name
        if results and Path(image).is_relative_to(results):
            # "nlu/…" and "cross_validation/…" hold pictures of the same names
            name = Path(image).relative_to(results).as_posix()
        pictures.append(picture(image, root, name))
    return pictures


def comparison_picture(report: Report, root: Path) -> Picture | None:
    """The comparison's plot, embedded like rasa's pictures (None: the report has none)."""
    plot = report.comparison.plot if report.comparison is not None else None
    return picture(plot, root, Path(plot).name) if plot else None


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(package_template_dir())),
        autoescape=True,  # HTML: every value is escaped unless marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["picture_title"] = _title
    # A report could name a javascript: URL; autoescaping does not stop that in an href.
    env.filters["url"] = lambda value: safe_url(value) or ""
    return env


def render_html(view: SummaryView, pictures: list[Picture],
                comparison_plot: Picture | None = None) -> str:
    return _environment().get_template("report.html.j2").render(
        view=view, pictures=pictures, comparison_plot=comparison_plot)


def html_report(view: SummaryView, report: Report, *, root: Path) -> str:
    """The whole HTML report, with the pictures the report lists (and the comparison's plot)
    read from under ``root``."""
    return render_html(view, collect_pictures(report, root), comparison_picture(report, root))
