"""Argument checks that fail early, naming the argument and what it accepts."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

from neurofeed.errors import InvalidArgumentError


def check_range(name: str, value, low: float, high: float, *, unit: str = "",
                low_inclusive: bool = True, high_inclusive: bool = True) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number in range.

    Parameters
    ----------
    name : str
        The argument's name as the user sees it (e.g. ``"--duration"``).
    value : float
        The value to check.
    low, high : float
        The accepted bounds.
    unit : str
        Unit appended to the bounds in the message (e.g. ``" s"``).
    low_inclusive, high_inclusive : bool
        Whether each bound itself is accepted.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"{name} must be a number from {low:g} to {high:g}{unit}, got {value!r}"
        ) from None
    too_low = number < low or (number == low and not low_inclusive)
    too_high = number > high or (number == high and not high_inclusive)
    if not math.isfinite(number) or too_low or too_high:
        lo = "[" if low_inclusive else "("
        hi = "]" if high_inclusive else ")"
        raise InvalidArgumentError(
            f"{name} must be in {lo}{low:g}, {high:g}{hi}{unit}, got {value!r}"
        )
    return number


def check_option(name: str, value, allowed: Iterable) -> object:
    """Return ``value`` if it is one of ``allowed``, else raise naming close matches."""
    allowed = list(allowed)
    if value in allowed:
        return value
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    shown = ", ".join(str(a) for a in allowed)
    raise InvalidArgumentError(f"{name}={value!r} is not accepted{hint}; accepted: {shown}")
