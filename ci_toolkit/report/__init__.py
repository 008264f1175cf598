"""report.json: the typed model and schema, building and loading it, baselines, gates, deltas."""
