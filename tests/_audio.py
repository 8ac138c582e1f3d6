"""Moved to :mod:`musickit`; kept only until tests/test_cli_play.py imports peak_hz from there."""

from musickit import peak_hz

__all__ = ["peak_hz"]
