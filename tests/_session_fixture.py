"""Write a realistic, finalised session folder, as ``neurofeed run``/``replay`` would.

Until the closed loop writes real folders in tests, this stands in for it: synthetic EEG
with a known posterior alpha rise in training, every table per docs/session-folder.md,
the real protocol (:class:`neurofeed.protocol.Protocol`) driving the music, then
:func:`neurofeed.finalise.finalise_session`.

The EEG, in volts: pink background noise (about 8 µV RMS); 10 Hz alpha of 5 µV on the
posterior channels (a third of that elsewhere), multiplied by ``alpha_gain`` in training
(with a 3 s ramp) and by half that gain in cool-down; 6 Hz theta of 3 µV on the frontal
channels; 150 µV blinks on Fp1/Fp2 every 7 s; a 1.5 s electrode pop in training that
flattens four posterior channels (no estimate there); a 2 s muscle burst on F3/F4 in
cool-down. Artifact flags mark the windows overlapping the injected events.

Band powers use the estimator's band edges (:data:`neurofeed.bands.DEFAULT_BANDS`) and
the columns are the registry's (:mod:`neurofeed.registry`). A session can also be cut
short as Ctrl-C or a crash leaves it (``stop_s``), carry markers, and name a source
that is not EEG.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np
from scipy.signal import welch

from neurofeed.bands import DEFAULT_BANDS, DEFAULT_TOTAL, ArtifactThresholds, Band
from neurofeed.finalise import finalise_session
from neurofeed.folder import FEATURES_FILE
from neurofeed.home import library_versions, session_folder
from neurofeed.protocol import Protocol, load_preset, preset_fields
from neurofeed.protocol.presets import Phases
from neurofeed.recorder import SessionRecorder
from neurofeed.registry import FEATURES, FEEDBACK

CHANNELS = ["Fp1", "Fp2", "F3", "F4", "Fz", "C3", "C4", "Cz", "P3", "P4", "Pz", "O1", "O2"]
POSTERIOR = ["P3", "P4", "Pz", "O1", "O2"]
FRONTAL = ["F3", "F4", "Fz"]
SFREQ = 250.0
HOP_S = 0.1
WINDOW_S = 2.0
LSL_T0 = 5000.0
#: Phase durations of the short test sessions, in seconds.
PHASES_S = (10.0, 30.0, 10.0)
BLINK_PERIOD_S, BLINK_S = 7.0, 0.3
POP = (24.0, 25.5, ["P3", "P4", "Pz", "O1"])       # start s, end s, channels (flat)
MUSCLE = (43.0, 45.0, ["F3", "F4"])                # start s, end s, channels
MIN_GOOD_POSTERIOR = 2


def _pink(rng, n_channels: int, n: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal((n_channels, n)), axis=1)
    freqs = np.fft.rfftfreq(n, 1 / SFREQ)
    spectrum *= 1 / np.sqrt(np.maximum(freqs, 1.0))
    noise = np.fft.irfft(spectrum, n, axis=1)
    return noise / noise.std(axis=1, keepdims=True) * 8e-6


def _alpha_envelope(t: np.ndarray, gain: float) -> np.ndarray:
    baseline_s, training_s, _ = PHASES_S
    ramp_in = np.clip((t - baseline_s) / 3.0, 0, 1)
    ramp_out = np.clip((t - baseline_s - training_s) / 3.0, 0, 1)
    training_gain = 1 + (gain - 1) * ramp_in
    return training_gain + (1 + (gain - 1) / 2 - training_gain) * ramp_out


def synthesise_eeg(alpha_gain: float, seed: int) -> np.ndarray:
    """EEG in volts, shape (channels, samples), as the module docstring describes."""
    rng = np.random.default_rng(seed)
    n = round(sum(PHASES_S) * SFREQ)
    t = np.arange(n) / SFREQ
    data = _pink(rng, len(CHANNELS), n)
    weight = np.array([1.0 if ch in POSTERIOR else 1 / 3 for ch in CHANNELS])[:, None]
    phase_jitter = np.cumsum(rng.normal(0, 0.02, n))  # real alpha drifts in phase
    data += weight * 5e-6 * _alpha_envelope(t, alpha_gain) * np.sin(2 * np.pi * 10 * t + phase_jitter)
    frontal = np.array([ch in FRONTAL for ch in CHANNELS])
    data[frontal] += 3e-6 * np.sin(2 * np.pi * 6 * t)
    blink = np.sin(np.pi * np.arange(int(BLINK_S * SFREQ)) / (BLINK_S * SFREQ)) * 150e-6
    for onset in np.arange(3.0, t[-1] - BLINK_S, BLINK_PERIOD_S):
        i = int(onset * SFREQ)
        data[:2, i:i + blink.size] += blink
    start, stop, names = POP
    data[[CHANNELS.index(c) for c in names], int(start * SFREQ):int(stop * SFREQ)] = 0.0
    start, stop, names = MUSCLE
    rows, span = [CHANNELS.index(c) for c in names], slice(int(start * SFREQ), int(stop * SFREQ))
    data[rows, span] += rng.normal(0, 20e-6, (len(rows), span.stop - span.start))
    return data


def _artifact_flags(window_start: float, window_end: float) -> dict[str, str]:
    flags = {ch: [] for ch in CHANNELS}
    for onset in np.arange(3.0, sum(PHASES_S), BLINK_PERIOD_S):
        if onset < window_end and onset + BLINK_S > window_start:
            flags["Fp1"].append("amplitude")
            flags["Fp2"].append("amplitude")
    for (start, stop, names), flag in ((POP, "flat"), (MUSCLE, "muscle")):
        if start < window_end and window_start < stop:
            for ch in names:
                flags[ch].append(flag)
    return {ch: "+".join(f) or "ok" for ch, f in flags.items()}


def _band_power(psd: np.ndarray, freqs: np.ndarray, band) -> np.ndarray:
    inside = (freqs >= band.lo_hz) & (freqs < band.hi_hz)
    return psd[..., inside].sum(axis=-1) * (freqs[1] - freqs[0])


def compute_features(data: np.ndarray, hop_times: np.ndarray) -> list[dict]:
    """Raw features and artifact flags of each hop's window (the last WINDOW_S seconds)."""
    n_window = int(WINDOW_S * SFREQ)
    ends = np.round(hop_times * SFREQ).astype(int)
    windows = np.stack([data[:, e - n_window:e] for e in ends])
    freqs, psd = welch(windows, SFREQ, nperseg=int(SFREQ), axis=-1)
    alpha, theta, beta = (_band_power(psd, freqs, DEFAULT_BANDS[name]) for name in ("alpha", "theta", "beta"))
    total = _band_power(psd, freqs, DEFAULT_TOTAL)
    rewarded = _band_power(psd, freqs, Band("rewarded", *ArtifactThresholds().excluded_hz))
    rows = []
    for k, time_s in enumerate(hop_times):
        flags = _artifact_flags(time_s - WINDOW_S, time_s)
        good = np.array([flags[ch] == "ok" for ch in CHANNELS])
        post = good & np.isin(CHANNELS, POSTERIOR)
        front = good & np.isin(CHANNELS, FRONTAL)
        row = {"flags": flags, "n_bad": int((~good).sum())}
        if post.sum() < MIN_GOOD_POSTERIOR or not front.any():
            row["reason"] = f"too few good posterior channels ({int(post.sum())} of {len(POSTERIOR)})"
            rows.append(row)
            continue
        a, th = alpha[k, post].mean(), theta[k, front].mean()
        f3, f4 = CHANNELS.index("F3"), CHANNELS.index("F4")
        peak_band = (freqs >= 7) & (freqs <= 14)
        live = np.array(["flat" not in flags[ch] for ch in CHANNELS])
        # as the estimator: log relative power and the alpha/theta ratio per good channel,
        # broadband power outside the rewarded band over the channels that are not dead
        row.update(alpha_lnrel_posterior=float(np.log(alpha[k, post] / total[k, post]).mean()),
                   theta_lnrel_frontal=float(np.log(theta[k, front] / total[k, front]).mean()),
                   alpha_posterior_v2=a, theta_frontal_v2=th,
                   alpha_rel_posterior=a / total[k, post].mean(),
                   theta_rel_frontal=th / total[k, front].mean(),
                   alpha_theta_ratio=float(np.exp(np.log(alpha[k, post] / theta[k, post]).mean())),
                   frontal_asymmetry=float(np.log(alpha[k, f4]) - np.log(alpha[k, f3])),
                   alpha_peak_hz=float(freqs[peak_band][np.argmax(psd[k, post][:, peak_band].mean(0))]),
                   beta_alpha_ratio=beta[k, post].mean() / a,
                   broadband_v2=float((total[k, live] - rewarded[k, live]).mean()))
        rows.append(row)
    return rows


#: The features with baseline z-scores, and their raw columns.
Z_COLUMNS = {name: spec.column for name, spec in FEEDBACK.items()}
RAW_COLUMNS = tuple(spec.column for spec in FEATURES)


def write_session(out: Path, *, subject: str = "S01", alpha_gain: float = 1.6, seed: int = 0,
                  preset: str = "relax-alpha",
                  started: datetime = datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
                  stop_s: float | None = None, markers=(), signal: str | None = None) -> Path:
    """Write one finalised session folder under ``out`` and return its path.

    Parameters
    ----------
    out : Path
        Parent folder (as ``neurofeed run --out``).
    alpha_gain : float
        Posterior alpha amplitude in training relative to baseline (power rises by
        about its square, diluted by the background).
    seed : int
        Seed of the synthetic EEG and latencies.
    preset : str
        A built-in preset; its phases are shortened to :data:`PHASES_S`.
    started : datetime
        Wall-clock start (UTC), which names the folder and orders sessions.
    stop_s : float, optional
        Stop the session at this session time, as Ctrl-C or a crash does: EEG ends there,
        the last hop's music, artifacts and latency rows are written but not its features
        row, features.tsv ends in a torn line, and there is no ``phase:done``.
    markers : sequence of (float, str)
        More markers: session time in seconds, and description.
    signal : str, optional
        The source's ``signal`` (what it sends when it is not EEG).
    """
    spec = dataclasses.replace(load_preset(preset), phases=Phases(*PHASES_S))
    folder = session_folder(out, subject, spec.name, started)
    rng = np.random.default_rng(seed + 1000)
    data = synthesise_eeg(alpha_gain, seed)
    end_s = sum(PHASES_S) if stop_s is None else stop_s
    n_hops = round((sum(PHASES_S) - WINDOW_S) / HOP_S)
    hop_times = np.round(WINDOW_S + HOP_S * np.arange(n_hops), 6)
    rows = compute_features(data, hop_times)
    protocol = Protocol(spec)
    in_baseline = [protocol.phase_at(t) == "baseline" and "reason" not in r for t, r in zip(hop_times, rows)]
    stats = {}
    for name, column in Z_COLUMNS.items():
        values = np.array([r[column] for r, b in zip(rows, in_baseline) if b])
        stats[name] = (values.mean(), values.std(ddof=1))

    meta = {"session_id": folder.name, "kind": "session", "subject": subject, "preset": spec.name,
            "preset_config": preset_fields(spec), "started_utc": started.isoformat(),
            "source": {"kind": "file", "file": "/data/synthetic-alpha_raw.fif", "channels": CHANNELS,
                       "rate": SFREQ},
            "audio": {"backend": "none"}, "seed": seed, "hop_s": HOP_S, "versions": library_versions(),
            "estimator": {"posterior": POSTERIOR, "frontal_midline": FRONTAL, "asymmetry_pair": ["F3", "F4"]}}
    if signal is not None:
        meta["source"]["signal"] = signal
    if stop_s is not None:
        meta["ended"] = "interrupted"  # as the session writes it on Ctrl-C or a stop signal
    n_samples = round(end_s * SFREQ)
    info = mne.create_info(CHANNELS, SFREQ, "eeg")
    with SessionRecorder(folder, info, meta) as recorder:
        phase, sent = None, 0
        for onset, description in markers:
            recorder.write_marker(LSL_T0 + onset, 0.0, description)
        for time_s, row in zip(hop_times[hop_times <= end_s], rows):
            due = round(time_s * SFREQ)
            recorder.write_eeg(data[:, sent:due], LSL_T0 + np.arange(sent, due) / SFREQ)
            sent = due
            z = {name: (row[column] - stats[name][0]) / stats[name][1] if "reason" not in row else None
                 for name, column in Z_COLUMNS.items()}
            step = protocol.step(float(time_s), z[spec.feedback.feature])
            if step.phase != phase:
                start = {"baseline": 0.0, "training": PHASES_S[0], "cooldown": sum(PHASES_S[:2])}[step.phase]
                recorder.write_marker(LSL_T0 + start, 0.0, f"phase:{step.phase}")
                phase = step.phase
            estimate = "reason" not in row
            baseline = step.phase == "baseline"
            if stop_s is None or time_s != hop_times[hop_times <= end_s][-1]:  # a stop's last: no features
                recorder.write_row("features", {
                    "time_s": float(time_s), "lsl_time_s": LSL_T0 + float(time_s), "phase": step.phase,
                    "estimate": int(estimate), "reason": row.get("reason"),
                    **{c: float(row[c]) if estimate else None for c in RAW_COLUMNS},
                    **{f"{name}_z": None if baseline or z[name] is None else float(z[name])
                       for name in Z_COLUMNS},
                    "feedback_z": step.feature_z, "score": step.score, "reward": int(step.reward),
                    "held": int(step.held), "progress": step.progress, "n_bad_channels": row["n_bad"]})
            state = step.state
            recorder.write_row("music", {
                "time_s": float(time_s), "tempo_bpm": state.tempo_bpm, "key": state.key, "mode": state.mode,
                "intensity": state.intensity, "brightness": state.brightness,
                "entrainment_kind": state.entrainment.kind, "entrainment_hz": state.entrainment.frequency_hz,
                "entrainment_level": state.entrainment.level, "volume": state.volume})
            recorder.write_row("artifacts", {"time_s": float(time_s), **row["flags"]})
            to_estimate = 0.002 + rng.gamma(4.0, 0.0015)
            to_engine = to_estimate + 0.001 + rng.gamma(2.0, 0.0005)
            newest = LSL_T0 + (due - 1) / SFREQ
            recorder.write_row("latency", {
                "time_s": float(time_s), "newest_sample_lsl_s": newest,
                "estimate_ready_lsl_s": newest + to_estimate, "engine_applied_lsl_s": newest + to_engine,
                "sample_to_estimate_s": to_estimate, "sample_to_engine_s": to_engine})
        recorder.write_eeg(data[:, sent:n_samples], LSL_T0 + np.arange(sent, n_samples) / SFREQ)
        if stop_s is None:
            recorder.write_marker(LSL_T0 + sum(PHASES_S), 0.0, "phase:done")
    if stop_s is not None:
        with open(folder / FEATURES_FILE, "a", encoding="utf-8") as features:
            features.write(f"{stop_s}\t{LSL_T0 + stop_s}\tbasel")  # cut mid-row: no line end
    finalise_session(folder)
    return folder
