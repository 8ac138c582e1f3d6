"""Asking the client's ratings on the terminal, around a session (``run --ratings``)."""

from __future__ import annotations

from neurofeed.outcomes.ratings import SCALES

#: The words at each end of a scale, as the client reads them.
ENDS = {"mood": ("very low", "very good"), "relax": ("not at all relaxed", "completely relaxed"),
        "valence": ("unpleasant", "pleasant"), "arousal": ("calm", "excited")}


def ask_ratings(when: str) -> dict[str, int]:
    """Ask each rating of :data:`~neurofeed.outcomes.ratings.SCALES` ``when`` (e.g. "before the
    session"); Enter skips one, and an answer out of range is asked again. Returns those given."""
    print(f"ratings {when} (Enter skips one):")
    given: dict[str, int] = {}
    for name, (low, high) in SCALES.items():
        bottom, top = ENDS[name]
        while True:
            try:
                text = input(f"  {name}: {low} {bottom} ... {high} {top}: ").strip()
            except EOFError:
                return given
            if not text:
                break
            if text.isdigit() and low <= int(text) <= high:
                given[name] = int(text)
                break
            print(f"  {text!r} is not accepted; accepted: a whole number from {low} to {high}")
    return given
