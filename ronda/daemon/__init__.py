"""Wiring and command line: the only place that imports the stage packages."""
