"""A whole session: its folder, engine, outlets and loop, then finalising.

``neurofeed run``, ``replay`` and ``calibrate`` all come here. The order matters for
safety: the preset is validated and the source opened before any folder exists; the
recorder starts before the audio; and whatever ends the loop (the phases, the end of a
replay, Ctrl-C, a fault), the music fades out and the folder is finalised.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from neurofeed.bands import Baseline, FeatureExtractor
from neurofeed.bands.features import ASYMMETRY_PAIRS
from neurofeed.errors import AudioError, InvalidArgumentError
from neurofeed.finalise import finalise_session
from neurofeed.home import data_home, library_versions, session_folder, subject_dir
from neurofeed.loop import FEEDBACK_SOURCES, ClosedLoop, LoopResult, check_baseline, lsl_channels
from neurofeed.protocol import Preset, Protocol, preset_fields
from neurofeed.recorder import SessionRecorder

logger = logging.getLogger("neurofeed.session")

AUDIO_KINDS = ("auto", "portaudio", "jack", "wav", "none")
BASELINE_FILE = "baseline.json"


@dataclass(frozen=True)
class AudioChoice:
    """Where the music goes: a device (``auto``, ``portaudio``, ``jack``), a WAV file
    (``wav``, rendered in lockstep with the session), or nowhere (``none``)."""

    kind: str
    path: Path | None = None

    @classmethod
    def parse(cls, text: str) -> "AudioChoice":
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
    """A finished session: its folder, how the loop ended, and the audio it used."""

    folder: Path
    result: LoopResult
    audio: str


def stored_baseline_path(subject: str) -> Path:
    """The file of a subject's stored baseline under the data home."""
    return subject_dir(subject) / BASELINE_FILE


def run_session(source, preset: Preset, *, subject: str = "anonymous", out: Path | None = None,
                audio: AudioChoice = AudioChoice("auto"), seed: int = 0, hop_s: float = 0.1,
                baseline: Baseline | None = None, lsl_out: str | None = None, on_hop=None,
                calibrate: bool = False, regions: dict[str, list[str]] | None = None) -> SessionOutcome:
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
        A stored baseline to use instead of calibrating one.
    lsl_out : str or None
        Publish features, music and markers as LSL streams with this name prefix.
    on_hop : callable or None
        Receives a :class:`neurofeed.loop.HopStatus` after every hop.
    calibrate : bool
        A baseline-only session: store the calibrated baseline for the subject.
    regions : dict or None
        Channels of the ``posterior`` and ``frontal_midline`` regions, where the montage's
        names do not choose them (see :func:`neurofeed.bands.features.resolve_region`).
    """
    started = datetime.now(timezone.utc)
    with source:
        extractor = FeatureExtractor.from_info(source.info, hop_s=hop_s, regions=regions)
        feedback = FEEDBACK_SOURCES[preset.feedback.feature]
        if feedback == "faa" and extractor.settings["asymmetry_pair"] is None:
            names = source.info["ch_names"]
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise InvalidArgumentError(
                f"preset {preset.name!r} feeds back frontal alpha asymmetry, but the montage "
                f"({shown}) has none of the pairs "
                f"{', '.join('/'.join(pair) for pair in ASYMMETRY_PAIRS)}; choose another preset")
        if baseline is not None:
            baseline.check_settings(extractor.settings)
            check_baseline(baseline, feedback)
        folder = session_folder(out or data_home(), subject,
                                "calibrate" if calibrate else preset.name, started)
        meta = {"session_id": folder.name, "subject": subject, "preset": preset.name,
                "preset_config": preset_fields(preset), "kind": "calibrate" if calibrate else "session",
                "started_utc": started.isoformat(timespec="seconds"),
                "source": getattr(source, "description", {"kind": type(source).__name__}),
                "seed": seed, "hop_s": hop_s, "clock": _clock_label(source.speed),
                "baseline": "stored" if baseline is not None else "calibrated in session",
                "estimator": extractor.settings, "versions": library_versions()}
        with SessionRecorder(folder, source.info, meta) as recorder:
            try:
                with contextlib.ExitStack() as audio_stack:
                    engine, audio_used = _start_engine(audio_stack, audio, folder, seed,
                                                       virtual=source.speed == "max")
                    recorder.update_metadata(audio=audio_used)
                    outlets = None
                    if lsl_out:
                        from neurofeed.publish import SessionOutlets

                        outlets = audio_stack.enter_context(
                            SessionOutlets(lsl_out, lsl_channels(), 1.0 / hop_s, folder.name))
                    loop = ClosedLoop(source, Protocol(preset), recorder, engine=engine,
                                      extractor=extractor, hop_s=hop_s, baseline=baseline, subject=subject, outlets=outlets,
                                      on_hop=on_hop)
                    result = loop.run()
                loop.record_score()  # the engine has faded out and stopped: its last notes
                if calibrate:
                    result.baseline = loop.finish_baseline()
                    result.baseline.save(_mkdirs(stored_baseline_path(subject)))
                if result.baseline is not None:
                    result.baseline.save(folder / BASELINE_FILE)
                recorder.update_metadata(**_summary(result, source))
            except BaseException:
                # Whatever went wrong, what was recorded is finalised (as recover would).
                recorder.close()
                with contextlib.suppress(Exception):
                    finalise_session(folder)
                raise
    finalise_session(folder)
    _store_summary(folder)
    return SessionOutcome(folder, result, audio_used)


def _clock_label(speed: float | str) -> str:
    """session.json's ``clock`` for a source's speed: ``virtual`` (replay at max),
    ``real time``, or ``Nx real time`` (a faster replay)."""
    if speed == "max":
        return "virtual"
    return "real time" if speed == 1.0 else f"{speed:g}x real time"


def _store_summary(folder: Path) -> None:
    """Put the report's summary (one definition of every number) into session.json."""
    from neurofeed.finalise import read_session_json
    from neurofeed.recorder import write_json
    from neurofeed.report import session_summary

    meta = read_session_json(folder)
    meta["summary"] = session_summary(folder).to_dict()
    write_json(folder / "session.json", meta)


def _mkdirs(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _start_engine(stack: contextlib.ExitStack, audio: AudioChoice, folder: Path, seed: int, *,
                  virtual: bool):
    """Start the engine the choice asks for; return ``(engine or None, what was used)``."""
    if audio.kind == "none":
        return None, "none"
    from neurofeed.synth import Engine

    if virtual and audio.kind != "wav":
        raise InvalidArgumentError(f"--audio {audio.kind} needs real time; a replay at max "
                                   "speed renders to a WAV (--audio wav:PATH) or none")
    if audio.kind != "wav":
        try:
            engine = stack.enter_context(Engine(audio.kind, seed=seed))
            return engine, engine.backend
        except AudioError as err:
            if audio.kind != "auto":
                raise
            logger.warning("no audio device (%s); rendering the music to the session folder", err)
    wav = audio.path or folder / "audio.wav"
    engine = stack.enter_context(Engine("manual", seed=seed, wav_path=wav))
    return engine, f"wav:{wav}"


def _summary(result: LoopResult, source) -> dict:
    """How the loop ended and what the source delivered (the report's summary comes later)."""
    return {"ended": result.ended, "n_hops": result.n_hops, "n_windows": result.n_windows,
            "n_estimates": result.n_estimates, "session_time_s": round(result.duration_s, 3),
            "audio_lost": result.audio_lost,
            "source_stats": {"n_samples": source.n_samples, "n_nonfinite": source.n_nonfinite,
                             "n_dropped": source.n_dropped, "n_stalls": len(source.gaps)}}
