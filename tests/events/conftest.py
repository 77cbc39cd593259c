"""Fixtures of the engine's unit tests: the recording ``broker`` is in tests/conftest.py."""
