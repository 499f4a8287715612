"""A CLI module whose third-party dependency is not installed (for the mount fallback test)."""

import not_installed_dependency_for_tests  # type: ignore[import-not-found]  # noqa: F401

app = None
