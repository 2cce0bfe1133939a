"""The suite's own settings (pyproject.toml): every test has a time limit, and the docstrings' examples in
geodata and loaders are tests too."""

from __future__ import annotations


def test_every_test_has_a_time_limit(request):
    """pytest-timeout, 300 s a test unless it says more (a hung server or loader stopped the whole run)."""
    assert request.config.pluginmanager.hasplugin("timeout")
    assert request.config.getini("timeout") == "300"


def test_the_docstrings_examples_are_collected(request):
    """--doctest-modules over geodata and loaders (doctests were never collected)."""
    assert request.config.getoption("doctestmodules") is True
    assert {"tests", "geodata", "loaders"} <= set(request.config.getini("testpaths"))
