"""Running one case and flagging what went wrong: a traceback, a multi-line error, a wrong exit, a hang,
a crash, lost data."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

from fault_matrix.context import Ctx
from fault_matrix.damage import damage

TIMEOUT = 60
FLAGS = ("traceback", "multi_line", "wrong_rc", "hang", "crash", "data_loss")
TB_RE = re.compile(r"^(Traceback|\w*(Error|Exception|Interrupt)\b(:.*)?$)", re.M)
# Lines that are not part of an error message: progress, the folder's name, warnings.
WARN = re.compile(r"^neurofeed: (baseline not yet usable|warning)|^session folder:|^recorded |^session done")
STOPS_RECOVERED = ("SIGKILL", "SIGQUIT", "SIGUSR1")  # no chance to finalise: 'recover' must do it


def _case_dir(ctx: Ctx, c) -> Path:
    D = ctx.run / c["id"]
    if D.exists():
        shutil.rmtree(D)
    D.mkdir(parents=True)
    os.chmod(D, 0o777)
    return D


def _fif_state(folder: Path):
    """(sha256, samples) of a folder's eeg_raw.fif, or None when it is missing or unreadable."""
    import mne

    p = folder / "eeg_raw.fif"
    try:
        n = mne.io.read_raw_fif(p, verbose="error").n_times
    except Exception:
        return None
    return hashlib.sha256(p.read_bytes()).hexdigest(), n


def run_plain(ctx: Ctx, c, fin) -> None:
    D = _case_dir(ctx, c)
    env = dict(os.environ, NEUROFEED_HOME=str(D / "home"), D=str(D), PYTHONPATH="")
    before = None
    if "damage" in c:
        src, fname, how, sub = c["damage"]
        shutil.copytree(src, D / "s", symlinks=True)
        damage(D / "s", fname, how)
        if c.get("fif_kept"):
            before = _fif_state(D / "s")
        run = f"{ctx.nf} {sub} $D/s"
    else:
        run = c["cmd"].replace("{SESS}", str(fin)) if c.get("needs_session") else c["cmd"]
    t0 = time.monotonic()
    p = subprocess.Popen(["timeout", "-k", "5", str(TIMEOUT), "bash", "-c", run], env=env, cwd=D, text=True,
                         errors="replace", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT + 30)
        rc = p.returncode
    except subprocess.TimeoutExpired:  # something outlived the command and holds its output open
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = 124
    c["elapsed_s"] = round(time.monotonic() - t0, 2)
    c["run"] = run
    finish(c, rc, out, err)
    if c.get("fif_kept"):
        _check_fif_kept(c, before, _fif_state(D / "s"))
    if c.get("must_finalise"):
        _check_finalised(c, D, run)


def _check_fif_kept(c, before, after) -> None:
    """Recover on a finalised folder keeps its FIF byte for byte ('bytes') or at least its samples."""
    if before is None:
        return
    note = ""
    if after is None:
        note = "eeg_raw.fif missing or unreadable after recover"
    elif c["fif_kept"] == "bytes" and after[0] != before[0]:
        note = f"recover rewrote the finalised eeg_raw.fif ({before[1]} -> {after[1]} samples)"
    elif after[1] < before[1]:
        note = f"recover shrank eeg_raw.fif: {before[1]} -> {after[1]} samples"
    c["data_note"] = note
    c["data_loss"] = bool(note)


def _check_finalised(c, D: Path, run: str) -> None:
    """Every session folder the case made ends finalised with its FIF; a record that exits 0 wrote --out."""
    note = []
    for sj in sorted(D.rglob("session.json")):
        fo = sj.parent
        try:
            status = json.loads(sj.read_text()).get("status")
        except Exception as e:
            status = f"unreadable ({e!r})"
        if status != "finalised" or not list(fo.glob("eeg*_raw.fif")):
            fif = "present" if list(fo.glob("eeg*_raw.fif")) else "none"
            note.append(f"{fo.name}: status {status}, FIF {fif}")
    m = re.search(r" record .*--out ([^\s;&|)]+)", run)
    if m and c["rc"] == 0:
        outp = Path(m.group(1).replace("$D", str(D)))
        if not outp.exists():
            note.append(f"exit 0 but no --out file {outp.name}")
    if note:
        note.insert(0, c["must_finalise"])
    c["data_note"] = "; ".join(note)
    c["data_loss"] = bool(note)


def finish(c, rc, out, err) -> None:
    c["rc"] = rc
    c["stderr"] = err[-4000:]
    c["stderr_head"] = err[:1500]
    c["stdout_tail"] = out[-800:]
    lines = [line for line in err.splitlines() if line.strip()]
    c["n_err_lines"] = len(lines)
    c["traceback"] = bool(TB_RE.search(err)) or "Traceback" in err
    c["hang"] = rc == 124 or (rc == 137 and c.get("sig") is None)
    c["crash"] = (rc < 0 or rc in (134, 136, 139)
                  or (rc > 128 and rc not in (129, 130, 143, 137) and rc != 124))
    c["wrong_rc"] = rc not in c["expect"]
    errlines = [line for line in lines if not WARN.search(line)]
    c["multi_line"] = rc != 0 and len(errlines) > 1 and not c.get("sig")
    c["first_err"] = lines[0] if lines else ""
    c["last_err"] = lines[-1] if lines else ""
    c.setdefault("data_loss", False)


def load_samples(folder: Path):
    s = json.loads((folder / "session.json").read_text())
    n = len(s["eeg"]["ch_names"]) + 1
    a = np.fromfile(folder / "eeg.f64")
    rows = a.size // n
    ts = a[: rows * n].reshape(rows, n)[:, 0] if rows else np.array([])
    return s, rows, ts


def run_signal(ctx: Ctx, c) -> None:
    """Start the command, send signal(s) at a moment, check the exit, the folder and what was lost."""
    D = _case_dir(ctx, c)
    env = dict(os.environ, NEUROFEED_HOME=str(D / "home"), D=str(D))
    run = c["cmd"].replace("$D", str(D))
    c["run"] = run

    def pre():
        for s_ in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
            signal.signal(s_, signal.SIG_IGN if s_.name in c.get("ignore", []) else signal.SIG_DFL)
    p = subprocess.Popen(["bash", "-c", "exec " + run], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace", preexec_fn=pre, cwd=D)
    buf = {"out": [], "err": []}
    ev = threading.Event()

    def reader(stream, key):
        for line in stream:
            buf[key].append(line)
            if c.get("at_line") and c["at_line"] in line:
                ev.set()
    th = [threading.Thread(target=reader, args=(p.stdout, "out"), daemon=True),
          threading.Thread(target=reader, args=(p.stderr, "err"), daemon=True)]
    for t in th:
        t.start()
    t0 = time.monotonic()
    if c.get("at_line"):
        ev.wait(TIMEOUT)
        time.sleep(c.get("delay_after_line", 0))
    else:
        time.sleep(c["delay"])
    t_sig = time.monotonic()
    if p.poll() is None:
        p.send_signal(getattr(signal, c["sig"]))
    c["signal_sent_after_s"] = round(t_sig - t0, 2)
    if c.get("second"):
        time.sleep(c.get("second_delay", 0.3))
        if p.poll() is None:
            p.send_signal(getattr(signal, c["second"]))
    try:
        rc = p.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = 124
    for t in th:
        t.join(2)
    out, err = "".join(buf["out"]), "".join(buf["err"])
    c["elapsed_s"] = round(time.monotonic() - t0, 2)
    finish(c, rc, out, err)
    c["hang"] = rc == 124
    c["crash"] = rc in (-11, -6, -4, -7, -8, 134, 136, 139)
    c["uncaught_signal"] = rc in (-3, -10)
    if c["sig"] == "SIGKILL":
        c["wrong_rc"] = rc != -9
    _check_stopped_session(ctx, c, D, env, out + err, t_sig)


def _check_stopped_session(ctx: Ctx, c, D: Path, env, output: str, t_sig: float) -> None:
    folders = [Path(m) for m in re.findall(r"session folder: (\S+)", output)]
    if not folders:
        for base in [D / "out", D / "home"]:
            if base.exists():
                folders += [x for x in base.iterdir() if x.is_dir() and (x / "session.json").exists()]
    c["folder"] = str(folders[0]) if folders else None
    c["loss_s"] = None
    if not folders:
        c["data_note"] = "no session folder"
        c["data_loss"] = c.get("need_data", False)
        return
    fo = folders[0]
    if c["sig"] in STOPS_RECOVERED:
        r = subprocess.run([*ctx.nf_argv, "recover", str(fo)], env=env, capture_output=True, text=True,
                           timeout=120)
        c["recover_rc"] = r.returncode
        c["recover_err"] = r.stderr[-1500:]
        if r.returncode != 0 or "Traceback" in r.stderr:
            c["traceback"] = c["traceback"] or "Traceback" in r.stderr
    try:
        s, rows, ts = load_samples(fo)
    except Exception as e:
        c["data_note"] = f"cannot read folder: {e!r}"
        c["data_loss"] = True
        return
    c["status"] = s.get("status")
    c["rows_on_disk"] = rows
    sf = s["eeg"]["sfreq"]
    c["n_samples_final"] = s.get("n_samples")
    note = []
    if s.get("status") != "finalised":
        note.append(f"status {s.get('status')}")
    if rows and c.get("live_clock", True):
        c["loss_s"] = round(max(0.0, t_sig - float(ts[-1])), 3)
    if rows:
        c["recorded_s"] = round(rows / sf, 2)
    # FIF vs rows
    try:
        import mne
        fifs = sorted(fo.glob("eeg*_raw.fif"))
        nf = sum(mne.io.read_raw_fif(x, verbose="error").n_times for x in fifs)
        c["fif_samples"] = nf
        if nf < rows:
            note.append(f"FIF has {nf} samples < {rows} rows on disk")
    except Exception as e:
        note.append(f"FIF unreadable {e!r}"[:200])
    if c.get("record_out") and c["sig"] not in STOPS_RECOVERED:
        outp = Path(c["run"].split("--out ")[1].split()[0])
        try:
            import mne
            n_out = mne.io.read_raw(outp, verbose="error").n_times if outp.exists() else 0
        except Exception as e:
            n_out = -1
            note.append(f"--out unreadable {e!r}"[:200])
        c["out_samples"] = n_out
        if n_out < rows:
            note.append(f"--out file has {n_out} samples < {rows} rows on disk")
    limit = 0.5 if c["sig"] in STOPS_RECOVERED else 0.2
    if c["loss_s"] is not None and c["loss_s"] > limit and c.get("live_clock", True):
        note.append(f"last sample {c['loss_s']} s before the signal (limit {limit})")
    c["data_note"] = "; ".join(note)
    c["data_loss"] = bool(note) and c.get("sig") is not None
