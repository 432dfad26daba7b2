"""Fixtures shared by every test tier."""

pytest_plugins = ["tests.s3_server"]
