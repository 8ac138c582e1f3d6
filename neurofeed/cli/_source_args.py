"""Source options shared by every subcommand that reads EEG (record, stream, run, ...)."""

from __future__ import annotations

import argparse

from neurofeed._check import check_range

#: Upper bound for --speed: beyond this a replay is simply "max".
MAX_SPEED = 1e6


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
    lsl = parser.add_argument_group("LSL options")
    lsl.add_argument("--lsl-timeout", type=float, default=5.0, metavar="S",
                     help="seconds to wait for the LSL stream (default 5)")
    add_replay_arguments(parser, default_speed="1")
    parser.add_argument("--stall-timeout", type=float, default=2.0, metavar="S",
                        help="seconds without data before the source reports itself stalled")


def add_replay_arguments(parser: argparse.ArgumentParser, *, default_speed: str) -> None:
    """Add the options of a file replay: --speed, --loop, --start, --stream, and (for a
    BrainFlow CSV) --master-board where the board options have not added it."""
    replay = parser.add_argument_group("file replay options")
    replay.add_argument("--speed", default=default_speed, metavar="1|N|max",
                        help="replay speed: 1 is real time, N is N times faster, max is as fast "
                             f"as it is read (default {default_speed})")
    replay.add_argument("--loop", action="store_true", help="start again at the end of the file")
    replay.add_argument("--start", type=float, default=0.0, metavar="S",
                        help="start the replay this many seconds into the file")
    replay.add_argument("--stream", default=None, metavar="NAME",
                        help="which stream of an XDF file to replay (default: the EEG stream)")
    if not any("--master-board" in action.option_strings for action in parser._actions):
        replay.add_argument("--master-board", default=None, metavar="B",
                            help="the board that recorded a BrainFlow CSV file")


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
        from neurofeed.errors import InvalidArgumentError

        raise InvalidArgumentError(f"--lsl {text!r} is not a stream selector; accepted: "
                                   "NAME, name=NAME, type=TYPE or source_id=ID")
    return {key: value}


def source_from_args(args: argparse.Namespace):
    """Build the (unopened) Source that the parsed arguments describe."""
    check_range("--stall-timeout", args.stall_timeout, 0, 3600, unit=" s", low_inclusive=False)
    file = getattr(args, "file", None)
    if args.board is not None:
        from neurofeed.acquire import BrainFlowSource

        return BrainFlowSource(args.board, serial_port=args.serial_port,
                               mac_address=args.mac_address, ip_address=args.ip_address,
                               ip_port=args.ip_port, serial_number=args.serial_number,
                               file=args.board_file, master_board=args.master_board,
                               stall_timeout_s=args.stall_timeout)
    if args.lsl is not None:
        from neurofeed.acquire import LSLSource

        check_range("--lsl-timeout", args.lsl_timeout, 0, 3600, unit=" s", low_inclusive=False)
        return LSLSource(**parse_lsl_selector(args.lsl), timeout_s=args.lsl_timeout,
                         stall_timeout_s=args.stall_timeout)
    if file is not None:
        from neurofeed.acquire import FileSource

        return FileSource(file, speed=parse_speed(args.speed), loop=args.loop,
                          start_s=args.start, board=args.master_board, stream=args.stream,
                          stall_timeout_s=args.stall_timeout)
    from neurofeed.errors import InvalidArgumentError

    raise InvalidArgumentError("no EEG source given; accepted: FILE, --board B or --lsl SELECTOR")
