"""The report of a playlist session lines the client's tracks up with the EEG.

One real session (conftest's ``playlist_session``): the engine's 12 rendered tracks in a
client's library, the OpenBCI sample replayed through ``iso-playlist`` by the CLI, which
writes the report.
The numbers are checked against tracks.tsv and features.tsv read here on their own.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from neurofeed.protocol.playlist import REASONS
from neurofeed.report.tracks import read_tracks, relative_path, summarise_playlist


@pytest.fixture(scope="module")
def session(playlist_session) -> Path:
    """A finalised playlist session folder, with the report its replay wrote."""
    return playlist_session


def _tsv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _played(folder: Path) -> tuple[list[dict], list[tuple[float, float]], float]:
    """tracks.tsv's rows that played, each one's (start, end) in session s, and the session's end."""
    end = json.loads((folder / "session.json").read_text())["summary"]["duration_s"]
    rows = [r for r in _tsv(folder / "tracks.tsv") if float(r["onset_s"]) < end]
    stops = [float(r["onset_s"]) + float(r["fade_s"]) for r in rows[1:]] + [end]
    return rows, [(float(r["onset_s"]), min(stop, end)) for r, stop in zip(rows, stops)], end


def _table(page: str, first_header: str) -> list[list[str]]:
    """The body cells of the page's table whose first header is ``first_header``."""
    table = re.search(rf"<table><thead><tr><th>{re.escape(first_header)}</th>.*?</table>", page).group(0)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]]


def test_the_report_tables_each_track_as_it_played(session):
    rows, spans, _ = _played(session)
    assert rows[0]["reason"] == "match" and {r["reason"] for r in rows[1:]} <= set(REASONS[1:])
    page = (session / "report" / "report.html").read_text(encoding="utf-8")
    cells = _table(page, "#")
    assert len(cells) == len(rows)
    for i, (cell, row, (start, stop)) in enumerate(zip(cells, rows, spans)):
        number, onset, played, title, tempo, key, mode, reason, followed, rating, _, path = cell
        minutes, seconds = divmod(round(start), 60)
        assert (number, onset, title, key, mode, reason, rating, path) == (
            str(i + 1), f"{minutes}:{seconds:02d}", row["title"], f"{row['key']} {row['quality']}",
            row["mode"], row["reason"], row["rating"], row["path"])
        assert float(played) == pytest.approx(stop - start, abs=0.05)
        assert float(tempo) == pytest.approx(float(row["tempo_bpm"]), abs=0.05)
        assert followed == f"{100 * float(row['followed']):.0f}%"
    # The figure that lines the tracks up with the EEG is on the page and beside it.
    assert '<figure id="fig-tracks"><img src="data:image/png;base64,' in page
    assert (session / "report" / "tracks.png").stat().st_size > 10_000


def test_the_summary_carries_each_tracks_mean_z_and_the_walk(session, library_renders):
    rows, spans, end = _played(session)
    features = _tsv(session / "features.tsv")
    times = np.array([float(r["time_s"]) for r in features])
    z = np.array([float(r["feedback_z"]) if r["estimate"] == "1" and r["feedback_z"] != "n/a" else np.nan
                  for r in features])
    # A track is the louder from the middle of its crossfade in (the first from its onset).
    louder = [spans[0][0], *(min(float(r["onset_s"]) + float(r["fade_s"]) / 2, end) for r in rows[1:]), end]
    summary = json.loads((session / "report" / "summary.json").read_text())
    assert json.loads((session / "session.json").read_text())["summary"]["playlist"] == summary["playlist"]
    tracks = summary["playlist"]["tracks"]
    assert [t["track_id"] for t in tracks] == [r["track_id"] for r in rows]
    n_means = 0
    for track, start, stop in zip(tracks, louder, louder[1:]):
        values = z[(times >= start) & (times < stop) & np.isfinite(z)]
        if values.size:
            assert track["mean_z"] == pytest.approx(values.mean(), rel=1e-9)
            n_means += 1
        else:
            assert track["mean_z"] is None
    assert n_means >= 2
    for track, (start, stop) in zip(tracks, spans):
        assert (track["onset_s"], track["end_s"]) == pytest.approx((start, stop))
    reasons = summary["playlist"]["reasons"]
    assert reasons == {reason: sum(r["reason"] == reason for r in rows)
                       for reason in ("match", "step", "hold", "repeat")}
    assert summary["playlist"]["tempo_start_bpm"] == pytest.approx(float(rows[0]["tempo_bpm"]))
    assert summary["playlist"]["tempo_end_bpm"] == pytest.approx(float(rows[-1]["tempo_bpm"]))
    assert summary["playlist"]["n_offered"] == len(library_renders)
    different = len({r["track_id"] for r in rows})
    assert summary["playlist"]["n_different"] == different
    assert (f"{len(rows)} tracks played, {different} different of the {len(library_renders)} offered "
            f"({reasons['match']} match, {reasons['step']} step") in summary["headline"]


def test_the_report_names_tracks_only_by_title_and_library_path(session, library_renders):
    library = str(library_renders[0][0].parent)
    for path in (session / "report").iterdir():
        assert path.suffix in (".html", ".png", ".json"), path  # no audio of the library
        if path.suffix != ".png":
            assert library not in path.read_text(encoding="utf-8")


def test_tracks_are_clipped_to_the_session_and_absolute_paths_reduced():
    def row(onset, fade, reason, path="a/b.wav"):
        return {"onset_s": onset, "fade_s": fade, "reason": reason, "track_id": reason, "path": path,
                "title": reason, "tempo_bpm": 60.0}

    rows = [row(0.0, 4.0, "match"), row(20.0, 6.0, "step"), row(38.0, 2.0, "hold"), row(40.0, 2.0, "repeat")]
    times = np.arange(0.0, 40.0, 0.5)
    summary = summarise_playlist(rows, [{}] * 5, 39.0, times, times.copy())
    # The row starting at the end never played; the one before is cut at the end.
    assert [(t.onset_s, t.end_s, t.played_s) for t in summary.tracks] == [
        (0.0, 26.0, 26.0), (20.0, 39.0, 19.0), (38.0, 39.0, 1.0)]
    assert [(t.louder_from_s, t.louder_to_s) for t in summary.tracks] == [
        (0.0, 23.0), (23.0, 39.0), (39.0, 39.0)]
    assert [t.mean_z for t in summary.tracks] == [pytest.approx(11.25), pytest.approx(30.75), None]
    assert summary.reasons == {"match": 1, "step": 1, "hold": 1, "repeat": 0}
    assert relative_path("/home/someone/Music/a.flac") == "a.flac"
    assert relative_path("C:\\Users\\someone\\a.mp3") == "a.mp3"
    assert relative_path("albums/a.ogg") == "albums/a.ogg"


def test_a_damaged_tracks_table_is_one_line(tmp_path):
    from neurofeed.errors import SessionFolderError

    (tmp_path / "tracks.tsv").write_text("onset_s\tfade_s\treason\ttrack_id\tpath\ttitle\ttempo_bpm\n"
                                         "ten\t1\tmatch\tx\ta.wav\tA\t60\n", encoding="utf-8")
    with pytest.raises(SessionFolderError, match="onset_s 'ten' is not a number"):
        read_tracks(tmp_path)
    (tmp_path / "tracks.tsv").write_text("onset_s\treason\n1\tmatch\n", encoding="utf-8")
    with pytest.raises(SessionFolderError, match="no column fade_s, track_id"):
        read_tracks(tmp_path)
    assert read_tracks(tmp_path / "absent") == []


def test_the_report_renders_in_a_browser(session, tmp_path):
    from test_report_browser import CHROMIUM, _loaded_dom

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package 'chromium')")
    body = _loaded_dom(tmp_path, session / "report" / "report.html")
    assert "data-errors" not in body
    # features, phases, music, tracks and spectra; no latency on a replay's synthetic clock.
    assert body["data-images-total"] == body["data-images-loaded"] == "5"


def test_other_sessions_have_no_playlist_numbers(tmp_path):
    from _session_fixture import write_session

    from neurofeed.report import session_summary

    summary = session_summary(write_session(tmp_path))
    assert summary.playlist is None
    assert "playlist" not in summary.to_dict() and "tracks played" not in summary.headline()
