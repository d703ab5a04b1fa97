"""Ronda core: records, configuration, metrics, clock and errors.

Only ``ronda.daemon`` may import the stage packages (sensor, detectors, responders).
"""

__version__ = "0.1.0"
