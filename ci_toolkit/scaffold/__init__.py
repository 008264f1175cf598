"""`ci-toolkit scaffold`: check the options, then render workflows, Dockerfile and chart values."""
