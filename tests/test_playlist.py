"""The iso playlist: the plan's choices (pure), the preset kind, and whole sessions on real EEG.

The sessions replay the OpenBCI sample (eyes open until about 28 s, eyes closed 28-58 s
and 64-76 s) through the built-in ``iso-playlist`` preset over a library of 12 tracks the
engine rendered at known tempos, and judge the rendered audio with the analysis kit.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from dataclasses import replace
from pathlib import Path

import musickit as mk
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli
from _library_renders import PLAYLIST_RECORDING as OPENBCI
from _library_renders import PLAYLIST_SUBJECT as SUBJECT

from neurofeed.errors import InvalidArgumentError, PresetError
from neurofeed.library import Track, TrackAnalysis
from neurofeed.protocol import load_preset
from neurofeed.protocol.playlist import (
    AROUSAL_SCALE,
    AROUSAL_WEIGHT,
    CUE_LEAD_S,
    LIKED_BONUS,
    MAX_STEPS,
    PlaylistPlan,
    beat_grid,
    crossfade_out,
    track_mode,
)
from neurofeed.protocol.presets import PLAYLIST_DEFAULTS
from neurofeed.synth.palettes import REFERENCE_LUFS

#: When the OpenBCI sample's eyes are closed (seconds; SOURCES.md beside it).
EYES_CLOSED = ((28.0, 58.0), (64.0, 76.0))


def fake_track(tempo: float, valence: float = 0.0, *, arousal: float = 0.3, rating: str = "neutral",
               seconds: float = 120.0, name: str | None = None) -> Track:
    """A track whose analysis says ``tempo`` and ``valence``, beats from 1 s to the end."""
    beats = tuple(np.arange(1.0, seconds - 1.0, 60.0 / tempo))
    analysis = TrackAnalysis(
        duration_s=seconds, sample_rate=44100, channels=2, tempo_bpm=tempo, beat_times_s=beats,
        key="C", quality="major" if valence >= 0 else "minor", key_confidence=0.9, mode=None,
        valence=valence, loudness_lufs=-20.0, loudness_range_lu=3.0, true_peak_dbtp=-6.0,
        brightness_hz=1500.0, brightness=0.5, arousal=arousal, start_s=beats[0], end_s=beats[-1])
    name = name or f"t{tempo:g}-{valence:+.1f}"
    return Track(track_id=hashlib.sha256(name.encode()).hexdigest()[:16], path=f"{name}.wav", title=name,
                 size=1, mtime_ns=1, analysis=analysis, rating=rating)


LADDER = [fake_track(t, v) for t, v in ((84, -0.3), (78, -0.3), (72, 0.0), (66, 0.3), (60, 0.55),
                                          (60.5, 0.3), (54, 0.55))]


def plan(tracks=LADDER, **spec) -> PlaylistPlan:
    return PlaylistPlan(tracks, replace(PLAYLIST_DEFAULTS, **spec), target_tempo_bpm=60.0,
                        target_valence=0.55, fade_in_s=10.0)


# -- the plan's choices ---------------------------------------------------------------------

def test_first_track_matches_the_measured_state():
    p = plan()
    assert p.match(83.0, -0.3, 0.3).analysis.tempo_bpm == 84
    assert p.match(71.0, 0.0, 0.3).analysis.tempo_bpm == 72
    liked = [replace(LADDER[0], rating="liked"), *LADDER[1:]]
    # A liked track wins a near tie: 81 BPM is as near 78 as 84 is.
    assert plan(liked).match(81.0, -0.3, 0.3).analysis.tempo_bpm == 84


def test_a_step_moves_one_step_toward_the_target_and_a_hold_keeps_the_tempo():
    p = plan()
    step, why = p.choose(LADDER[0], following=True)
    assert (step.analysis.tempo_bpm, why) == (78, "step")
    hold, why = p.choose(LADDER[4], following=False)  # 60 BPM: 60.5 holds it
    assert (hold.analysis.tempo_bpm, why) == (60.5, "hold")
    same, why = p.choose(LADDER[1], following=False)  # nothing else near 78
    assert (same, why) == (LADDER[1], "repeat")
    # At the target tempo a step only brightens: 60.5 (valence 0.3) steps to 60 (0.55).
    bright, why = p.choose(LADDER[5], following=True)
    assert (bright.analysis.tempo_bpm, why) == (60, "step")


def test_steps_never_pass_the_target_nor_go_back():
    p = plan([fake_track(70), fake_track(62), fake_track(52), fake_track(75)])
    track = p.tracks[0]
    tempos = [track.analysis.tempo_bpm]
    for _ in range(4):
        track, _ = p.choose(track, following=True)
        tempos.append(track.analysis.tempo_bpm)
    assert tempos == [70, 62, 62, 62, 62]  # 52 is past 60 by more than the 2 BPM tolerance
    # A gap in the library: the nearest track beyond a step, within two.
    p = plan([fake_track(90), fake_track(80), fake_track(76)])
    assert p.choose(p.tracks[0], following=True)[0].analysis.tempo_bpm == 80


def test_disliked_tracks_never_play_and_a_library_of_them_is_refused():
    disliked = replace(LADDER[1], rating="disliked")
    p = plan([LADDER[0], disliked, fake_track(80, -0.3)])
    assert p.choose(LADDER[0], following=True)[0].analysis.tempo_bpm == 80  # not 78, the nearer step
    with pytest.raises(InvalidArgumentError, match="every track is rated disliked"):
        plan([disliked])
    with pytest.raises(InvalidArgumentError, match="library add"):
        plan([])


def test_crossfades_start_on_beats_in_whole_beats_after_the_fade_in():
    track = fake_track(60.0, seconds=40.0)
    beats = beat_grid(track)
    out_s, fade_s = crossfade_out(track, track.analysis.start_s, 10.0, 8.0, 0.0)
    assert np.min(np.abs(beats - out_s)) < 1e-9
    assert fade_s == pytest.approx(8.0)  # 8 beats at 60 BPM
    assert out_s + fade_s <= track.analysis.end_s + 1e-9
    # A cap on the play time ends the crossfade by it.
    out_s, fade_s = crossfade_out(track, track.analysis.start_s, 4.0, 8.0, 20.0)
    assert out_s + fade_s <= track.analysis.start_s + 20.0 + 1e-9


def test_the_timeline_cues_each_track_ahead_on_the_outgoing_beat():
    p = plan()
    first = p.start(10.0, 84.0, -0.3, 0.3)
    assert (first.start_s, first.fade_s, first.reason) == (10.0, 10.0, "match")
    assert p.step(first.handover_s - CUE_LEAD_S - 0.1) is None
    chosen = first.handover_s - CUE_LEAD_S
    # Followed for only the last 10 s of a 100 s track: the window is its latter half, so no.
    for t in np.arange(first.start_s + 0.1, chosen + 1e-9, 0.1):
        p.follow(t, 0.1, float(t > chosen - 10.0))
    assert p.window_s(chosen) == pytest.approx((chosen - first.start_s) / 2)
    assert p.followed(chosen) == pytest.approx(10.0 / p.window_s(chosen), abs=0.01)
    assert p.step(chosen).reason == "repeat"  # nothing near 84 BPM holds it
    p = plan()
    first = p.start(10.0, 84.0, -0.3, 0.3)
    for t in np.arange(first.start_s + 0.1, chosen + 1e-9, 0.1):  # followed throughout
        p.follow(t, 0.1, 1.0)
    second = p.step(chosen)
    assert second.reason == "step" and second.followed == pytest.approx(1.0)
    assert second.start_s == pytest.approx(first.handover_s)
    assert second.fade_s == pytest.approx(first.out_fade_s)
    assert p.playing_at(second.start_s - 0.01) is first and p.playing_at(second.start_s) is second


# -- the preset kind ------------------------------------------------------------------------

def test_the_builtin_playlist_preset_loads_with_its_tables():
    preset = load_preset("iso-playlist")
    assert preset.kind == "playlist" and preset.iso is not None and preset.playlist is not None
    assert preset.iso.target_tempo_bpm == 60.0


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('kind = "playlist"', 'kind = "feedback"'), "unknown table [iso]"),
    (lambda t: t.replace("max_track_s = 0", "max_track_s = 10"), "max_track_s = 10 leaves no time"),
    (lambda t: t.replace("crossfade_s = 8.0", "crossfade_s = 90"), "crossfade_s = 90 is out of range"),
    (lambda t: t.replace("[playlist]", "[playlist]\nfade_bars = 4"), "unknown key [playlist].fade_bars"),
])
def test_bad_playlist_presets_are_refused_naming_the_key(tmp_path, edit, message):
    text = load_preset("iso-playlist").path.read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(PresetError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_preset(path)


def test_the_playlist_table_may_be_left_out(tmp_path):
    text = load_preset("iso-playlist").path.read_text(encoding="utf-8")
    start, end = text.index("\n[playlist]\n"), text.index("\n[music]\n")
    path = tmp_path / "short.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert load_preset(path).playlist == PLAYLIST_DEFAULTS


# -- whole sessions -------------------------------------------------------------------------

def _replay(home: Path, shared_eeg: Path, out: Path, *extra: str):
    out.mkdir(parents=True, exist_ok=True)
    done = run_cli("replay", str(shared_eeg / OPENBCI), "--preset", "iso-playlist", "--subject", SUBJECT,
                   "--duration", "90s", "--baseline", "10s", "--no-status", "--no-report", "--out", str(out),
                   *extra, env={"NEUROFEED_HOME": str(home)}, timeout=300)
    assert done.returncode == 0, done.stderr
    (folder,) = out.iterdir()
    return folder


@pytest.fixture(scope="module")
def session(playlist_session) -> Path:
    return playlist_session


def _rows(folder: Path) -> list[dict]:
    with open(folder / "tracks.tsv", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _eyes_closed(start: float, stop: float) -> bool:
    return any(start >= low and stop <= high for low, high in EYES_CLOSED)


def test_the_playlist_walks_toward_the_target_only_while_the_eeg_follows(session):
    rows = [r for r in _rows(session) if float(r["onset_s"]) < 90.0]
    assert rows[0]["reason"] == "match" and float(rows[0]["onset_s"]) == pytest.approx(10.0)
    tempos = [float(r["tempo_bpm"]) for r in rows]
    target = load_preset("iso-playlist").iso.target_tempo_bpm
    distances = [abs(t - target) for t in tempos]
    # Never away from the target; a step moves it, a hold or a repeat keeps it.
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(distances))
    spec = load_preset("iso-playlist").playlist
    tracks = json.loads((session / "playlist.json").read_text())["tracks"]
    library = [t["analysis"]["tempo_bpm"] for t in tracks]
    # A step: one step (and the tolerance), or two where the library has a gap.
    band = MAX_STEPS * spec.tempo_step_bpm + spec.hold_tolerance_bpm
    for before, row in zip(tempos, rows[1:]):
        moved = abs(float(row["tempo_bpm"]) - before)
        if row["reason"] == "step":
            assert float(row["followed"]) >= spec.follow_share
            assert 0 < moved <= band
        else:
            assert moved <= spec.hold_tolerance_bpm
            # Following, it holds only when no track lies a step nearer the target.
            assert float(row["followed"]) < spec.follow_share or not any(
                0.5 < abs(before - target) - abs(t - target) <= band and abs(t - before) <= band
                for t in library), row
    # The eyes-closed stretches are followed: every choice whose window lies in them steps
    # (or the walk has arrived), and the walk moved.
    for row in rows[1:]:
        chosen = float(row["chosen_s"])
        if _eyes_closed(chosen - spec.follow_window_s, chosen) and abs(float(row["tempo_bpm"]) - target) > 2:
            assert row["reason"] == "step", row
    assert distances[-1] < distances[0]


def test_the_first_track_matches_the_baseline(session):
    from neurofeed.bands import Baseline
    from neurofeed.loop.calibrator import baseline_means

    preset = load_preset("iso-playlist")
    means = baseline_means(Baseline.load(session / "baseline.json"))

    def share(value, span):  # where the baseline lies in an [iso] range, 0.5 when unknown
        return 0.5 if not np.isfinite(value) else min(max((value - span[0]) / (span[1] - span[0]), 0.0), 1.0)
    arousal = share(means["beta_alpha_ratio"], preset.iso.arousal_ratio)
    valence = share(means.get("frontal_asymmetry", np.nan), preset.iso.valence_asymmetry)
    low, high = preset.music.tempo_bpm
    tempo = low + arousal * (high - low)
    valence = preset.music.valence[0] + valence * (preset.music.valence[1] - preset.music.valence[0])
    first = _rows(session)[0]
    playlist = json.loads((session / "playlist.json").read_text())["tracks"]
    # The nearest by the plan's documented cost: tempo and valence in steps, energy against arousal.
    spec = preset.playlist

    def cost(t):
        a = t["analysis"]
        return (((a["tempo_bpm"] - tempo) / spec.tempo_step_bpm) ** 2
                + ((a["valence"] - valence) / spec.valence_step) ** 2
                + AROUSAL_WEIGHT * ((a["arousal"] - arousal) / AROUSAL_SCALE) ** 2
                - (LIKED_BONUS if t["rating"] == "liked" else 0.0))
    assert first["track_id"] == min(playlist, key=cost)["track_id"]
    assert abs(float(first["tempo_bpm"]) - tempo) <= 2 * spec.tempo_step_bpm


def test_the_crossfades_have_no_gap_no_loudness_step_and_no_peak_over_the_ceiling(session):
    sr, x = mk.read_wav(session / "audio.wav")
    rows = [r for r in _rows(session) if float(r["onset_s"]) < 85.0]
    times, short = mk.short_term_loudness(x, sr)
    m_times, momentary = mk.momentary_loudness(x, sr)
    level_from = float(rows[0]["onset_s"]) + float(rows[0]["fade_s"])
    for row in rows[1:]:
        # The join: the 3 s before the crossfade (the outgoing track alone) against the 3 s after
        # it (the incoming one alone), and no dip between.
        onset, fade = float(row["onset_s"]), float(row["fade_s"])
        before = mk.integrated_loudness(x[round((onset - 3.0) * sr):round(onset * sr)], sr)
        after = mk.integrated_loudness(x[round((onset + fade) * sr):round((onset + fade + 3.0) * sr)], sr)
        assert abs(after - before) <= 1.0, (row["title"], before, after)
        # No hole: a gap falls toward silence and a linear crossfade dips 3 dB in its middle;
        # the music's own dips over 8 s reach 1.7 LU (make verify-playlist).
        inside = short[(times >= onset + 1.5) & (times <= onset + fade + 1.5)]  # windows' middles
        assert np.min(inside) > min(before, after) - 2.5, row["title"]
    playing = (m_times >= level_from) & (m_times <= 88.0)
    assert np.min(momentary[playing]) > -35.0  # no gap between tracks
    assert mk.true_peak_dbfs(x, sr) <= -3.0  # the default ceiling


def test_the_session_records_which_track_played_when(session):
    rows = _rows(session)
    changes = list(csv.DictReader(open(session / "score_changes.tsv", encoding="utf-8"), delimiter="\t"))
    started = [c for c in changes if c["name"] == "track"]
    played = [r for r in rows if float(r["onset_s"]) < 90.0]
    assert [c["value"] for c in started] == [r["track_id"] for r in played]
    for change, row in zip(started, played):  # audio time within a block (and the look-ahead)
        assert abs(float(change["time_s"]) - float(row["onset_s"])) < 0.02
    # music.tsv says the baseline is silent, and then the track's own tempo.
    music = list(csv.DictReader(open(session / "music.tsv", encoding="utf-8"), delimiter="\t"))
    first_onset = float(played[0]["onset_s"])
    assert all(float(m["volume"]) == 0.0 for m in music if float(m["time_s"]) < first_onset)
    after = [m for m in music if first_onset <= float(m["time_s"]) < float(played[1]["onset_s"])]
    assert after and all(float(m["volume"]) > 0 and float(m["tempo_bpm"]) == pytest.approx(
        float(played[0]["tempo_bpm"])) for m in after)
    markers = (session / "markers.tsv").read_text(encoding="utf-8")
    assert f"track:{rows[1]['track_id']}:{rows[1]['reason']}" in markers
    assert not any(Path(r["path"]).is_absolute() for r in rows)


def test_a_playlist_session_is_deterministic(session, library_home, shared_eeg, tmp_path):
    again = _replay(library_home, shared_eeg, tmp_path / "again")
    for name in ("tracks.tsv", "music.tsv", "audio.wav"):
        assert (again / name).read_bytes() == (session / name).read_bytes(), name


def test_a_client_without_music_is_told_how_to_add_some(tmp_path, shared_eeg):
    done = run_cli("replay", str(shared_eeg / OPENBCI), "--preset", "iso-playlist", "--subject", "nobody",
                   "--duration", "20s", "--no-status", "--no-report", "--out", str(tmp_path),
                   env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert_one_line_error(done, "iso-playlist", "library add")
    assert not list(tmp_path.glob("sub-*"))


def test_a_preset_may_fix_the_tracks_an_arm_plays(library_home, monkeypatch, tmp_path):
    from neurofeed.session import playlist_tracks

    monkeypatch.setenv("NEUROFEED_HOME", str(library_home))
    text = load_preset("iso-playlist").path.read_text(encoding="utf-8")
    every = playlist_tracks(load_preset("iso-playlist"), SUBJECT)
    named = [every[3][0].track_id, every[0][0].title]
    path = tmp_path / "arm.toml"
    path.write_text(text.replace("tracks = []", f"tracks = {named!r}".replace("'", '"')), encoding="utf-8")
    chosen = playlist_tracks(load_preset(path), SUBJECT)
    assert [t.track_id for t, _ in chosen] == [every[0][0].track_id, every[3][0].track_id]
    path.write_text(text.replace("tracks = []", 'tracks = ["no such song"]'), encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="'no such song'"):
        playlist_tracks(load_preset(path), SUBJECT)


def test_a_palette_is_refused_for_the_clients_own_music(tmp_path, shared_eeg):
    done = run_cli("replay", str(shared_eeg / OPENBCI), "--preset", "iso-playlist", "--palette", "warm",
                   "--duration", "20s", "--no-status", "--out", str(tmp_path))
    assert_one_line_error(done, "--palette", "iso-playlist")


def _noise_track(path: Path, levels_db: list[tuple[float, float]], sr: int = 44100) -> Track:
    """Pink-ish noise at ``(seconds, dB)`` stretches, written to ``path``, with its true analysis."""
    import scipy.io.wavfile
    from scipy.signal import lfilter

    rng = np.random.default_rng(len(levels_db))
    parts = [lfilter([1.0], [1.0, -0.9], rng.standard_normal((round(s * sr), 2)), axis=0) * 10 ** (db / 20)
             for s, db in levels_db]
    x = np.concatenate(parts) * 0.02
    scipy.io.wavfile.write(path, sr, x.astype(np.float32))
    seconds = len(x) / sr
    beats = tuple(np.arange(1.0, seconds - 0.5, 1.0))
    analysis = TrackAnalysis(
        duration_s=seconds, sample_rate=sr, channels=2, tempo_bpm=60.0, beat_times_s=beats, key="C",
        quality="major", key_confidence=0.9, mode=None, valence=0.57,
        loudness_lufs=mk.integrated_loudness(x, sr), loudness_range_lu=1.0,
        true_peak_dbtp=mk.true_peak_dbfs(x, sr), brightness_hz=1000.0, brightness=0.4, arousal=0.2,
        start_s=beats[0], end_s=beats[-1])
    return Track(track_id=path.stem.ljust(16, "0")[:16], path=path.name, title=path.stem, size=1,
                 mtime_ns=1, analysis=analysis)


def test_a_crossfade_meets_a_quiet_ending_without_a_step(tmp_path):
    from neurofeed.synth.deck import MATCH_RETURN_DB_PER_S, MATCH_SPAN_S
    from neurofeed.synth.playlist import PlaylistEngine
    from neurofeed.synth.state import MusicState

    # The first track ends 5 dB under its first part; the second is even throughout.
    quiet_end = _noise_track(tmp_path / "a_quiet_end.wav", [(20.0, 0.0), (12.0, -5.0)])
    even = _noise_track(tmp_path / "b_even.wav", [(40.0, 0.0)])
    p = PlaylistPlan([quiet_end, even], replace(PLAYLIST_DEFAULTS, crossfade_s=4.0),
                     target_tempo_bpm=60.0, target_valence=0.55, fade_in_s=2.0)
    first = p.start(0.0, 60.0, 0.57, 0.2)
    assert first.track is quiet_end
    files = {quiet_end.track_id: tmp_path / "a_quiet_end.wav", even.track_id: tmp_path / "b_even.wav"}
    wav = tmp_path / "out.wav"
    with PlaylistEngine("offline", wav_path=wav, tracks=files, state=MusicState(volume=1.0)) as engine:
        engine.cue(first)
        engine.advance(first.handover_s - CUE_LEAD_S)
        second = p.step(engine.time_s)
        assert second.track is even
        engine.cue(second)
        engine.advance(second.start_s + 30.0 - engine.time_s)
    sr, x = mk.read_wav(wav)
    times, short = mk.short_term_loudness(x, sr)
    matched = [c.value for c in engine.score.changes if c.name == "track_match_db"]
    # Both play at the session's loudness, so the quiet end is about 3.5 dB under it (the
    # first part 1.5 dB over): the second track starts that much down to meet it.
    assert -4.5 < matched[1] < -2.5
    onset, fade = second.start_s, second.fade_s
    before = mk.integrated_loudness(x[round((onset - 3.0) * sr):round(onset * sr)], sr)
    after = mk.integrated_loudness(x[round((onset + fade) * sr):round((onset + fade + 3.0) * sr)], sr)
    assert abs(after - before) <= 1.0
    # and back to its own level gradually: under 1 LU in any second.
    around = (times > first.start_s + 6.0) & (times < second.start_s + 30.0)
    assert np.max(mk.largest_rise(times[around], short[around], within_s=1.0)) <= 1.0
    # Then back to its own level, at the stated rate.
    back_by = second.start_s + second.fade_s + MATCH_SPAN_S + abs(matched[1]) / MATCH_RETURN_DB_PER_S + 3.0
    level = short[(times > back_by) & (times < back_by + 5.0)]
    session_lufs = mk.integrated_loudness(x[round(back_by * sr):], sr)
    assert abs(np.median(level) - session_lufs) < 0.5 and abs(session_lufs - REFERENCE_LUFS) < 1.0


def test_the_status_line_names_the_track_playing():
    from neurofeed.cli._status import format_status
    from neurofeed.loop.status import HopStatus
    from neurofeed.protocol.mapping import ProtocolStep
    from neurofeed.synth.state import MusicState

    step = ProtocolStep(30.0, "training", MusicState(tempo_bpm=72.0), 1.0, 0.5, False, False, 0.2, 0.2)
    line = format_status(HopStatus(30.0, 60.0, step, 1.0, 0.0, 0.0, False, "on", track="Clair de lune"))
    assert "72.0 BPM" in line and "track: Clair de lune" in line
    assert "track:" not in format_status(HopStatus(30.0, 60.0, step, 1.0, 0.0, 0.0, False, "on"))


def test_a_track_outside_its_library_is_recorded_by_name_only():
    inside = fake_track(60.0, name="albums/calm")
    outside = fake_track(60.0, name="../../home/jane/Music/calm")
    assert inside.shared_path == "albums/calm.wav"
    assert outside.shared_path == "calm.wav"
    p = plan([outside])
    assert p.start(0.0, 60.0, 0.0, 0.3).to_row()["path"] == "calm.wav"


def test_entrainment_plays_under_a_track_at_carriers_for_its_key(library_home, tmp_path):
    from neurofeed.library import session_tracks
    from neurofeed.synth.entrainment import carrier_hz
    from neurofeed.synth.playlist import PlaylistEngine
    from neurofeed.synth.state import Entrainment, MusicState

    track, path = session_tracks(SUBJECT, library_home)[3]
    key, mode = track.analysis.key, track_mode(track)
    p = plan([track])
    cue = p.start(0.0, track.analysis.tempo_bpm, track.analysis.valence, track.analysis.arousal)
    state = MusicState(tempo_bpm=track.analysis.tempo_bpm, key=key, mode=mode,
                       entrainment=Entrainment("isochronic", 10.0, 0.5))
    wav = tmp_path / "entrained.wav"
    with PlaylistEngine("offline", wav_path=wav, tracks={track.track_id: path}, state=state) as engine:
        engine.cue(cue)
        engine.advance(20.0)
    sr, x = mk.read_wav(wav)
    music = x[round(12 * sr):round(20 * sr)]  # the track at level, with the pulses under it
    carrier = carrier_hz(key, mode, "isochronic")
    assert mk.isochronic_depth(music, sr, carrier, 10.0) >= 0.8
    assert mk.true_peak_dbfs(x, sr) <= -3.0
