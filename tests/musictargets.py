"""Issue 12's targets for the music, written once, and the judgement of one render against them.

The suite (tests/test_music_targets.py, short renders) and ``make verify``
(scripts/music_verify.py, 20-minute renders of every preset and palette) both judge renders
here, with the measures of :mod:`musickit`: loudness, peaks and tempo from the audio, form
and tonality from the score the engine wrote beside it (which test_synth_audio checks
against the audio).
"""

from __future__ import annotations

from dataclasses import dataclass

import musickit as kit
import numpy as np

from neurofeed.synth.entrainment import carrier_hz
from neurofeed.synth.theory import MODES

# -- the targets ---------------------------------------------------------------------------

#: Momentary-loudness rises of more than RISE_LU within RISE_WITHIN_S: at most this many a minute.
MAX_RISES_PER_MIN = 0.1
RISE_LU = 6.0
RISE_WITHIN_S = 1.0
#: The short-term loudness rises no faster than this (LU per second).
MAX_SHORT_TERM_RISE_LU_PER_S = 3.0
#: Every melody pitch's level (first second after onset, alone, equal velocity) within this of the
#: others' median (LU).
NOTE_LEVEL_TOLERANCE_LU = 2.0
#: Integrated loudness at intensity 0.5 and volume 1 within this of the target (LU).
LOUDNESS_TOLERANCE_LU = 1.0
#: Key or mode changes a minute, at most, and none undone within this many bars.
MAX_TONALITY_CHANGES_PER_MIN = 0.5
UNDONE_WITHIN_BARS = 8
#: Tempo reversals of TEMPO_REVERSAL_BPM or more, at most; the tempo's path at most
#: PATH_FACTOR times its net change plus PATH_SLACK_BPM.
MAX_TEMPO_REVERSALS = 5
TEMPO_REVERSAL_BPM = 3.0
PATH_FACTOR = 3.0
PATH_SLACK_BPM = 10.0
#: Intensity and brightness reversals of LEVEL_REVERSAL or more, at most, each.
MAX_LEVEL_REVERSALS = 10
LEVEL_REVERSAL = 0.1
#: No tempo rise of more than this at a phase change (BPM): within PHASE_WINDOW_S after it.
MAX_PHASE_TEMPO_RISE_BPM = 2.0
PHASE_WINDOW_S = 10.0
#: Melody.
MAX_REPEATED_NOTES = 0.15
MIN_TONIC_FIFTH_ON_STRONG_BEATS = 0.35
MAX_PITCH_CLASS_ENTROPY_BITS = 2.6
MAX_DISTINCT_4GRAMS = 0.5
MAX_4BAR_RUN = 2
MAX_4BAR_SHARE = 0.10
MIN_CADENCE_CHORDS = 3
MAX_CADENCE_SHARE = 0.6
#: Entrainment: music partials within +-(beat + PARTIAL_MARGIN_HZ) of a carrier at most
#: MAX_PARTIAL_OVERLAP of the time; isochronic depth as heard; beating above the carrier alone.
PARTIAL_MARGIN_HZ = 2.0
MAX_PARTIAL_OVERLAP = 0.05
MIN_ISOCHRONIC_DEPTH = 0.9
MAX_BEATING_OVER_FLOOR_DB = 3.0
BEAT_TOLERANCE_HZ = 0.01


@dataclass(frozen=True)
class Check:
    """One measured figure against its target."""

    name: str
    value: float
    limit: float
    ok: bool

    def __str__(self) -> str:
        return f"{self.name} {self.value:.3g} ({'ok' if self.ok else 'FAILS'} {self.limit:g})"


def at_most(name: str, value: float, limit: float) -> Check:
    return Check(name, float(value), limit, bool(value <= limit + 1e-12))


def at_least(name: str, value: float, limit: float) -> Check:
    return Check(name, float(value), limit, bool(value >= limit - 1e-12))


# -- judging -------------------------------------------------------------------------------

def session_music(folder) -> dict:
    """A session's music.tsv with a ``phase`` column, from the phases it ran (session.json)."""
    from neurofeed.folder import MUSIC_FILE, read_session_json, read_table

    music = read_table(folder / MUSIC_FILE)
    phases = read_session_json(folder)["preset_config"]["phases"]
    ends = np.cumsum([phases["baseline_s"], phases["training_s"], phases["cooldown_s"]])
    names = np.array(["baseline", "training", "cooldown", "done"])
    music["phase"] = list(names[np.searchsorted(ends, np.asarray(music["time_s"], float), side="right")])
    return music


def level_checks(x: np.ndarray, sr: int, ceiling_dbfs: float) -> list[Check]:
    """Loudness steadiness and peaks of a render (its fade-in and fade-out included)."""
    return [at_most("rises/min", kit.rise_events_per_minute(x, sr, RISE_LU, RISE_WITHIN_S),
                    MAX_RISES_PER_MIN),
            at_most("short-term rise LU/s", kit.max_short_term_rise_lu_per_s(x, sr),
                    MAX_SHORT_TERM_RISE_LU_PER_S),
            at_most("true peak dBFS", kit.true_peak_dbfs(x, sr), ceiling_dbfs)]


def steadiness_checks(score, start_s: float, stop_s: float) -> list[Check]:
    """Tonality, tempo, intensity and brightness within [start_s, stop_s) of the score."""
    changes = [c for c in score.changes if start_s <= c.time_s < stop_s]
    tonality = kit.tonality_changes(score.changes, start_s, stop_s)
    _, tempo = kit.series(changes, "beat_tempo_bpm")
    checks = [at_most("tonality changes/min", kit.changes_per_minute(tonality, start_s, stop_s),
                      MAX_TONALITY_CHANGES_PER_MIN),
              at_most("undone in 8 bars",
                      kit.undone_within(score.changes, UNDONE_WITHIN_BARS, start_s, stop_s), 0)]
    if len(tempo) > 1:
        tempo = np.asarray(tempo, float)
        checks += [at_most("tempo reversals", kit.reversals(tempo, TEMPO_REVERSAL_BPM), MAX_TEMPO_REVERSALS),
                   at_most("tempo path - 3 net BPM",
                           kit.path_length(tempo) - PATH_FACTOR * abs(kit.net_change(tempo)), PATH_SLACK_BPM)]
    for name in ("intensity", "brightness"):
        _, values = kit.series(changes, name)
        if len(values) > 1:
            reversed_ = kit.reversals(np.asarray(values, float), LEVEL_REVERSAL)
            checks.append(at_most(f"{name} reversals", reversed_, MAX_LEVEL_REVERSALS))
    return checks


def melody_checks(score) -> list[Check]:
    """Motifs and form of the melody, and the variety of phrases and cadences."""
    stats = kit.melody_stats(score)
    lengths, cadences = kit.phrase_stats(score)
    n_phrases = max(sum(cadences.values()), 1)
    return [at_most("repeated notes", stats.repeated_note_fraction, MAX_REPEATED_NOTES),
            at_least("tonic+fifth on strong beats", stats.strong_beat_tonic_fifth_fraction,
                     MIN_TONIC_FIFTH_ON_STRONG_BEATS),
            at_most("pitch-class entropy bits", stats.pitch_class_entropy_bits, MAX_PITCH_CLASS_ENTROPY_BITS),
            at_most("distinct 4-grams", stats.distinct_4gram_fraction, MAX_DISTINCT_4GRAMS),
            at_most("4-bar melody run", stats.longest_run_of_a_4bar_melody, MAX_4BAR_RUN),
            at_most("4-bar melody share", stats.largest_share_of_a_4bar_melody, MAX_4BAR_SHARE),
            at_least("cadence chords", len(cadences), MIN_CADENCE_CHORDS),
            at_most("top cadence share", max(cadences.values(), default=0) / n_phrases, MAX_CADENCE_SHARE),
            at_least("phrases not 4 bars", sum(1 for n in lengths if n != 4), 1)]


def arc_checks(score, music_rows: dict, first_state) -> list[Check]:
    """A session's arc: the first beat plays the first hop's music, no tempo rise at a phase
    change, and the cool-down ends no darker than the training's median mode.

    ``music_rows`` is :func:`session_music`; ``first_state`` the MusicState of its first row.
    """
    beat_times, beat_tempo = kit.series(score.changes, "beat_tempo_bpm")
    _, bar_modes = kit.series(score.changes, "bar_mode")
    checks = [at_most("first beat - first hop BPM", abs(beat_tempo[0] - first_state.tempo_bpm), 0.01),
              at_most("first bar mode differs", float(bar_modes[0] != first_state.mode), 0)]
    times = np.asarray(music_rows["time_s"], float)
    phases = list(music_rows["phase"])
    beat_times, beat_tempo = np.asarray(beat_times, float), np.asarray(beat_tempo, float)
    rise = 0.0
    for i in range(1, len(phases)):
        if phases[i] != phases[i - 1]:
            before = beat_tempo[beat_times <= times[i]]
            after = beat_tempo[(beat_times > times[i]) & (beat_times <= times[i] + PHASE_WINDOW_S)]
            if before.size and after.size:
                rise = max(rise, after.max() - before[-1])
    checks.append(at_most("tempo rise at a phase change BPM", rise, MAX_PHASE_TEMPO_RISE_BPM))
    training = [m for m, p in zip(music_rows["mode"], phases) if p == "training"]
    if training and "cooldown" in phases:
        order = sorted(MODES.index(m) for m in training)
        median = order[(len(order) - 1) // 2]  # the lower median, as the protocol takes it
        _, modes = kit.series(score.changes, "bar_mode")
        end = MODES.index(modes[-1])
        checks.append(at_most("cool-down end darker than median (modes)", end - median, 0))
    return checks


def carrier_checks(score, key: str, kind: str, beat_hz: float, start_s: float, stop_s: float) -> list[Check]:
    """How long music partials sound within +-(beat + 2) Hz of each carrier in [start_s, stop_s).

    The carriers follow the tonality: each bar's carrier is chosen for the key and the mode
    the score says the bar is in.
    """
    bar_times, bar_modes = kit.series(score.changes, "bar_mode")
    bar_times = np.asarray(bar_times, float)
    carriers = np.array([carrier_hz(key, mode, kind) for mode in bar_modes])

    def centre(t):
        return carriers[np.clip(np.searchsorted(bar_times, t, side="right") - 1, 0, None)]

    offsets = (-beat_hz / 2, beat_hz / 2) if kind == "binaural" else (0.0,)
    checks = []
    for offset in offsets:
        overlap = kit.partial_overlap_fraction(score.notes, lambda t, o=offset: centre(t) + o,
                                               beat_hz + PARTIAL_MARGIN_HZ, start_s, stop_s)
        checks.append(at_most(f"partials near carrier {offset:+g} Hz", overlap, MAX_PARTIAL_OVERLAP))
    return checks
