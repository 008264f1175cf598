"""Draw a comparison plot: run by rasa's own interpreter (which has matplotlib), never by
the toolkit's. It imports the standard library and matplotlib, nothing of ci_toolkit.

stdin: {"out": PNG path, "title": str, "x_label": str,
        "panels": [{"title": str, "y_label": str,
                    "series": [{"label": str, "color": str, "x": [...], "mean": [...],
                                "std": [...]}]}]}
Each series is a line of means over x with a band of ± one standard deviation.
"""
from __future__ import annotations

import json
import sys
from typing import Any


def draw(spec: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a CI runner
    import matplotlib.pyplot as plt

    panels = spec["panels"]
    figure, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.8),
                                squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for series in panel["series"]:
            x, mean, std = series["x"], series["mean"], series["std"]
            color = series.get("color")
            ax.plot(x, mean, marker="o", label=series["label"], color=color)
            ax.fill_between(x, [m - s for m, s in zip(mean, std)],
                            [m + s for m, s in zip(mean, std)], alpha=0.2, color=color)
        ax.set_title(panel["title"])
        ax.set_xlabel(spec["x_label"])
        ax.set_ylabel(panel["y_label"])
        ax.set_ylim(0, 1.05)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
    figure.suptitle(spec["title"])
    figure.tight_layout()
    figure.savefig(spec["out"], format="png", dpi=100)


if __name__ == "__main__":
    draw(json.load(sys.stdin))
