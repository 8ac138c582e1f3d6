"""The validated instruments: how each is scored and banded, exactly as published (pure).

No item text is stored, only what scoring needs: the number of items, each item's range,
the total's range and bands, who reports it, and its attribution and licence. The items
are asked from the paper or licensed form; neurofeed records the answers.

This is not a medical device and makes no diagnosis: a band is the instrument's published
label for a score range, and a safety item answered above 0 is raised, never interpreted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from neurofeed.errors import InvalidArgumentError

#: Who reports an instrument: the client (patient-reported) or a clinician (clinician-rated).
REPORTERS = ("patient", "clinician")


@dataclass(frozen=True)
class Band:
    """A published label for the totals ``low`` to ``high`` (inclusive)."""

    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Instrument:
    """One instrument's scoring.

    Attributes
    ----------
    name : str
        The short name used on the command line (``phq9``).
    title : str
        Its published name.
    n_items : int
        Answers it takes; 1 for an instrument entered as a total (clinician-rated).
    item_range : tuple of int
        The lowest and highest answer to each item.
    multiplier : int
        The raw sum is multiplied by this (WHO-5's percentage score: 4).
    bands : tuple of Band
        The published bands of the (multiplied) total, covering its whole range; empty when
        none are published for use here.
    reporter : str
        One of :data:`REPORTERS`.
    higher_is_worse : bool
        Whether a higher total means more symptoms (WHO-5's means more well-being).
    safety_item : int or None
        The item (1-based) whose answer above 0 raises a safety alert (PHQ-9's item 9).
    attribution : str
        Who developed and validated it, with the paper.
    licence : str
        Its terms of use.
    """

    name: str
    title: str
    n_items: int
    item_range: tuple[int, int]
    multiplier: int
    bands: tuple[Band, ...]
    reporter: str
    higher_is_worse: bool
    safety_item: int | None
    attribution: str
    licence: str

    @property
    def total_range(self) -> tuple[int, int]:
        """The lowest and highest total."""
        low, high = self.item_range
        return low * self.n_items * self.multiplier, high * self.n_items * self.multiplier

    def band(self, total: float) -> str | None:
        """The published label of ``total``; None for an instrument without bands."""
        for band in self.bands:
            if band.low <= total <= band.high:
                return band.label
        return None


@dataclass(frozen=True)
class Score:
    """A scored administration: the answers, the total, its band and a safety flag."""

    instrument: str
    answers: tuple[int, ...]
    total: int
    band: str | None
    safety_alert: bool


_PFIZER = ("Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
           "with an educational grant from Pfizer Inc. No permission required to reproduce, "
           "translate, display or distribute.")

INSTRUMENTS: dict[str, Instrument] = {i.name: i for i in (
    Instrument(
        "phq9", "Patient Health Questionnaire-9 (PHQ-9)", 9, (0, 3), 1,
        (Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"),
         Band(15, 19, "moderately severe"), Band(20, 27, "severe")),
        "patient", True, 9,
        "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity "
        "measure. J Gen Intern Med 2001;16:606-613.", _PFIZER),
    Instrument(
        "phq2", "Patient Health Questionnaire-2 (PHQ-2, the PHQ-9's first two items)", 2, (0, 3), 1,
        (Band(0, 2, "negative screen"), Band(3, 6, "positive screen")),
        "patient", True, None,
        "Kroenke K, Spitzer RL, Williams JBW. The Patient Health Questionnaire-2: validity of a "
        "two-item depression screener. Med Care 2003;41:1284-1292.", _PFIZER),
    Instrument(
        "gad7", "Generalized Anxiety Disorder-7 (GAD-7)", 7, (0, 3), 1,
        (Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
        "patient", True, None,
        "Spitzer RL, Kroenke K, Williams JBW, Lowe B. A brief measure for assessing generalized "
        "anxiety disorder: the GAD-7. Arch Intern Med 2006;166:1092-1097.", _PFIZER),
    Instrument(
        "who5", "WHO-5 Well-Being Index", 5, (0, 5), 4,
        (Band(0, 49, "poor well-being"), Band(50, 100, "not poor well-being")),
        "patient", False, None,
        "World Health Organization, Regional Office for Europe, 1998; Topp CW, Ostergaard SD, "
        "Sondergaard S, Bech P. The WHO-5 Well-Being Index: a systematic review of the literature. "
        "Psychother Psychosom 2015;84:167-176.",
        "Free to use without permission (Psychiatric Research Unit, Mental Health Centre "
        "North Zealand)."),
    Instrument(
        "bdi2", "Beck Depression Inventory-II (BDI-II), data collection only", 21, (0, 3), 1,
        (Band(0, 13, "minimal"), Band(14, 19, "mild"), Band(20, 28, "moderate"),
         Band(29, 63, "severe")),
        "patient", True, None,
        "Beck AT, Steer RA, Brown GK. Manual for the Beck Depression Inventory-II. San Antonio: "
        "Psychological Corporation, 1996.",
        "Copyright Pearson: the licensed paper form is administered; neurofeed stores only the "
        "item scores entered from it, never item text."),
    Instrument(
        "madrs", "Montgomery-Asberg Depression Rating Scale (MADRS), total", 1, (0, 60), 1, (),
        "clinician", True, None,
        "Montgomery SA, Asberg M. A new depression scale designed to be sensitive to change. "
        "Br J Psychiatry 1979;134:382-389.", "Entered as the clinician's total only."),
    Instrument(
        "hamd17", "Hamilton Depression Rating Scale, 17 items (HAM-D), total", 1, (0, 52), 1, (),
        "clinician", True, None,
        "Hamilton M. A rating scale for depression. J Neurol Neurosurg Psychiatry 1960;23:56-62.",
        "Entered as the clinician's total only."),
)}


def instrument(name: str) -> Instrument:
    """The instrument called ``name``; InvalidArgumentError naming the accepted ones."""
    try:
        return INSTRUMENTS[str(name).lower()]
    except KeyError:
        raise InvalidArgumentError(f"--scale {name!r} is not accepted; accepted: "
                                   f"{', '.join(INSTRUMENTS)}") from None


def score(name: str, answers: Sequence) -> Score:
    """Score ``answers`` (one whole number per item, in order) on the instrument ``name``.

    Raises
    ------
    InvalidArgumentError
        One line naming the instrument and the offending answer: a wrong count, an answer
        that is not a whole number, or one out of the item's range.
    """
    scale = instrument(name)
    answers = list(answers)
    if len(answers) != scale.n_items:
        raise InvalidArgumentError(f"{scale.name} takes {scale.n_items} answer"
                                   f"{'s' if scale.n_items > 1 else ''}, got {len(answers)}")
    low, high = scale.item_range
    checked = []
    for number, answer in enumerate(answers, start=1):
        value = _whole(answer)
        if value is None or not low <= value <= high:
            what = f"item {number}" if scale.n_items > 1 else "the total"
            raise InvalidArgumentError(f"{scale.name} {what}: {answer!r} is not accepted; accepted: a "
                                       f"whole number from {low} to {high}")
        checked.append(value)
    total = sum(checked) * scale.multiplier
    alert = scale.safety_item is not None and checked[scale.safety_item - 1] > 0
    return Score(scale.name, tuple(checked), total, scale.band(total), alert)


def _whole(answer) -> int | None:
    """``answer`` as a whole number, or None (a bool, a fraction, text that is not one)."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float):
        return int(answer) if math.isfinite(answer) and answer.is_integer() else None
    text = str(answer).strip()
    return int(text) if text.lstrip("-").isdigit() else None
