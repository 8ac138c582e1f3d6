"""Voltage units as EEG files and streams spell them, and their factors to volts.

The engine works in volts, as MNE does. BrainFlow boards, OpenBCI text and LSL outlets
carry microvolts; XDF and LSL channel descriptions name their unit in many spellings.
"""

from __future__ import annotations

#: BrainFlow boards, OpenBCI GUI text and LSL's EEG convention are in microvolts.
MICROVOLTS_TO_VOLTS = 1e-6
VOLTS_TO_MICROVOLTS = 1e6

#: Volts per unit for the unit names found in LSL and XDF channel descriptions (lower case).
#: Both the micro sign (U+00B5) and the Greek mu (U+03BC) occur in the wild.
VOLTS_PER_UNIT = {
    "v": 1.0, "volt": 1.0, "volts": 1.0,
    "mv": 1e-3, "millivolt": 1e-3, "millivolts": 1e-3,
    "uv": MICROVOLTS_TO_VOLTS, "\u00b5v": MICROVOLTS_TO_VOLTS, "\u03bcv": MICROVOLTS_TO_VOLTS,
    "microvolt": MICROVOLTS_TO_VOLTS, "microvolts": MICROVOLTS_TO_VOLTS,
    # pylsl's set_channel_units writes "none" (or exponent 0) for unitless channels.
    "none": 1.0,
}
#: LSL's and XDF's convention for EEG is microvolts, so a channel without a unit is in them.
DEFAULT_VOLTS_PER_UNIT = MICROVOLTS_TO_VOLTS


def is_known_unit(unit: str) -> bool:
    """Return whether :func:`volts_per_unit` knows ``unit`` (an empty unit counts as known)."""
    key = unit.strip().lower()
    return not key or key in VOLTS_PER_UNIT or key.lstrip("-").isdigit()


def volts_per_unit(unit: str) -> float:
    """Return the factor from a channel's unit to volts.

    Parameters
    ----------
    unit : str
        The ``unit`` of a channel in an LSL or XDF stream description: a name such as
        ``"microvolts"``, ``"µV"``, ``"uV"``, ``"mV"``, ``"volts"``, or a power-of-ten
        exponent such as ``"-6"`` (pylsl's numeric form).

    Returns
    -------
    factor : float
        Volts per unit. An empty or unknown unit gives :data:`DEFAULT_VOLTS_PER_UNIT`
        (microvolts, the LSL convention for EEG).
    """
    key = unit.strip().lower()
    if key.lstrip("-").isdigit():
        return 10.0 ** int(key)
    return VOLTS_PER_UNIT.get(key, DEFAULT_VOLTS_PER_UNIT)
