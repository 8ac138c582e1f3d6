"""A whole session: its folder, engine, outlets and loop, then finalising.

``neurofeed run``, ``replay`` and ``calibrate`` all come here, and ``record`` (a session
without music) shares the folder's life cycle, :func:`recording`. The order matters for
safety: the preset is validated and the source opened before any folder exists; the
recorder starts before the audio; and whatever ends the loop (the phases, the end of a
replay, Ctrl-C, SIGTERM, SIGHUP, a full disk, a fault), the music fades out and the
folder is finalised.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neurofeed import signals
from neurofeed.bands import Baseline, FeatureExtractor
from neurofeed.bands.features import ASYMMETRY_PAIRS
from neurofeed.errors import AudioError, InvalidArgumentError
from neurofeed.finalise import finalise_session
from neurofeed.folder import AUDIO_FILE, BASELINE_FILE, PLAYLIST_FILE, write_json
from neurofeed.home import library_versions, make_home, session_folder, subject_dir
from neurofeed.loop import ClosedLoop, LoopResult, lsl_channels
from neurofeed.loop.calibrator import baseline_means, baseline_shortfall
from neurofeed.protocol import Preset, Protocol, preset_fields
from neurofeed.recorder import SessionRecorder
from neurofeed.registry import FEEDBACK, REGIONS

logger = logging.getLogger("neurofeed.session")

#: Estimator settings that depend on the preset and the defaults only, not on the source:
#: a stored baseline is checked against them before any source opens.
_SOURCELESS_SETTINGS = ("bands", "total", "window", "detrend", "iaf_range_hz", "iaf_tau_s",
                        "min_peak_ratio")
#: What to do about a stored baseline that cannot serve.
_STORED_ADVICE = ("run with --fresh-baseline to calibrate one in this session, or run "
                  "'neurofeed calibrate' again")


@dataclass(frozen=True)
class AudioChoice:
    """Where the music goes: a device (``auto``, ``portaudio``, ``jack``), a WAV file
    (``wav``, rendered in lockstep with the session), or nowhere (``none``)."""

    kind: str
    path: Path | None = None

    @classmethod
    def parse(cls, text: str) -> AudioChoice:
        """Parse ``auto``, ``portaudio``, ``jack``, ``none`` or ``wav:PATH``."""
        kind, sep, path = str(text).partition(":")
        if kind == "wav" and sep and path:
            return cls("wav", Path(path))
        if kind in ("auto", "portaudio", "jack", "none") and not sep:
            return cls(kind)
        raise InvalidArgumentError(f"--audio {text!r} is not accepted; accepted: "
                                   "auto, portaudio, jack, wav:PATH, none")


@dataclass
class SessionOutcome:
    """A finished session: its folder, how the loop ended, the audio it used, and why a
    calibration stored no baseline."""

    folder: Path
    result: LoopResult
    audio: str
    #: Why a calibration stopped early stored no baseline (None: it stored one, or the
    #: session was no calibration).
    baseline_not_stored: str | None = None


def stored_baseline_path(subject: str) -> Path:
    """The file of a subject's stored baseline under the data home."""
    return subject_dir(subject) / BASELINE_FILE


def check_stored_baseline(baseline: Baseline, preset: Preset, path: Path | None = None,
                          settings: dict | None = None) -> None:
    """Raise unless a stored baseline can serve a session of ``preset``.

    Without ``settings`` (before any source opens), the baseline is checked against the
    preset's feedback feature and the estimator settings that do not depend on the source;
    with them (the source's extractor's :attr:`~neurofeed.bands.FeatureExtractor.settings`),
    against every setting, its channels included.

    Parameters
    ----------
    baseline : Baseline
        The stored baseline.
    preset : Preset
        The session's preset.
    path : Path or None
        The baseline's file, named in the message.
    settings : dict or None
        The session's estimator settings, once the source is open.

    Raises
    ------
    InvalidArgumentError
        Naming the file and saying what to do (``--fresh-baseline``, or ``neurofeed
        calibrate`` again): a baseline made by an older version or with other settings.
    """
    what = f"the stored baseline {path}" if path is not None else "the stored baseline"
    if settings is None:
        settings = FeatureExtractor(["Cz"], 250.0).settings
        keys = _SOURCELESS_SETTINGS
    else:
        keys = sorted(set(baseline.settings) | set(settings))
    differing = [key for key in keys if baseline.settings.get(key) != settings.get(key)]
    if differing:
        shown = "; ".join(f"{key}: baseline {baseline.settings.get(key)!r}, now {settings.get(key)!r}"
                          for key in differing)
        raise InvalidArgumentError(f"{what} was made with other settings ({shown}); {_STORED_ADVICE}")
    feature = FEEDBACK[preset.feedback.feature]
    if feature.key not in baseline.stats:
        raise InvalidArgumentError(
            f"{what} has no values of {feature.key}, which preset {preset.name!r} feeds back: it "
            f"was made by an older version of neurofeed or with other settings; {_STORED_ADVICE}")
    why = baseline_shortfall(baseline, feature.key)
    if why is not None:
        raise InvalidArgumentError(f"{what} cannot serve ({why}); {_STORED_ADVICE}")


def run_session(source, preset: Preset, *, subject: str = "anonymous", out: Path | None = None,
                audio: AudioChoice = AudioChoice("auto"), seed: int = 0, hop_s: float = 0.1,
                baseline: Baseline | None = None, lsl_out: str | None = None, on_hop=None,
                calibrate: bool = False, regions: dict[str, list[str]] | None = None,
                baseline_file: Path | None = None, ear_check: bool = True,
                tracks: list | None = None, pre_ratings: dict | None = None) -> SessionOutcome:
    """Run one session and return where it went.

    Parameters
    ----------
    source : neurofeed.acquire.Source
        An unopened source; the session opens and closes it. Its ``speed`` sets the clock:
        a replay at ``"max"`` runs on the virtual clock, at N on the recording's time.
    preset : Preset
        The protocol, with phases already fitted (:func:`neurofeed.protocol.fit_phases`).
    subject : str
        The subject's identifier.
    out : Path or None
        Where the session folder goes; default the data home.
    audio : AudioChoice
        Where the music goes. With the virtual clock it must be ``wav`` or ``none``.
    seed : int
        Seeds the music; with a replay on the virtual clock the session is then
        deterministic.
    hop_s : float
        Seconds per hop.
    baseline : Baseline or None
        A stored baseline to use instead of calibrating one (see
        :func:`check_stored_baseline`, which can check it before the source is built).
    lsl_out : str or None
        Publish features, music and markers as LSL streams with this name prefix.
    on_hop : callable or None
        Receives a :class:`neurofeed.loop.HopStatus` after every hop.
    calibrate : bool
        A baseline-only session: store the calibrated baseline for the subject.
    regions : dict or None
        Channels of the ``posterior`` and ``frontal_midline`` regions, where the montage's
        names do not choose them (see :func:`neurofeed.bands.features.resolve_region`).
    baseline_file : Path or None
        The stored baseline's file, named when it cannot serve.
    ear_check : bool
        Start a binaural preset's music with the left/right headphone check
        (:data:`neurofeed.synth.entrainment.EAR_CHECK_S` seconds); other presets have none.
    tracks : list or None
        A playlist preset's tracks, ``(Track, file)`` each (:func:`playlist_tracks`, which
        finds them for ``subject`` when None); a calibration plays none.
    pre_ratings : dict or None
        The client's ratings before the session (``run --ratings``), kept in session.json
        from its start (``ratings_pre``).
    """
    # A playlist's tracks are checked before the source opens: a client without music is bad input.
    if tracks is None and not calibrate:
        tracks = playlist_tracks(preset, subject)
    with source:
        extractor = FeatureExtractor.from_info(source.info, hop_s=hop_s, regions=regions)
        fed_back = FEEDBACK[preset.feedback.feature]
        feedback = fed_back.key
        # A region that fell back is never silent: said before the session starts (and kept
        # in session.json's estimator, which the status line and the report show).
        for region in fed_back.regions:
            fallback = extractor.settings["region_fallbacks"].get(region)
            if fallback:
                logger.warning("%s region: %s", REGIONS[region][0], fallback)
        if feedback == "faa" and extractor.settings["asymmetry_pair"] is None:
            names = source.info["ch_names"]
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise InvalidArgumentError(
                f"preset {preset.name!r} feeds back frontal alpha asymmetry, but the montage "
                f"({shown}) has none of the pairs "
                f"{', '.join('/'.join(pair) for pair in ASYMMETRY_PAIRS)}; choose another preset")
        if baseline is not None:  # its channels need the source
            check_stored_baseline(baseline, preset, baseline_file, extractor.settings)
        label = "calibrate" if calibrate else preset.name
        meta = {"preset": preset.name, "preset_config": preset_fields(preset),
                "kind": "calibrate" if calibrate else "session", "seed": seed, "hop_s": hop_s,
                "clock": _clock_label(source.speed),
                "baseline": "stored" if baseline is not None else "calibrated in session",
                "estimator": extractor.settings, **({"ratings_pre": pre_ratings} if pre_ratings else {})}
        with recording(source, subject=subject, label=label, out=out, **meta) as recorder:
            folder = recorder.folder
            protocol = Protocol(preset, [track for track, _ in tracks] if tracks else None)
            if tracks:
                write_json(folder / PLAYLIST_FILE, _playlist_record(tracks))
            if baseline is not None:
                protocol.calibrate(baseline_means(baseline))
            binaural = preset.entrainment.kind == "binaural"
            if tracks:
                music = {"tracks": {track.track_id: path for track, path in tracks}}
            else:
                music = {"palette": preset.music.palette}
            with contextlib.ExitStack() as audio_stack:
                # The first beat plays the first hop's music: no lurch from a default state.
                engine, audio_used = _start_engine(
                    audio_stack, audio, folder, virtual=source.speed == "max", seed=seed,
                    state=protocol.first_state(), loudness_lufs=preset.music.loudness_lufs,
                    ear_check=ear_check and binaural, **music)
                if engine is not None:
                    _warn_about_entrainment(preset)
                recorder.update_metadata(audio=audio_used)
                outlets = None
                if lsl_out:
                    from neurofeed.publish import SessionOutlets

                    outlets = audio_stack.enter_context(
                        SessionOutlets(lsl_out, lsl_channels(), 1.0 / hop_s))
                loop = ClosedLoop(source, protocol, recorder, engine=engine,
                                  extractor=extractor, hop_s=hop_s, baseline=baseline, subject=subject,
                                  outlets=outlets, on_hop=on_hop)
                result = loop.run()
                # Whatever remains is the stopping itself (fade-out, last notes, baseline):
                # a signal now is remembered for the exit status, not raised.
                with signals.deferred():
                    audio_stack.close()
                    not_stored = _finish(loop, result, recorder, source, calibrate=calibrate,
                                         subject=subject)
    return SessionOutcome(folder, result, audio_used, not_stored)


def playlist_tracks(preset: Preset, subject: str) -> list:
    """A playlist preset's tracks for ``subject``, each ``(Track, file)``; [] for other kinds.

    Raises
    ------
    InvalidArgumentError
        When the client and the clinic have no track to play, or a track's file is gone
        (naming it, and how to mend the library).
    """
    if preset.playlist is None:
        return []
    from neurofeed.library import session_tracks

    tracks = session_tracks(subject)
    if preset.playlist.tracks and tracks:
        tracks = _named_tracks(tracks, preset.playlist.tracks, preset.name)
    if not tracks:
        raise InvalidArgumentError(
            f"preset {preset.name!r} plays the client's own music, but neither subject {subject!r} nor "
            "the clinic has a music library; add tracks with 'neurofeed library add PATH... "
            f"--subject {subject}'")
    for track, path in tracks:
        if not path.is_file():
            raise InvalidArgumentError(
                f"track {track.track_id} ({track.path}) of the music library is missing at {path}; "
                f"add it again with 'neurofeed library add' or take it out with 'neurofeed library "
                f"remove {track.track_id}'")
    return tracks


def _named_tracks(tracks: list, names: tuple[str, ...], preset: str) -> list:
    """The tracks a preset's ``[playlist].tracks`` names, by id, title or path, in library order."""
    chosen, missing = [], []
    for name in names:
        found = [(t, p) for t, p in tracks if name in (t.track_id, t.title, t.path)]
        chosen += found
        missing += [] if found else [name]
    if missing:
        raise InvalidArgumentError(
            f"preset {preset!r} names tracks the client's and the clinic's libraries do not hold: "
            f"{', '.join(map(repr, missing[:5]))}{' ...' if len(missing) > 5 else ''}; accepted: a track "
            "id, title or path from 'neurofeed library list'")
    return sorted(dict.fromkeys(chosen), key=lambda tp: tracks.index(tp))


def _playlist_record(tracks: list) -> dict:
    """``playlist.json``: what the session may play, as the library analysed it (no audio,
    paths relative to their library, or the file's name: ``Track.shared_path``)."""
    return {"tracks": [{"track_id": track.track_id, "path": track.shared_path, "title": track.title,
                        "rating": track.rating, "analysis": track.analysis.to_dict()}
                       for track, _ in tracks]}


def _finish(loop: ClosedLoop, result: LoopResult, recorder: SessionRecorder, source, *,
            calibrate: bool, subject: str) -> str | None:
    """After the engine stopped: record its last notes, store the baseline, and the summary.

    Returns why a calibration stopped before it had enough windows stored no baseline
    (None otherwise): a stop is not a failure, and its folder is kept. A calibration that
    ran its course without enough windows is one (the InvalidArgumentError is raised).
    """
    loop.record_score()
    not_stored = None
    if calibrate:
        why = loop.state.calibrator.shortfall()
        if why is not None and result.ended == "interrupted":
            not_stored = f"the recording was too short ({why})"
        else:  # raises, with its advice, when the calibration ran its course too short
            result.baseline = loop.finish_baseline()
            result.baseline.save(_mkdirs(stored_baseline_path(subject)))
    if result.baseline is not None:
        result.baseline.save(recorder.folder / BASELINE_FILE)
    recorder.update_metadata(**_summary(result, source),
                             **({"baseline_not_stored": not_stored} if not_stored else {}))
    return not_stored


@contextlib.contextmanager
def recording(source, *, subject: str, label: str, out: Path | None = None,
              **fields) -> Iterator[SessionRecorder]:
    """Record into a new session folder, finalised however the block ends.

    The folder is ``sub-<subject>_<date>_<label>`` under ``out`` (default the data home,
    created readable by its owner only). Its ``session.json`` starts with the subject,
    start time, source, library versions and ``fields``.

    Whatever ends the block (its end, Ctrl-C or another stop signal, a full disk, a
    fault), the recorder is closed and the folder finalised as ``neurofeed recover``
    would. A stop signal during that is remembered, not raised. When the block failed,
    a failure while finalising (the same full disk, the folder gone) is suppressed, so
    that the first error is the one reported; the folder is left for ``neurofeed recover``.
    A block that failed before the first sample leaves no folder.

    Parameters
    ----------
    source : neurofeed.acquire.Source
        The open source: its channels, and its description for session.json.
    subject : str
        The subject's identifier.
    label : str
        The last part of the folder's name: the preset, ``calibrate`` or ``record``.
    out : Path or None
        The parent of the session folder.
    **fields
        More of session.json (kind, preset, configuration).

    Yields
    ------
    recorder : neurofeed.recorder.SessionRecorder
        Appends to the folder; ``recorder.folder`` is where it is.
    """
    started = datetime.now(UTC)
    folder = session_folder(make_home(out), subject, label, started)
    meta = {"session_id": folder.name, "subject": subject, **fields,
            "started_utc": started.isoformat(timespec="seconds"), "source": _stored_description(source),
            "versions": library_versions()}
    recorder = SessionRecorder(folder, source.info, meta)
    try:
        yield recorder
    except BaseException:
        with signals.deferred():
            with contextlib.suppress(Exception):
                recorder.close()
            with contextlib.suppress(Exception):
                if recorder.n_samples:
                    finalise_session(folder)
                else:  # the audio failed to start, a stop before the first sample: no folder
                    shutil.rmtree(folder)
        raise
    with signals.deferred():
        recorder.close()
        finalise_session(folder)


def _stored_description(source) -> dict:
    """The source's description for session.json (the sources already name a file by its
    name only, see :attr:`neurofeed.acquire.Source.description`)."""
    return dict(getattr(source, "description", None) or {"kind": type(source).__name__})


def _clock_label(speed: float | str) -> str:
    """session.json's ``clock`` for a source's speed: ``virtual`` (replay at max),
    ``real time``, or ``Nx real time`` (a faster replay)."""
    if speed == "max":
        return "virtual"
    return "real time" if speed == 1.0 else f"{speed:g}x real time"


def store_summary(folder: Path) -> None:
    """Put the report's summary (one definition of every number) into session.json.

    Part of the report, not of the session: a failure here leaves the session as it is.
    """
    from neurofeed.folder import SESSION_FILE, read_session_json
    from neurofeed.report import session_summary

    meta = read_session_json(folder)
    meta["summary"] = session_summary(folder).to_dict()
    write_json(folder / SESSION_FILE, meta)


def _warn_about_entrainment(preset: Preset) -> None:
    """Say that binaural beats need headphones, and where the music may mask the entrainment
    in a mode the preset can reach."""
    from neurofeed.synth.entrainment import entrainment_warning
    from neurofeed.synth.state import Entrainment
    from neurofeed.synth.theory import MODES, mode_from_valence

    spec = preset.entrainment
    if spec.kind == "off":
        return
    if spec.kind == "binaural":
        logger.warning("preset %r plays binaural beats: they need headphones (stereo, left and "
                       "right the right way round), at a comfortable level", preset.name)
    low, high = sorted(preset.music.valence)
    modes = MODES[MODES.index(mode_from_valence(high)):MODES.index(mode_from_valence(low)) + 1]
    entrainment = Entrainment(spec.kind, spec.frequency_hz, spec.level)
    for warning in dict.fromkeys(entrainment_warning(preset.music.key, mode, entrainment)
                                 for mode in modes):
        if warning:
            logger.warning("%s", warning)


def _mkdirs(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _start_engine(stack: contextlib.ExitStack, audio: AudioChoice, folder: Path, *, virtual: bool,
                  **settings):
    """Start the engine the choice asks for; return ``(engine or None, what was used)``.

    ``settings`` are :class:`neurofeed.synth.Engine`'s (seed, state, palette, ...), or with
    ``tracks``, :class:`neurofeed.synth.playlist.PlaylistEngine`'s.
    """
    if audio.kind == "none":
        return None, "none"
    if "tracks" in settings:
        from neurofeed.synth.playlist import PlaylistEngine as Engine
    else:
        from neurofeed.synth import Engine

    if virtual and audio.kind != "wav":
        raise InvalidArgumentError(f"--audio {audio.kind} needs real time; a replay at max "
                                   "speed renders to a WAV (--audio wav:PATH) or none")
    if audio.kind != "wav":
        try:
            engine = stack.enter_context(Engine(audio.kind, **settings))
            return engine, engine.backend
        except AudioError as err:
            if audio.kind != "auto":
                raise
            logger.warning("no audio device (%s); rendering the music to the session folder", err)
    wav = audio.path or folder / AUDIO_FILE
    engine = stack.enter_context(Engine("manual", wav_path=wav, **settings))
    # session.json stores paths by name only (docs/privacy.md): audio.wav in the folder,
    # else the file's name; the engine writes to the full path.
    return engine, f"wav:{_stored_name(wav, folder)}"


def _stored_name(path: Path, folder: Path) -> str:
    """``path`` relative to the session folder when it is inside it, else its name only."""
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _summary(result: LoopResult, source) -> dict:
    """How the loop ended and what the source delivered (the report's summary comes later)."""
    return {"ended": result.ended, "n_hops": result.n_hops, "n_windows": result.n_windows,
            "n_estimates": result.n_estimates, "n_artifact_windows": result.n_artifact_windows,
            "session_time_s": round(result.duration_s, 3),
            "audio_lost": result.audio_lost, "signal_lost_s": round(result.signal_lost_s, 3),
            "source_stats": {"n_samples": source.n_samples, "n_nonfinite": source.n_nonfinite,
                             "n_dropped": source.n_dropped, "n_stalls": len(source.gaps)}}
