"""The music's acceptance check: 20-minute renders of every preset and palette, judged by the kit.

Run: ``make verify-music`` (or ``.venv/bin/python scripts/music_verify.py``; ``--minutes 5``
for a quicker pass, ``--presets``/``--palettes`` for a part). CI does not run it: it
renders about two hours of music (about 15 minutes on a 2-core machine).

Renders, each judged against issue 12's targets (tests/musictargets.py) with the analysis kit
(tests/musickit.py) on the WAV and the score written beside it:

- every preset on every palette, replaying the real resting EEG (PhysioNet S001R01, eyes
  open, looped) at ``--speed max``: loudness rises and true peak, key/mode changes and tempo,
  intensity and brightness reversals, the melody's motifs and form, the session's arc, and
  for entrainment presets how much the music sounds in the carriers' bands;
- every preset on its own palette replaying the OpenBCI recording (eyes closing and
  opening, blinks and jaw clenches, looped): loudness rises and true peak;
- every palette in a fixed ``play`` render (intensity 0.5, volume 1): integrated loudness
  against the target, rises, true peak, and the timbre (spectral centroid, attack, onset
  rate); each melody pitch alone (the spread of note levels); the isochronic depth and pulse
  rate in the mix, the binaural carriers' beating against the carriers alone, and the beat
  between the ears.

Prints one table per kind of render and ends with ``music: N of M renders pass every target``;
the exit status is 1 when any fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import musickit as kit  # noqa: E402
import musictargets as targets  # noqa: E402

from neurofeed.protocol import generative_presets, load_preset  # noqa: E402
from neurofeed.synth import Engine, Entrainment, MusicState  # noqa: E402
from neurofeed.synth.composer import MELODY_RANGE  # noqa: E402
from neurofeed.synth.entrainment import carrier_hz  # noqa: E402
from neurofeed.synth.palettes import PALETTES, REFERENCE_LUFS  # noqa: E402

SHARED_EEG = ROOT.parent / "shared" / "data" / "eeg"
RESTING = SHARED_EEG / "S001R01.edf"
ACTIVE = SHARED_EEG / "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
CEILING_DBFS = -3.0
NEUROFEED = [sys.executable, "-m", "neurofeed"]


def replay(recording: Path, preset: str, palette: str, minutes: float, out: Path) -> Path | str:
    """Replay ``recording`` looped through ``preset`` on ``palette``; return the session folder,
    or the one-line reason the preset cannot run on it (e.g. no F3/F4 for an asymmetry preset)."""
    out.mkdir(parents=True, exist_ok=True)
    command = [*NEUROFEED, "replay", str(recording), "--preset", preset, "--palette", palette, "--loop",
               "--duration", f"{minutes * 60:g}s", "--seed", "0", "--no-status", "--no-report",
               "--no-ear-check", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode == 2:
        return done.stderr.strip()
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
    return next(out.glob("sub-*"))


def judge_replay(folder: Path, *, steadiness: bool) -> list:
    """The targets a replayed session must meet, measured on its audio.wav and score."""
    sr, x = kit.read_wav(folder / "audio.wav")
    score = kit.read_score(folder)
    checks = targets.level_checks(x, sr, CEILING_DBFS)
    if not steadiness:
        return checks
    music = targets.session_music(folder)
    times = np.asarray(music["time_s"], float)
    training = times[[p == "training" for p in music["phase"]]]
    checks += targets.steadiness_checks(score, training[0], training[-1])
    checks += targets.melody_checks(score)
    first = MusicState(tempo_bpm=float(music["tempo_bpm"][0]), key=music["key"][0], mode=music["mode"][0])
    checks += targets.arc_checks(score, music, first)
    kind = music["entrainment_kind"][0]
    if kind != "off":
        checks += targets.carrier_checks(score, music["key"][0], kind, float(music["entrainment_hz"][0]),
                                         training[0], training[-1])
    return checks


def render_fixed(path: Path, palette: str, minutes: float, *, entrainment: Entrainment | None = None,
                 voices=None) -> tuple[int, np.ndarray, object]:
    """A fixed-settings render: D Dorian, 64 BPM, intensity and brightness 0.5, volume 1."""
    state = MusicState(tempo_bpm=64.0, key="D", mode="dorian", intensity=0.5, brightness=0.5,
                       volume=1.0, entrainment=entrainment or Entrainment())
    kwargs = {} if voices is None else {"voices": voices}
    with Engine("offline", wav_path=path, state=state, seed=0, palette=palette, **kwargs) as engine:
        engine.advance(minutes * 60.0)
    sr, x = kit.read_wav(path)
    return sr, x, engine


def note_level_spread(palette: str, folder: Path) -> float:
    """Largest distance (LU) of a melody pitch's level from the median: each pitch in
    MELODY_RANGE played alone (no composed notes) at velocity 80, its first second after
    onset, reverb tail included."""
    path = folder / f"notes-{palette}.wav"
    spacing_s = 6.0
    with Engine("offline", wav_path=path, state=MusicState(volume=1.0), seed=0, palette=palette,
                voices=(), fade_in_s=0.0) as engine:
        engine.advance(1.0)
        for pitch in range(MELODY_RANGE[0], MELODY_RANGE[1] + 1):
            engine.play_note(pitch, velocity=80, duration_s=1.0, voice="melody")
            engine.advance(spacing_s)
    sr, x = kit.read_wav(path)
    levels = np.array([kit.segment_loudness(x, sr, n.time_s, 1.0) for n in engine.score.notes])
    return float(np.abs(levels - np.median(levels)).max())


def judge_palette(palette: str, minutes: float, folder: Path) -> tuple[list, dict]:
    """Targets and timbre of one palette's fixed render, its notes and its entrainment."""
    sr, x, engine = render_fixed(folder / f"fixed-{palette}.wav", palette, minutes)
    checks = targets.level_checks(x, sr, CEILING_DBFS)
    body = x[int(10 * sr):int((minutes * 60 - 5) * sr)]
    checks.append(targets.at_most("loudness - target LU",
                                  abs(kit.integrated_loudness(body, sr) - REFERENCE_LUFS),
                                  targets.LOUDNESS_TOLERANCE_LU))
    checks.append(targets.at_most("note level spread LU", note_level_spread(palette, folder),
                                  targets.NOTE_LEVEL_TOLERANCE_LU))
    checks += targets.melody_checks(engine.score)
    timbre = {"centroid_hz": kit.spectral_centroid_hz(body, sr), "attack_ms": 1000 * kit.attack_s(body, sr),
              "onsets_per_s": kit.onset_rate_per_s(body, sr),
              "above_4k": kit.high_band_fraction(body, sr, 4000.0)}
    checks += entrainment_checks(palette, min(minutes, 1.0), folder)
    return checks, timbre


def entrainment_checks(palette: str, minutes: float, folder: Path) -> list:
    """Isochronic depth and pulse rate in the mix; binaural beating over the carriers alone, and
    the beat (right ear's carrier minus the left's) measured on the carriers alone."""
    iso = Entrainment("isochronic", 10.0, 0.3)
    sr, mix, _ = render_fixed(folder / f"iso-{palette}.wav", palette, minutes, entrainment=iso)
    mix = mix[int(5 * sr):]
    iso_carrier = carrier_hz("D", "dorian", "isochronic")
    depth = kit.isochronic_depth(mix, sr, iso_carrier, iso.frequency_hz)
    checks = [targets.at_least("isochronic depth", depth, targets.MIN_ISOCHRONIC_DEPTH)]
    # The pulse rate: the strongest line of the envelope spectrum of the carrier's band.
    times, envelope = kit.band_envelope(mix.mean(axis=1), sr, iso_carrier)
    rate = kit.peak_hz(envelope - envelope.mean(), 1.0 / (times[1] - times[0]), 2.0, 19.0)
    checks.append(targets.at_most("isochronic rate error Hz", abs(rate - iso.frequency_hz),
                                  targets.BEAT_TOLERANCE_HZ))
    binaural = Entrainment("binaural", 6.0, 0.3)
    beat = binaural.frequency_hz
    carrier = carrier_hz("D", "dorian", "binaural")
    _, both, _ = render_fixed(folder / f"bin-{palette}.wav", palette, minutes, entrainment=binaural)
    _, alone, _ = render_fixed(folder / f"bin-alone-{palette}.wav", palette, minutes,
                               entrainment=binaural, voices=())
    both, alone = both[int(5 * sr):], alone[int(5 * sr):]
    ears = []
    for side, hz in ((0, carrier - beat / 2), (1, carrier + beat / 2)):
        excess = (kit.carrier_beating_db(both[:, side:side + 1], sr, hz, beat)
                  - kit.carrier_beating_db(alone[:, side:side + 1], sr, hz, beat))
        checks.append(targets.at_most(f"beating over carrier alone dB ({'LR'[side]})", excess,
                                      targets.MAX_BEATING_OVER_FLOOR_DB))
        ears.append(kit.peak_hz(alone[:, side], sr, hz - beat / 2, hz + beat / 2))
    checks.append(targets.at_most("binaural beat error Hz", abs(ears[1] - ears[0] - beat),
                                  targets.BEAT_TOLERANCE_HZ))
    return checks


def print_table(title: str, rows: dict[str, list]) -> int:
    """Print each render's checks; return how many renders pass them all."""
    print(f"\n## {title}")
    passed = 0
    for label, checks in rows.items():
        failing = [c for c in checks if not c.ok]
        passed += not failing
        print(f"{label:<40} {'PASS' if not failing else 'FAIL'}")
        for check in checks:
            print(f"    {check}")
    return passed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="length of each render (default 20)")
    parser.add_argument("--presets", default=",".join(generative_presets()),
                        help="comma-separated presets (default every generative one)")
    parser.add_argument("--palettes", default=",".join(PALETTES), help="comma-separated palettes")
    parser.add_argument("--out", default=None, help="keep the renders in this folder")
    args = parser.parse_args(argv)
    presets = [p for p in args.presets.split(",") if p]
    palettes = [p for p in args.palettes.split(",") if p]
    with tempfile.TemporaryDirectory(prefix="music-verify-") as scratch:
        folder = Path(args.out or scratch)
        replays, active, fixed, timbres = {}, {}, {}, {}
        for preset in presets:
            for palette in palettes:
                session = replay(RESTING, preset, palette, args.minutes, folder / f"rest-{preset}-{palette}")
                if isinstance(session, str):
                    raise RuntimeError(f"{preset} cannot replay {RESTING.name}: {session}")
                replays[f"{preset} / {palette}"] = judge_replay(session, steadiness=True)
            own = load_preset(preset).music.palette
            session = replay(ACTIVE, preset, own, args.minutes, folder / f"active-{preset}")
            if isinstance(session, str):
                print(f"not applicable: {preset} on {ACTIVE.name}: {session}")
            else:
                active[f"{preset} / {own}"] = judge_replay(session, steadiness=False)
        for palette in palettes:
            fixed[palette], timbres[palette] = judge_palette(palette, args.minutes, folder)
        passed = print_table(f"resting EEG replays, {args.minutes:g} min", replays)
        passed += print_table(f"OpenBCI replays (eyes, blinks, jaw), {args.minutes:g} min", active)
        passed += print_table(f"fixed renders, {args.minutes:g} min", fixed)
        print("\n## timbre (fixed renders)")
        print(f"{'palette':<10} {'centroid Hz':>12} {'attack ms':>10} {'onsets/s':>9} {'>4 kHz':>8}")
        for palette, t in timbres.items():
            print(f"{palette:<10} {t['centroid_hz']:>12.0f} {t['attack_ms']:>10.1f} "
                  f"{t['onsets_per_s']:>9.2f} {t['above_4k']:>8.2%}")
    total = len(replays) + len(active) + len(fixed)
    print(f"\nmusic: {passed} of {total} renders pass every target")
    return 0 if passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
