"""Name channels that arrive without usable labels: ``--montage NAME|FILE``.

A montage here is an order of 10-05 names, one per channel (``EXG1`` is Fp1, ``EXG2`` is
Fp2, ...), given as a built-in name, a file, or a ``LABEL=NAME`` map. MNE's standard
montages give positions, not an order: their names are accepted only to check that the
channels are already named after their sites.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from neurofeed.acquire.channels import Channel, has_positions, site_name, standardize
from neurofeed.errors import InvalidArgumentError

#: The OpenBCI defaults, channel 1 first. Cyton and Cyton+Daisy: the EEG names of BrainFlow's
#: board descriptors for those boards (``BoardShim.get_board_descr``, BrainFlow 5.x), which
#: match the electrode order of the OpenBCI GUI's head plot (``createDefaultElectrodeLocations``
#: in OpenBCI_GUI/HeadPlot.pde: Fp1, Fp2, C3, C4, T5 = P7, T6 = P8, O1, O2, then F7, F8, two
#: frontal and two temporal sites and two between central and parietal). Ganglion: BrainFlow
#: names no channels; the GUI's head plot draws its 4 channels at the first four of those
#: sites.
BUILTIN_MONTAGES = {
    "openbci-cyton": ("Fp1", "Fp2", "C3", "C4", "P7", "P8", "O1", "O2"),
    "openbci-cyton-daisy": ("Fp1", "Fp2", "C3", "C4", "P7", "P8", "O1", "O2",
                            "F7", "F8", "F3", "F4", "T7", "T8", "P3", "P4"),
    "openbci-ganglion": ("Fp1", "Fp2", "C3", "C4"),
}
#: The built-in OpenBCI montage for a board with this many EEG channels.
OPENBCI_DEFAULTS = {len(names): name for name, names in BUILTIN_MONTAGES.items()}
_ACCEPTED = ("a built-in montage ({builtin}), an MNE standard montage name (channels already "
             "named after their sites), a BIDS electrodes.tsv or channels.tsv, a file with one "
             "name per line, or a map such as EXG1=Fp1,EXG2=Fp2 (or 1=Fp1,2=Fp2 by position)")
#: What a source's description says when its channels have no recognisable positions.
NO_POSITIONS = "no recognisable 10-05 names; pass --montage or --region"


class Identity(NamedTuple):
    """The channels of a source and how their montage was found.

    Attributes
    ----------
    channels : list of Channel
        One per channel, in channel order.
    montage : dict
        ``{"name": ..., "how": ...}``: the montage applied (a file by its name, without its
        folder; None when the labels were used) and why, for ``description["montage"]``.
    warning : str or None
        What to warn about (a montage applied by default, or no positions at all).
    """

    channels: list[Channel]
    montage: dict
    warning: str | None


def identify(labels: Sequence[str], types: Sequence[str | None] | None = None, *,
             montage: str | None = None, default: str | None = None) -> Identity:
    """Return the channels' names and types, with ``montage`` or ``default`` applied.

    Parameters
    ----------
    labels, types
        The channels' labels and declared types, as for
        :func:`~neurofeed.acquire.channels.standardize`.
    montage : str | None
        What ``--montage`` gave (see :func:`parse_montage`), or None.
    default : str | None
        A key of :data:`BUILTIN_MONTAGES` applied when ``montage`` is None and no EEG
        channel is named after a 10-05 site (an OpenBCI board's or file's unnamed channels).

    Returns
    -------
    identity : Identity
    """
    channels = standardize(labels, types)
    if montage is not None:
        names = parse_montage(montage, len(channels), [ch.name for ch in channels])
        how = "--montage"
        # A file is recorded by name only: its folder may name the person or the date.
        montage = Path(montage).name if Path(montage).is_file() else montage
    elif default is not None and not has_positions(channels):
        names = parse_montage(default, len(channels), [ch.name for ch in channels])
        how = (f"the OpenBCI GUI default for {len(channels)} channels; pass --montage to "
               "override")
        montage = default
    elif has_positions(channels):
        return Identity(channels, {"name": None, "how": "the channel labels"}, None)
    else:
        return Identity(channels, {"name": None, "how": NO_POSITIONS}, NO_POSITIONS)
    named = [ch if name == ch.name else Channel(ch.label, name, "eeg", f"{how}: {montage}")
             for ch, name in zip(channels, names)]
    warning = None if how == "--montage" else f"channels named by montage {montage}: {how}"
    return Identity(named, {"name": montage, "how": how}, warning)


def parse_montage(text: str, n_channels: int, labels: Sequence[str]) -> list[str]:
    """Return one name per channel from what ``--montage`` gave.

    Parameters
    ----------
    text : str
        A key of :data:`BUILTIN_MONTAGES`; an MNE standard montage name (which checks that
        ``labels`` are already its sites, and keeps them); the path of a BIDS
        ``electrodes.tsv`` or ``channels.tsv`` (its ``name`` column, in order) or of a file
        with one name per line; or a map ``LABEL=NAME,...`` where LABEL is a channel's label
        (any case) or its position from 1. Channels a map leaves out keep their names.
    n_channels : int
        The number of channels.
    labels : sequence of str
        The channels' current names, one per channel.

    Returns
    -------
    names : list of str
        ``n_channels`` distinct names; every name the montage gives is a 10-05 site, in
        MNE's spelling (``FP1`` becomes ``Fp1``).

    Raises
    ------
    InvalidArgumentError
        On one line naming the montage and what is wrong: an unknown name or missing
        file, a count other than ``n_channels``, a name that is not a 10-05 site, a
        label the channels do not have, or a name given twice.
    """
    labels = list(labels)
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError(f"montage must be a name, a file or a map, got {text!r}; "
                                   f"accepted: {_accepted()}")
    text = text.strip()
    if text.lower() in BUILTIN_MONTAGES:
        given = list(BUILTIN_MONTAGES[text.lower()])
    elif (sites := _standard_sites_of(text)) is not None:
        return _checked_standard(text, sites, labels)
    elif Path(text).is_file():
        given = _names_from_file(text)
    elif "=" in text:
        return _checked(text, _mapped(text, labels), labels, n_channels, partial=True)
    else:
        raise InvalidArgumentError(f"montage {text!r} is neither a known name nor an existing "
                                   f"file; accepted: {_accepted()}")
    return _checked(text, given, labels, n_channels)


def _checked(text: str, given: list[str | None], labels: list[str], n_channels: int, *,
             partial: bool = False) -> list[str]:
    """Check ``given`` (None: keep the channel's name) and return it in MNE's spelling."""
    if not partial and len(given) != n_channels:
        raise InvalidArgumentError(f"montage {text!r} names {len(given)} channels, but the source "
                                   f"has {n_channels} ({', '.join(labels)})")
    given = [label if name is None else name for name, label in zip(given, labels)]
    new = [name for name, old in zip(given, labels) if name != old]
    bad = [name for name in new if site_name(name) is None]
    if bad:
        raise InvalidArgumentError(f"montage {text!r}: {', '.join(map(repr, bad))} "
                                   "not 10-05 site names; accepted: names such as Fp1, Fz, O1, "
                                   "PO8 (MNE's standard 10-05 montage)")
    names = [site_name(name) if name in new else name for name in given]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidArgumentError(f"montage {text!r} gives {', '.join(repeated)} to more than "
                                   "one channel; accepted: each name once")
    return names


def _mapped(text: str, labels: list[str]) -> list[str]:
    """Apply a ``LABEL=NAME,...`` map (LABEL: a label, any case, or a position from 1)."""
    names = list(labels)
    by_label = {label.casefold(): i for i, label in enumerate(labels)}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key, sep, name = (part.strip() for part in entry.partition("="))
        if key.isdigit() and 1 <= int(key) <= len(labels):
            index = int(key) - 1
        elif key.casefold() in by_label:
            index = by_label[key.casefold()]
        else:
            raise InvalidArgumentError(
                f"montage {text!r}: {key!r} is not a channel (labels: {', '.join(labels)}; "
                f"positions 1 to {len(labels)}); accepted: LABEL=NAME or POSITION=NAME")
        if not sep or not name:
            raise InvalidArgumentError(f"montage {text!r}: {entry!r} names no site; "
                                       "accepted: LABEL=NAME, e.g. EXG1=Fp1")
        names[index] = name
    return names


def _names_from_file(path: str) -> list[str | None]:
    """Names from a BIDS ``*.tsv`` (``name`` column) or one per line (``#`` comments).

    A row of a BIDS ``channels.tsv`` whose ``type`` is not EEG gives None: that channel
    (an ECG, a trigger) keeps its name.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidArgumentError(f"montage {path!r} cannot be read ({err}); accepted: "
                                   "a UTF-8 text file") from None
    lines = [line.strip() for line in text.splitlines()]
    header = lines[0].split("\t") if lines else []
    if "name" in header:
        rows = csv.DictReader(io.StringIO(text), delimiter="\t")
        return [row["name"].strip() if (row.get("type") or "EEG").strip().upper() == "EEG"
                else None for row in rows if (row.get("name") or "").strip()]
    return [line for line in lines if line and not line.startswith("#")]


def _standard_sites_of(name: str) -> set[str] | None:
    """Return the upper-case site names of MNE's standard montage ``name``, or None."""
    import mne

    with warnings.catch_warnings():  # MNE 1.13 renamed standard_10xx; the old names still work
        warnings.simplefilter("ignore", FutureWarning)
        try:
            montage = mne.channels.make_standard_montage(name)
        except ValueError:
            return None
    return {site.upper() for site in montage.ch_names}


def _checked_standard(text: str, sites: set[str], labels: list[str]) -> list[str]:
    """Keep ``labels`` if they are all among ``sites``, MNE's standard montage ``text``."""
    missing = [label for label in labels if label.upper() not in sites]
    if missing:
        raise InvalidArgumentError(
            f"montage {text!r} gives positions, not an order, and {', '.join(missing)} are not "
            f"its sites; name the channels with a map (EXG1=Fp1,...) or a file")
    return labels


def _accepted() -> str:
    return _ACCEPTED.format(builtin=", ".join(BUILTIN_MONTAGES))

