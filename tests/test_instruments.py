"""Each instrument scored as published: totals and bands at every boundary, the safety item,
and one-line refusals of answers it cannot take."""

from __future__ import annotations

import pytest

from neurofeed.errors import InvalidArgumentError
from neurofeed.outcomes import INSTRUMENTS, score

#: Hand-computed: (instrument, answers, total, band).
CASES = [
    ("phq9", [0] * 9, 0, "minimal"), ("phq9", [1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal"),
    ("phq9", [1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"), ("phq9", [1] * 9, 9, "mild"),
    ("phq9", [2, 2, 2, 2, 2, 0, 0, 0, 0], 10, "moderate"),
    ("phq9", [2, 2, 2, 2, 2, 2, 2, 0, 0], 14, "moderate"),
    ("phq9", [3, 3, 3, 3, 3, 0, 0, 0, 0], 15, "moderately severe"),
    ("phq9", [3, 3, 3, 3, 3, 2, 2, 0, 0], 19, "moderately severe"),
    ("phq9", [3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe"), ("phq9", [3] * 9, 27, "severe"),
    ("phq2", [1, 1], 2, "negative screen"), ("phq2", [2, 1], 3, "positive screen"),
    ("phq2", [3, 3], 6, "positive screen"),
    ("gad7", [1, 1, 1, 1, 0, 0, 0], 4, "minimal"), ("gad7", [1, 1, 1, 1, 1, 0, 0], 5, "mild"),
    ("gad7", [2, 2, 2, 2, 1, 0, 0], 9, "mild"), ("gad7", [2, 2, 2, 2, 2, 0, 0], 10, "moderate"),
    ("gad7", [2, 2, 2, 2, 2, 2, 2], 14, "moderate"), ("gad7", [3, 3, 3, 3, 3, 0, 0], 15, "severe"),
    ("gad7", [3] * 7, 21, "severe"),
    ("who5", [0] * 5, 0, "poor well-being"), ("who5", [3, 3, 2, 2, 2], 48, "poor well-being"),
    ("who5", [3, 3, 3, 2, 2], 52, "not poor well-being"), ("who5", [5] * 5, 100, "not poor well-being"),
    ("bdi2", [1] * 13 + [0] * 8, 13, "minimal"), ("bdi2", [1] * 14 + [0] * 7, 14, "mild"),
    ("bdi2", [1] * 19 + [0] * 2, 19, "mild"), ("bdi2", [1] * 20 + [0], 20, "moderate"),
    ("bdi2", [2] * 14 + [0] * 7, 28, "moderate"), ("bdi2", [2] * 14 + [1] + [0] * 6, 29, "severe"),
    ("bdi2", [3] * 21, 63, "severe"),
    ("madrs", [31], 31, None), ("hamd17", [52], 52, None),
]


@pytest.mark.parametrize(("name", "answers", "total", "band"), CASES)
def test_totals_and_bands_at_every_boundary(name, answers, total, band):
    scored = score(name, answers)
    assert (scored.total, scored.band) == (total, band)
    assert scored.answers == tuple(answers)


def test_bands_cover_each_range_without_gaps_or_overlaps():
    for scale in INSTRUMENTS.values():
        if not scale.bands:
            continue
        low, high = scale.total_range
        covered = [t for band in scale.bands for t in range(band.low, band.high + 1)]
        assert covered == list(range(low, high + 1)), scale.name


def test_any_answer_above_zero_on_phq9_item_9_raises_the_safety_alert():
    for answer in (1, 2, 3):
        assert score("phq9", [0] * 8 + [answer]).safety_alert
    assert not score("phq9", [3] * 8 + [0]).safety_alert
    assert not any(score(name, [s.item_range[1]] * s.n_items).safety_alert
                   for name, s in INSTRUMENTS.items() if name != "phq9")


def test_answers_as_text_from_the_command_line():
    assert score("gad7", ["0", " 1", "2 ", "3", "0", "1", "2"]).total == 9
    assert score("madrs", [24.0]).total == 24


@pytest.mark.parametrize(("name", "answers", "fragment"), [
    ("phq9", [0] * 8, "phq9 takes 9 answers, got 8"),
    ("phq9", [0] * 10, "phq9 takes 9 answers, got 10"),
    ("phq9", [0] * 8 + [4], "phq9 item 9: 4 is not accepted; accepted: a whole number from 0 to 3"),
    ("gad7", [0, -1, 0, 0, 0, 0, 0], "gad7 item 2: -1"),
    ("who5", [0, 0, 1.5, 0, 0], "who5 item 3: 1.5"),
    ("phq2", [True, 0], "phq2 item 1: True"),
    ("phq2", ["a", 0], "phq2 item 1: 'a'"),
    ("madrs", [61], "madrs the total: 61 is not accepted; accepted: a whole number from 0 to 60"),
    ("phq99", [0], "--scale 'phq99' is not accepted; accepted: phq9, phq2, gad7, who5, bdi2, madrs, hamd17"),
])
def test_answers_it_cannot_take_are_refused_in_one_line(name, answers, fragment):
    with pytest.raises(InvalidArgumentError) as caught:
        score(name, answers)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_every_instrument_says_who_made_it_and_on_what_terms():
    for scale in INSTRUMENTS.values():
        assert scale.attribution and scale.licence and scale.reporter in ("patient", "clinician")
    assert {s.name for s in INSTRUMENTS.values() if s.reporter == "clinician"} == {"madrs", "hamd17"}
