"""Shared test helpers (anvil node, fixtures); imported as ``tests.support``."""
