"""Prefect tasks and a Block for dsops dataset versioning."""
