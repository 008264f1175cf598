"""assistant-ci: CI/CD for Rasa assistants."""

__version__ = "0.1.0"
