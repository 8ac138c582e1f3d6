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

#: Regions of interest: name -> (label for people, 10-20 sites looked for first).
REGIONS: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType({
    "posterior": ("Posterior", ("O1", "Oz", "O2", "P3", "Pz", "P4")),
    "frontal_midline": ("Frontal midline", ("Fz", "FCz", "Cz")),
    "asymmetry_pair": ("Asymmetry pair", ("F4", "F3")),
})


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
        The :data:`REGIONS` it is measured over.
    feedback : str or None
        The name a preset's ``[feedback].feature`` uses for it; None when no preset can
        feed it back.
    relative_change : bool
        True: its change from baseline is a percentage of the baseline mean; False: a
        difference (for log ratios, whose baseline mean can be zero or negative).
    description : str
        How it is computed, in one line (documentation, and baseline files' readers).
    """

    key: str
    column: str
    label: str
    unit: str
    regions: tuple[str, ...]
    feedback: str | None = None
    relative_change: bool = True
    description: str = ""

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


#: Every recorded feature, in features.tsv and LSL channel order.
FEATURES: tuple[FeatureDef, ...] = (
    FeatureDef("alpha_v2", "alpha_posterior_v2", "Posterior alpha", "V²", ("posterior",),
               feedback="alpha_posterior",
               description="alpha power, mean over the good channels of the posterior region"),
    FeatureDef("theta_v2", "theta_frontal_v2", "Frontal theta", "V²", ("frontal_midline",),
               feedback="theta_frontal",
               description="theta power, mean over the good channels of the frontal-midline "
                           "region"),
    FeatureDef("alpha_rel", "alpha_rel_posterior", "Posterior relative alpha", "1", ("posterior",),
               description="alpha power over total-range power, mean over the posterior region"),
    FeatureDef("theta_rel", "theta_rel_frontal", "Frontal relative theta", "1", ("frontal_midline",),
               description="theta power over total-range power, mean over the frontal-midline "
                           "region"),
    FeatureDef("alpha_theta_ratio", "alpha_theta_ratio", "Alpha/theta ratio", "1", ("posterior",),
               feedback="alpha_theta_ratio",
               description="alpha power over theta power, both averaged over the good posterior "
                           "channels"),
    FeatureDef("faa", "frontal_asymmetry", "Frontal alpha asymmetry", "ln", ("asymmetry_pair",),
               feedback="frontal_asymmetry", relative_change=False,
               description="frontal alpha asymmetry: ln(alpha right) - ln(alpha left), F4 and F3 "
                           "where present; positive when the right is higher"),
    FeatureDef("iaf_hz", "alpha_peak_hz", "Alpha peak frequency", "Hz", ("posterior",),
               description="individual alpha peak frequency: the interpolated peak, within 7-13 "
                           "Hz, of the posterior PSD averaged over about 10 s, if it stands above "
                           "the 1/f background"),
    FeatureDef("beta_alpha_ratio", "beta_alpha_ratio", "Beta/alpha ratio", "1", ("frontal_midline",),
               description="beta power over alpha power, both averaged over the good "
                           "frontal-midline channels (an arousal index)"),
)

#: The features a preset can feed back, by their preset name.
FEEDBACK: Mapping[str, FeatureDef] = MappingProxyType(
    {f.feedback: f for f in FEATURES if f.feedback is not None})

#: Every feature by its estimator key.
BY_KEY: Mapping[str, FeatureDef] = MappingProxyType({f.key: f for f in FEATURES})
