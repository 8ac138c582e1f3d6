"""The channel label rules: every convention a file, stream or board uses, to a 10-05 name and type."""

from __future__ import annotations

import mne
import pytest

from neurofeed.acquire.channels import (
    KEPT_TYPES,
    MAX_NAME_LENGTH,
    OLD_10_20,
    has_positions,
    site_name,
    standard_sites,
    standardize,
    standardize_label,
    storable_names,
    storable_text,
)

#: label -> (name, type): the conventions of clinical EDF exports, PhysioNet, OpenBCI and LSL.
CONVENTIONS = {
    # already standard
    "O1": ("O1", "eeg"), "Fp1": ("Fp1", "eeg"), "AFF1h": ("AFF1h", "eeg"),
    # case
    "FP1": ("Fp1", "eeg"), "OZ": ("Oz", "eeg"), "FPZ": ("Fpz", "eeg"), "fz": ("Fz", "eeg"),
    "POZ": ("POz", "eeg"), "AFZ": ("AFz", "eeg"),
    # PhysioNet's dot padding, EDF's space padding
    "O1..": ("O1", "eeg"), "Oz.": ("Oz", "eeg"), "Fpz.": ("Fpz", "eeg"), "Fc5.": ("FC5", "eeg"),
    "Iz..": ("Iz", "eeg"), "  C3   ": ("C3", "eeg"),
    # EEG prefixes and reference suffixes
    "EEG O1": ("O1", "eeg"), "EEG O1-REF": ("O1", "eeg"), "EEG Fp1-LE": ("Fp1", "eeg"),
    "EEG-Fz": ("Fz", "eeg"), "EEG FZ-Ref": ("Fz", "eeg"), "EEG C3-AV": ("C3", "eeg"),
    "EEG C4-AVG": ("C4", "eeg"), "O1-A1": ("O1", "eeg"), "Fp1-A2": ("Fp1", "eeg"),
    "C3-M2": ("C3", "eeg"), "P4-M1": ("P4", "eeg"), "O2-CZ": ("O2", "eeg"),
    "Cz-Ref": ("Cz", "eeg"), "EEG PZ-REF": ("Pz", "eeg"),
    # old 10-20 names
    "T3": ("T7", "eeg"), "T4": ("T8", "eeg"), "T5": ("P7", "eeg"), "T6": ("P8", "eeg"),
    "EEG T3-REF": ("T7", "eeg"), "EEG T6-LE": ("P8", "eeg"),
    # EEG that names no 10-05 site: kept as EEG, cleaned
    "EXG1": ("EXG1", "eeg"), "Ch3": ("Ch3", "eeg"), "EEG001": ("EEG001", "eeg"),
    "EEG X1-REF": ("X1", "eeg"), "EEG Fp1-F7": ("Fp1-F7", "eeg"),
    # a derivation between reference sites
    "EEG A2-A1": ("A2-A1", "misc"), "A2-A1": ("A2-A1", "misc"), "M2-M1": ("M2-M1", "misc"),
    "A1-A2": ("A1-A2", "misc"),
    # other signals, named as labelled
    "ECG ECG": ("ECG ECG", "ecg"), "EKG": ("EKG", "ecg"), "ECG1": ("ECG1", "ecg"),
    "EEG ECG": ("EEG ECG", "ecg"), "EOG LOC-A2": ("EOG LOC-A2", "eog"), "LOC": ("LOC", "eog"),
    "ROC-A1": ("ROC-A1", "eog"), "HEOG": ("HEOG", "eog"), "VEOG": ("VEOG", "eog"),
    "EMG Chin": ("EMG Chin", "emg"), "Chin1-Chin2": ("Chin1-Chin2", "emg"),
    "Leg/L": ("Leg/L", "emg"), "Resp Thorax": ("Resp Thorax", "resp"),
    "Resp Abdomen": ("Resp Abdomen", "resp"), "Airflow": ("Airflow", "resp"),
    "Nasal Pressure": ("Nasal Pressure", "resp"), "SpO2": ("SpO2", "bio"),
    "SaO2": ("SaO2", "bio"), "Pulse": ("Pulse", "bio"), "Pleth": ("Pleth", "bio"),
    "Status": ("Status", "stim"), "STI 014": ("STI 014", "stim"), "TRIGGER": ("TRIGGER", "stim"),
    "EDF Annotations": ("EDF Annotations", "stim"), "Photic": ("Photic", "stim"),
}


@pytest.mark.parametrize("label, expected", CONVENTIONS.items(), ids=list(CONVENTIONS))
def test_label_conventions(label, expected):
    name, kind, how = standardize_label(label)
    assert (name, kind) == expected
    assert how  # always says how


def test_old_names_say_what_they_were():
    assert standardize_label("EEG T3-REF")[2] == ("10-05 site from 'EEG T3-REF'; old 10-20 name "
                                                  "T3 is T7")
    assert standardize_label("O1")[2] == "as given"


@pytest.mark.parametrize("declared, expected", [
    ("ecg", "ecg"), ("EOG", "eog"), ("stim", "stim"), ("MISC", "misc"), ("ACC", "misc"),
    ("", "ecg"), (None, "ecg"), ("EEG", "ecg")])
def test_declared_types_are_kept_except_eeg_which_the_label_decides(declared, expected):
    # A naive export types everything EEG, so EEG (or nothing) lets the label decide.
    assert standardize_label("ECG", declared)[1] == expected


def test_declared_non_eeg_types_keep_the_label():
    assert standardize_label("EOG1", "eog") == ("EOG1", "eog", "type 'eog' as declared")


def test_no_10_05_site_is_mistaken_for_another_signal():
    for name in standard_sites().values():
        expected = OLD_10_20.get(name, name)  # MNE keeps T3-T6 beside T7, T8, P7, P8
        assert standardize_label(name)[:2] == (expected, "eeg"), name


def test_sites_are_mne_standard_10_05_names():
    builtin = mne.channels.get_builtin_montages()
    kind = "colin27_1005" if "colin27_1005" in builtin else "standard_1005"
    assert set(standard_sites().values()) == set(mne.channels.make_standard_montage(kind).ch_names)
    assert site_name("fpz") == "Fpz" and site_name("T3") == "T7" and site_name("EXG1") is None
    assert set(OLD_10_20.values()) <= set(standard_sites().values())


def test_duplicates_keep_distinct_names_and_say_so():
    channels = standardize(["O1", "EEG O1-REF", "O1-A1", "Fz", "Fz"])
    assert [ch.name for ch in channels] == ["O1", "EEG O1-REF", "O1-A1", "Fz", "Fz-2"]
    assert [ch.type for ch in channels] == ["eeg"] * 5
    assert "O1 is taken by an earlier channel, so named 'EEG O1-REF'" in channels[1].how
    assert channels[0].how == "as given"


def test_standardize_keeps_order_labels_and_declared_types():
    channels = standardize(["EEG O1-REF", "ECG", "STI 014", "Counter"],
                           [None, "eeg", "", "misc"])
    assert [tuple(ch[:3]) for ch in channels] == [("EEG O1-REF", "O1", "eeg"),
                                                  ("ECG", "ECG", "ecg"),
                                                  ("STI 014", "STI 014", "stim"),
                                                  ("Counter", "Counter", "misc")]
    assert channels[0].as_dict() == {"label": "EEG O1-REF", "name": "O1", "type": "eeg"}
    with pytest.raises(ValueError, match="one per label"):
        standardize(["O1"], ["eeg", "eeg"])


def test_positions_are_recognised_only_on_eeg_channels():
    assert has_positions(standardize(["EXG1", "O1"]))
    assert not has_positions(standardize(["EXG1", "EXG2", "ECG"]))
    assert not has_positions(standardize(["O1"], ["eog"]))


def test_kept_types_are_mne_types():
    from mne.io import get_channel_type_constants

    assert set(KEPT_TYPES) <= set(get_channel_type_constants())
    assert "stim" not in KEPT_TYPES


def test_non_ascii_labels_become_distinct_ascii_names_and_keep_their_labels():
    """FIF, EDF and BrainVision store ASCII names: a label is transliterated where it can be
    (a fullwidth O1 is the site O1), and what has no ASCII form is dropped or numbered."""
    labels = ["Φz", "Ωz", "脑1", "😀", "Ｏ１", "Fé", "EEG\u00a0C3", ""]
    channels = standardize(labels)
    assert [ch.label for ch in channels] == labels
    assert [ch.name for ch in channels] == ["z", "z-2", "1", "EEG004", "O1", "Fe", "C3", "EEG008"]
    assert [ch.type for ch in channels] == ["eeg"] * len(labels)
    assert "made printable ASCII from 'Φz'" in channels[0].how
    assert channels[3].how == "no printable ASCII character in '😀'; named by its position"
    assert has_positions(channels)  # O1 and C3 are sites


def test_names_fit_edf_and_stay_distinct_when_shortened():
    channels = standardize(["Nasal Pressure Transducer", "Nasal Pressure Transducer 2", "EEG004",
                            "😀", "Leg\tmovement"], ["", "", "", "", "emg"])
    names = [ch.name for ch in channels]
    assert names == ["Nasal Pressure T", "Nasal Pressure-2", "EEG004", "EEG004-2", "Leg movement"]
    assert all(len(name) <= MAX_NAME_LENGTH and name.isascii() and name.isprintable()
               for name in names)
    assert "shortened to 16 characters" in channels[0].how
    assert [ch.type for ch in channels] == ["resp", "resp", "eeg", "eeg", "emg"]


def test_storable_names_keep_good_names_and_fix_an_old_folders():
    assert storable_names(["O1", "Fz", "EEG001"]) == ["O1", "Fz", "EEG001"]
    assert storable_names(["Φz", "Ωz", "脑1", "😀", "O1", "O1", "B" * 20]) == [
        "z", "z-2", "1", "EEG004", "O1", "O1-2", "B" * 16]
    assert storable_text("  Ｏ１\tref ") == "O1 ref"
