"""Configuration comparison: rasa's own comparison of two or more model configurations
(`ci-toolkit compare`), read into a comparison section, a Markdown fragment and a plot.
docs/config-comparison.md describes it."""
