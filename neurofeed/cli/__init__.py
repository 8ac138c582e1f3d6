"""The ``neurofeed`` command line.

Each public module in this package is one subcommand: it defines
``register(subparsers)``, which adds its parser and sets ``func`` to the function
that runs it. Heavy libraries (MNE, pyo) are imported inside those functions so that
``neurofeed --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from neurofeed import __version__
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
        epilog=example_epilog("neurofeed devices", "neurofeed record --board synthetic --duration 10 --out rest.fif"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"neurofeed {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and warnings to stderr")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND",
                                       parser_class=OneLineErrorParser)
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module_info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module_info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format="neurofeed: %(message)s")
    try:
        return int(args.func(args) or 0)
    except NeurofeedError as err:
        print(f"neurofeed {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"neurofeed {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
