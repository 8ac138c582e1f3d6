"""``neurofeed play``: play or render the music with fixed parameters, no EEG."""

from __future__ import annotations

import argparse
import sys

from neurofeed._check import check_range
from neurofeed.cli import example_epilog

#: Longest audition `play` accepts, in seconds.
MAX_DURATION_S = 4 * 3600


def register(subparsers) -> None:
    from neurofeed.synth.state import RANGES
    from neurofeed.synth.theory import KEYS, MODES

    parser = subparsers.add_parser(
        "play", help="play or render the music with fixed parameters (no EEG)",
        description="Audition the music engine with fixed parameters: through the sound card "
                    "(JACK if a server runs, else PortAudio), or rendered to a WAV file as fast "
                    "as possible with --wav. --midi also writes the score as a MIDI file. "
                    "Ctrl-C fades out and stops early.",
        epilog=example_epilog(
            "neurofeed play --tempo 64 --key D --mode dorian --intensity 0.5 --entrainment binaural:6 --duration 30",
            "neurofeed play --tempo 50 --mode aeolian --entrainment isochronic:5 --duration 60 --wav theta.wav",
            "neurofeed play --duration 20 --wav calm.wav --midi calm.mid --seed 3"),
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
    parser.add_argument("--volume", type=float, default=0.8, metavar="X", help="master volume, 0-1 (default 0.8)")
    parser.add_argument("--duration", type=float, default=30.0, metavar="S",
                        help=f"seconds of music before the fade-out (0 < S <= {MAX_DURATION_S}; default 30)")
    parser.add_argument("--wav", metavar="PATH",
                        help="render to this WAV file (24-bit) as fast as possible instead of playing")
    parser.add_argument("--midi", metavar="PATH", help="also write the notes played as a MIDI file")
    parser.add_argument("--seed", type=int, default=0, help="seed for chords and melody (default 0)")
    parser.add_argument("--voices", default="pad,melody,bass,pulse", metavar="LIST",
                        help="comma-separated voices to play (default pad,melody,bass,pulse)")
    parser.add_argument("--backend", default="auto", choices=["auto", "jack", "portaudio"],
                        help="real-time output when not rendering (default auto: JACK, then PortAudio)")
    parser.add_argument("--device", type=int, metavar="N", help="PortAudio output device (see 'neurofeed devices')")
    parser.add_argument("--ceiling", type=float, default=-3.0, metavar="DBFS",
                        help="hard output ceiling in dBFS, at most -1 (default -3)")
    parser.set_defaults(func=run, command="play")


def _state_from_args(args):
    from neurofeed.synth.state import RANGES, Entrainment, MusicState

    for flag, field in (("--tempo", "tempo_bpm"), ("--intensity", "intensity"), ("--brightness", "brightness"),
                        ("--volume", "volume"), ("--entrainment-level", "entrainment_level")):
        low, high, unit = RANGES[field]
        check_range(flag, getattr(args, flag[2:].replace("-", "_")), low, high, unit=unit)
    return MusicState(tempo_bpm=args.tempo, key=args.key, mode=args.mode, intensity=args.intensity,
                      brightness=args.brightness, volume=args.volume,
                      entrainment=Entrainment.parse(args.entrainment, args.entrainment_level))


def run(args: argparse.Namespace) -> int:
    from neurofeed.synth.engine import Engine

    duration_s = check_range("--duration", args.duration, 0, MAX_DURATION_S, unit=" s", low_inclusive=False)
    state = _state_from_args(args)
    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    backend = "offline" if args.wav else args.backend
    engine = Engine(backend, state=state, seed=args.seed, wav_path=args.wav, voices=voices,
                    device=args.device, ceiling_dbfs=args.ceiling)
    interrupted = False
    with engine:
        try:
            engine.advance(duration_s)
        except KeyboardInterrupt:
            interrupted = True
    if args.midi:
        engine.score.to_midi(args.midi)
    where = args.wav if args.wav else f"{engine.backend} output"
    xruns = f", {engine.xruns} xruns" if engine.xruns else ""
    midi = f", score -> {args.midi}" if args.midi else ""
    print(f"played {engine.time_s:.1f} s, {len(engine.score.notes)} notes, {state.key} {state.mode} at "
          f"{state.tempo_bpm:g} BPM{xruns} -> {where}{midi}", file=sys.stdout)
    return 130 if interrupted else 0
