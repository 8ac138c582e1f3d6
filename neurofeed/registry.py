"""The feature registry: every feature a session records, written once.

Each entry says what a feature is called in each place it appears: the estimator's key
(:class:`neurofeed.bands.Features`), its column in ``features.tsv`` and its LSL channel,
its label and unit for people, the region it is measured over, and, for the features a
preset can feed back, the name presets use and how its change from baseline is
expressed. The loop, the presets, the reports and the LSL outlets all read this table;
nothing else lists features.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from neurofeed._check import check_option

#: Regions of interest: name -> (label for people, 10-20 sites looked for first).
REGIONS: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType({
    "posterior": ("Posterior", ("O1", "Oz", "O2", "P3", "Pz", "P4")),
    "frontal_midline": ("Frontal midline", ("Fz", "FCz", "Cz")),
    "asymmetry_pair": ("Asymmetry pair", ("F4", "F3")),
})

#: How a feature's change from baseline is expressed (:attr:`FeatureDef.change`):
#: ``"percent"``, ``100 * (value / baseline - 1)``, for powers and power ratios;
#: ``"log percent"``, ``100 * (exp(value - baseline) - 1)``, for the natural log of a power
#: ratio: the percentage change of the ratio itself (of its geometric mean);
#: ``"difference"``, ``value - baseline``, in the feature's unit (log ratios whose ratio is
#: not what people read, such as frontal asymmetry).
CHANGES = ("percent", "log percent", "difference")


@dataclass(frozen=True)
class FeatureDef:
    """One feature, as every part of neurofeed names it.

    Attributes
    ----------
    key : str
        The estimator's name (an attribute of :class:`neurofeed.bands.Features`, and its
        name in a stored baseline).
    column : str
        Its column in ``features.tsv`` and its channel label in the LSL feature stream.
    label : str
        What people call it (reports, status line).
    unit : str
        Its unit: ``"V²"``, ``"Hz"``, ``"ln"`` (a natural-log ratio) or ``"1"``.
    regions : tuple of str
        The :data:`REGIONS` it is measured over; empty for every EEG channel.
    feedback : str or None
        The name a preset's ``[feedback].feature`` uses for it; None when no preset can
        feed it back.
    change : {"percent", "log percent", "difference"}
        How its change from baseline is expressed (see :data:`CHANGES`).
    description : str
        How it is computed, in one line (documentation, and baseline files' readers).
    """

    key: str
    column: str
    label: str
    unit: str
    regions: tuple[str, ...]
    feedback: str | None = None
    change: str = "percent"
    description: str = ""

    def __post_init__(self):
        check_option("change", self.change, CHANGES)

    @property
    def relative_change(self) -> bool:
        """bool: Whether its change from baseline is a percentage (else a difference)."""
        return self.change != "difference"

    def change_from(self, value, baseline: float | None):
        """``value`` (a number or an array) as a change from ``baseline`` (see :data:`CHANGES`).

        None when the change is undefined: no value or baseline, or a non-positive
        baseline for a percentage.
        """
        if baseline is None or value is None or (self.change == "percent" and baseline <= 0):
            return None
        if self.change == "percent":
            return 100.0 * (value / baseline - 1.0)
        if self.change == "log percent":
            return 100.0 * (np.exp(value - baseline) - 1.0)
        return value - baseline

    @property
    def z_column(self) -> str:
        """str: The column of its baseline z-score (features that can be fed back)."""
        return f"{self.feedback}_z"

    def describe_change(self, change: float) -> str:
        """A change from baseline in words: ``rose 38% over baseline``, ``fell by 0.12 (ln ratio)``."""
        size = round(abs(change)) if self.relative_change else round(abs(change), 2)
        if size == 0:
            return "stayed at its baseline level"
        if self.relative_change:
            return f"rose {size}% over baseline" if change > 0 else f"fell {size}% below baseline"
        return f"{'rose' if change > 0 else 'fell'} by {size:.2f} (ln ratio) from baseline"

    def format_change(self, change: float | None) -> str:
        """Format a change from baseline: ``+38%`` or ``+0.12 ln``; ``n/a`` when None."""
        if change is None:
            return "n/a"
        if self.relative_change:
            value = round(change)
            return f"{value:+d}%" if value else "0%"  # no "-0%" for a tiny fall
        value = round(change, 2)
        return f"{value:+.2f} ln" if value else "0.00 ln"


#: Every recorded feature, in features.tsv and LSL channel order. Alpha and theta are fed
#: back as log relative power: measured on the real recordings it tracks eyes closed as
#: well as relative power (AUC 0.949 against 0.951 on the OpenBCI sample's O1/O2), far
#: better than absolute power (0.851), hardly follows the broadband power of artifacts (z
#: 2.9 in its blink and jaw-clench burst, against 29 for absolute power), and is
#: scale-free per channel, so a channel flagged in or out of its region does not step it;
#: its baseline spread is close to normal (skew -0.2 against +0.7 for relative power), so
#: z-scores keep a gradient (docs/artifact-feedback-policy.md).
FEATURES: tuple[FeatureDef, ...] = (
    FeatureDef("alpha_lnrel", "alpha_lnrel_posterior", "Posterior alpha (relative)", "ln",
               ("posterior",), feedback="alpha_posterior", change="log percent",
               description="ln(alpha power / 1-40 Hz power) per good channel of the posterior "
                           "region, averaged over them"),
    FeatureDef("theta_lnrel", "theta_lnrel_frontal", "Frontal theta (relative)", "ln",
               ("frontal_midline",), feedback="theta_frontal", change="log percent",
               description="ln(theta power / 1-40 Hz power) per good channel of the "
                           "frontal-midline region, averaged over them"),
    FeatureDef("alpha_v2", "alpha_posterior_v2", "Posterior alpha power", "V²", ("posterior",),
               description="alpha power, mean over the good channels of the posterior region"),
    FeatureDef("theta_v2", "theta_frontal_v2", "Frontal theta power", "V²", ("frontal_midline",),
               description="theta power, mean over the good channels of the frontal-midline "
                           "region"),
    FeatureDef("alpha_rel", "alpha_rel_posterior", "Posterior relative alpha", "1", ("posterior",),
               description="alpha power over total-range power, mean over the posterior region"),
    FeatureDef("theta_rel", "theta_rel_frontal", "Frontal relative theta", "1", ("frontal_midline",),
               description="theta power over total-range power, mean over the frontal-midline "
                           "region"),
    FeatureDef("alpha_theta_ratio", "alpha_theta_ratio", "Alpha/theta ratio", "1", ("posterior",),
               feedback="alpha_theta_ratio",
               description="alpha power over theta power per good posterior channel, their "
                           "geometric mean (scale-free per channel, like the log relative powers)"),
    FeatureDef("faa", "frontal_asymmetry", "Frontal alpha asymmetry", "ln", ("asymmetry_pair",),
               feedback="frontal_asymmetry", change="difference",
               description="frontal alpha asymmetry: ln(alpha right) - ln(alpha left), F4 and F3 "
                           "where present; positive when the right is higher"),
    FeatureDef("iaf_hz", "alpha_peak_hz", "Alpha peak frequency", "Hz", ("posterior",),
               description="individual alpha peak frequency: the interpolated peak, within 7-13 "
                           "Hz, of the posterior PSD averaged over about 10 s, if it stands above "
                           "the 1/f background"),
    FeatureDef("beta_alpha_ratio", "beta_alpha_ratio", "Beta/alpha ratio", "1", ("frontal_midline",),
               description="beta power over alpha power, both averaged over the good "
                           "frontal-midline channels (an arousal index)"),
    FeatureDef("broadband_v2", "broadband_v2", "Broadband power", "V²", (),
               description="1-40 Hz power outside the rewarded 4-13 Hz, mean over the EEG "
                           "channels that are not dead (flat or non-finite), flagged ones "
                           "included: far above its baseline, the window is an artifact window"),
)

#: The features a preset can feed back, by their preset name.
FEEDBACK: Mapping[str, FeatureDef] = MappingProxyType(
    {f.feedback: f for f in FEATURES if f.feedback is not None})

#: Every feature by its estimator key.
BY_KEY: Mapping[str, FeatureDef] = MappingProxyType({f.key: f for f in FEATURES})

#: The feature whose excess over the baseline makes a window an artifact window
#: (:mod:`neurofeed.loop.artifact`).
BROADBAND: FeatureDef = BY_KEY["broadband_v2"]
