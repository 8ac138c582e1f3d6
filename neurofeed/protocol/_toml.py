"""Read a preset's TOML within bounds: its size, and how deeply its values nest.

Python's :mod:`tomllib` parses arrays and inline tables by recursion, so a few thousand
``[`` in a row raise ``RecursionError`` deep inside it (a 3000-line traceback), and it
parses whatever it is given. Both bounds are checked on the raw file first: at most
:data:`MAX_BYTES` are read, and the nesting is measured in one pass that skips strings
and comments, where brackets are text.
"""

from __future__ import annotations

import re
import tomllib

from neurofeed.errors import PresetError

#: The largest preset file read, in bytes (the built-ins are under 2 KiB).
MAX_BYTES = 64 * 1024
#: The deepest nesting of arrays and inline tables accepted (the schema needs 1; a
#: ``[[array.of.tables]]`` header counts 2).
MAX_NESTING = 16

# Outside strings: what opens a string or comment, or opens or closes a level.
_TOKEN = re.compile(r'"""|\'\'\'|["\'#\[\]{}]')
# Where each string or comment ends. A multi-line string may end with up to two quotes
# of its own before its delimiter (""""" is a quote then the end), hence {3,5}.
_END = {'"': re.compile(r'\\.|"|\n', re.DOTALL), "'": re.compile(r"'|\n"),
        '"""': re.compile(r'\\.|"{3,5}', re.DOTALL), "'''": re.compile(r"'{3,5}"),
        "#": re.compile(r"\n")}


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[...]`` and ``{...}`` in TOML text, outside strings and comments.

    A ``[table]`` header counts 1. A closing bracket with nothing open is ignored, so
    that stray closers cannot hide the openers after them.
    """
    depth = deepest = pos = 0
    while token := _TOKEN.search(text, pos):
        pos, mark = token.end(), token.group()
        if mark in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif mark in ("]", "}"):
            depth = max(depth - 1, 0)
        else:
            end = _END[mark].search(text, pos)
            while end is not None and end.group().startswith("\\"):  # an escape: not the end
                end = _END[mark].search(text, end.end())
            pos = end.end() if end is not None else len(text)
    return deepest


def read_toml(path, where: str) -> dict:
    """Parse a TOML file of at most :data:`MAX_BYTES`, nested at most :data:`MAX_NESTING` deep.

    Parameters
    ----------
    path : pathlib.Path or importlib.resources.abc.Traversable
        The file.
    where : str
        How errors name it.

    Raises
    ------
    PresetError
        When it is unreadable, too large, too deeply nested, or not valid TOML.
    """
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)  # never more: the file may be endless (a device, a FIFO)
        if len(raw) > MAX_BYTES:  # before decoding: the cut may split a character
            raise PresetError(f"preset {where!r} is larger than {MAX_BYTES // 1024} KiB; accepted: a "
                              "preset file up to that size")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PresetError(f"preset {where!r} is unreadable: {err}") from None
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise PresetError(f"preset {where!r} nests arrays or tables {depth} deep; accepted: up to "
                          f"{MAX_NESTING}")
    try:
        return tomllib.loads(text)
    except ValueError as err:  # TOMLDecodeError, or an integer of more than 4300 digits
        raise PresetError(f"preset {where!r} is not valid TOML: {err}") from None
