"""Protocol presets: TOML files validated on load, before anything starts.

A preset has the tables ``[phases]``, ``[feedback]``, ``[music]``, ``[entrainment]``,
``[limits]``, ``[musical_time]`` (optional: its defaults are :data:`MUSICAL_TIME_DEFAULTS`),
for ``kind = "iso"`` and ``kind = "playlist"``, ``[iso]``, and for ``kind = "playlist"``
(the client's own music, :mod:`neurofeed.protocol.playlist`), ``[playlist]`` (optional:
:data:`PLAYLIST_DEFAULTS`). Keys with a default (:data:`_DEFAULTS`) may be left out. The
built-in presets are the TOML files in ``neurofeed/protocol/builtin``, package data read
with :mod:`importlib.resources` (so an installed wheel has them); any file with the same
schema is a custom preset.

A preset file is untrusted input: its size and nesting are bounded before it is parsed
(see :mod:`neurofeed.protocol._toml`), and every value is range-checked.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, replace
from importlib.resources import files
from pathlib import Path
from statistics import NormalDist

from neurofeed._check import check_option
from neurofeed.errors import PresetError
from neurofeed.limits import MAX_SESSION_S
from neurofeed.protocol._toml import read_toml
from neurofeed.registry import FEEDBACK
from neurofeed.synth.palettes import DEFAULT_PALETTE, LOUDNESS_RANGE_LUFS, PALETTES, REFERENCE_LUFS

#: Kinds of preset: generative music driven by the feedback, an iso glide of it, or an iso
#: playlist of the client's own music.
KINDS = ("feedback", "iso", "playlist")
#: The tables each kind needs beside the common ones.
_KIND_TABLES = {"feedback": (), "iso": ("iso",), "playlist": ("iso", "playlist")}
#: The built-in presets' folder, inside the package.
BUILTIN = files("neurofeed.protocol") / "builtin"
#: The longest preset description, in characters (it is printed in one line by ``presets``).
MAX_TEXT_CHARS = 500


@dataclass(frozen=True)
class Phases:
    """Phase durations in seconds: baseline (neutral music, calibration), training, cool-down."""

    baseline_s: float
    training_s: float
    cooldown_s: float

    @property
    def total_s(self) -> float:
        """float: The whole session, in seconds."""
        return self.baseline_s + self.training_s + self.cooldown_s


@dataclass(frozen=True)
class Feedback:
    """Which feature drives the music, and how its baseline z-score becomes a score and reward.

    The z-score is in spreads of the baseline's smoothed values (see
    :mod:`neurofeed.loop.scale`): on an unchanged state the smoothed z has a standard
    deviation of about 1. ``score_z`` maps it onto a 0-1 score (clipped), linearly on the
    compressed scale ``ln(1 + |z|)`` (:func:`neurofeed.protocol.mapping.compress_z`). Reward
    is on above ``reward_z`` and off again below ``reward_z - hysteresis_z``.
    ``smoothing_s`` is the exponential time constant in seconds. ``direction = "down"``
    rewards a falling feature (its z-score is negated first).

    ``reward_rate`` is the share of the time the preset means to reward an unchanged state
    (replaying the calibration recording), give or take ``reward_rate_tolerance``; it is
    checked on load against ``reward_z`` and ``hysteresis_z`` (see :func:`expected_reward_rate`).
    """

    feature: str
    direction: str
    score_z: tuple[float, float]
    reward_z: float
    hysteresis_z: float
    smoothing_s: float
    reward_rate: float
    reward_rate_tolerance: float


@dataclass(frozen=True)
class MusicRanges:
    """Music at score 0 (first value) and score 1 (second value): tempo in BPM, valence
    in [-1, 1] (dark to bright mode), intensity and brightness 0-1; fixed key and volume 0-1.

    ``palette`` names the sound (:data:`neurofeed.synth.palettes.PALETTES`);
    ``loudness_lufs`` is the integrated loudness (ITU-R BS.1770, LUFS) of the music at
    intensity 0.5 and volume 1; ``volume`` scales it down from there.
    """

    key: str
    tempo_bpm: tuple[float, float]
    valence: tuple[float, float]
    intensity: tuple[float, float]
    brightness: tuple[float, float]
    volume: float
    palette: str
    loudness_lufs: float


@dataclass(frozen=True)
class EntrainmentSpec:
    """Entrainment during training: kind (off, binaural, isochronic), frequency in Hz, level 0-1."""

    kind: str
    frequency_hz: float
    level: float


@dataclass(frozen=True)
class Limits:
    """The most each music parameter may change per second."""

    tempo_bpm_per_s: float
    valence_per_s: float
    intensity_per_s: float
    brightness_per_s: float


@dataclass(frozen=True)
class MusicalTime:
    """How the music follows the feedback: in musical time, by its trend, not its noise.

    The reward follows the feature at ``[feedback].smoothing_s``; the music follows a
    slower exponential smoothing of the same z-score, ``smoothing_s`` seconds, through a
    dead band: its score moves only once the smoothed score has moved more than
    ``deadband`` (on the 0-1 score scale) away from it, so that noise around a level does
    not turn the tempo back and forth. A change of mode needs the slew-limited valence to
    lie ``hysteresis_modes`` of a mode's width (2/7 of valence) inside the next mode,
    to stay there for ``hold_bars`` bars, and at least ``dwell_bars`` bars to have passed
    since the last change; the mode then moves one step.
    """

    smoothing_s: float
    deadband: float
    dwell_bars: float
    hold_bars: float
    hysteresis_modes: float


#: The ``[musical_time]`` of a preset that leaves it out.
MUSICAL_TIME_DEFAULTS = MusicalTime(smoothing_s=30.0, deadband=0.08, dwell_bars=12.0, hold_bars=6.0,
                                    hysteresis_modes=0.3)


@dataclass(frozen=True)
class Iso:
    """The iso principle: start matched to the baseline, then glide to the target.

    ``arousal_ratio`` is the range of baseline beta/alpha power ratio (calm to tense)
    mapped onto ``MusicRanges.tempo_bpm``; ``valence_asymmetry`` the range of baseline
    frontal asymmetry (ln F4 - ln F3 alpha) mapped onto ``MusicRanges.valence``. The
    glide runs at full speed while the follow z-score is at least ``follow_z``, slows
    in between, and stops below ``pause_z``.
    """

    arousal_ratio: tuple[float, float]
    valence_asymmetry: tuple[float, float]
    target_tempo_bpm: float
    target_valence: float
    follow_z: float
    pause_z: float


@dataclass(frozen=True)
class Playlist:
    """How an iso playlist walks the client's own music (``kind = "playlist"``).

    The first track matches the baseline (``[iso]``'s arousal and valence); each next one
    moves at most ``tempo_step_bpm`` and ``valence_step`` toward ``[iso]``'s target, and
    only when the follow z-score was at or above ``[iso].follow_z`` for at least
    ``follow_share`` of the last ``follow_window_s`` seconds before the choice (or of the
    latter half of the current track, when that is longer; the first track's fade-in from
    the silent baseline does not count); otherwise the
    next track holds the tempo (within ``hold_tolerance_bpm``), or the same track plays again.
    Tracks are joined by beat-aligned equal-power crossfades of about ``crossfade_s``
    seconds (whole beats of the outgoing track); each plays at most ``max_track_s``
    seconds (0: to its end). ``tracks`` names the tracks the playlist may choose from (by
    track id, title or path in the library), for a fixed set such as one arm of a
    comparison; empty, every track of the client's and the clinic's libraries.
    """

    tempo_step_bpm: float
    valence_step: float
    follow_window_s: float
    follow_share: float
    hold_tolerance_bpm: float
    crossfade_s: float
    max_track_s: float
    tracks: tuple[str, ...]


#: The ``[playlist]`` of a playlist preset that leaves it (or some of its keys) out.
PLAYLIST_DEFAULTS = Playlist(tempo_step_bpm=6.0, valence_step=0.3, follow_window_s=10.0,
                             follow_share=0.5, hold_tolerance_bpm=2.0, crossfade_s=8.0, max_track_s=0.0,
                             tracks=())
#: The most tracks a preset may name.
MAX_PRESET_TRACKS = 1000


@dataclass(frozen=True)
class Preset:
    """A validated protocol preset. Load one with :func:`load_preset`."""

    name: str
    description: str
    kind: str
    phases: Phases
    feedback: Feedback
    music: MusicRanges
    entrainment: EntrainmentSpec
    limits: Limits
    musical_time: MusicalTime
    iso: Iso | None
    playlist: Playlist | None
    #: The file it was read from: a :class:`pathlib.Path`, or, for a built-in, a
    #: :class:`importlib.resources.abc.Traversable` (a Path in an ordinary install).
    path: Path


# table -> key -> (kind, spec). Kinds: "number" (low, high), "pair" (low, high), "span" (a pair
# with distinct ends: it is divided by), "choice" (values), "name" (a safe folder name: sessions
# are filed under it), "text" (None), "key" (validated by MusicState), "names" (a list of at most
# spec lines of text).
_SCHEMA = {
    "": {"name": ("name", None), "description": ("text", None), "kind": ("choice", KINDS)},
    "phases": {"baseline_s": ("number", (0, 3600)), "training_s": ("number", (1, MAX_SESSION_S)),
               "cooldown_s": ("number", (0, 3600))},
    "feedback": {"feature": ("choice", tuple(FEEDBACK)), "direction": ("choice", ("up", "down")),
                 "score_z": ("span", (-10, 10)), "reward_z": ("number", (-10, 10)),
                 "hysteresis_z": ("number", (0, 5)), "smoothing_s": ("number", (0, 60)),
                 "reward_rate": ("number", (0.01, 0.99)), "reward_rate_tolerance": ("number", (0, 0.5))},
    "music": {"key": ("key", None), "tempo_bpm": ("pair", (40, 120)), "valence": ("pair", (-1, 1)),
              "intensity": ("pair", (0, 1)), "brightness": ("pair", (0, 1)), "volume": ("number", (0, 1)),
              "palette": ("choice", tuple(PALETTES)),
              "loudness_lufs": ("number", LOUDNESS_RANGE_LUFS)},
    "entrainment": {"kind": ("choice", ("off", "binaural", "isochronic")),
                    "frequency_hz": ("number", (0.5, 40)), "level": ("number", (0, 1))},
    "limits": {"tempo_bpm_per_s": ("number", (0.01, 20)), "valence_per_s": ("number", (0.001, 2)),
               "intensity_per_s": ("number", (0.001, 2)), "brightness_per_s": ("number", (0.001, 2))},
    # The dwell is at least 8 bars: a mode change is never undone within 8 bars.
    "musical_time": {"smoothing_s": ("number", (0, 600)), "deadband": ("number", (0, 0.5)),
                     "dwell_bars": ("number", (8, 256)), "hold_bars": ("number", (0, 64)),
                     "hysteresis_modes": ("number", (0, 1))},
    "iso": {"arousal_ratio": ("span", (0.01, 100)), "valence_asymmetry": ("span", (-5, 5)),
            "target_tempo_bpm": ("number", (40, 120)), "target_valence": ("number", (-1, 1)),
            "follow_z": ("number", (-10, 10)), "pause_z": ("number", (-10, 10))},
    "playlist": {"tempo_step_bpm": ("number", (0.5, 30)), "valence_step": ("number", (0.05, 2)),
                 "follow_window_s": ("number", (1, 120)), "follow_share": ("number", (0, 1)),
                 "hold_tolerance_bpm": ("number", (0, 10)), "crossfade_s": ("number", (1, 30)),
                 "max_track_s": ("number", (0, MAX_SESSION_S)), "tracks": ("names", MAX_PRESET_TRACKS)},
}
_SECTIONS = {"phases": Phases, "feedback": Feedback, "music": MusicRanges,
             "entrainment": EntrainmentSpec, "limits": Limits, "musical_time": MusicalTime, "iso": Iso,
             "playlist": Playlist}
#: Values of keys a preset may leave out, by table; a table whose every key has one may be
#: left out whole.
_DEFAULTS = {"music": {"palette": DEFAULT_PALETTE, "loudness_lufs": REFERENCE_LUFS},
             "musical_time": {f.name: getattr(MUSICAL_TIME_DEFAULTS, f.name)
                              for f in fields(MusicalTime)},
             "playlist": {f.name: getattr(PLAYLIST_DEFAULTS, f.name) for f in fields(Playlist)}}
#: The tables only some kinds have.
_OPTIONAL_TABLES = ("iso", "playlist")


def list_presets() -> dict[str, Path]:
    """Return the built-in presets as ``{name: file}``, sorted by name."""
    found = (p for p in BUILTIN.iterdir() if p.name.endswith(".toml"))
    return {p.name.removesuffix(".toml"): p for p in sorted(found, key=lambda p: p.name)}


def generative_presets() -> list[str]:
    """The built-in presets whose music the engine composes (every kind but ``playlist``)."""
    return [name for name in list_presets() if load_preset(name).playlist is None]


def resolve_preset(name_or_path: str | Path) -> Path:
    """Return the file of a built-in preset name, or of a path to a TOML file."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise PresetError(f"preset file {text!r} {'is not a file' if path.exists() else 'not found'}")
        return path
    presets = list_presets()
    if text in presets:
        return presets[text]
    close = difflib.get_close_matches(text, presets, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise PresetError(f"unknown preset {text!r}; {hint}accepted: {', '.join(presets)} or a .toml path")


def load_preset(name_or_path: str | Path) -> Preset:
    """Load and validate a preset by built-in name or TOML path.

    Raises
    ------
    PresetError
        Naming the file, the table and key, and the accepted values or range.
    """
    path = resolve_preset(name_or_path)
    document = read_toml(path, str(path))
    where = path.name
    top = {k: v for k, v in document.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in document.items() if isinstance(v, dict)}
    values = {"": _validate(where, "", top)}
    kind = values[""]["kind"]
    required = [t for t in _SECTIONS if t not in _OPTIONAL_TABLES or t in _KIND_TABLES[kind]]
    for table in tables:
        if table not in required:
            raise PresetError(f"{where}: unknown table [{_shown(table, str)}] for kind {kind!r}; "
                              f"accepted: {', '.join(f'[{t}]' for t in required)}")
    for table in required:
        if table not in tables and set(_DEFAULTS.get(table, ())) != set(_SCHEMA[table]):
            raise PresetError(f"{where}: missing table [{table}]")
        values[table] = _validate(where, table, tables.get(table, {}))
    sections = {t: _SECTIONS[t](**values[t]) for t in required}
    if sections["phases"].total_s > MAX_SESSION_S:
        raise PresetError(f"{where}: [phases] add up to {sections['phases'].total_s:g} s; accepted: "
                          f"a session up to {MAX_SESSION_S:g} s ({MAX_SESSION_S / 3600:g} h)")
    preset = Preset(**values[""], iso=sections.pop("iso", None), playlist=sections.pop("playlist", None),
                    path=path, **sections)
    _check_music_key(where, preset.music)
    _check_playlist(where, preset.playlist)
    _check_reward_rate(where, preset.feedback)
    return preset


def expected_reward_rate(reward_z: float, hysteresis_z: float) -> float:
    """The share of the time an unchanged state is rewarded, for a Gaussian smoothed z.

    The smoothed z of an unchanged state has a standard deviation of 1 (see
    :mod:`neurofeed.loop.scale`); reward switches on above ``reward_z`` and off below
    ``reward_z - hysteresis_z``, so it is on somewhere between ``P(z > reward_z)`` and
    ``P(z > reward_z - hysteresis_z)``: the middle threshold is taken. Measured on the
    shared real recordings, 0.6 and 0.2 (31% here) gave 21-37%.
    """
    return 1.0 - NormalDist().cdf(reward_z - hysteresis_z / 2)


def _check_reward_rate(where: str, feedback: Feedback) -> None:
    rate, tolerance = feedback.reward_rate, feedback.reward_rate_tolerance
    expected = expected_reward_rate(feedback.reward_z, feedback.hysteresis_z)
    if abs(expected - rate) > tolerance:
        # reward_z giving exactly ``rate``: the inverse of expected_reward_rate.
        needed = NormalDist().inv_cdf(1 - rate) + feedback.hysteresis_z / 2
        raise PresetError(f"{where}: [feedback].reward_z = {feedback.reward_z:g} rewards an unchanged "
                          f"state about {expected:.0%} of the time, not reward_rate = {rate:g} ± "
                          f"{tolerance:g}; accepted: reward_z near {needed:.2f} (or another "
                          "reward_rate)")


def _validate(where: str, table: str, given: dict) -> dict:
    schema = _SCHEMA[table]
    label = f"[{table}]." if table else ""
    for key in given:
        if key not in schema:
            close = difflib.get_close_matches(key, schema, n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise PresetError(f"{where}: unknown key {label}{_shown(key, str)}{hint}; "
                              f"accepted: {', '.join(schema)}")
    out = {}
    defaults = _DEFAULTS.get(table, {})
    for key, (kind, spec) in schema.items():
        if key in given:
            out[key] = _value(f"{where}: {label}{key}", given[key], kind, spec)
        elif key in defaults:
            out[key] = defaults[key]
        else:
            raise PresetError(f"{where}: missing key {label}{key}")
    return out


def _value(name: str, value, kind: str, spec):
    def number(v, low, high):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
            raise PresetError(f"{name} = {_shown(v)} is out of range; accepted: a number from {low:g} "
                              f"to {high:g}")
        return float(v)

    if kind == "number":
        return number(value, *spec)
    if kind in ("pair", "span"):
        if not isinstance(value, list) or len(value) != 2:
            raise PresetError(f"{name} = {_shown(value)}; accepted: two numbers [first, second] "
                              f"from {spec[0]:g} to {spec[1]:g}")
        pair = (number(value[0], *spec), number(value[1], *spec))
        if kind == "span" and pair[0] == pair[1]:
            raise PresetError(f"{name} = {value!r} maps nothing; accepted: two different numbers "
                              f"from {spec[0]:g} to {spec[1]:g}")
        return pair
    if kind == "names":
        if not isinstance(value, list) or len(value) > spec:
            raise PresetError(f"{name} = {_shown(value)}; accepted: a list of up to {spec} names")
        return tuple(_value(f"{name}[{i}]", item, "text", None) for i, item in enumerate(value))
    if kind == "name":
        from neurofeed.home import SAFE_NAME

        if not isinstance(value, str) or not SAFE_NAME.match(value):
            raise PresetError(f"{name} = {_shown(value)}; accepted: 1-64 letters, digits, '-' or '_', "
                              "starting with a letter or digit (sessions are filed under it)")
        return value
    if kind == "choice":
        if value not in spec:
            raise PresetError(f"{name} = {_shown(value)} is not accepted; accepted: {', '.join(spec)}")
        return value
    # Text is printed to terminals and reports: no control characters (escape sequences).
    if not isinstance(value, str) or not value.strip() or not value.isprintable() \
            or len(value) > MAX_TEXT_CHARS:
        raise PresetError(f"{name} = {_shown(value)}; accepted: one line of printable text, 1 to "
                          f"{MAX_TEXT_CHARS} characters")
    return value


def _shown(value, show=repr) -> str:
    """``show(value)``, cut to 60 characters: a hostile value must not flood the one-line error."""
    text = show(value)
    return text if len(text) <= 60 else f"{text[:50]}... ({len(text)} characters)"


def _check_playlist(where: str, playlist: Playlist | None) -> None:
    if playlist is not None and 0 < playlist.max_track_s < 2 * playlist.crossfade_s:
        raise PresetError(f"{where}: [playlist].max_track_s = {playlist.max_track_s:g} leaves no time "
                          f"between crossfades of {playlist.crossfade_s:g} s; accepted: 0 (each track "
                          f"to its end) or at least {2 * playlist.crossfade_s:g} s (twice crossfade_s)")


def _check_music_key(where: str, music: MusicRanges) -> None:
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.synth.state import MusicState

    try:
        MusicState(key=music.key)
    except InvalidArgumentError as err:
        raise PresetError(f"{where}: [music].key: {err}") from None


def preset_fields(preset: Preset) -> dict:
    """Return the preset as plain data (for session.json and ``neurofeed presets show``)."""
    out = {"name": preset.name, "description": preset.description, "kind": preset.kind}
    for table in _SECTIONS:
        section = getattr(preset, table)
        if section is not None:
            out[table] = {f.name: getattr(section, f.name) for f in fields(section)}
    return out


def fit_phases(preset: Preset, duration_s: float | None = None,
               baseline_s: float | None = None) -> Preset:
    """Return ``preset`` with its phases fitted to a session length.

    Parameters
    ----------
    preset : Preset
        The preset.
    duration_s : float or None
        The whole session, in seconds; None keeps the preset's total.
    baseline_s : float or None
        The baseline phase, in seconds (0 skips it, e.g. with a stored baseline); None
        keeps the preset's share of the session.

    Returns
    -------
    preset : Preset
        Training and cool-down share what the baseline leaves in the preset's proportions.
    """
    phases = preset.phases
    total = phases.total_s if duration_s is None else float(duration_s)
    if not 0 < total <= MAX_SESSION_S:  # also refuses NaN
        raise PresetError(f"--duration {total:g} s is not accepted; accepted: over 0 and up to "
                          f"{MAX_SESSION_S:g} s")
    if baseline_s is None:
        baseline_s = phases.baseline_s * total / phases.total_s
    if not 0 <= baseline_s <= total:
        raise PresetError(f"--baseline {baseline_s:g} s must be from 0 to the session's {total:g} s")
    rest = total - baseline_s
    share = phases.training_s / (phases.training_s + phases.cooldown_s)
    return replace(preset, phases=Phases(baseline_s, rest * share, rest * (1 - share)))


def with_palette(preset: Preset, palette: str) -> Preset:
    """Return ``preset`` played on another palette (``--palette``; session.json records it).

    Raises
    ------
    InvalidArgumentError
        Naming ``--palette`` and the accepted palettes.
    """
    check_option("--palette", palette, tuple(PALETTES))
    return replace(preset, music=replace(preset.music, palette=palette))
