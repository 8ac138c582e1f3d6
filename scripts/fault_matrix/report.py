"""Triage of known non-bugs, the table by class, every failing case, and the one summary line."""
from __future__ import annotations

import shlex
from collections import defaultdict

from fault_matrix.runner import FLAGS

# Read case by case in QA: the behaviour is intended or an observation, not a product failure. Each
# waives only the flags named (a traceback or a crash in one of these still fails).
NOT_A_BUG = {
    "078": ("--speed 0.0001 asks for a 55 h replay of 20 s; timeout's SIGTERM then finalised it (not a hang)",
            ("wrong_rc", "hang")),
    "132": ("empty name in --region list silently skipped (observation)", ("wrong_rc",)),
    "150": ("role '1x' is valid (letters, digits)", ("wrong_rc",)),
    "167": ("--ip-port ignored by the synthetic board (observation: not range-checked)", ("wrong_rc",)),
    "197": ("--voices '' plays the default voices (observation)", ("wrong_rc",)),
    "212": ("--out '' means the current folder (observation)", ("wrong_rc",)),
    "280": ("1-sample file: replay runs 0 s, exit 0, one line (observation: silent acceptance)",
            ("wrong_rc",)),
    "281": ("2 s file with --duration 20: exit 0 and NOTHING on stderr (observation: silent acceptance)",
            ("wrong_rc",)),
    "301": ("OpenBCI header channel count ignored in favour of the columns: fine", ("wrong_rc",)),
    "308": ("XDF with NaN timestamps replays (observation)", ("wrong_rc",)),
    "331": ("record of a 1-sample file: exit 0, nothing said (observation)", ("wrong_rc",)),
    "539": ("SIGTERM after the work was done and printed: killed by the signal itself (shell sees 143), all "
            "saved",
            ("wrong_rc",)),
    "546": ("SIGINT after the session ended and printed: killed by the signal itself (shell sees 130), all "
            "saved",
            ("wrong_rc", "data_loss")),
}
COLUMNS = ("cases", *FLAGS, "fail")
HEADS = ("class", "cases", "tracebacks", "multi-line", "wrong exit", "hangs", "crashes", "data loss",
         "failures")


def triage(res) -> None:
    for c in res:
        if c["id"] in NOT_A_BUG:
            reason, waived = NOT_A_BUG[c["id"]]
            hit = [k for k in waived if c.get(k)]
            if hit:
                c["triage"] = f"not a product failure ({', '.join(hit)} waived): {reason}"
                for k in hit:
                    c[k] = False
        c["fail"] = any(c.get(k) for k in FLAGS)


def table(res) -> list[str]:
    agg = defaultdict(lambda: defaultdict(int))
    for c in res:
        a = agg[c["cls"]]
        a["cases"] += 1
        for k in (*FLAGS, "fail"):
            a[k] += bool(c.get(k))
    tot = {k: sum(agg[x][k] for x in agg) for k in COLUMNS}
    rows = [[k] + [str(agg[k][x]) for x in COLUMNS] for k in sorted(agg)]
    rows.append(["total"] + [str(tot[x]) for x in COLUMNS])
    widths = [max(len(r[i]) for r in [list(HEADS), *rows]) for i in range(len(HEADS))]

    def fmt(r):
        cells = [v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))]
        return "| " + " | ".join(cells) + " |"
    return [fmt(HEADS), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *[fmt(r) for r in rows]]


def failure(c) -> list[str]:
    flags = [k for k in FLAGS if c.get(k)]
    expect = " or ".join(map(str, c["expect"]))
    out = [f"### {c['id']} {c['cls']} {','.join(flags)}: exit {c['rc']} (expected {expect}) "
           f"after {c.get('elapsed_s')} s"]
    d = shlex.quote(c["dir"])
    if c.get("sig"):
        out.append(f"cmd: NEUROFEED_HOME={d}/home {c['run']}")
        second = f", then {c['second']} {c.get('second_delay')} s later" if c.get("second") else ""
        out.append(f"stop: {c['sig']} after {c.get('signal_sent_after_s')} s{second}; "
                   f"status={c.get('status')} "
                   f"rows={c.get('rows_on_disk')} fif={c.get('fif_samples')} out={c.get('out_samples')} "
                   f"loss_s={c.get('loss_s')} recover_rc={c.get('recover_rc')}")
    else:
        out.append(f"cmd: D={d} NEUROFEED_HOME={d}/home; {c['cmd']}")
    if c.get("data_note"):
        out.append(f"data: {c['data_note']}")
    lines = [line for line in c["stderr"].splitlines() if line.strip()]
    head = [line for line in c["stderr_head"].splitlines() if line.strip()]
    out.append(f"stderr ({c['n_err_lines']} lines) first: {head[0] if head else ''}")
    out.append(f"stderr last: {lines[-1] if lines else ''}")
    return out


def summary(res) -> str:
    n = {k: sum(bool(c.get(k)) for c in res) for k in (*FLAGS, "fail")}
    return (f"faults: {len(res)} cases, {n['traceback']} tracebacks, {n['hang']} hangs, {n['crash']} "
            "crashes, "
            f"{n['data_loss']} data losses, {n['fail']} failures")
