"""Channel identity: standard 10-05 names and MNE channel types from the labels sources give.

Recordings and streams label their channels in many ways: ``EEG O1-REF`` and ``EEG Fp1-LE``
(clinical EDF exports), ``O1-A1``, ``Fc5.`` (PhysioNet's dot padding), ``FP1``, ``T3`` (the
old 10-20 name of T7), and type every channel EEG, the ECG included. The rules here turn
each label into the 10-05 name MNE's standard montages use (``mne.channels.
make_standard_montage("colin27_1005").ch_names``) and a channel type, once, for every source.
They follow the conventions of MNE's EDF reader (``infer_types``: a leading ``EEG``/``ECG``/
``EOG``/``EMG`` word gives the type) and of ``mne.datasets.eegbci.standardize`` (trailing
dots, case).

Every name is one that FIF, EDF and BrainVision store: printable ASCII (non-ASCII letters
transliterated, ``Ｏ１`` to ``O1``, ``Fé`` to ``Fe``; what has no ASCII form dropped), at most
:data:`MAX_NAME_LENGTH` characters, distinct; a label that leaves nothing is named by its
position (``EEG004``). The label itself is kept as given in :class:`Channel`.

Everything here is pure: labels in, names and types out.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

#: Old 10-20 names and the 10-10 names of the same sites (MNE's 10-05 montage keeps both as
#: separate entries; the 10-10 name is the one regions use).
OLD_10_20 = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
#: Sites used as a reference (ear lobes, mastoids): a derivation between two of them is a
#: reference channel, not a scalp site.
REFERENCE_SITES = frozenset({"A1", "A2", "M1", "M2"})
#: Suffixes after ``-`` that name a channel's reference rather than a second site:
#: common reference (REF), linked ears (LE), average (AV, AVG, AVE, AR), an ear or mastoid
#: (A1, A2, M1, M2, A1A2, M1M2) or the vertex (CZ, when the channel is not Cz itself).
REFERENCE_SUFFIXES = frozenset({"REF", "LE", "RE", "AV", "AVG", "AVE", "AR", "A1", "A2",
                                "M1", "M2", "A1A2", "M1M2", "CZ"})
#: MNE channel types a source passes on: EEG, and the signals recorded beside it that are
#: kept (typed, so that no feature uses them) for the session's record. Stimulus and status
#: channels, and other modalities (MEG, fNIRS...), are left out.
KEPT_TYPES = ("eeg", "eog", "ecg", "emg", "resp", "bio", "misc")

#: Words that type a channel, matched at the start of a word of its label (``ECG2``,
#: ``EOGL``, ``Resp Thorax``), in this order.
_TYPE_WORDS = (
    ("stim", ("STATUS", "TRIGGER", "TRIG", "STI", "STIM", "ANNOTATION", "EVENT", "MARKER",
              "PHOTIC", "LIGHT")),
    ("ecg", ("ECG", "EKG")),
    ("eog", ("EOG", "HEOG", "VEOG", "LOC", "ROC")),
    ("emg", ("EMG", "CHIN", "LEG")),
    ("resp", ("RESP", "THORAX", "THOR", "ABDOMEN", "ABDO", "ABD", "AIRFLOW", "FLOW", "NASAL",
              "CANNULA", "SNORE")),
    ("bio", ("SPO2", "SAO2", "PULSE", "PLETH", "PPG")),
)
#: Said in ``how`` of a channel whose name was taken by an earlier one.
DUPLICATE_NOTE = "is taken by an earlier channel"
#: The longest channel name: EDF's signal label field, 16 ASCII characters (MNE's EDF export
#: refuses a longer name; FIF and BrainVision store any length).
MAX_NAME_LENGTH = 16
_EEG_PREFIX = re.compile(r"^EEG(?:[\s_:-]+|(?=[A-Z]))", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
_WHITE_SPACE = re.compile(r"\s")
#: Where the 10-05 names come from (``standard_1005`` before MNE 1.13 renamed it).
_MONTAGES = ("colin27_1005", "standard_1005")


class Channel(NamedTuple):
    """One channel as a source labelled it and as neurofeed names it.

    Attributes
    ----------
    label : str
        The label as the file, stream or board gave it.
    name : str
        Its name: a 10-05 site (``"O1"``, ``"Fpz"``) where the label names one, else the
        cleaned label.
    type : str
        Its MNE channel type (``"eeg"``, ``"ecg"``, ``"eog"``, ``"emg"``, ``"resp"``,
        ``"bio"``, ``"misc"``, ``"stim"``...).
    how : str
        How the name and type were found, in words, for the session's record.
    """

    label: str
    name: str
    type: str
    how: str

    def as_dict(self) -> dict:
        """Return ``{"label", "name", "type"}``, as session.json records a channel."""
        return {"label": self.label, "name": self.name, "type": self.type}


@functools.cache
def standard_sites() -> dict[str, str]:
    """Return MNE's 10-05 site names, keyed by their upper-case form.

    Returns
    -------
    sites : dict of str to str
        ``{"FP1": "Fp1", "OZ": "Oz", ...}``: 343 names, as in MNE's standard 10-05 montage.
    """
    import mne

    builtin = mne.channels.get_builtin_montages()
    kind = next(name for name in _MONTAGES if name in builtin)
    return {name.upper(): name for name in mne.channels.make_standard_montage(kind).ch_names}


def site_name(name: str) -> str | None:
    """Return the 10-05 name of ``name`` (any case, old 10-20 names mapped), or None."""
    key = name.strip().upper()
    key = OLD_10_20.get(key, key)
    return standard_sites().get(key)


def standardize_label(label: str, declared: str | None = None) -> tuple[str, str, str]:
    """Return the name, type and how they were found, for one channel label.

    Parameters
    ----------
    label : str
        The label as given (``"EEG O1-REF"``, ``"Fc5."``, ``"ECG ECG"``, ``"T3"``).
    declared : str | None
        The channel's type as the file or stream declares it (any case). None, ``""`` or
        ``"eeg"`` mean "decide from the label", since a naive export types every channel
        EEG. Any other MNE type is kept; a type MNE does not know becomes ``"misc"``.

    Returns
    -------
    name : str
        The 10-05 site (``"O1"``; ``"T7"`` for ``"T3"``) where the label names one, else
        the label without ``EEG`` prefix, reference suffix, dots or surrounding space; in
        printable ASCII (:func:`storable_text`), at most :data:`MAX_NAME_LENGTH`
        characters, and ``""`` when nothing of the label is left
        (:func:`standardize` then names the channel by its position).
    type : str
        The MNE channel type.
    how : str
        What was done, in words (``"as given"``, ``"cleaned from 'EEG O1-REF'"``, ...).
    """
    given = str(label).strip().rstrip(". ").strip()
    text = storable_text(given).rstrip(". ").strip()
    name, kind, how = _named(text, str(label), declared)
    if text != given:
        how = (f"no printable ASCII character in {str(label)!r}" if not text else
               f"{how}; made printable ASCII from {str(label)!r}")
    short = name[:MAX_NAME_LENGTH].rstrip()
    if short != name:
        how = f"{how}; shortened to {MAX_NAME_LENGTH} characters (EDF's longest name)"
    return short, kind, how


def storable_text(text: str) -> str:
    """Return ``text`` as printable ASCII: letters transliterated, the rest dropped.

    Compatibility decomposition (NFKD) turns ``Ｏ１`` into ``O1`` and ``é`` into ``e`` plus
    an accent, which is dropped with every other character outside printable ASCII (``Φ``,
    ``脑``, emoji, control characters); white space (a tab, a no-break space) becomes a space.
    """
    text = _WHITE_SPACE.sub(" ", unicodedata.normalize("NFKD", str(text)))
    return _NOT_PRINTABLE_ASCII.sub("", text).strip()


def _named(text: str, label: str, declared: str | None) -> tuple[str, str, str]:
    """The rules of :func:`standardize_label` on ``text``, the label made storable."""
    kind = (declared or "").strip().lower()
    if kind not in ("", "eeg"):
        return text, (kind if kind in _mne_types() else "misc"), f"type {kind!r} as declared"
    core = _EEG_PREFIX.sub("", text).strip()
    sites = [part.strip().upper() for part in core.split("-")]
    if len(sites) == 2 and set(sites) <= REFERENCE_SITES:
        return core, "misc", "a derivation between reference sites"
    for kind, words in _TYPE_WORDS:
        if any(word.upper().startswith(words) for word in _WORDS.findall(core)):
            return text, kind, f"{kind.upper()} by its label"
    site = _without_reference(core)
    name = site_name(site)
    if name is None:
        return site, "eeg", "EEG, not a 10-05 site (position unknown)"
    if name == label:
        return name, "eeg", "as given"
    old = site.upper() if site.upper() in OLD_10_20 else None
    renamed = f"; old 10-20 name {old} is {name}" if old else ""
    return name, "eeg", f"10-05 site from {label!r}{renamed}"


def standardize(labels: Sequence[str], types: Sequence[str | None] | None = None) -> list[Channel]:
    """Return every channel's name, type and how, in channel order, with distinct names.

    Parameters
    ----------
    labels : sequence of str
        The labels as given, one per channel.
    types : sequence of (str or None) | None
        The declared types, one per channel (see :func:`standardize_label`); None: all
        undeclared.

    Returns
    -------
    channels : list of Channel
        One per label. When two labels give the same name (``O1`` and ``EEG O1-REF``), the
        first keeps it and the later one keeps its label stripped (numbered ``-2``,
        ``-3``... if even that repeats), and its ``how`` says so. A label with nothing in
        printable ASCII is named by its position (:func:`default_name`: ``EEG004`` for the
        fourth channel). Every name is one FIF, EDF and BrainVision store.
    """
    labels = [str(label) for label in labels]
    types = [None] * len(labels) if types is None else list(types)
    if len(types) != len(labels):
        raise ValueError(f"types must be one per label: {len(types)} for {len(labels)} labels")
    channels, taken = [], set()
    for index, (label, declared) in enumerate(zip(labels, types)):
        name, kind, how = standardize_label(label, declared)
        if not name:
            name = default_name(index)
            how = f"{how}; named by its position"
        if name in taken:
            first = name
            name = _unused(storable_text(label) or name, taken)
            how = f"{how}; {first} {DUPLICATE_NOTE}, so named {name!r}"
        taken.add(name)
        channels.append(Channel(label, name, kind, how))
    return channels


def has_positions(channels: Sequence[Channel]) -> bool:
    """Return whether any EEG channel is named after a 10-05 site."""
    return any(ch.type == "eeg" and site_name(ch.name) == ch.name for ch in channels)


def _without_reference(core: str) -> str:
    """``O1-REF`` -> ``O1``, ``Fp1-LE`` -> ``Fp1``, ``O1-A1`` -> ``O1``; ``Fp1-F7`` unchanged."""
    head, sep, tail = core.rpartition("-")
    if not sep or not head:
        return core
    suffix = tail.strip().upper()
    if suffix in REFERENCE_SUFFIXES and not (suffix == "CZ" and head.strip().upper() == "CZ"):
        return head.strip()
    return core


def default_name(index: int) -> str:
    """The name of the channel at ``index`` (from 0) when its label gives none: ``EEG001``..."""
    return f"EEG{index + 1:03d}"


def storable_names(names: Sequence[str]) -> list[str]:
    """Return ``names`` as FIF, EDF and BrainVision store them, distinct and in order.

    For channels named before names were made storable (a session folder of an earlier
    version): a name that is printable ASCII of at most :data:`MAX_NAME_LENGTH`
    characters, and not taken by an earlier one, is kept; another is made so as
    :func:`standardize` makes a label (:func:`storable_text`, shortened, else
    :func:`default_name`, numbered ``-2``... where it repeats).
    """
    kept, taken = [], set()
    for index, name in enumerate(names):
        name = str(name)
        if (name != storable_text(name) or not name or len(name) > MAX_NAME_LENGTH
                or name in taken):
            name = storable_text(name)[:MAX_NAME_LENGTH].rstrip() or default_name(index)
            name = _unused(name, taken)
        taken.add(name)
        kept.append(name)
    return kept


def _unused(name: str, taken: set[str]) -> str:
    """``name``, at most :data:`MAX_NAME_LENGTH` characters, numbered ``-2``, ``-3``... until
    no name in ``taken`` is the same."""
    name = name[:MAX_NAME_LENGTH].rstrip()
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = f"{name[:MAX_NAME_LENGTH - len(suffix)]}{suffix}"
    return candidate


@functools.cache
def _mne_types() -> frozenset[str]:
    from mne.io import get_channel_type_constants

    return frozenset(get_channel_type_constants())
