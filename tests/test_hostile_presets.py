"""Hostile preset files through the real CLI: one line naming the file or key and what is accepted,
exit 2, no traceback, and nothing read beyond the bounds."""

from __future__ import annotations

import pytest
from _cli import assert_one_line_error, run_cli

from neurofeed.protocol import load_preset
from neurofeed.protocol._toml import MAX_BYTES, MAX_NESTING, nesting_depth

BASE = load_preset("relax-alpha").path.read_text(encoding="utf-8")


def _edited(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


CASES = {
    # tomllib recurses once per level: 5000 levels were a 3000-line RecursionError.
    "nested arrays": ("x = " + "[" * 5000 + "]" * 5000 + "\n" + BASE, ["nests arrays or tables 5000 deep",
                                                                      f"accepted: up to {MAX_NESTING}"]),
    "nested inline tables": ("x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n" + BASE,
                             ["nests arrays or tables 3000 deep"]),
    # Closing brackets inside strings must not hide the real nesting.
    "nesting behind strings": ("x = " + '[["]]", ' * 2000 + "1" + "]]" * 2000 + "\n" + BASE,
                               ["nests arrays or tables 4000 deep"]),
    "closers in a comment and a string": ("# ]]]]\nx = '" + "]" * 100 + "'\ny = " + "[" * 100 + "]" * 100
                                          + "\n" + BASE, ["nests arrays or tables 100 deep"]),
    "huge file": (BASE + "# " + "é" * MAX_BYTES + "\n", ["is larger than 64 KiB"]),  # cut inside a character
    "1e308 s phase": (_edited("training_s = 900", "training_s = 1e308"),
                      ["[phases].training_s = 1e+308 is out of range", "from 1 to 14400"]),
    "negative phase": (_edited("cooldown_s = 120", "cooldown_s = -1"),
                       ["[phases].cooldown_s = -1 is out of range", "from 0 to 3600"]),
    "nan phase": (_edited("baseline_s = 120", "baseline_s = nan"),
                  ["[phases].baseline_s = nan is out of range", "from 0 to 3600"]),
    "inf level": (_edited("volume = 1.0", "volume = inf"), ["[music].volume = inf is out of range"]),
    "nan as text": (_edited("reward_z = 0.6", 'reward_z = "NaN"'),
                    ["[feedback].reward_z = 'NaN' is out of range", "a number from -10 to 10"]),
    "5000-digit integer": (_edited("training_s = 900", "training_s = " + "9" * 5000), ["is not valid TOML"]),
    "phases over 4 h": (_edited("training_s = 900", "training_s = 14400"),
                        ["[phases] add up to 14640 s", "a session up to 14400 s (4 h)"]),
    "unknown key": (_edited("[limits]", "[limits]\nrate_limit_hack = 1"),
                    ["unknown key [limits].rate_limit_hack", "accepted: tempo_bpm_per_s"]),
    "huge unknown key": (_edited("[limits]", "[limits]\n" + "k" * 20000 + " = 1"),
                         ["unknown key [limits].kkkkkkkk", "(20000 characters)"]),
    "huge list": (_edited("tempo_bpm = [70.0, 60.0]", "tempo_bpm = [" + "1, " * 10000 + "1]"),
                  ["[music].tempo_bpm = [1, 1, 1", "accepted: two numbers"]),
    "escape sequence in text": (_edited('description = "', 'description = "\\u001b[2J'),
                                ["description = '\\x1b[2J", "one line of printable text"]),
    "not UTF-8": (None, ["is unreadable", "codec can't decode"]),
}


@pytest.mark.parametrize("case", CASES)
def test_hostile_preset_is_one_line(tmp_path, case):
    text, fragments = CASES[case]
    path = tmp_path / "hostile.toml"
    if text is None:
        path.write_bytes(b"name = \"\xff\xfe\"\n")
    else:
        path.write_text(text, encoding="utf-8")
    result = run_cli("presets", "show", str(path))
    assert_one_line_error(result, *fragments)
    assert "hostile.toml" in result.stderr
    assert len(result.stderr) < 400


def test_a_device_is_not_read(tmp_path):
    # An endless file is refused before reading; a preset is never read beyond 64 KiB.
    assert_one_line_error(run_cli("presets", "show", "/dev/zero"), "preset file '/dev/zero' is not a file")


def test_nesting_is_measured_outside_strings_and_comments():
    assert nesting_depth(BASE) == 1  # table headers
    assert nesting_depth('a = "[[[["\nb = \'{{{{\'\n# [[[[\nc = """\n[[[\n"""\n') == 0
    assert nesting_depth('a = ["\\"[[", [[1]]]') == 3  # an escaped quote does not end the string
    assert nesting_depth("a = '''x''''\nb = [[1]]") == 2  # '''' ends a literal string with a quote of its own
    assert nesting_depth('[[x.y]]\na = {b = [1, {c = 2}]}') == 3
    assert nesting_depth("a = 1 ]]]] [[[") == 3  # stray closers do not hide the openers after them
