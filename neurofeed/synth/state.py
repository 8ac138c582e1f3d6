"""MusicState: what the music should be now, as plain data.

The protocol produces a MusicState at every hop, the engine plays it, and the recorder
stores :meth:`MusicState.to_dict`. Everything here is pure data and arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from neurofeed._check import check_option, check_range
from neurofeed.errors import InvalidArgumentError
from neurofeed.synth.theory import MODES, mode_from_valence, normalise_key, normalise_mode

__all__ = ["ENTRAINMENT_KINDS", "MODES", "RANGES", "Entrainment", "MusicState", "mode_from_valence"]

#: Kinds of brainwave entrainment the engine can add to the music.
ENTRAINMENT_KINDS: tuple[str, ...] = ("off", "binaural", "isochronic")

#: Accepted range and unit of every numeric field, by its flat name (see :meth:`MusicState.to_dict`).
RANGES: dict[str, tuple[float, float, str]] = {
    "tempo_bpm": (40.0, 120.0, " BPM"),
    "intensity": (0.0, 1.0, ""),
    "brightness": (0.0, 1.0, ""),
    "volume": (0.0, 1.0, ""),
    "entrainment_hz": (0.5, 40.0, " Hz"),
    "entrainment_level": (0.0, 1.0, ""),
}

#: Entrainment attributes whose flat name is not ``entrainment_`` + the attribute.
_FLAT_ENTRAINMENT = {"frequency_hz": "hz"}
#: The flat name of the entrainment frequency in score tables written before it became
#: ``entrainment_hz``, as ``music.tsv`` and the LSL stream name it.
OLD_ENTRAINMENT_HZ = "entrainment_frequency_hz"


def _finite(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise InvalidArgumentError(f"{name} must be a finite number, got {value!r}")
    return number


def _clamp(name: str, value: float) -> float:
    low, high, _ = RANGES[name]
    return min(high, max(low, value))


def _check(name: str, value: float) -> float:
    low, high, unit = RANGES[name]
    return check_range(name, value, low, high, unit=unit)


@dataclass(frozen=True)
class Entrainment:
    """Brainwave entrainment mixed under the music.

    Attributes
    ----------
    kind : str
        ``"off"``; ``"binaural"``: left and right carriers ``frequency_hz`` apart (for
        headphones); ``"isochronic"``: one carrier gated on and off ``frequency_hz`` times a second.
    frequency_hz : float
        Beat or pulse rate in Hz, 0.5-40 (theta is 4-8 Hz, alpha 8-13 Hz).
    level : float
        Loudness relative to the music, 0-1: 1.0 is as loud as the music at intensity 0.5.
    """

    kind: str = "off"
    frequency_hz: float = 6.0
    level: float = 0.3

    def __post_init__(self):
        object.__setattr__(self, "kind", check_option("entrainment kind", str(self.kind).lower(),
                                                      ENTRAINMENT_KINDS))
        object.__setattr__(self, "frequency_hz", _finite("entrainment frequency_hz", self.frequency_hz))
        object.__setattr__(self, "level", _finite("entrainment level", self.level))

    @classmethod
    def parse(cls, text: str, level: float = 0.3, *, name: str = "entrainment") -> Entrainment:
        """Parse ``"off"``, ``"binaural:6"`` or ``"isochronic:10.5"`` (kind, then Hz).

        ``name`` is what errors call the text (e.g. ``"--entrainment"``).
        """
        kind, _, freq = str(text).strip().lower().partition(":")
        if kind == "off" and not freq:
            return cls("off", level=level)
        low, high, unit = RANGES["entrainment_hz"]
        accepted = "accepted: off, binaural:HZ, isochronic:HZ"
        if kind not in ENTRAINMENT_KINDS[1:] or not freq:
            raise InvalidArgumentError(f"{name} {text!r} is not accepted; {accepted} "
                                       f"(HZ from {low:g} to {high:g})")
        try:
            hz = _check("entrainment_hz", freq)
        except InvalidArgumentError:
            raise InvalidArgumentError(f"{name} {text!r}: {freq.strip()!r} is not a frequency from "
                                       f"{low:g} to {high:g}{unit}; {accepted}") from None
        return cls(kind, hz, level)


@dataclass(frozen=True)
class MusicState:
    """The music's parameters at one moment.

    Attributes
    ----------
    tempo_bpm : float
        Beats per minute, 40-120.
    key : str
        The tonic, one of :data:`neurofeed.synth.theory.KEYS` (other spellings such as ``"C#"``
        are normalised).
    mode : str
        One of :data:`MODES`, lower case, ordered from bright to dark.
    intensity : float
        Loudness and note density, 0-1.
    brightness : float
        Timbre: filter cutoff and harmonic content, 0-1.
    entrainment : Entrainment
        Binaural beats or isochronic tones under the music, or off.
    volume : float
        Master volume, 0-1 (linear gain before the limiter).
    """

    tempo_bpm: float = 64.0
    key: str = "C"
    mode: str = "dorian"
    intensity: float = 0.5
    brightness: float = 0.5
    entrainment: Entrainment = Entrainment()
    volume: float = 0.8

    def __post_init__(self):
        object.__setattr__(self, "key", normalise_key(self.key))
        object.__setattr__(self, "mode", normalise_mode(self.mode))
        if not isinstance(self.entrainment, Entrainment):
            raise InvalidArgumentError(f"entrainment must be an Entrainment, got {self.entrainment!r}")
        for name in ("tempo_bpm", "intensity", "brightness", "volume"):
            object.__setattr__(self, name, _finite(name, getattr(self, name)))

    @classmethod
    def neutral(cls) -> MusicState:
        """A calm starting point: 64 BPM, C Dorian (valence 0), medium intensity and brightness."""
        return cls(mode=mode_from_valence(0.0))

    def clamped(self) -> MusicState:
        """A copy with every numeric field clamped into :data:`RANGES`."""
        flat = {name: _clamp(name, value) if name in RANGES else value
                for name, value in self.to_dict().items()}
        return MusicState.from_dict(flat)

    def validated(self) -> MusicState:
        """Return self, or raise :class:`InvalidArgumentError` naming the first field out of range."""
        for name, value in self.to_dict().items():
            if name in RANGES:
                _check(name, value)
        return self

    def replace(self, **changes) -> MusicState:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float | str]:
        """Flat dict for recording, named as ``music.tsv`` names the fields.

        The entrainment becomes ``entrainment_kind``, ``entrainment_hz`` and
        ``entrainment_level``; the other fields keep their names.
        """
        flat = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "entrainment"}
        flat.update({f"entrainment_{_FLAT_ENTRAINMENT.get(k, k)}": v
                     for k, v in asdict(self.entrainment).items()})
        return flat

    @classmethod
    def from_dict(cls, flat: dict) -> MusicState:
        """Inverse of :meth:`to_dict`.

        Also reads ``entrainment_frequency_hz``, the name score tables written before
        ``entrainment_hz`` gave the frequency.
        """
        flat = dict(flat)
        hz = flat.pop("entrainment_hz") if "entrainment_hz" in flat else \
            flat.pop(OLD_ENTRAINMENT_HZ)
        ent = Entrainment(flat.pop("entrainment_kind"), hz, flat.pop("entrainment_level"))
        return cls(entrainment=ent, **flat)
