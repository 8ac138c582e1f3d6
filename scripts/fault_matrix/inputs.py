"""The bad input files and the session-folder templates the cases run on."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

from fault_matrix.context import REPO, Ctx


def make_files(ctx: Ctx) -> None:
    import mne

    sys.path.insert(0, str(REPO / "tests"))
    F = ctx.files
    EEG = ctx.eeg
    F.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names8 = ["F3", "F4", "Fz", "Cz", "Pz", "O1", "O2", "Oz"]

    def raw(sec=30.0, names=names8, sf=250.0, types="eeg", data=None):
        n = int(sec * sf)
        if data is None:
            data = rng.normal(scale=20e-6, size=(len(names), n))
        return mne.io.RawArray(data, mne.create_info(list(names), sf, types), verbose="error")

    raw().save(F / "good_raw.fif", overwrite=True, verbose="error")
    raw(60).export(F / "good.edf", overwrite=True, verbose="error")
    raw(30).export(F / "good.vhdr", overwrite=True, verbose="error")
    raw(30).export(F / "good.set", overwrite=True, verbose="error")
    raw(30).export(F / "good.bdf", overwrite=True, verbose="error")
    d = rng.normal(scale=20e-6, size=(8, 7500))
    d[:, 1000:1500] = np.nan
    raw(data=d).save(F / "nan_raw.fif", overwrite=True, verbose="error")
    d = rng.normal(scale=20e-6, size=(8, 7500))
    d[2, :] = np.inf
    raw(data=d).save(F / "inf_raw.fif", overwrite=True, verbose="error")
    raw(data=np.full((8, 7500), np.nan)).save(F / "allnan_raw.fif", overwrite=True, verbose="error")
    raw(data=np.zeros((8, 7500))).save(F / "flat_raw.fif", overwrite=True, verbose="error")
    raw(data=np.full((8, 7500), 1.0)).save(F / "1volt_raw.fif", overwrite=True, verbose="error")
    raw(data=rng.normal(size=(8, 1)) * 1e-5).save(F / "onesample_raw.fif", overwrite=True, verbose="error")
    raw(2.0).save(F / "short2s_raw.fif", overwrite=True, verbose="error")
    raw(30, names=["ECG1", "ECG2"], types="ecg").export(F / "ecgonly.edf", overwrite=True, verbose="error")
    raw(30, names=["ECG1", "ECG2"], types="ecg").save(F / "ecgonly_raw.fif", overwrite=True, verbose="error")
    raw(30, names=["Fz"]).save(F / "onechan_raw.fif", overwrite=True, verbose="error")
    raw(30, names=["Φz", "Ωz", "脑1", "😀"]).export(F / "unicode.vhdr", overwrite=True, verbose="error")
    raw(30, sf=1.0).save(F / "sf1_raw.fif", overwrite=True, verbose="error")
    raw(3, sf=20000.0, names=["Fz", "Cz"]).save(F / "sf20k_raw.fif", overwrite=True, verbose="error")
    # duplicate names in a BrainVision header
    t = (F / "good.vhdr").read_text()
    (F / "dup.vhdr").write_text(t.replace("Ch2=F4", "Ch2=F3"))
    # BrainVision whose .eeg is missing / cut
    (F / "noeeg.vhdr").write_text(t.replace("DataFile=good.eeg", "DataFile=missing.eeg"))
    shutil.copy(F / "good.eeg", F / "cut.eeg")
    with open(F / "cut.eeg", "r+b") as fh:
        fh.truncate(1001)  # mid-sample
    (F / "cut.vhdr").write_text(t.replace("DataFile=good.eeg", "DataFile=cut.eeg"))
    (F / "nchan0.vhdr").write_text(re.sub(r"NumberOfChannels=\d+", "NumberOfChannels=0", t))
    (F / "interval0.vhdr").write_text(re.sub(r"SamplingInterval=\d+", "SamplingInterval=0", t))
    (F / "intervalneg.vhdr").write_text(re.sub(r"SamplingInterval=\d+", "SamplingInterval=-4000", t))
    # EDF variants
    b = (F / "good.edf").read_bytes()
    (F / "trunc_hdr.edf").write_bytes(b[:100])
    (F / "trunc_half.edf").write_bytes(b[: len(b) // 2])
    (F / "trunc_hdronly.edf").write_bytes(b[:256 + 256 * 8])
    (F / "empty.edf").write_bytes(b"")

    def edf_field(name, start, size, value):
        h = bytearray(b)
        h[start:start + size] = str(value).ljust(size).encode()
        (F / name).write_bytes(bytes(h))
    edf_field("recs_neg.edf", 236, 8, "-5")
    edf_field("recs_abc.edf", 236, 8, "abc")
    edf_field("dur0.edf", 244, 8, "0")
    edf_field("durneg.edf", 244, 8, "-1")
    edf_field("dur_tiny.edf", 244, 8, "1e-9")
    edf_field("nsig0.edf", 252, 4, "0")
    edf_field("nsig_abc.edf", 252, 4, "x")
    edf_field("hdrbytes_huge.edf", 184, 8, "99999999")
    # samples per record of channel 1 huge: field offset 256 + ns*(16+80+8+8+8+8+8+80)
    ns = int(b[252:256])
    spr_off = 256 + ns * (16 + 80 + 8 + 8 + 8 + 8 + 8 + 80)
    edf_field("spr_huge.edf", spr_off, 8, "99999999")
    phys_min_off = 256 + ns * (16 + 80 + 8)
    h = bytearray(b)
    for i in range(ns):  # physical min == max on every channel
        h[phys_min_off + 8 * i: phys_min_off + 8 * i + 8] = b"0       "
        h[phys_min_off + 8 * ns + 8 * i: phys_min_off + 8 * ns + 8 * i + 8] = b"0       "
    (F / "physeq.edf").write_bytes(bytes(h))
    if EEG is not None:
        shutil.copy(EEG / "S001R01.edf", F / "S001R01.edf")
        s = (F / "S001R01.edf").read_bytes()
        (F / "S001R01_third.edf").write_bytes(s[: len(s) // 3])
    # garbage with each suffix
    g = os.urandom(4096)
    for suf in [".fif", ".edf", ".bdf", ".vhdr", ".set", ".xdf", ".csv", ".txt", ".gdf", ".fif.gz", ".mff",
                ".arff", ".npy"]:
        (F / f"garbage{suf}").write_bytes(g)
        (F / f"empty{suf}").write_bytes(b"")
    (F / "dir.edf").mkdir(exist_ok=True)
    (F / "dir_raw.fif").mkdir(exist_ok=True)
    shutil.copy(F / "good.edf", F / "edf_as.fif")
    shutil.copy(F / "good_raw.fif", F / "fif_as.edf")
    shutil.copy(F / "good_raw.fif", F / "fif_as.unknownext")
    if EEG is not None:
        shutil.copy(EEG / "eeg_eye_state.arff", F / "eye.arff")
        # OpenBCI text
        o = (EEG / "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt").read_text().splitlines(True)
        (F / "obci_ok.txt").write_text("".join(o[:3000]))
        for tag, rate in [("zero", "0"), ("neg", "-250"), ("huge", "1e12"), ("abc", "abc"), ("nan", "nan")]:
            (F / f"obci_rate_{tag}.txt").write_text(
                "".join(re.sub(r"Sample Rate = [\d.]+", f"Sample Rate = {rate}", line) for line in o[:3000]))
        (F / "obci_hdronly.txt").write_text("".join(o[:5]))
        (F / "obci_garbagerows.txt").write_text("".join(o[:6]) + "x,y,z\n" * 500 + "".join(o[6:1000]))
        (F / "obci_nchan_huge.txt").write_text("".join(
            re.sub(r"Number of channels = \d+", "Number of channels = 100000", line) for line in o[:3000]))
    # BrainFlow CSV
    (F / "bf_text.csv").write_text("a\tb\tc\n" * 100)
    (F / "bf_one.csv").write_text("\t".join(["1.0"] * 32) + "\n")
    (F / "bf_ragged.csv").write_text("\n".join("\t".join(["1.0"] * (5 + i % 7)) for i in range(500)))
    # XDF
    from _files_xdf import XdfStream, write_xdf
    samples = rng.normal(scale=20.0, size=(7500, 4)).astype(np.float32)
    st = XdfStream("Amp", "EEG", 250.0, "float32", 1000 + np.arange(7500) / 250, samples)
    write_xdf(F / "good.xdf", [st])
    xb = (F / "good.xdf").read_bytes()
    (F / "trunc.xdf").write_bytes(xb[: len(xb) // 2])
    (F / "magic_only.xdf").write_bytes(b"XDF:")
    st2 = XdfStream("Mk", "Markers", 0.0, "string", 1000 + np.arange(5.0), [["a"]] * 5)
    write_xdf(F / "markers_only.xdf", [st2])
    st3 = XdfStream("Amp", "EEG", 250.0, "float32", np.full(7500, np.nan), samples)
    write_xdf(F / "nan_ts.xdf", [st3])
    # presets
    P = F / "presets"
    P.mkdir(exist_ok=True)
    good = subprocess.run([*ctx.nf_argv, "presets", "show", "relax-alpha"], capture_output=True, text=True,
                          env=dict(os.environ, NEUROFEED_HOME=str(ctx.work / "home")), check=True).stdout
    (P / "good.toml").write_text(good)
    (P / "empty.toml").write_text("")
    (P / "binary.toml").write_bytes(os.urandom(2000))
    (P / "latin1.toml").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (P / "deep.toml").write_text("a = " + "[" * 50000 + "]" * 50000 + "\n")
    (P / "deep_tables.toml").write_text("[" + ".".join(["x"] * 3000) + "]\nv=1\n")
    (P / "unknown_key.toml").write_text(good + "\nfrobnicate = 3\n")
    reward = r"(?m)^(\s*reward_z\s*=).*$"
    (P / "wrong_type.toml").write_text(re.sub(reward, r'\1 "high"', good, count=1))
    (P / "huge_num.toml").write_text(re.sub(reward, r"\1 1e308", good, count=1))
    (P / "nan_num.toml").write_text(re.sub(reward, r"\1 nan", good, count=1))
    (P / "bigint.toml").write_text(re.sub(reward, r"\1 " + "9" * 5000, good, count=1))
    (P / "syntax.toml").write_text(good + "\n[[[oops\n")
    (P / "not_toml.json").write_text('{"name": "x"}')
    (P / "huge_file.toml").write_text(good + "".join(f"\nk{i} = {i}" for i in range(200000)))


def make_session_templates(ctx: Ctx):
    """A finished replay folder and a SIGKILLed run folder, copied per case."""
    T = ctx.templates
    if T.exists():
        shutil.rmtree(T)
    T.mkdir(parents=True)
    env = dict(os.environ, NEUROFEED_HOME=str(T / "home"))
    nf = ctx.nf_argv
    subprocess.run([*nf, "replay", str(ctx.files / "good_raw.fif"), "--preset", "relax-alpha",
                    "--subject", "tpl", "--duration", "20", "--audio", "none", "--no-status",
                    "--out", str(T / "fin")],
                   env=env, capture_output=True, timeout=120)
    fin = next((T / "fin").iterdir())
    p = subprocess.Popen([*nf, "run", "--preset", "relax-alpha", "--board", "synthetic", "--subject", "tplk",
                          "--duration", "60", "--audio", "none", "--no-status", "--out", str(T / "kill")],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(8)
    p.kill()
    p.wait()
    kill = next((T / "kill").iterdir())
    return fin, kill
