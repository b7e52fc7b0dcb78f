"""Repository-root conftest: makes ``tests.support`` importable and registers shared fixtures."""

pytest_plugins = ["tests.support.fixtures"]
