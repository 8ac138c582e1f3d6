"""The client's own music, at full length: a library of 3-minute tracks and a 20-minute playlist session.

Run: ``make verify-playlist`` (or ``.venv/bin/python scripts/playlist_verify.py``; ``--minutes 5``
for a shorter session, ``--track-minutes 1`` for shorter tracks). CI does not run it.

1. Renders a library with the engine: tracks at known tempo, key and mode.
2. Analyses it with ``neurofeed library add`` (in parallel), timing it, and scores the analysis
   against the known answers: tempo within 2% (an octave error is an error), tonal centre and
   major/minor.
3. Replays the OpenBCI recording (eyes closing and opening, looped; the baseline its eyes-open
   first 20 s) through ``iso-playlist`` for a whole session, and judges what was heard with
   the analysis kit (tests/musickit.py):
   no gap between tracks, no loudness step across a join (the 3 s before a crossfade against
   the 3 s after it) and no dip in it deeper than the music dips by itself, the true peak under
   the ceiling, and a walk that never
   moves away from the target and steps only while the client followed.

Prints the figures and ends with ``playlist: N of M checks pass``; exit status 1 when any fails.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import musickit as kit  # noqa: E402

from neurofeed.library.analysis import mode_quality  # noqa: E402
from neurofeed.protocol import load_preset  # noqa: E402
from neurofeed.protocol.playlist import REASONS  # noqa: E402
from neurofeed.synth import Engine, MusicState  # noqa: E402
from neurofeed.synth.theory import normalise_key  # noqa: E402

RECORDING = ROOT.parent / "shared" / "data" / "eeg" / "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
NEUROFEED = [sys.executable, "-m", "neurofeed"]
PRESET = "iso-playlist"
SUBJECT = "verify"
CEILING_DBFS = -3.0
#: (tempo BPM, key, mode) of the library's tracks: a ladder from 50 to 104 BPM.
TRACKS = ((50, "D", "aeolian"), (54, "F", "ionian"), (57, "A", "dorian"), (60, "C", "ionian"),
          (60, "G", "lydian"), (63, "E", "aeolian"), (66, "G", "mixolydian"), (69, "Bb", "ionian"),
          (72, "B", "aeolian"), (76, "Eb", "lydian"), (80, "F#", "dorian"), (84, "Ab", "ionian"),
          (90, "Db", "aeolian"), (96, "C", "mixolydian"), (104, "E", "ionian"))


def render_library(folder: Path, minutes: float) -> list[tuple[Path, float, str, str]]:
    """The library's tracks on the default palette: its notes mark the beat. (The ambient and
    drone palettes sound notes on strong beats only, under a hall that swells 1.4 times a
    second: their beat cannot be told from the audio, docs/library.md.)"""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed, (tempo, key, mode) in enumerate(TRACKS):
        path = folder / f"{seed:02d}-{key}-{mode}-{tempo}bpm.wav"
        state = MusicState(tempo_bpm=tempo, key=key, mode=mode)
        with Engine("offline", wav_path=path, state=state, fade_in_s=4.0, seed=seed) as engine:
            engine.advance(minutes * 60.0)
        out.append((path, float(tempo), key, mode))
    return out


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*NEUROFEED, *args], capture_output=True, text=True, env={**os.environ, **env})


def judge_analysis(home: Path, renders) -> dict:
    library = json.loads((home / "subjects" / SUBJECT / "library" / "library.json").read_text())
    by_title = {t["title"]: t["analysis"] for t in library["tracks"]}
    tempo_ok = key_ok = 0
    for path, tempo, key, mode in renders:
        a = by_title[path.stem]
        tempo_ok += abs(a["tempo_bpm"] - tempo) <= 0.02 * tempo
        key_ok += (normalise_key(a["key"]) == normalise_key(key)) and a["quality"] == mode_quality(mode)
    return {"tracks": len(renders), "tempo within 2%": tempo_ok, "centre and major/minor": key_ok}


def judge_session(folder: Path) -> dict:
    preset = load_preset(PRESET)
    sr, x = kit.read_wav(folder / "audio.wav")
    with open(folder / "tracks.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    session_s = json.loads((folder / "session.json").read_text())["session_time_s"]
    rows = [r for r in rows if float(r["onset_s"]) < session_s - 10.0]
    times, short = kit.short_term_loudness(x, sr)
    m_times, momentary = kit.momentary_loudness(x, sr)
    def join(onset: float, fade: float) -> tuple[float, float]:
        """The 3 s before ``onset`` against the 3 s after ``onset + fade``: their difference, and
        how far the short-term loudness dips under both in between (LU)."""
        before = kit.integrated_loudness(x[round((onset - 3.0) * sr):round(onset * sr)], sr)
        after = kit.integrated_loudness(x[round((onset + fade) * sr):round((onset + fade + 3.0) * sr)], sr)
        inside = short[(times >= onset + 1.5) & (times <= onset + fade + 1.5)]
        return abs(after - before), min(before, after) - float(np.min(inside))

    joins = [join(float(r["onset_s"]), float(r["fade_s"])) for r in rows[1:]]
    onsets = [float(r["onset_s"]) for r in rows]
    # The same measure where no track joins another: how much the music dips by itself.
    alone = [join(t, 8.0)[1] for t in np.arange(onsets[0] + 20.0, session_s - 20.0, 13.7)
             if all(abs(t - onset) > 15.0 for onset in onsets)]
    at_level = float(rows[0]["onset_s"]) + float(rows[0]["fade_s"])
    # Up to the cool-down's last seconds: the session's fade-out is no gap.
    playing = (m_times >= at_level) & (m_times <= session_s - 5.0)
    target = preset.iso.target_tempo_bpm
    distances = [abs(float(r["tempo_bpm"]) - target) for r in rows]
    share = preset.playlist.follow_share
    return {"tracks played": len(rows),
            "reasons": {why: sum(r["reason"] == why for r in rows) for why in REASONS},
            "tempi": [round(float(r["tempo_bpm"]), 1) for r in rows],
            "largest step across a join (LU, 3 s before against 3 s after)":
                max((j[0] for j in joins), default=0.0),
            "deepest dip in a crossfade (LU)": max((j[1] for j in joins), default=0.0),
            "deepest dip of the music alone over 8 s (LU)": max(alone, default=0.0),
            "quietest momentary while playing (LUFS)": float(np.min(momentary[playing])),
            "true peak (dBTP)": kit.true_peak_dbfs(x, sr),
            "never away from the target": all(b <= a + 1e-9 for a, b in itertools.pairwise(distances)),
            "steps only while following": all(float(r["followed"]) >= share
                                              for r in rows if r["reason"] == "step")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="the session's length (default 20)")
    parser.add_argument("--track-minutes", type=float, default=3.0, help="each track's length (default 3)")
    parser.add_argument("--out", default=None, help="keep everything in this folder")
    args = parser.parse_args(argv)
    if not RECORDING.is_file():
        print(f"playlist: the recording {RECORDING} is missing (../shared/data/eeg beside the checkout)")
        return 1
    with tempfile.TemporaryDirectory(prefix="neurofeed-playlist-") as scratch:
        base = Path(args.out) if args.out else Path(scratch)
        home = base / "home"
        env = {"NEUROFEED_HOME": str(home)}
        started = time.perf_counter()
        renders = render_library(base / "tracks", args.track_minutes)
        print(f"rendered {len(renders)} tracks of {args.track_minutes:g} min "
              f"in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        done = run("library", "add", str(base / "tracks"), "--subject", SUBJECT, env=env)
        analysed_s = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stderr)
            return 1
        print(f"analysed {len(renders)} tracks in {analysed_s:.1f} s "
              f"({analysed_s / len(renders):.2f} s a track, {os.cpu_count()} cores); again unchanged:",
              end=" ")
        started = time.perf_counter()
        run("library", "add", str(base / "tracks"), "--subject", SUBJECT, env=env)
        print(f"{time.perf_counter() - started:.1f} s")
        analysis = judge_analysis(home, renders)
        print("analysis:", analysis)
        started = time.perf_counter()
        out = base / "sessions"
        out.mkdir(parents=True, exist_ok=True)
        # The baseline is the recording's eyes-open start; the loop then closes the eyes for
        # about 45 s of every 90: a listener who follows part of each track.
        done = run("replay", str(RECORDING), "--preset", PRESET, "--subject", SUBJECT, "--loop", "--duration",
                   f"{args.minutes * 60:g}s", "--baseline", "20s", "--no-status", "--no-report", "--out",
                   str(out), env=env)
        if done.returncode != 0:
            print(done.stderr)
            return 1
        (folder,) = out.iterdir()
        print(f"replayed a {args.minutes:g}-minute session in {time.perf_counter() - started:.0f} s")
        session = judge_session(folder)
        for name, value in session.items():
            print(f"  {name}: {value}")
        checks = {
            "tempo within 2% on at least 90% of tracks": analysis["tempo within 2%"] >= 0.9 * len(renders),
            "centre and major/minor on at least 90% of tracks":
                analysis["centre and major/minor"] >= 0.9 * len(renders),
            "no step over 1 LU across a join":
                session["largest step across a join (LU, 3 s before against 3 s after)"] <= 1.0,
            "no crossfade dips 0.5 LU more than the music alone": session["deepest dip in a crossfade (LU)"]
                <= session["deepest dip of the music alone over 8 s (LU)"] + 0.5,
            "no gap (momentary over -35 LUFS)": session["quietest momentary while playing (LUFS)"] > -35.0,
            "true peak under the ceiling": session["true peak (dBTP)"] <= CEILING_DBFS,
            "never away from the target": session["never away from the target"],
            "steps only while following": session["steps only while following"],
            "the walk moved": session["reasons"]["step"] > 0,
        }
        for name, ok in checks.items():
            print(f"  {'pass' if ok else 'FAIL'}  {name}")
        passed = sum(checks.values())
        print(f"playlist: {passed} of {len(checks)} checks pass")
        return 0 if passed == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
