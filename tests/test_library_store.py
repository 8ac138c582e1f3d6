"""The music library on disk: incremental adds, moves, ratings, relative paths, bad files, and
what a client's session may play."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import soundfile

from neurofeed.errors import InvalidArgumentError
from neurofeed.library import LIBRARY_FILE, Library, library_folder, session_tracks
from neurofeed.library import store as store_module

SR = 22050


def write_track(path, bpm: float, seconds: float = 16.0, seed: int = 0, level: float = 0.3):
    """A stereo WAV of decaying noise bursts on each beat at ``bpm`` (what any analysis can read)."""
    rng = np.random.default_rng(seed)
    x = 1e-3 * rng.standard_normal(round(seconds * SR))
    n = round(0.05 * SR)
    burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.01 * SR))
    for t in np.arange(0.5, seconds - 0.1, 60.0 / bpm):
        x[round(t * SR):round(t * SR) + n] += level * burst
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.column_stack([x, x]), SR)
    return path


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def music(tmp_path):
    folder = tmp_path / "music"
    for i, bpm in enumerate((60, 72, 90)):
        write_track(folder / f"album/track{i}.wav", bpm, seed=i)
    return folder


def added(home, paths, subject=None, **kwargs):
    library = Library.open(subject, home)
    report = library.add(paths, jobs=1, **kwargs)
    library.save()
    return library, report


def test_a_rerun_analyses_only_what_changed(home, music):
    library, report = added(home, [music])
    assert len(report.added) == 3 and not report.failed
    assert (library_folder(None, home) / LIBRARY_FILE).is_file()

    _, again = added(home, [music])
    assert (len(again.added), len(again.updated), len(again.unchanged)) == (0, 0, 3)

    touched = music / "album/track0.wav"
    os.utime(touched, ns=(10 ** 18, 10 ** 18))
    library, after_touch = added(home, [music])
    assert (len(after_touch.added), len(after_touch.updated), len(after_touch.unchanged)) == (0, 0, 3)
    assert library.find("track0").mtime_ns == 10 ** 18  # the fast path next time

    write_track(touched, 120, seed=9)
    library, after_edit = added(home, [music])
    assert [t.title for t in after_edit.updated] == ["track0"] and len(after_edit.unchanged) == 2
    assert library.find("track0").analysis.tempo_bpm == pytest.approx(120, rel=0.02)
    assert len(library.tracks) == 3


def test_a_newer_analysis_version_re_analyses(home, music, monkeypatch):
    added(home, [music])
    monkeypatch.setattr(store_module, "ANALYSIS_VERSION", store_module.ANALYSIS_VERSION + 1)
    _, report = added(home, [music])
    assert len(report.updated) == 3


def test_paths_are_relative_to_the_library_and_resolve_to_the_files(home, music):
    library, _ = added(home, [music])
    for track in library.tracks:
        assert not os.path.isabs(track.path) and "\\" not in track.path
        assert library.resolve(track) == (music / "album" / f"{track.title}.wav").absolute()
    stored = (library.folder / LIBRARY_FILE).read_text()
    assert str(music) not in stored  # no absolute path of the client's music is written


def test_a_moved_file_keeps_its_id_and_rating(home, music):
    library, _ = added(home, [music], subject="S01")
    before = library.rate("track1", "liked")
    library.save()
    moved = music / "elsewhere" / "renamed.wav"
    moved.parent.mkdir()
    shutil.move(music / "album/track1.wav", moved)
    library, report = added(home, [music], subject="S01")
    assert [t.track_id for t in report.updated] == [before.track_id] and not report.added
    track = library.find(before.track_id)
    assert (track.rating, track.title, track.path) == ("liked", "renamed", library._relative(moved))
    assert len(library.tracks) == 3


def test_find_remove_and_rate(home, music):
    library, _ = added(home, [music])
    track = library.find("track2")
    assert library.find(track.track_id[:6]) == track == library.find(track.path)
    with pytest.raises(InvalidArgumentError, match="did you mean track"):
        library.find("track")
    with pytest.raises(InvalidArgumentError, match="not in the clinic's library"):
        library.find(track.track_id[:5])  # a prefix under 6 digits names nothing
    with pytest.raises(InvalidArgumentError, match="rating="):
        library.rate("track2", "loved")
    assert library.remove("track2") == track
    library.save()
    assert [t.title for t in Library.open(None, home).tracks] == ["track0", "track1"]
    assert (music / "album/track2.wav").is_file()  # the file is left alone


def test_session_tracks_merge_the_clients_and_the_clinics(home, music, tmp_path):
    added(home, [music / "album/track0.wav", music / "album/track1.wav"])
    own = write_track(tmp_path / "own/favourite.wav", 80, seed=5)
    client, _ = added(home, [own, music / "album/track1.wav"], subject="S01")
    client.rate("track0", "disliked")  # a clinic track, rated for this client
    client.rate("favourite", "liked")
    client.save()
    assert Library.open(None, home).find("track0").rating == "neutral"  # the clinic's stays as it was

    tracks = dict((t.title, (t, path)) for t, path in session_tracks("S01", home))
    assert sorted(tracks) == ["favourite", "track0", "track1"]
    assert tracks["track0"][0].rating == "disliked" and tracks["favourite"][0].rating == "liked"
    assert tracks["track1"][1] == client.resolve(client.find("track1"))  # the client's entry wins
    assert all(path.is_file() for _, path in tracks.values())
    assert sorted(t.title for t, _ in session_tracks(None, home)) == ["track0", "track1"]
    assert session_tracks("S02", tmp_path / "empty-home") == []


def test_bad_files_each_get_a_reason_and_never_stop_the_others(home, music, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    good = write_track(bad / "good.wav", 66)
    truncated = write_track(bad / "truncated.wav", 66, seconds=20)
    truncated.write_bytes(truncated.read_bytes()[:30])  # cut inside the header
    (bad / "text.wav").write_text("not audio at all\n")
    soundfile.write(bad / "silent.wav", np.zeros((20 * SR, 2)), SR)
    write_track(bad / "short.wav", 66, seconds=5)
    (bad / "notes.xyz").write_text("x")
    (bad / "empty").mkdir()
    paths = [good, truncated, bad / "text.wav", bad / "silent.wav", bad / "short.wav", bad / "notes.xyz",
             bad / "empty", bad / "missing.wav"]
    library = Library.open(None, home)
    report = library.add(paths, jobs=2)
    reasons = dict(report.failed)
    assert [t.title for t in report.added] == ["good"]
    assert "does not decode" in reasons[str(truncated)]
    assert "does not decode" in reasons[str(bad / "text.wav")]
    assert reasons[str(bad / "silent.wav")].startswith("silent")
    assert reasons[str(bad / "short.wav")].startswith("too short")
    assert reasons[str(bad / "notes.xyz")].startswith("unsupported format '.xyz'")
    assert reasons[str(bad / "empty")].startswith("a folder with no audio files")
    assert reasons[str(bad / "missing.wav")] == "not found"
    assert all("\n" not in reason for reason in reasons.values())
    assert len(reasons) == len(paths) - 1


def test_an_unreadable_file_gets_its_reason(home, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root (as CI does): permission bits do not stop root reading a file")
    locked = write_track(tmp_path / "locked.wav", 66)
    locked.chmod(0)
    good = write_track(tmp_path / "good.wav", 66)
    report = Library.open(None, home).add([locked, good], jobs=1)
    assert dict(report.failed)[str(locked)].startswith("unreadable")
    assert [t.title for t in report.added] == ["good"]


def test_a_damaged_library_file_is_one_line(home):
    folder = library_folder(None, home)
    folder.mkdir(parents=True)
    (folder / LIBRARY_FILE).write_text("{not json")
    with pytest.raises(InvalidArgumentError, match="cannot be read"):
        Library.open(None, home)
