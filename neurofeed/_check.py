"""Argument checks that fail early, naming the argument and what it accepts."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from pathlib import Path

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


def check_writable_file(name: str, path, suffixes: tuple[str, ...] = ()) -> Path:
    """Return ``path`` as a Path, or raise unless a file can be written there.

    Checked before any work is done, because some writers (pyo's WAV recorder) fail silently.
    A missing folder is created; the file itself is left as it was.

    Parameters
    ----------
    name : str
        The argument's name as the user sees it (e.g. ``"--wav"``).
    path : str or Path
        The file to be written.
    suffixes : tuple of str
        Accepted lower-case suffixes (e.g. ``(".wav",)``); empty accepts any.
    """
    target, shown = Path(path), str(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise InvalidArgumentError(f"{name} {shown!r} is not accepted; accepted: a file name ending "
                                   f"in {' or '.join(suffixes)}")
    if target.is_dir():
        raise InvalidArgumentError(f"{name} {shown!r} is not accepted; accepted: a file name, not a folder")
    folder = next(p for p in (target.parent, *target.parent.parents) if p.exists())
    if not folder.is_dir():
        raise InvalidArgumentError(f"{name} {shown!r} cannot be written: {str(folder)!r} is a file, "
                                   "not a folder")
    existed = target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "ab"):
            pass
    except OSError as err:
        raise InvalidArgumentError(f"{name} {shown!r} cannot be written ({err.strerror or err}); "
                                   "accepted: a file in a folder you can write to") from None
    if not existed:
        target.unlink()
    return target
