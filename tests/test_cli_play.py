"""``neurofeed play`` run as a user runs it, in a subprocess, judged by the files it writes.

A crash of the audio library (pyo's PortAudio boot segfaults with no sound device) then shows
up as a return code of -11 in one test, not as a dead test run.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import mido
import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal as sg
from _cli import assert_one_line_error, run_cli
from musickit import peak_hz

from neurofeed.synth import Engine
from neurofeed.synth.entrainment import carrier_hz
from neurofeed.synth.theory import KEYS, scale

DURATION_S = 8.0
CEILING_DBFS = -3.0  # play's default --ceiling
SUMMARY = re.compile(r"^played (?P<music>\d+\.\d) s \+ (?P<fade>\d+\.\d) s fade-out, (?P<notes>\d+) notes, "
                     r"(?P<key>\w+) (?P<mode>\w+) at (?P<bpm>[\d.]+) BPM on the (?P<palette>\w+) palette "
                     r"-> (?P<wav>\S+), "
                     r"score -> (?P<midi>\S+)$")


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """The sampling rate and the audio as float (n, 2) in [-1, 1]."""
    sr, data = scipy.io.wavfile.read(path)
    assert data.dtype == np.int32  # 24-bit PCM, left-aligned in int32 by scipy
    return sr, data.astype(np.float64) / 2 ** 31


@pytest.fixture(scope="module")
def dorian(tmp_path_factory):
    """One render of the issue's example, with its WAV, MIDI and printed summary."""
    folder = tmp_path_factory.mktemp("play")
    result = run_cli("play", "--tempo", "64", "--key", "D", "--mode", "dorian", "--intensity", "0.5",
                     "--entrainment", "binaural:6", "--duration", f"{DURATION_S:g}",
                     "--wav", "out.wav", "--midi", "out.mid", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder, result


def engine_timing() -> tuple[int, float, int]:
    """Block size, fade-out (s) and output latency (samples) of an Engine built as play builds it."""
    defaults = inspect.signature(Engine).parameters
    with Engine("manual", voices=(), fade_in_s=0.0, fade_out_s=0.0) as engine:
        latency = round(engine.output_latency_s * engine.sample_rate)
    return defaults["buffer_size"].default, defaults["fade_out_s"].default, latency


# -- a render ----------------------------------------------------------------------------------

def test_play_writes_a_24_bit_stereo_wav_as_long_as_music_plus_fade(dorian):
    folder, _ = dorian
    with wave.open(str(folder / "out.wav")) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 44100, 3)
        frames = w.getnframes()
    block, fade_out_s, latency = engine_timing()
    # The engine stops by fading out for fade_out_s, run on past the limiter's look-ahead by two
    # blocks so that the file ends on silence; the last block is whole.
    expected = (DURATION_S + fade_out_s) * 44100 + latency + 2 * block
    assert 0 <= frames - expected < block, (frames, expected)
    sr, x = read_wav(folder / "out.wav")
    assert np.abs(x[-block:]).max() == 0.0
    # Music, not silence, up to the requested duration, and much quieter near the fade's end.
    before_fade = np.sqrt(np.mean(x[int((DURATION_S - 1) * sr):int(DURATION_S * sr)] ** 2))
    fade_end = np.sqrt(np.mean(
        x[int((DURATION_S + fade_out_s - 0.2) * sr):int((DURATION_S + fade_out_s) * sr)] ** 2))
    assert before_fade > 10 ** (-40 / 20)
    assert fade_end < 0.1 * before_fade


def test_play_output_stays_under_the_ceiling(dorian):
    folder, _ = dorian
    _, x = read_wav(folder / "out.wav")
    peak_dbfs = 20 * np.log10(np.abs(x).max())
    assert peak_dbfs <= CEILING_DBFS + 1e-4, peak_dbfs  # one 24-bit step is 2e-6 dB at -3 dBFS


def test_play_midi_has_the_tempo_key_and_notes_of_d_dorian(dorian):
    folder, result = dorian
    midi = mido.MidiFile(folder / "out.mid")
    messages = [m for track in midi.tracks for m in track]
    tempi = [mido.tempo2bpm(m.tempo) for m in messages if m.type == "set_tempo"]
    assert tempi == [pytest.approx(64.0, abs=1e-9)]
    # score.py writes the major key that shares the mode's notes (D dorian: C major, no accidentals).
    parent = next(k for k in KEYS if set(scale(k, "ionian")) == set(scale("D", "dorian")))
    assert parent == "C"
    assert {m.key for m in messages if m.type == "key_signature"} == {parent}
    note_ons = [m for m in messages if m.type == "note_on" and m.velocity > 0]
    assert note_ons
    assert {m.note % 12 for m in note_ons} <= set(scale("D", "dorian"))
    summary = SUMMARY.match(result.stdout.strip())
    assert summary is not None, result.stdout
    assert int(summary["notes"]) == len(note_ons)


def test_play_summary_reports_the_music_and_the_fade_separately(dorian):
    _folder, result = dorian
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    summary = SUMMARY.match(lines[0])
    assert summary is not None, lines[0]
    _, fade_out_s, _ = engine_timing()
    assert float(summary["music"]) == DURATION_S  # not music plus fade, as it used to say
    assert float(summary["fade"]) == fade_out_s
    assert (summary["key"], summary["mode"], float(summary["bpm"])) == ("D", "dorian", 64.0)
    assert (summary["wav"], summary["midi"]) == ("out.wav", "out.mid")
    assert result.stderr.strip() == ""


def test_play_isochronic_envelope_pulses_at_5_hz(tmp_path):
    f, duration = 5.0, 24.0
    result = run_cli("play", "--tempo", "64", "--key", "G", "--entrainment", f"isochronic:{f:g}",
                     "--entrainment-level", "0.6", "--duration", f"{duration:g}", "--wav", "iso.wav",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sr, x = read_wav(tmp_path / "iso.wav")
    mono = x[int(3.5 * sr):int(duration * sr)].mean(axis=1)  # into the fade-in, before the fade-out
    # Under the music: isolate the carrier (in a gap between the music's partials of G Dorian,
    # play's default mode) with its first sidebands, take its envelope.
    carrier = carrier_hz("G", "dorian", "isochronic")
    sos = sg.butter(4, [carrier - 8, carrier + 8], btype="bandpass", fs=sr, output="sos")
    envelope = np.abs(sg.hilbert(sg.sosfiltfilt(sos, mono)))
    assert abs(peak_hz(envelope - envelope.mean(), sr, 2, 40) - f) <= 0.05


# -- bad input -----------------------------------------------------------------------------------

BAD_INPUT = [
    (["--tempo", "500"], ["--tempo", "[40, 120] BPM", "500"]),
    (["--tempo", "abc"], ["--tempo", "'abc'"]),
    (["--key", "H"], ["--key", "'H'", "C, Db, D, Eb"]),
    (["--mode", "foo"],
     ["--mode", "'foo'", "lydian, ionian, mixolydian, dorian, aeolian, phrygian, locrian"]),
    (["--entrainment", "binaural:abc"],
     ["--entrainment", "'abc'", "0.5 to 40 Hz", "binaural:HZ, isochronic:HZ"]),
    (["--entrainment", "wobble:6"], ["--entrainment", "'wobble:6'", "off, binaural:HZ, isochronic:HZ"]),
    (["--duration", "0"], ["--duration", "up to 4h"]),
    (["--ceiling", "0"], ["--ceiling", "[-60, -1] dBFS"]),
    (["--voices", "pad,kazoo"], ["--voices", "'kazoo'", "pad, melody, bass, pulse"]),
    (["--palette", "organ"], ["--palette='organ'", "accepted: warm, ambient, drone"]),
    (["--loudness", "-5"], ["--loudness", "[-30, -14] LUFS"]),
]


@pytest.mark.parametrize("args, fragments", BAD_INPUT, ids=[" ".join(args) for args, _ in BAD_INPUT])
def test_play_rejects_bad_input_in_one_line_naming_the_flag(tmp_path, args, fragments):
    result = run_cli("play", "--duration", "1", "--wav", "out.wav", *args, cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert result.stdout == ""
    assert not (tmp_path / "out.wav").exists()


def test_play_rejects_a_wav_in_a_folder_that_cannot_exist(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    result = run_cli("play", "--duration", "1", "--wav", "notes.txt/renders/out.wav", cwd=tmp_path)
    assert_one_line_error(result, "--wav", "'notes.txt/renders/out.wav'",
                          "'notes.txt' is a file, not a folder")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux's /proc, where no one may create files")
def test_play_rejects_a_wav_in_an_unwritable_folder(tmp_path):
    # /proc refuses new files even to root, for whom a chmod-ed folder would still be writable.
    result = run_cli("play", "--duration", "1", "--wav", "/proc/neurofeed-test/out.wav", cwd=tmp_path)
    assert_one_line_error(result, "--wav", "'/proc/neurofeed-test/out.wav'", "cannot be written",
                          "a file in a folder you can write to")


def test_play_rejects_a_wav_that_is_a_folder_or_not_a_wav(tmp_path):
    (tmp_path / "take.wav").mkdir()
    assert_one_line_error(run_cli("play", "--duration", "1", "--wav", "take.wav", cwd=tmp_path),
                          "--wav", "'take.wav'", "not a folder")
    # pyo picks the format by suffix and could not open a .flac: it wrote nothing and play said it had.
    assert_one_line_error(run_cli("play", "--duration", "1", "--wav", "take.flac", cwd=tmp_path),
                          "--wav", "'take.flac'", "ending in .wav")
    assert not (tmp_path / "take.flac").exists()


def test_play_checks_the_midi_path_before_rendering(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    result = run_cli("play", "--duration", "1", "--wav", "out.wav", "--midi", "notes.txt/out.mid",
                     cwd=tmp_path)
    assert_one_line_error(result, "--midi", "'notes.txt' is a file, not a folder")
    assert not (tmp_path / "out.wav").exists()


def test_play_makes_a_missing_output_folder(tmp_path):
    """Like ``record --out`` and the engine itself, a folder that does not exist yet is made."""
    result = run_cli("play", "--duration", "1", "--wav", "new/out.wav", "--midi", "new/out.mid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "out.wav").stat().st_size > 44
    assert len(mido.MidiFile(tmp_path / "new" / "out.mid").tracks) == 5


# -- no sound device -----------------------------------------------------------------------------

# No JACK server can answer to this name, and libjack must not start one.
NO_JACK = {"JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": f"neurofeed-test-absent-{os.getpid()}"}
ENV = {**os.environ, "PYO_GUI_WX": "0", "OPENBLAS_NUM_THREADS": "1", **NO_JACK}


@pytest.fixture(scope="module")
def no_sound_device():
    """Skip unless PortAudio finds no output device here (asked in a subprocess, which cannot crash us).

    Hiding a real device is not possible from the environment: an empty or partial
    ALSA_CONFIG_PATH makes PortAudio's own device scan abort (measured, SIGABRT).
    """
    probe = subprocess.run([sys.executable, "-c", "from neurofeed.synth.devices import portaudio_outputs; "
                            "print(len(portaudio_outputs()))"], capture_output=True, text=True, env=ENV,
                           timeout=60)
    assert probe.returncode == 0, (probe.returncode, probe.stderr)
    if int(probe.stdout.split()[-1]) > 0:
        pytest.skip("this machine has a PortAudio output device, so the no-device path cannot run here")


@pytest.mark.parametrize("backend", ["portaudio", "auto"])
def test_play_without_a_sound_device_fails_cleanly(no_sound_device, tmp_path, backend):
    result = run_cli("play", "--backend", backend, "--duration", "1", env=NO_JACK, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, (result.returncode, result.stderr)  # a segfault would be -11
    fragments = {"portaudio": ["no audio output device", "PortAudio finds none", "JACK server", "WAV file"],
                 "auto": ["no audio output", "no JACK server", "PortAudio finds no output device",
                          "WAV file"]}
    assert_one_line_error(result, *fragments[backend])
    assert result.stdout == ""


ENGINE_SCRIPT = """
import sys
from neurofeed.synth import Engine

try:
    with Engine(sys.argv[1]) as engine:
        print("started", engine.backend)
except Exception as err:
    print(f"{type(err).__module__}.{type(err).__qualname__}")
    print(err)
# The failed start released the engine: this process can still render.
with Engine("offline", wav_path=sys.argv[2], fade_in_s=0.0, fade_out_s=0.0) as engine:
    engine.advance(0.5)
print("rendered", engine.time_s)
"""


@pytest.mark.parametrize("backend", ["portaudio", "auto"])
def test_engine_without_a_sound_device_raises_audio_error(no_sound_device, tmp_path, backend):
    result = subprocess.run([sys.executable, "-c", ENGINE_SCRIPT, backend, str(tmp_path / "after.wav")],
                            capture_output=True, text=True, env=ENV, timeout=60)
    assert result.returncode == 0, (result.returncode, result.stderr)  # a segfault would be -11
    kind, message, rendered = result.stdout.strip().splitlines()
    assert kind == "neurofeed.errors.AudioError"
    expected = {"portaudio": "no audio output device: PortAudio finds none on this machine; start a JACK "
                             "server (the jack backend), or render to a WAV file",
                "auto": "no audio output: no JACK server is running and PortAudio finds no output device; "
                        "render to a WAV file"}
    assert message == expected[backend]
    assert rendered.startswith("rendered 0.5")

