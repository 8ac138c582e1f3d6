"""The safety alerts a subject's commands print until a clinician acknowledges them."""

from __future__ import annotations

import sys


def print_open_alerts(subject: str) -> None:
    """One line on stderr for each of ``subject``'s unacknowledged safety alerts."""
    from neurofeed.outcomes.store import open_alerts

    for alert in open_alerts(subject):
        print(f"SAFETY ALERT {alert.alert_id}: {alert.instrument.upper()} item {alert.item} answered "
              f"{alert.answer} (thoughts of self-harm) on {alert.raised_utc}, not yet acknowledged; a "
              f"clinician must see this. Acknowledge with: neurofeed assess --subject {subject} "
              f"--acknowledge {alert.alert_id} --note '...'", file=sys.stderr)
