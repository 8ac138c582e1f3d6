"""``neurofeed play``: play or render the music with fixed parameters, no EEG."""

from __future__ import annotations

import argparse
import sys

from neurofeed import signals
from neurofeed._check import check_option, check_range, check_writable_file
from neurofeed.cli import example_epilog
from neurofeed.cli._options import parse_duration
from neurofeed.errors import AudioError, InvalidArgumentError

# A WAV file no longer than its header holds no audio.
_WAV_HEADER_BYTES = 44


def register(subparsers) -> None:
    from neurofeed.cli._session_args import add_palette_argument
    from neurofeed.synth.engine import FADE_IN_S
    from neurofeed.synth.master import MAX_CEILING_DBFS, MIN_CEILING_DBFS
    from neurofeed.synth.palettes import DEFAULT_PALETTE, LOUDNESS_RANGE_LUFS, REFERENCE_LUFS
    from neurofeed.synth.state import RANGES
    from neurofeed.synth.theory import KEYS, MODES

    parser = subparsers.add_parser(
        "play", help="play or render the music with fixed parameters (no EEG)",
        description="Audition the music engine with fixed parameters: through the sound card "
                    "(JACK if a server runs, else PortAudio), or rendered to a WAV file as fast "
                    "as possible with --wav. --midi also writes the score as a MIDI file. "
                    "Ctrl-C fades out and stops early.",
        epilog=example_epilog(
            "neurofeed play --tempo 64 --key D --mode dorian --intensity 0.5 --entrainment binaural:6 "
            "--duration 30",
            "neurofeed play --tempo 50 --mode aeolian --entrainment isochronic:5 --duration 60s "
            "--wav theta.wav",
            "neurofeed play --duration 20 --wav calm.wav --midi calm.mid --seed 3",
            "neurofeed play --palette drone --duration 60"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    low, high, _ = RANGES["tempo_bpm"]
    parser.add_argument("--tempo", type=float, default=64.0, metavar="BPM",
                        help=f"beats per minute ({low:g}-{high:g}; default 64)")
    parser.add_argument("--key", default="C", metavar="KEY", help=f"tonic: {', '.join(KEYS)} (default C)")
    parser.add_argument("--mode", default="dorian", metavar="MODE",
                        help=f"from bright to dark: {', '.join(MODES)} (default dorian)")
    parser.add_argument("--intensity", type=float, default=0.5, metavar="X",
                        help="loudness and note density, 0-1 (default 0.5)")
    parser.add_argument("--brightness", type=float, default=0.5, metavar="X",
                        help="timbre, dark 0 to bright 1 (default 0.5)")
    parser.add_argument("--entrainment", default="off", metavar="KIND[:HZ]",
                        help="off, binaural:HZ (headphones) or isochronic:HZ (default off)")
    parser.add_argument("--entrainment-level", type=float, default=0.3, metavar="X",
                        help="entrainment loudness relative to the music, 0-1 (default 0.3)")
    parser.add_argument("--volume", type=float, default=0.8, metavar="X",
                        help="master volume, 0-1 (default 0.8)")
    parser.add_argument("--duration", default="30", metavar="T",
                        help="music before the fade-out, e.g. 30, 90s or 20m (at most 4h; default 30s)")
    parser.add_argument("--wav", metavar="PATH",
                        help="render to this WAV file (24-bit) as fast as possible instead of playing")
    parser.add_argument("--midi", metavar="PATH", help="also write the notes played as a MIDI file")
    parser.add_argument("--fade-in", type=float, default=FADE_IN_S, metavar="S",
                        help=f"fade-in in seconds (default {FADE_IN_S:g}; short for test tracks that must "
                             "be at level from their first bars)")
    parser.add_argument("--seed", type=int, default=0, help="seed for chords and melody (default 0)")
    parser.add_argument("--voices", default="pad,melody,bass,pulse", metavar="LIST",
                        help="comma-separated voices to play (default pad,melody,bass,pulse)")
    parser.add_argument("--backend", default="auto", choices=["auto", "jack", "portaudio"],
                        help="real-time output when not rendering (default auto: JACK, then PortAudio)")
    parser.add_argument("--device", type=int, metavar="N",
                        help="PortAudio output device (see 'neurofeed devices')")
    add_palette_argument(parser, DEFAULT_PALETTE)
    low, high = LOUDNESS_RANGE_LUFS
    parser.add_argument("--loudness", type=float, default=REFERENCE_LUFS, metavar="LUFS",
                        help=f"integrated loudness (ITU-R BS.1770) at intensity 0.5 and volume 1, "
                             f"{low:g} to {high:g} (default {REFERENCE_LUFS:g})")
    parser.add_argument("--ceiling", type=float, default=-3.0, metavar="DBFS",
                        help=f"hard output ceiling in dBFS, {MIN_CEILING_DBFS:g} to {MAX_CEILING_DBFS:g} "
                             "(default -3)")
    parser.set_defaults(func=run, command="play")


def _not_accepted(flag: str, value, accepted: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{flag} {value!r} is not accepted; accepted: {accepted}")


def _state_from_args(args):
    from neurofeed.synth.state import RANGES, Entrainment, MusicState
    from neurofeed.synth.theory import KEYS, MODES, normalise_key

    for flag, field in (("--tempo", "tempo_bpm"), ("--intensity", "intensity"),
                        ("--brightness", "brightness"), ("--volume", "volume"),
                        ("--entrainment-level", "entrainment_level")):
        low, high, unit = RANGES[field]
        check_range(flag, getattr(args, flag[2:].replace("-", "_")), low, high, unit=unit)
    try:
        key = normalise_key(args.key)
    except InvalidArgumentError:
        raise _not_accepted("--key", args.key, f"{', '.join(KEYS)} (or a sharp or flat such as C#)") from None
    mode = check_option("--mode", str(args.mode).strip().lower(), MODES)
    return MusicState(tempo_bpm=args.tempo, key=key, mode=mode, intensity=args.intensity,
                      brightness=args.brightness, volume=args.volume,
                      entrainment=Entrainment.parse(args.entrainment, args.entrainment_level,
                                                    name="--entrainment"))


def _voices_from_args(text: str) -> list[str]:
    from neurofeed.synth.patch import VOICES

    voices = [v.strip().lower() for v in text.split(",") if v.strip()]
    unknown = [v for v in voices if v not in VOICES]
    if unknown:
        what = "is not a voice" if len(unknown) == 1 else "are not voices"
        raise InvalidArgumentError(f"--voices {text!r}: {', '.join(map(repr, unknown))} {what}; "
                                   f"accepted: a comma-separated list of {', '.join(VOICES)}")
    return voices


def run(args: argparse.Namespace) -> int:
    from neurofeed.synth.base import MAX_FADE_S
    from neurofeed.synth.engine import Engine
    from neurofeed.synth.master import MAX_CEILING_DBFS, MIN_CEILING_DBFS
    from neurofeed.synth.palettes import LOUDNESS_RANGE_LUFS, PALETTES

    duration_s = parse_duration(args.duration)
    state = _state_from_args(args)
    voices = _voices_from_args(args.voices)
    ceiling = check_range("--ceiling", args.ceiling, MIN_CEILING_DBFS, MAX_CEILING_DBFS, unit=" dBFS")
    wav = check_writable_file("--wav", args.wav, (".wav",)) if args.wav else None
    if args.midi:
        check_writable_file("--midi", args.midi)
    backend = "offline" if wav else args.backend
    palette = check_option("--palette", args.palette, tuple(PALETTES))
    loudness = check_range("--loudness", args.loudness, *LOUDNESS_RANGE_LUFS, unit=" LUFS")
    engine = Engine(backend, state=state, seed=args.seed, wav_path=wav, voices=voices,
                    device=args.device, ceiling_dbfs=ceiling, palette=palette, loudness_lufs=loudness,
                    fade_in_s=check_range("--fade-in", args.fade_in, 0.0, MAX_FADE_S, unit=" s"))
    interrupted = False
    music_s = 0.0
    with engine:
        try:
            engine.advance(duration_s)
        except KeyboardInterrupt:
            interrupted = True
        music_s = engine.time_s
        with signals.deferred():  # a second signal must not cut the fade-out or the WAV short
            engine.stop()
    if wav is not None and (not wav.is_file() or wav.stat().st_size <= _WAV_HEADER_BYTES):
        raise AudioError(f"--wav {args.wav!r} was not written (the audio server could not open it)")
    if args.midi:
        engine.score.to_midi(args.midi)
    where = args.wav if wav else f"{engine.backend} output"
    xruns = f", {engine.xruns} xruns" if engine.xruns else ""
    midi = f", score -> {args.midi}" if args.midi else ""
    stopped = " (interrupted)" if interrupted else ""
    print(f"played {music_s:.1f} s{stopped} + {engine.time_s - music_s:.1f} s fade-out, "
          f"{len(engine.score.notes)} notes, {state.key} {state.mode} at {state.tempo_bpm:g} BPM on the "
          f"{palette} palette{xruns} "
          f"-> {where}{midi}", file=sys.stdout)
    return signals.exit_status(130 if interrupted else 0)
