"""`ci-toolkit scaffold`: render workflows, Dockerfile and chart values into a project."""
