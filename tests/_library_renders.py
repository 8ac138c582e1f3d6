"""Short tracks rendered by the engine at known tempo, key and mode: a music library for tests.

The tempos make an iso ladder from 48 to 100 BPM (the playlist tests walk it); keys and modes
are mixed, bright and dark, so that the analysis has majors and minors to tell apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from neurofeed.synth import Engine, MusicState

#: (tempo in BPM, key, mode) of each rendered track.
TRACKS: tuple[tuple[float, str, str], ...] = (
    (48, "D", "aeolian"), (52, "F", "ionian"), (56, "A", "dorian"), (60, "C", "ionian"),
    (64, "E", "aeolian"), (68, "G", "mixolydian"), (72, "Bb", "ionian"), (76, "B", "aeolian"),
    (80, "Eb", "lydian"), (88, "F#", "dorian"), (96, "Ab", "ionian"), (100, "Db", "aeolian"),
)
#: Seconds of music per track (before the engine's 3 s fade-out): the longest the issue allows
#: (the tonal centre is clearer in longer tracks: more cadences).
TRACK_S = 30.0
#: The client whose music library the playlist tests share (conftest's ``library_home``), and
#: the recording their sessions replay (eyes closed about 28-58 s and 64-76 s).
PLAYLIST_SUBJECT = "c01"
PLAYLIST_RECORDING = "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
#: The renders' fade-in (seconds): short, so that the music is at level from its first bars.
TRACK_FADE_IN_S = 1.0


@dataclass(frozen=True)
class Render:
    """One rendered track and the answers the analysis should find."""

    path: Path
    tempo_bpm: float
    key: str
    mode: str


def render_tracks(folder: Path, tracks=TRACKS, seconds: float = TRACK_S) -> list[Render]:
    """Render ``tracks`` ((tempo, key, mode) each) to WAV files in ``folder``, one engine at a time.

    Each is seeded by its place in the list, so the same call gives the same files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    renders = []
    for seed, (tempo, key, mode) in enumerate(tracks):
        path = folder / f"{seed:02d}-{key}-{mode}-{tempo:g}bpm.wav"
        state = MusicState(tempo_bpm=tempo, key=key, mode=mode)
        with Engine("offline", wav_path=path, state=state, fade_in_s=TRACK_FADE_IN_S, seed=seed) as engine:
            engine.advance(seconds)
        renders.append(Render(path, float(tempo), key, mode))
    return renders
