"""neurofeed's fault matrix: bad inputs and faults against the CLI, checked for what the project promises.

A bad argument, file or session folder is one line on stderr and exit 2, never a traceback; nothing hangs
(60 s per case) or crashes; SIGINT/SIGTERM/SIGHUP stop with 130/143/129 and lose nothing (the last sample
within 0.2 s of the signal, every row on disk in the FIF and the --out file); after SIGKILL (and an
unhandled SIGQUIT/SIGUSR1) 'recover' finalises the folder and at most 0.5 s is lost.

    .venv/bin/python scripts/fault_matrix [FILTER] [--work DIR] [--keep]

FILTER: comma-separated classes (substrings: args, files-replay, damaged, stop, lsl, ...) or case ids.
Cases run one after the other (about 25 min for all); the last line is the summary, the exit status 1
when a case fails. Cases needing the real recordings (../shared/data/eeg) or root (mount namespaces,
running as nobody) skip, saying why, where those are missing.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fault_matrix import cases as cases_mod
from fault_matrix import report
from fault_matrix.context import Ctx, make_ctx
from fault_matrix.inputs import make_files, make_session_templates
from fault_matrix.runner import FLAGS, run_plain, run_signal


def _skip_reasons(ctx: Ctx) -> dict[str, str]:
    """What each need lacks here, by need; an empty dict when everything can run."""
    why = {}
    if ctx.eeg is None:
        why["eeg"] = "the real recordings (../shared/data/eeg next to the repository) are absent"
    root = os.geteuid() == 0
    if not root:
        why["unshare"] = why["nobody"] = "needs root (a mount namespace, or running the tool as nobody)"
        return why
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        why["unshare"] = "'unshare -m' is not permitted here (no mount namespaces)"
    mode = ctx.work.stat().st_mode
    os.chmod(ctx.work, 0o755)  # nobody must reach the case folders
    r = subprocess.run(["su", "nobody", "-s", "/bin/sh", "-c", f"{ctx.nf} --version"], capture_output=True,
                       text=True, cwd="/")
    if r.returncode != 0:
        os.chmod(ctx.work, mode)
        why["nobody"] = (f"'su nobody' cannot run {ctx.nf} (exit {r.returncode}: the venv's python is not "
                         "reachable by other users, e.g. it lies under /root)")
    return why


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fault_matrix", description=__doc__.splitlines()[0])
    ap.add_argument("filter", nargs="?", default="", help="classes or case ids, comma-separated (default: "
                                                          "all)")
    ap.add_argument("--work", type=Path, help="working folder (default: a fresh temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the folders of passing cases too")
    ap.add_argument("--remake", action="store_true", help="remake the input files and templates in --work")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="neurofeed-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    ctx = make_ctx(work)
    t_start = time.monotonic()
    print(f"work folder: {ctx.work}\nneurofeed: {ctx.nf}", flush=True)

    if args.remake or not (ctx.files / "presets" / "huge_file.toml").exists():
        print("making the input files", flush=True)
        make_files(ctx)
    T = ctx.templates
    if not args.remake and (T / "fin").exists() and (T / "kill").exists():
        fin, kill = next((T / "fin").iterdir()), next((T / "kill").iterdir())
    else:
        print("making the session templates", flush=True)
        fin, kill = make_session_templates(ctx)
    all_cases = cases_mod.build(ctx, fin, kill)

    flts = args.filter.split(",")
    todo = [c for c in all_cases if any(f in c["cls"] or f == c["id"] for f in flts)]
    why = _skip_reasons(ctx)
    skipped = {}
    for c in todo:
        for need in c["needs"]:
            if need in why:
                skipped.setdefault(why[need], []).append(c["id"])
                break
    skip_ids = {i for ids in skipped.values() for i in ids}
    for reason, ids in skipped.items():
        print(f"skipping {len(ids)} cases: {reason}: {' '.join(ids)}", flush=True)
    todo = [c for c in todo if c["id"] not in skip_ids]
    print(f"{len(todo)} cases", flush=True)

    ctx.run.mkdir(parents=True, exist_ok=True)
    res_path = ctx.work / "results.json"
    for i, c in enumerate(todo):
        c["dir"] = str(ctx.run / c["id"])
        if c.get("sig"):
            run_signal(ctx, c)
        else:
            run_plain(ctx, c, fin)
        flags = [k for k in FLAGS if c.get(k)]
        print(f"{c['id']} {c['cls']:16} rc={c['rc']:4} {c.get('elapsed_s', '')} {','.join(flags)} :: "
              f"{c['cmd'][:110]} :: {c['last_err'][:150]}", flush=True)
        if i % 10 == 0 or i == len(todo) - 1:
            res_path.write_text(json.dumps(todo[: i + 1], indent=1, default=str))

    report.triage(todo)
    res_path.write_text(json.dumps(todo, indent=1, default=str))
    if not args.keep:
        for c in todo:
            if not c["fail"]:
                shutil.rmtree(c["dir"], ignore_errors=True)
    print()
    for c in todo:
        if c.get("triage"):
            print(f"triaged {c['id']} {c['cls']}: {c['triage']}")
    print("\n".join(report.table(todo)))
    for c in todo:
        if c["fail"]:
            print()
            print("\n".join(report.failure(c)))
    print()
    mins, secs = divmod(int(time.monotonic() - t_start), 60)
    print(f"results: {res_path} (run time {mins} min {secs:02d} s)")
    print(report.summary(todo), flush=True)
    return 1 if any(c["fail"] for c in todo) else 0


if __name__ == "__main__":
    sys.exit(main())
