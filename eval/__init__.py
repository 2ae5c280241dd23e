"""Measure citation accuracy: datasets, the runner, metrics and the report (`rag eval`)."""
