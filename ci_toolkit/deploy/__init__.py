"""Ship the assistant: model to Rasa X or a Rasa server, helm upgrade, smoke test, rollback."""
