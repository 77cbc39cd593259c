"""Helpers that more than one test module uses; fixtures live in the conftest.py files."""
