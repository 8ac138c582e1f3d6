"""Sound palettes: how the composer's voices sound, chosen per preset or per session.

The composer decides what is played (pad voicings, bass, melody and pulse notes); a palette
only decides how each voice sounds, how much of it is heard, how much reverb and texture
surround it, and its make-up gain. Every palette goes through the same master (ceiling and
true-peak limiter) and is as deterministic as the others.

Each palette's ``makeup_db`` is measured, not chosen: with it, the music at intensity 0.5,
volume 1.0 and ``loudness_lufs=-20`` (the engine's defaults otherwise) has an integrated
loudness (ITU-R BS.1770) of -20 LUFS. ``tests/test_levels.py`` measures it again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from neurofeed._check import check_option, check_range
from neurofeed.errors import InvalidArgumentError
from neurofeed.synth.instruments import Shape

#: The voices the composer writes, in mixing order.
VOICES: tuple[str, ...] = ("pad", "melody", "bass", "pulse")
#: The sounds a voice can have: ``"saw"`` a band-limited saw; ``"epiano"`` a soft electric
#: piano (phase modulation whose index follows the envelope and the brightness);
#: ``"triangle"`` a soft triangle, rounder as ``sharp`` falls (its high harmonics, though
#: faint, are what makes a mallet's onset heard through the pad); ``"wave"`` a static mix of
#: harmonic partials; ``"bell"`` harmonic partials whose upper ones fade
#: faster than the fundamental (bells and bowls, kept harmonic so that no partial falls
#: between the music's notes, where the entrainment carriers are).
SOUND_KINDS: tuple[str, ...] = ("saw", "epiano", "triangle", "wave", "bell")


@dataclass(frozen=True)
class Sound:
    """How one of the composer's voices sounds.

    Attributes
    ----------
    kind : str
        One of :data:`SOUND_KINDS`.
    count : int
        Voices in the pool: how many notes may sound at once, releases included.
    shape : Shape
        The amplitude envelope.
    gain : float
        Peak amplitude of a note at velocity 127, before the music bus.
    pan : float
        Stereo position, 0 (left) to 1 (right).
    spread : float
        Stereo width of the pool's voices, 0-1.
    partials : tuple of float
        Amplitudes of harmonics 1, 2, ... (``"wave"``; for ``"bell"`` the first two are the
        body, the rest fade with the square of the envelope).
    sharp : float
        ``"triangle"`` only: 0 a sine-like rounded triangle, 1 a straight one.
    detune_hz : float
        ``"wave"`` only: two oscillators this far apart (Hz) instead of one, a slow chorus.
    filtered : bool
        Through a low-pass whose cutoff follows the brightness.
    """

    kind: str
    count: int
    shape: Shape
    gain: float
    pan: float = 0.5
    spread: float = 0.2
    partials: tuple[float, ...] = (1.0,)
    sharp: float = 0.5
    detune_hz: float = 0.0
    filtered: bool = False

    def __post_init__(self):
        check_option("kind", self.kind, SOUND_KINDS)
        if not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise InvalidArgumentError(f"count must be a whole number of voices, at least 1, "
                                       f"got {self.count!r}")
        if not isinstance(self.shape, Shape):
            raise InvalidArgumentError(f"shape must be a Shape, got {self.shape!r}")
        check_range("gain", self.gain, 0.0, math.inf)
        check_range("pan", self.pan, 0.0, 1.0)
        check_range("spread", self.spread, 0.0, 1.0)
        if not self.partials or max(self.partials) <= 0:
            raise InvalidArgumentError(f"partials must hold at least one amplitude above 0, "
                                       f"got {self.partials!r}")
        for amplitude in self.partials:
            check_range("partials", amplitude, 0.0, math.inf)
        check_range("sharp", self.sharp, 0.0, 1.0)
        check_range("detune_hz", self.detune_hz, 0.0, math.inf, unit=" Hz")


@dataclass(frozen=True)
class Palette:
    """A set of sounds for the composer's voices.

    Attributes
    ----------
    description : str
        One line for ``--palette`` help.
    sounds : dict of str to Sound
        The voices this palette plays (a voice left out is silent) and how they sound.
    cutoff_hz : tuple of float
        Low-pass cutoff of the filtered sounds at brightness 0 and at 1 (Hz); exponential between.
    reverb_wet : float
        Level of the hall (a unit-energy impulse response) against the dry mix.
    texture : float
        Level of the nature-like noise texture (wind), 0 for none; kept out of the
        entrainment carriers' band.
    makeup_db : float
        Measured gain (dB) that brings this palette to the loudness target.
    sparse_melody : bool
        Play only the melody notes on strong beats
        (:class:`~neurofeed.synth.sequencer.Sequencer`'s ``sparse_melody``).
    """

    description: str
    sounds: dict[str, Sound] = field(hash=False)
    cutoff_hz: tuple[float, float]
    reverb_wet: float
    texture: float
    makeup_db: float
    sparse_melody: bool = False

    def __post_init__(self):
        for voice, sound in self.sounds.items():
            check_option("sounds", voice, VOICES)
            if not isinstance(sound, Sound):
                raise InvalidArgumentError(f"sounds[{voice!r}] must be a Sound, got {sound!r}")
        if not self.sounds:
            raise InvalidArgumentError(f"sounds must name at least one of {', '.join(VOICES)}")
        low, high = self.cutoff_hz
        check_range("cutoff_hz[0]", low, 0.0, math.inf, unit=" Hz", low_inclusive=False)
        check_range("cutoff_hz[1]", high, low, math.inf, unit=" Hz")
        check_range("reverb_wet", self.reverb_wet, 0.0, math.inf)
        check_range("texture", self.texture, 0.0, math.inf)
        check_range("makeup_db", self.makeup_db, -60.0, 60.0, unit=" dB")


PALETTES: dict[str, Palette] = {
    "warm": Palette(
        description="warm keys and strings: a filtered string pad, a soft electric piano, round bass "
                    "and a felt-mallet pulse",
        sounds={
            "pad": Sound("saw", 12, Shape(attack_s=0.6, sustain=1.0, release_s=2.2), 0.35, 0.5, 0.6,
                         filtered=True),
            "melody": Sound("epiano", 8, Shape(attack_s=0.006, sustain=0.35, release_s=1.0), 0.55, 0.58),
            "bass": Sound("triangle", 3, Shape(attack_s=0.02, sustain=0.8, release_s=0.4), 0.40, sharp=0.2),
            "pulse": Sound("triangle", 2, Shape(attack_s=0.003, sustain=0.0, release_s=0.15), 1.3, 0.44,
                           sharp=0.45),
        },
        cutoff_hz=(700.0, 10000.0), reverb_wet=0.3, texture=0.0, makeup_db=-3.37),
    "ambient": Palette(
        description="ambient: slow, wide pads with soft bells and a sustained bass, no pulse",
        sounds={
            "pad": Sound("wave", 12, Shape(attack_s=1.2, sustain=1.0, release_s=3.5), 0.3, 0.5, 0.8,
                         partials=(1.0, 0.45, 0.2, 0.1, 0.05), detune_hz=1.2, filtered=True),
            "melody": Sound("bell", 8, Shape(attack_s=0.05, sustain=0.4, release_s=3.5), 0.18, 0.6,
                            partials=(1.0, 0.25, 0.5, 0.3, 0.2, 0.2, 0.0, 0.12)),
            "bass": Sound("wave", 3, Shape(attack_s=0.4, sustain=0.9, release_s=1.5), 0.4,
                          partials=(1.0, 0.1)),
        },
        cutoff_hz=(500.0, 6000.0), reverb_wet=0.4, texture=0.0, makeup_db=-2.16,
        sparse_melody=True),
    "drone": Palette(
        description="drone: a sparse, slowly breathing drone with singing bowls and soft wind",
        sounds={
            "pad": Sound("wave", 16, Shape(attack_s=4.0, sustain=1.0, release_s=5.0), 0.3, 0.5, 0.7,
                         partials=(1.0, 0.5, 0.3, 0.2, 0.1, 0.06), detune_hz=0.6, filtered=True),
            "melody": Sound("bell", 6, Shape(attack_s=0.08, sustain=0.5, release_s=3.5), 0.5, 0.45,
                            partials=(1.0, 0.3, 0.4, 0.0, 0.25, 0.15)),
            "bass": Sound("wave", 4, Shape(attack_s=3.0, sustain=1.0, release_s=4.0), 0.45,
                          partials=(1.0, 0.25, 0.1)),
        },
        cutoff_hz=(400.0, 4000.0), reverb_wet=0.4, texture=1.0, makeup_db=-5.22,
        sparse_melody=True),
}
#: The palette used when none is chosen.
DEFAULT_PALETTE = "warm"
#: The loudness (LUFS, BS.1770 integrated) at which the palettes' make-up gains were measured,
#: and the default target.
REFERENCE_LUFS = -20.0
#: Accepted loudness targets (LUFS): from quiet background to the loudest streaming reference.
LOUDNESS_RANGE_LUFS = (-30.0, -14.0)
