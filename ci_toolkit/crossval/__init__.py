"""Cross-validation spread over machines: a split that is the same everywhere (split.py),
one fold run with real rasa (shard.py), and the shards pooled into one section (merge.py)."""
