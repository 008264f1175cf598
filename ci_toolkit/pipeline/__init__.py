"""The pipeline: settings, the project's files, the stages, their cache and scheduling."""
