"""``neurofeed presets``: list the built-in protocol presets, or show one."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "presets", help="list protocol presets, or show one",
        description="List the built-in protocol presets (TOML files shipped in the package), or print one "
                    "with 'show'. A preset is validated as it is loaded; a custom preset is any "
                    "TOML file with the same schema, passed to run or replay by its path.",
        epilog=example_epilog("neurofeed presets", "neurofeed presets show relax-alpha",
                              "neurofeed presets show ./my-protocol.toml"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", choices=["list", "show"], default="list",
                        help="list (default) or show")
    parser.add_argument("name", nargs="?", help="preset name or .toml path, for show")
    parser.set_defaults(func=run, command="presets")


def run(args: argparse.Namespace) -> int:
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.protocol import list_presets, load_preset

    if args.action == "list":
        for name in list_presets():
            preset = load_preset(name)
            minutes = preset.phases.total_s / 60
            print(f"{name:<16} {minutes:5.1f} min  {preset.description}")
        return 0
    if not args.name:
        raise InvalidArgumentError("presets show needs a NAME; accepted: "
                                   f"{', '.join(list_presets())} or a .toml path")
    preset = load_preset(args.name)
    print(f"# {preset.path}")
    print(preset.path.read_text(encoding="utf-8"), end="")
    return 0
