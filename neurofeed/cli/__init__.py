"""The ``neurofeed`` command line.

Each public module in this package is one subcommand: it defines
``register(subparsers)``, which adds its parser and sets ``func`` to the function
that runs it. Heavy libraries (MNE, pyo) are imported inside those functions so that
``neurofeed --help`` stays fast.

Exit status (docs/cli.md): 0 done; 2 bad input, a device, file or disk that failed (one
line on stderr, never a traceback); ``128 + N`` stopped by signal N (130 Ctrl-C, 143
SIGTERM, 129 SIGHUP), after the session was finalised.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from neurofeed import __version__, signals
from neurofeed.errors import NeurofeedError

EXIT_USAGE = 2


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit with status 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def example_epilog(*examples: str) -> str:
    """Format the examples shown at the end of a subcommand's help."""
    return "examples:\n" + "\n".join(f"  {e}" for e in examples)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = OneLineErrorParser(
        prog="neurofeed",
        description="Real-time EEG neurofeedback music engine.",
        epilog=example_epilog("neurofeed devices",
                              "neurofeed record --board synthetic --duration 10 --out rest.fif"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"neurofeed {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress to stderr too (warnings are always shown)")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND",
                                       parser_class=OneLineErrorParser)
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module_info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module_info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    # Installed before anything else and kept until the last line is printed: Ctrl-C while
    # the parser loads is one line too, and a signal during an error message is a repeat.
    with signals.stop_on_signals(until_exit=True):
        prog = "neurofeed"
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            if not hasattr(args, "func"):
                parser.print_help()
                return EXIT_USAGE
            prog = f"neurofeed {args.command}"
            _configure(args)
            return int(args.func(args) or 0)
        except NeurofeedError as err:
            return _error(prog, str(err))
        except KeyboardInterrupt:
            print(f"{prog}: stopped by {signals.received() or 'SIGINT'}", file=sys.stderr)
            return signals.exit_status(130)
        # A last guard, not a substitute for checks: what escapes them is still one line.
        except MemoryError:
            return _error(prog, "out of memory (an input declares more data than fits; check its header)")
        except RecursionError:
            return _error(prog, "an input is nested too deeply to read")
        except OSError as err:
            where = f": {err.filename!r}" if err.filename else ""
            return _error(prog, f"{err.strerror or err}{where}")


def _configure(args: argparse.Namespace) -> None:
    """Logging, and liblsl's scope before the first LSL object (liblsl reads it once)."""
    from neurofeed.log import set_log_level

    # Warnings are shown by default: a truncated file, a region that fell back, music
    # rendered to a WAV for want of a device are things the user must hear about.
    set_log_level("INFO" if args.verbose else "WARNING")
    if getattr(args, "lsl_scope", None) == "machine":
        from neurofeed.acquire.lsl import use_machine_scope

        use_machine_scope()


def _error(prog: str, message: str) -> int:
    print(f"{prog}: error: {message.splitlines()[0] if message else 'failed'}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
