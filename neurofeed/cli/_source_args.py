"""Source options shared by every subcommand that reads EEG (record, stream, run, ...).

One person's source is ``--board``, ``--lsl``, ``--file`` or ``--simulate``. The grammar
for several named sources in one session (docs/cli.md) is a repeatable
``--source ROLE=KIND:ARG[,key=value...]``; it is parsed here, and one ``--source`` maps
onto the one-person options.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

from neurofeed._check import check_range
from neurofeed.cli._options import parse_duration
from neurofeed.errors import InvalidArgumentError
from neurofeed.limits import MAX_STREAM_S, MAX_TIMEOUT_S

#: Upper bound for --speed: beyond this a replay is simply "max".
MAX_SPEED = 1e6
#: The role of a --source given without ``ROLE=``.
DEFAULT_ROLE = "listener"
#: Each --source KIND and the keys its ``key=value`` parameters accept: the long options
#: of the one-source form, without their dashes.
SOURCE_KINDS = {
    "board": ("serial-port", "mac-address", "ip-address", "ip-port", "serial-number", "board-file",
              "master-board", "stall-timeout"),
    "lsl": ("lsl-timeout", "stall-timeout"),
    "file": ("speed", "loop", "start", "stream", "master-board", "stall-timeout"),
    "simulate": ("stall-timeout",),
}
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class SourceSpec(NamedTuple):
    """One parsed ``--source``: who (``role``), what (``kind``, ``arg``) and its parameters."""

    role: str
    kind: str
    arg: str
    params: dict[str, str]


def add_source_arguments(parser: argparse.ArgumentParser, *, file_positional: bool = False) -> None:
    """Add ``--board | --lsl | --file`` and their options to ``parser``.

    With ``file_positional`` the file is an optional positional ``FILE`` instead.
    """
    group = parser.add_argument_group("EEG source (exactly one)")
    sources = group.add_mutually_exclusive_group(required=not file_positional)
    sources.add_argument("--board", metavar="B",
                         help="BrainFlow board name or id, e.g. synthetic, cyton, muse_2")
    sources.add_argument("--lsl", metavar="SELECTOR",
                         help="LSL stream: a name, or type=EEG, or source_id=ID")
    if file_positional:
        parser.add_argument("file", nargs="?", metavar="FILE",
                            help="recording to replay (FIF, EDF/BDF, BrainVision, EEGLAB, XDF, "
                                 "BrainFlow CSV, OpenBCI GUI text)")
    else:
        sources.add_argument("--file", metavar="F",
                             help="recording to replay (FIF, EDF/BDF, BrainVision, EEGLAB, XDF, "
                                  "BrainFlow CSV, OpenBCI GUI text)")
    sources.add_argument("--simulate", nargs="?", const="0", metavar="SEED",
                         help="a simulated listener for demos and tests: 1/f EEG with posterior "
                              "alpha that rises as the music calms, and blinks (seed default 0)")
    sources.add_argument("--source", action="append", metavar="[ROLE=]KIND:ARG[,KEY=VALUE...]",
                         help="a source in the multi-person grammar of docs/cli.md, e.g. "
                              "board:muse_2,mac-address=00:55:DA:B0:0B:61 (one for now)")
    board = parser.add_argument_group("BrainFlow board options")
    board.add_argument("--serial-port", default="", help="serial port, e.g. /dev/ttyUSB0 or COM3")
    board.add_argument("--mac-address", default="", help="MAC address of a Bluetooth board")
    board.add_argument("--ip-address", default="", help="IP address of a Wi-Fi board")
    board.add_argument("--ip-port", type=int, default=0, help="IP port of a Wi-Fi board")
    board.add_argument("--serial-number", default="", help="serial number, for boards that need one")
    board.add_argument("--board-file", default="", help="recording for --board playback_file")
    board.add_argument("--master-board", default=None,
                       help="board that recorded the data, for playback_file/streaming boards, "
                            "and the board id of a BrainFlow CSV given as --file")
    add_montage_argument(group)
    lsl = parser.add_argument_group("LSL options")
    lsl.add_argument("--lsl-timeout", default="5", metavar="T",
                     help="how long to wait for the LSL stream, e.g. 5 or 30s (default 5s)")
    add_lsl_scope_argument(lsl)
    add_replay_arguments(parser, default_speed="1")
    parser.add_argument("--stall-timeout", default="2", metavar="T",
                        help="how long without data before the source reports itself stalled, "
                             "e.g. 2, 0.5 or 10s (default 2s)")


def add_montage_argument(group) -> None:
    """Add ``--montage NAME|FILE``: names for channels that arrive without usable labels."""
    group.add_argument("--montage", default=None, metavar="NAME|FILE",
                       help="names for channels without usable labels (EXG1.., Ch1..): "
                            "openbci-cyton, openbci-cyton-daisy, openbci-ganglion, an MNE standard "
                            "montage name, a BIDS electrodes.tsv or channels.tsv, a file of names, "
                            "or a map EXG1=Fp1,EXG2=Fp2 (or 1=Fp1,... by position)")


def add_lsl_scope_argument(group) -> None:
    """Add ``--lsl-scope network|machine`` to ``group`` unless its parser has it already.

    :func:`neurofeed.cli.main` applies it before any LSL object exists, as liblsl needs.
    """
    if any("--lsl-scope" in action.option_strings for action in group._actions):
        return
    group.add_argument("--lsl-scope", choices=("network", "machine"), default="network",
                       help="who discovers this command's LSL streams, and whose it finds: network "
                            "(default, liblsl's: any machine on the network, with no authentication) "
                            "or machine (this machine only; the data ports stay open to a client "
                            "given this machine's address: see docs/privacy.md)")


def add_replay_arguments(parser: argparse.ArgumentParser, *, default_speed: str) -> None:
    """Add the options of a file replay: --speed, --loop, --start, --stream, and (for a
    BrainFlow CSV) --master-board where the board options have not added it."""
    replay = parser.add_argument_group("file replay options")
    replay.add_argument("--speed", default=default_speed, metavar="1|N|max",
                        help="replay speed: 1 is real time, N is N times faster, max is as fast "
                             f"as it is read (default {default_speed})")
    replay.add_argument("--loop", action="store_true", help="start again at the end of the file")
    replay.add_argument("--start", default="0", metavar="T",
                        help="start the replay this far into the file, e.g. 90s or 5m (default 0)")
    replay.add_argument("--stream", default=None, metavar="NAME",
                        help="which stream of an XDF file to replay (default: the EEG stream)")
    if not any("--master-board" in action.option_strings for action in parser._actions):
        replay.add_argument("--master-board", default=None, metavar="B",
                            help="the board that recorded a BrainFlow CSV file")


def parse_start(text) -> float:
    """Seconds into the file from --start: ``0``, ``90``, ``90s``, ``5m``..."""
    return parse_duration(text, "--start", max_s=MAX_STREAM_S, allow_zero=True)


def parse_speed(text: str) -> float | str:
    """Return ``"max"`` or a positive speed factor from the --speed text."""
    if str(text).strip().lower() == "max":
        return "max"
    return check_range("--speed", text, 0, MAX_SPEED, low_inclusive=False,
                       unit=" (or 'max')")


def parse_lsl_selector(text: str) -> dict:
    """Return LSLSource keyword arguments from ``NAME``, ``type=T`` or ``source_id=ID``."""
    key, sep, value = text.partition("=")
    if not sep:
        return {"name": text}
    key = key.strip().lower()
    if key not in ("name", "type", "source_id") or not value:
        raise InvalidArgumentError(f"--lsl {text!r} is not a stream selector; accepted: "
                                   "NAME, name=NAME, type=TYPE or source_id=ID")
    return {key: value}


def parse_source_spec(text: str) -> SourceSpec:
    """Parse one ``[ROLE=]KIND:ARG[,KEY=VALUE...]``.

    Parameters
    ----------
    text : str
        For example ``client=lsl:type=EEG``, ``therapist=board:muse_2,mac-address=X``,
        ``file:rest.fif,speed=max`` or ``simulate`` (its ARG, a seed, is optional). ARG is
        everything up to the first comma, so it may hold ``=`` but not ``,``.

    Returns
    -------
    spec : SourceSpec
        The role (default :data:`DEFAULT_ROLE`), the kind (a key of
        :data:`SOURCE_KINDS`), the argument, and the parameters by key.
    """
    from neurofeed.home import SAFE_NAME

    text = str(text).strip()
    head, eq, rest = text.partition("=")
    # "lsl:type=EEG" has its first "=" inside ARG: a role never contains ":" or ",".
    role, body = (head, rest) if eq and ":" not in head and "," not in head else (DEFAULT_ROLE, text)
    if not SAFE_NAME.match(role):
        raise _bad_source(text, f"the role {role!r} is not a name (letters, digits, - and _)")
    kind, _, tail = body.partition(":")
    if kind not in SOURCE_KINDS:
        raise _bad_source(text, f"the kind {kind!r} is unknown; accepted kinds: {'|'.join(SOURCE_KINDS)}")
    arg, *pairs = tail.split(",")
    if not arg and kind != "simulate":
        raise _bad_source(text, f"{kind} needs an argument after '{kind}:'")
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if key not in SOURCE_KINDS[kind]:
            raise _bad_source(text, f"{key!r} is not a parameter of {kind}; accepted: "
                                    f"{', '.join(SOURCE_KINDS[kind])}")
        if not sep or not value or key in params:
            raise _bad_source(text, f"{pair!r} is not accepted; accepted: KEY=VALUE, each key once")
        params[key] = value
    return SourceSpec(role, kind, arg, params)


def parse_sources(texts: list[str]) -> list[SourceSpec]:
    """Parse every ``--source``; roles must differ."""
    specs = [parse_source_spec(text) for text in texts]
    roles = [spec.role for spec in specs]
    repeated = sorted({role for role in roles if roles.count(role) > 1})
    if repeated:
        raise InvalidArgumentError(f"--source: the role {repeated[0]!r} is given more than once; "
                                   "each source needs its own ROLE=")
    return specs


def _bad_source(text: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"--source {text!r}: {why}; the form is [ROLE=]KIND:ARG[,KEY=VALUE...]")


def _apply_source_spec(args: argparse.Namespace, spec: SourceSpec) -> None:
    """Set the one-source options that ``spec`` stands for on ``args``."""
    setattr(args, spec.kind, (spec.arg or "0") if spec.kind == "simulate" else spec.arg)
    for key, value in spec.params.items():
        # The one-source options arrive typed by argparse; these two are not checked later.
        if key == "loop":
            if value.lower() not in _BOOLEANS:
                raise InvalidArgumentError(f"--source loop={value!r} is not accepted; accepted: "
                                           f"{', '.join(_BOOLEANS)}")
            value = _BOOLEANS[value.lower()]
        elif key == "ip-port":
            value = int(check_range("--source ip-port", value, 0, 65535))
        setattr(args, key.replace("-", "_"), value)


def source_from_args(args: argparse.Namespace):
    """Build the (unopened) Source that the parsed arguments describe."""
    if getattr(args, "source", None):
        specs = parse_sources(args.source)
        if len(specs) > 1:
            raise InvalidArgumentError(
                f"--source is given {len(specs)} times ({', '.join(spec.role for spec in specs)}): "
                "a session with several sources is not supported yet; give one")
        _apply_source_spec(args, specs[0])
    stall_timeout_s = parse_duration(args.stall_timeout, "--stall-timeout", max_s=MAX_TIMEOUT_S)
    file = getattr(args, "file", None)
    if args.board is not None:
        from neurofeed.acquire import BrainFlowSource

        return BrainFlowSource(args.board, serial_port=args.serial_port,
                               mac_address=args.mac_address, ip_address=args.ip_address,
                               ip_port=args.ip_port, serial_number=args.serial_number,
                               file=args.board_file, master_board=args.master_board,
                               stall_timeout_s=stall_timeout_s, montage=args.montage)
    if args.lsl is not None:
        from neurofeed.acquire import LSLSource

        return LSLSource(**parse_lsl_selector(args.lsl), stall_timeout_s=stall_timeout_s,
                         montage=args.montage,
                         timeout_s=parse_duration(args.lsl_timeout, "--lsl-timeout", max_s=MAX_TIMEOUT_S))
    if file is not None:
        from neurofeed.acquire import FileSource

        return FileSource(file, speed=parse_speed(args.speed), loop=args.loop,
                          start_s=parse_start(args.start), board=args.master_board, stream=args.stream,
                          stall_timeout_s=stall_timeout_s, montage=args.montage)
    if getattr(args, "simulate", None) is not None:
        from neurofeed.acquire import SimulatedListener

        if args.montage is not None:
            raise InvalidArgumentError("--montage applies to --board, --lsl and --file; the simulated "
                                       "listener names its own channels")
        seed = check_range("--simulate SEED", args.simulate, 0, 2**32 - 1)
        if seed != int(seed):
            raise InvalidArgumentError(f"--simulate SEED must be a whole number, got {args.simulate!r}")
        return SimulatedListener(seed=int(seed), stall_timeout_s=stall_timeout_s)
    raise InvalidArgumentError("no EEG source given; accepted: FILE, --board B, --lsl SELECTOR, "
                               "--simulate or --source")
