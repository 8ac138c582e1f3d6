"""The CLI's shared vocabulary: durations, parsed one way by every subcommand.

docs/cli.md describes the grammar; every subcommand parses its options through here.
"""

from __future__ import annotations

import re

from neurofeed.errors import InvalidArgumentError
from neurofeed.limits import MAX_SESSION_S

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(h|m|min|s)?\s*$")
_UNIT_S = {"h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, None: 1.0}


def parse_duration(text, name: str = "--duration", max_s: float = MAX_SESSION_S, *,
                   allow_zero: bool = False) -> float:
    """Seconds from ``90``, ``90s``, ``20m``, ``20min`` or ``1.5h``.

    Parameters
    ----------
    text : str or float
        The option's value; a bare number is seconds.
    name : str
        The option, for the error message.
    max_s : float
        The longest accepted duration, in seconds.
    allow_zero : bool
        Accept 0 (an offset such as ``--start``, rather than a length).

    Returns
    -------
    seconds : float
        Over 0 (or at least 0 with ``allow_zero``) and at most ``max_s``.
    """
    match = _DURATION.match(str(text))
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)] if match else -1.0
    if not (0 <= seconds if allow_zero else 0 < seconds) or seconds > max_s:
        low = "from 0" if allow_zero else "over 0 and"
        raise InvalidArgumentError(f"{name} {text!r} is not accepted; accepted: a time {low} "
                                   f"up to {_format_duration(max_s)}, such as 90, 90s, 20m or 1.5h")
    return seconds


def _format_duration(seconds: float) -> str:
    """``14400`` to ``4h``, ``90`` to ``90s``: the shortest exact spelling."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"

