"""report.json: building it, reading baselines, metrics, gates and deltas."""
