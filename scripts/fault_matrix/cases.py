"""The cases: each a shell command (run with D=<its folder>, NEUROFEED_HOME=$D/home) and its expected exits.

Ids are the QA matrix's (000-564) so that they match its report; the two cases that ran the tool as
'nobody' keep theirs and run only where nobody can execute it.
"""
from __future__ import annotations

import shlex

from fault_matrix.context import EEG_INPUTS, HERE, Ctx
from fault_matrix.damage import DAMAGES

# Finalising failed on non-ASCII channel names (F4): the session ran, the folder stayed 'running', no
# --out file, and 'recover' failed the same way, so the EEG never became a FIF. These cases check it.
NON_ASCII = "non-ASCII channel names: every session folder made must end finalised with its FIF"


class Cases(list):
    def add(self, cls, cmd, expect=(2,), **kw):
        c = dict(id=f"{len(self):03d}", cls=cls, cmd=cmd, expect=list(expect), **kw)
        c["needs"] = _needs(c)
        self.append(c)
        return c


def _needs(c) -> list[str]:
    needs = []
    text = c["cmd"] + " ".join(str(x) for x in c.get("damage", ()))
    if any(f"/{n}" in text for n in EEG_INPUTS) or "$EEG" in text:
        needs.append("eeg")
    if "unshare " in text:
        needs.append("unshare")
    if "su nobody" in text:
        needs.append("nobody")
    return needs


def build(ctx: Ctx, fin, kill) -> Cases:
    cases = Cases()
    _build_args_files(cases, ctx)
    _build_damage(cases, ctx, fin, kill)
    _build_faults(cases, ctx)
    _build_signals(cases, ctx)
    _build_extra(cases, ctx, fin, kill)
    return cases


def _build_args_files(cases: Cases, ctx: Ctx):
    case = cases.add
    NF, F = ctx.nf, ctx.files
    R = f"{F}/good_raw.fif"
    RP = "--audio none --no-status --no-report --out $D/out"
    SYN = "--board synthetic"
    # ---------------- arguments: durations
    for cmdname, base in [("record", f"{NF} record {SYN} --no-progress --out $D/x.fif"),
                          ("run", f"{NF} run --preset relax-alpha {SYN} {RP}"),
                          ("replay", f"{NF} replay {R} --preset relax-alpha {RP}"),
                          ("calibrate", f"{NF} calibrate {SYN} {RP}"),
                          ("play", f"{NF} play --wav $D/p.wav"),
                          ("stream", f"{NF} stream {SYN}")]:
        for dur in ["-1", "0", "nan", "inf", "1e309", "5h", "abc", "20x", "''", "200d"]:
            if cmdname == "record" and dur == "5h":
                dur = "25h"
            if cmdname == "stream" and dur == "5h":
                dur = "169h"
            case("args-duration", f"{base} --duration {dur}")
    for opt in ["--baseline 0", "--baseline -3", "--baseline nan", "--baseline 5m", "--baseline 1e400"]:
        case("args-duration", f"{NF} replay {R} --preset relax-alpha --duration 20 {opt} {RP}")
    case("args-duration", f"{NF} replay {R} --preset relax-alpha --duration 20 --start -5 {RP}")
    case("args-duration", f"{NF} replay {R} --preset relax-alpha --duration 20 --start 1e9 {RP}")
    case("args-duration", f"{NF} run --preset relax-alpha --lsl qa_nostream --lsl-timeout 0 {RP}")
    case("args-duration", f"{NF} run --preset relax-alpha {SYN} --stall-timeout -1 --duration 10 {RP}")
    case("args-duration", f"{NF} devices --lsl-timeout 2m")
    case("args-duration", f"{NF} devices --lsl-timeout nan")
    # speeds
    for sp in ["0", "-1", "nan", "inf", "abc", "1e309", "''", "0.0001"]:
        case("args-speed", f"{NF} replay {R} --preset relax-alpha --duration 20 --speed {sp} {RP}")
    case("args-speed", f"{NF} record --file {R} --speed -2 --duration 5 --no-progress --out $D/x.fif")
    # seeds
    for sd in ["99999999999999999999999999", "-1", "abc", "1.5", "nan", "''"]:
        case("args-seed", f"{NF} replay {R} --preset relax-alpha --duration 20 --seed {sd} {RP}",
             expect=(0, 2))
    case("args-seed", f"{NF} run --preset relax-alpha --simulate abc --duration 10 {RP}")
    case("args-seed", f"{NF} run --preset relax-alpha --simulate -5 --duration 10 {RP}", expect=(0, 2))
    case("args-seed", f"{NF} play --seed abc --duration 5 --wav $D/p.wav")
    # subjects
    for sj in ["../x", "''", "'é脑'", "a" * 200, "a/b", "'-rf'", "'a b'", ".", "..", "'a\nb'"]:
        case("args-subject", f"{NF} replay {R} --preset relax-alpha --duration 20 --subject {sj} {RP}")
    case("args-subject", f"{NF} record {SYN} --duration 3 --subject ../../etc --no-progress --out $D/x.fif")
    case("args-subject", f"{NF} progress --subject ../x")
    case("args-subject", f"{NF} progress --subject {'b' * 300}")
    # presets
    P = F / "presets"
    for p in ["nosuch", str(F), "/dev/null", f"{P}/binary.toml", f"{P}/empty.toml", f"{P}/deep.toml",
              f"{P}/deep_tables.toml", f"{P}/unknown_key.toml", f"{P}/wrong_type.toml", f"{P}/huge_num.toml",
              f"{P}/nan_num.toml", f"{P}/bigint.toml", f"{P}/syntax.toml", f"{P}/not_toml.json",
              f"{P}/latin1.toml", f"{P}/missing.toml", "/dev/zero", "''", "../relax-alpha"]:
        case("args-preset", f"{NF} replay {R} --duration 20 --preset {p} {RP}")
    case("args-preset", f"{NF} replay {R} --duration 20 --preset {P}/huge_file.toml {RP}", expect=(0, 2))
    case("args-preset", f"{NF} presets show nosuch")
    case("args-preset", f"{NF} presets show {P}/deep.toml")
    case("args-preset", f"{NF} presets frobnicate")
    case("args-preset", f"{NF} presets show ''")
    # regions
    for rg in ["posterior=", "=O1", "posterior=NOPE", "posterior", "nosuchregion=O1", "posterior=O1,O1",
               "posterior=O1,,O2", "'posterior=O1 O2'"]:
        case("args-region", f"{NF} replay {R} --preset relax-alpha --duration 20 --region {rg} {RP}",
             expect=(0, 2) if rg in ("posterior=O1,O1",) else (2,))
    # lsl selectors
    for sel in ["''", "=", "type=", "name=", "foo=bar", "source_id=", "'type=EEG,name=x'", "qa_none_xyz"]:
        case("args-lsl", f"{NF} record --lsl {sel} --lsl-timeout 2 --duration 3 --no-progress --out $D/x.fif")
    # --source grammar
    for src in ["''", "board", "board:", "foo:bar", "lsl:", "file:", "file:/nope.fif", "simulate:abc",
                "1x=simulate:", "a=b=simulate:1", "simulate:1,speed=2", "board:synthetic,nokey=1",
                "board:synthetic,ip-port=abc", "file:" + R + ",loop=maybe", "file:" + R + ",speed=0",
                "board:synthetic,stall-timeout=-1", "'x y=simulate:1'", "board:synthetic,",
                "simulate:1 --source simulate:2", "board:synthetic,serial-port"]:
        case("args-source", f"{NF} run --preset relax-alpha --source {src} --duration 10 {RP}")
    case("args-source",
         f"{NF} run --preset relax-alpha --source simulate:1 --board synthetic --duration 10 {RP}")
    case("args-source", f"{NF} run --preset relax-alpha --duration 10 {RP} --board nosuchboard")
    case("args-source", f"{NF} run --preset relax-alpha --duration 10 {RP} --board 99999")
    case("args-source", f"{NF} run --preset relax-alpha --duration 10 {RP} --board -1", expect=(0, 2))
    case("args-source", f"{NF} run --preset relax-alpha --duration 10 {RP} --board cyton "
         "--serial-port /dev/nonexistent")
    case("args-source",
         f"{NF} run --preset relax-alpha --duration 10 {RP} --board synthetic --ip-port 99999999")
    case("args-source", f"{NF} run --preset relax-alpha --duration 10 {RP} --file {R} --master-board nosuch")
    # montage
    for m in ["nosuch", "''", "standard_1020", "/etc/passwd"]:
        case("args-montage", f"{NF} replay {R} --preset relax-alpha --duration 20 --montage {m} {RP}",
             expect=(0, 2))
    # audio
    for a in ["nosuch", "wav:", "wav:/proc/x.wav", f"wav:{F}/dir.edf", "wav:/sys/qa/x.wav",
              "jack", "portaudio", "''", "wav:/dev/full"]:
        case("args-audio", f"{NF} run --preset relax-alpha {SYN} --duration 10 --no-status --no-report "
             f"--out $D/out --audio {a}")
    case("args-audio", f"{NF} play --duration 5 --backend portaudio --device 999")
    case("args-audio", f"{NF} play --duration 5 --wav /proc/nope.wav")
    for o in ["--tempo 0", "--tempo 1e9", "--key H", "--mode nosuch", "--intensity 2", "--brightness nan",
              "--entrainment binaural:0", "--entrainment foo:6", "--entrainment binaural:-6", "--volume 5",
              "--ceiling 0", "--ceiling -1000", "--voices nosuch", "--voices ''", "--entrainment-level -1"]:
        case("args-play", f"{NF} play --duration 5 --wav $D/p.wav {o}")
    case("args-play", f"{NF} play --duration 5 --wav $D/p.wav --midi /proc/x.mid")
    # --out
    # record's --out is a file: x.fif below each, but not below '' (''/x.fif is /x.fif, at the root of
    # the filesystem: outside the work folder, and its exit hung on whether an earlier run left one).
    for o in ["$D/afile", "$D/afile/below", "/proc/neurofeed", "/proc/self", "/dev/null", "/sys", "''"]:
        pre = "touch $D/afile && "
        case("args-out",
             pre + f"{NF} run --preset relax-alpha {SYN} --duration 10 --audio none --no-status --out {o}")
        case("args-out", pre + f"{NF} record {SYN} --duration 3 --no-progress --out {o}"
             + ("/x.fif" if "afile" not in o and o != "''" else ""))
    case("args-out", f"{NF} record {SYN} --duration 3 --no-progress --out $D/x.txt")
    case("args-out", f"{NF} record {SYN} --duration 3 --no-progress --out $D/x")
    case("args-out", f"touch $D/x.fif && {NF} record {SYN} --duration 3 --no-progress --out $D/x.fif")
    case("args-out",
         f"mkdir $D/x.fif && {NF} record {SYN} --duration 3 --no-progress --out $D/x.fif --overwrite")
    case("args-out", f"{NF} record {SYN} --duration 3 --no-progress --out $D/{'n' * 300}.fif")
    for cmd in [f"{NF} replay {R} --preset relax-alpha --duration 20 --audio none --no-status --out $D/ro/o",
                f"{NF} record {SYN} --duration 3 --no-progress --out $D/ro/x.fif",
                f"{NF} calibrate {SYN} --duration 20 --audio none --no-status --out $D/ro",
                f"{NF} report {{SESS}} --out $D/ro/rep"]:
        case("args-out-ro", "mkdir -p $D/ro && unshare -m sh -c 'mount --bind $D/ro $D/ro && "
             f"mount -o remount,bind,ro $D/ro && {cmd}'", needs_session="SESS" in cmd)
    # As nobody, into a folder nobody may not write (runs only where nobody can execute the tool).
    case("args-out-ro", "mkdir -p $D/ro && chmod 555 $D/ro && su nobody -s /bin/sh -c "
         f"'NEUROFEED_HOME=$D/nobody_home {NF} record {SYN} --duration 3 --no-progress --out $D/ro/x.fif'")
    # lsl-out / scope
    for lo in ["''", "'a b'", "'x' --lsl-scope galaxy", "x" * 500, "'名前'"]:
        case("args-lslout", f"{NF} replay {R} --preset relax-alpha --duration 20 --lsl-out {lo} {RP}",
             expect=(0, 2))
    case("args-lslout", f"{NF} devices --lsl-scope ''")
    case("args-lslout", f"{NF} stream {SYN} --duration 2 --lsl-scope MACHINE")
    # recover / report / progress / import args
    for c in ["recover /nonexistent", "recover /", "recover /dev/null", f"recover {F}", f"recover {R}",
              "report /nonexistent", f"report {F}", "report /proc", "progress --subject nobody",
              "progress --subject x --feature nosuch", "progress --subject x --sessions /nonexistent",
              "progress --subject x --sessions /dev/null", "import /nonexistent", f"import {R}",
              "import /proc/self", "import $D", "nosuchcommand", "", "--version", "run", "replay",
              "replay /nonexistent.fif --preset relax-alpha", "record --duration 3"]:
        case("args-misc", f"{NF} {c}",
             expect=(0, 2) if c in ("--version", "import $D", "progress --subject nobody") else (2,))

    # ---------------- files (replay through the loop, record --file, stream)
    files = ["trunc_hdr.edf", "trunc_half.edf", "trunc_hdronly.edf", "empty.edf", "recs_neg.edf",
             "recs_abc.edf",
             "dur0.edf", "durneg.edf", "dur_tiny.edf", "nsig0.edf", "nsig_abc.edf", "hdrbytes_huge.edf",
             "spr_huge.edf", "physeq.edf", "S001R01_third.edf", "dir.edf", "dir_raw.fif", "edf_as.fif",
             "fif_as.edf", "fif_as.unknownext", "eye.arff", "nan_raw.fif", "inf_raw.fif", "allnan_raw.fif",
             "flat_raw.fif", "1volt_raw.fif", "onesample_raw.fif", "short2s_raw.fif", "ecgonly.edf",
             "ecgonly_raw.fif", "onechan_raw.fif", "unicode.vhdr", "sf1_raw.fif", "sf20k_raw.fif",
             "dup.vhdr", "noeeg.vhdr", "cut.vhdr", "nchan0.vhdr", "interval0.vhdr", "intervalneg.vhdr",
             "obci_rate_zero.txt", "obci_rate_neg.txt", "obci_rate_huge.txt", "obci_rate_abc.txt",
             "obci_rate_nan.txt", "obci_hdronly.txt", "obci_garbagerows.txt", "obci_nchan_huge.txt",
             "bf_text.csv", "bf_one.csv", "bf_ragged.csv", "trunc.xdf", "magic_only.xdf", "markers_only.xdf",
             "nan_ts.xdf"]
    files += [f"garbage{s}" for s in [".fif", ".edf", ".bdf", ".vhdr", ".set", ".xdf", ".csv", ".txt", ".gdf",
                                     ".fif.gz", ".mff", ".npy"]]
    files += [f"empty{s}" for s in [".fif", ".vhdr", ".set", ".xdf", ".csv", ".txt"]]
    ok_maybe = {"nan_raw.fif", "inf_raw.fif", "flat_raw.fif", "1volt_raw.fif", "onechan_raw.fif",
                "unicode.vhdr", "S001R01_third.edf", "obci_garbagerows.txt", "dup.vhdr", "sf20k_raw.fif",
                "fif_as.edf", "edf_as.fif", "fif_as.unknownext", "allnan_raw.fif", "physeq.edf", "cut.vhdr",
                "trunc_half.edf"}
    for f in files:
        extra = " --master-board cyton" if f.endswith(".csv") else ""
        kw = {"must_finalise": NON_ASCII} if f == "unicode.vhdr" else {}
        case("files-replay", f"{NF} replay {F}/{f} --preset relax-alpha --duration 20{extra} {RP}",
             expect=(0, 2) if f in ok_maybe else (2,), **kw)
    for f in ["trunc_half.edf", "garbage.fif", "empty.xdf", "nan_raw.fif", "onesample_raw.fif",
              "obci_rate_huge.txt", "ecgonly.edf", "dir.edf", "S001R01_third.edf", "unicode.vhdr"]:
        kw = {"must_finalise": NON_ASCII} if f == "unicode.vhdr" else {}
        case("files-record",
             f"{NF} record --file {F}/{f} --duration 5 --speed max --no-progress --out $D/x.fif",
             expect=(0, 2) if f in ok_maybe else (2,), **kw)
    for f in ["garbage.edf", "trunc_hdronly.edf", "markers_only.xdf"]:
        case("files-stream", f"{NF} stream {F}/{f} --duration 3", expect=(2,))
    # unicode output of edf export
    for suffix in ("edf", "vhdr"):
        case("files-record", f"{NF} record --file {F}/unicode.vhdr --duration 5 --speed max --no-progress "
             f"--out $D/x.{suffix}", expect=(0, 2), must_finalise=NON_ASCII)


# ---------------- damaged session folders
# Report on a finished folder with a garbled file: one line, exit 2 (F1 music.tsv, F2 eeg_raw.fif).
REPORT_ONE_LINE = {("music.tsv", "garble"), ("eeg_raw.fif", "garble")}


def _build_damage(cases: Cases, ctx: Ctx, fin, kill):
    case = cases.add
    NF, PY = ctx.nf, ctx.py
    damage_py = shlex.quote(str(HERE / "damage.py"))
    for src_name, src in [("finished", fin), ("killed", kill)]:
        for fname, how in DAMAGES:
            if src_name == "killed" and fname in ("eeg_raw.fif", "report", "baseline.json"):
                continue
            for cmd in (["recover", "report"] if src_name == "killed" else ["report", "recover"]):
                if src_name == "finished" and cmd == "recover" and fname not in ("session.json", "eeg.f64",
                                                                                 "markers.tsv"):
                    continue
                if src_name == "killed" and cmd == "report" and fname not in ("session.json", "eeg.f64",
                                                                              "features.tsv", "music.tsv"):
                    continue
                expect, kw = (0, 2), {}
                if src_name == "finished" and cmd == "report" and (fname, how) in REPORT_ONE_LINE:
                    expect = (2,)
                if src_name == "finished" and cmd == "recover":
                    # F3: a finalised folder is left as it is ('already finalised', exit 0): its FIF must
                    # be byte for byte the same. With session.json itself damaged, recover may refuse
                    # (exit 2) or rebuild, but the FIF must not lose samples.
                    kw["fif_kept"] = "bytes" if fname != "session.json" else "samples"
                    if fname != "session.json":
                        expect = (0,)
                case("damaged-folder",
                     f"cp -a {shlex.quote(str(src))} $D/s && {PY} {damage_py} $D/s {fname} "
                     f"{shlex.quote(how)} && {NF} {cmd} $D/s",
                     expect=expect, damage=[str(src), fname, how, cmd], **kw)
    fin, kill = shlex.quote(str(fin)), shlex.quote(str(kill))
    case("damaged-folder", f"cp -a {fin} $D/s && mkdir -p $D/h && cp -a {fin} $D/h/ && "
         f"{NF} progress --subject tpl --sessions $D/h --out $D/prog", expect=(0,))
    case("damaged-folder", f"mkdir -p $D/h && cp -a {fin} $D/h/ && "
         f"echo garbage > $D/h/$(basename {fin})/session.json && "
         f"{NF} progress --subject tpl --sessions $D/h --out $D/prog", expect=(0, 2))
    case("damaged-folder", f"mkdir -p $D/h && cp -a {kill} $D/h/ && "
         f"{NF} progress --subject tplk --sessions $D/h --out $D/prog", expect=(0, 2))
    case("damaged-folder", f"mkdir -p $D/old && cp -a {fin} $D/old/ && "
         f"echo '{{' > $D/old/$(basename {fin})/session.json && {NF} import $D/old", expect=(0, 2))
    # As nobody, on a read-only folder (runs only where nobody can execute the tool).
    case("damaged-folder",
         f"cp -a {kill} $D/s && chmod -R a-w $D/s && su nobody -s /bin/sh -c '{NF} recover $D/s'")
    case("damaged-folder", f"cp -a {kill} $D/s && {NF} recover $D/s && {NF} recover $D/s", expect=(0, 2))


def _build_faults(cases: Cases, ctx: Ctx):
    case = cases.add
    NF, F, PY = ctx.nf, ctx.files, ctx.py
    R = f"{F}/good_raw.fif"
    SYN = "--board synthetic"
    # disk full
    for cmd in [
        f"{NF} record {SYN} --duration 30 --no-progress --out $T/x.fif",
        f"{NF} run --preset relax-alpha {SYN} --duration 30 --audio none --no-status --out $T/out",
        f"{NF} replay {F}/S001R01.edf --preset relax-alpha --duration 60 --audio none --no-status "
        "--out $T/out",
        f"{NF} run --preset relax-alpha --simulate 2 --duration 30 --audio wav:$T/a.wav --no-status "
        "--out $T/out",
    ]:
        case("fault-diskfull", "mkdir -p $D/t && unshare -m sh -c 'mount -t tmpfs -o size=300k tmpfs $D/t && "
             f"T=$D/t NEUROFEED_HOME=$D/t/home {cmd.replace('$T', '$D/t')}'", expect=(2,))
    # folder deleted mid-session
    case("fault-rmdir", f"({NF} run --preset relax-alpha {SYN} --duration 15 --audio none --no-status "
         "--out $D/out & sleep 6; rm -rf $D/out/*; wait $!)", expect=(2,))
    case("fault-rmdir", f"({NF} record {SYN} --duration 15 --no-progress --out $D/x.fif & sleep 6; "
         "rm -rf $D/home/sub-*; wait $!)", expect=(0, 2))
    case("fault-rmdir", f"({NF} calibrate {SYN} --duration 20 --audio none --no-status --out $D/out & "
         "sleep 6; rm -rf $D/out; wait $!)", expect=(2,))
    # read-only mid-session
    case("fault-ro", f"mkdir -p $D/out && unshare -m sh -c '{NF} run --preset relax-alpha {SYN} "
         "--duration 15 --audio none --no-status --out $D/out & sleep 6; mount --bind $D/out $D/out && "
         "mount -o remount,bind,ro $D/out; wait $!'", expect=(2,))
    case("fault-ro", f"mkdir -p $D/home && unshare -m sh -c '{NF} record {SYN} --duration 15 --no-progress "
         "--out $D/x.fif & sleep 6; mount --bind $D/home $D/home && mount -o remount,bind,ro $D/home; "
         "wait $!'", expect=(2,))
    # recover on a live folder
    live = (f"{NF} run --preset relax-alpha {SYN} --duration 12 --audio none --no-status --out $D/out & "
            "sleep 6")
    case("fault-live", f"({live}; {NF} recover $D/out/sub-*; e=$?; wait; exit $e)", expect=(2,))
    case("fault-live", f"({live}; {NF} report $D/out/sub-*; e=$?; wait; exit $e)", expect=(0, 2))
    case("fault-live",
         f"({live}; {NF} progress --subject anonymous --sessions $D/out --out $D/p; e=$?; wait; exit $e)",
         expect=(0, 2))
    # two sessions in one --out at the same second, same subject
    rep = f"{NF} replay {R} --preset relax-alpha --duration 20 --audio none --no-status --out $D/out"
    case("fault-live", f"({rep} & {rep}; e=$?; wait $! || e=$?; exit $e)", expect=(0,))
    # LSL
    outlet = f"{PY} {shlex.quote(str(HERE / 'outlet.py'))} qa_die"
    case("lsl", f"{NF} run --preset relax-alpha --lsl qa_none_xyz --lsl-timeout 2 --duration 10 --audio none "
         "--no-status --out $D/out")
    case("lsl", f"{NF} record --lsl type=NOPE --lsl-timeout 1 --duration 3 --no-progress --out $D/x.fif")
    case("lsl", f"({outlet} & P=$!; sleep 2; ({NF} record --lsl qa_die --duration 15 --stall-timeout 2 "
         "--no-progress --out $D/x.fif; echo rc=$? >&2) & R=$!; sleep 7; kill $P; wait $R)", expect=(0,))
    case("lsl", f"({outlet} & P=$!; sleep 2; {NF} run --preset relax-alpha --lsl qa_die --duration 20 "
         "--baseline 6 --stall-timeout 2 --audio none --no-status --out $D/out & R=$!; sleep 9; kill $P; "
         "wait $R)", expect=(0, 2))
    case("lsl", f"({outlet} & P=$!; sleep 2; timeout 30 {NF} stream --lsl qa_die --duration 15 & R=$!; "
         "sleep 6; kill $P; wait $R)", expect=(0, 2))
    case("lsl", f"{NF} replay {R} --preset relax-alpha --duration 20 --lsl-out same --lsl-out same "
         "--audio none --no-status --out $D/out", expect=(0,))
    rep2 = (f"{NF} replay {R} --speed 2 --preset relax-alpha --duration 20 --lsl-out same --audio none "
            "--no-status")
    case("lsl", f"({rep2} --out $D/o1 & {rep2} --out $D/o2; e=$?; wait $! || e=$?; exit $e)", expect=(0,))
    case("lsl", f"{NF} record --lsl qa_die --lsl-timeout 0.1 --duration 3 --no-progress --out $D/x.fif")


SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129, "SIGKILL": -9, "SIGQUIT": None, "SIGUSR1": None}


def _build_signals(cases: Cases, ctx: Ctx):
    case = cases.add
    NF, F = ctx.nf, ctx.files
    R = f"{F}/good_raw.fif"
    SYN = "--board synthetic"
    sess = {
        "record": (f"{NF} record {SYN} --duration 60 --no-progress --out $D/x.fif", True),
        "run": (f"{NF} run --preset relax-alpha {SYN} --duration 60 --baseline 8 --audio none --no-status "
                "--out $D/out", False),
        "replay1": (f"{NF} replay {F}/S001R01.edf --speed 1 --preset relax-alpha --duration 60 --baseline 8 "
                    "--audio none --no-status --out $D/out", False),
        "calibrate": (f"{NF} calibrate {SYN} --subject cal --duration 30 --audio none --no-status "
                      "--out $D/out", False),
        "runwav": (f"{NF} run --preset relax-alpha --simulate 1 --duration 60 --baseline 8 "
                   "--audio wav:$D/a.wav --no-status --out $D/out", False),
    }
    exp = SIGNAL_EXIT
    plan = [
        ("record", "SIGTERM", 6), ("record", "SIGHUP", 6), ("record", "SIGINT", 6), ("record", "SIGKILL", 6),
        ("record", "SIGKILL", 3.3), ("record", "SIGTERM", 0.4), ("record", "SIGQUIT", 5),
        ("record", "SIGUSR1", 5),
        ("run", "SIGTERM", 0.5), ("run", "SIGTERM", 5), ("run", "SIGHUP", 12), ("run", "SIGINT", 12),
        ("run", "SIGKILL", 5), ("run", "SIGKILL", 12.7), ("run", "SIGQUIT", 12), ("run", "SIGUSR1", 8),
        ("replay1", "SIGTERM", 6), ("replay1", "SIGHUP", 13), ("replay1", "SIGINT", 1.0),
        ("replay1", "SIGKILL", 9),
        ("calibrate", "SIGTERM", 5), ("calibrate", "SIGHUP", 1.0), ("calibrate", "SIGINT", 10),
        ("calibrate", "SIGKILL", 7),
        ("runwav", "SIGTERM", 12), ("runwav", "SIGKILL", 12),
    ]
    for key, sig, delay in plan:
        cmd, rec = sess[key]
        e = exp[sig]
        case("stop-signal", cmd, expect=(e,) if e is not None else (0, 2, 130, 143, 129, -3, 131, -10, 138),
             sig=sig, delay=delay, record_out=rec, need_data=delay > 2 and sig not in ("SIGQUIT", "SIGUSR1"),
             target=key)
    # double signals
    for key, s1, s2 in [("record", "SIGTERM", "SIGTERM"), ("run", "SIGINT", "SIGINT"),
                        ("run", "SIGTERM", "SIGHUP"), ("replay1", "SIGHUP", "SIGINT")]:
        cmd, rec = sess[key]
        case("stop-double", cmd, expect=(exp[s1],), sig=s1, delay=11, second=s2, second_delay=0.2,
             record_out=rec, need_data=True, target=key)
    # during finalising: signal when the session says it is done
    case("stop-finalise",
         f"{NF} run --preset relax-alpha {SYN} --duration 10 --audio none --no-status --out $D/out",
         expect=(0, 143), sig="SIGTERM", at_line="session done", need_data=True, target="run")
    case("stop-finalise", f"{NF} record {SYN} --duration 5 --no-progress --out $D/x.fif",
         expect=(0, 143), sig="SIGTERM", at_line="recorded", record_out=True, need_data=True, target="record")
    case("stop-finalise",
         f"{NF} replay {R} --preset relax-alpha --duration 20 --audio none --no-status --out $D/out",
         expect=(0, 129), sig="SIGHUP", at_line="session done", need_data=True, target="replay")


def _build_extra(cases: Cases, ctx: Ctx, fin, kill):
    case = cases.add
    NF, F, PY = ctx.nf, ctx.files, ctx.py
    SYN = "--board synthetic"
    # more stops: stream, play, finalising kill, report building, ignored SIGHUP (nohup)
    case("stop-signal", f"{NF} stream {SYN} --duration 60", expect=(143,), sig="SIGTERM", delay=5,
         target="stream")
    case("stop-signal", f"{NF} stream --simulate 3 --duration 60", expect=(129,), sig="SIGHUP", delay=5,
         target="stream")
    case("stop-signal", f"{NF} play --duration 60", expect=(143, 2), sig="SIGTERM", delay=4, target="play")
    case("stop-signal", f"{NF} play --duration 60 --wav $D/p.wav", expect=(0, 130), sig="SIGINT", delay=1.5,
         target="play")
    case("stop-finalise",
         f"{NF} run --preset relax-alpha {SYN} --duration 10 --audio none --no-status --out $D/out",
         expect=(0, -9), sig="SIGKILL", at_line="session done", need_data=True, target="run")
    case("stop-finalise", f"{NF} calibrate {SYN} --duration 20 --audio none --no-status --out $D/out",
         expect=(0, 130), sig="SIGINT", delay=21.5, need_data=True, target="calibrate")
    case("stop-nohup", f"{NF} record {SYN} --duration 8 --no-progress --out $D/x.fif", expect=(0,),
         sig="SIGHUP", delay=3, record_out=True, need_data=True, ignore=["SIGHUP"], target="record")
    case("stop-signal",
         f"{NF} record --file {F}/S001R01.edf --speed 1 --duration 60 --no-progress --out $D/x.edf",
         expect=(143,), sig="SIGTERM", delay=6, record_out=True, need_data=True, target="record-file")
    case("stop-signal",
         f"{NF} record --file {F}/S001R01.edf --speed 1 --duration 60 --no-progress --out $D/x.vhdr",
         expect=(130,), sig="SIGINT", delay=6, record_out=True, need_data=True, target="record-file")
    case("stop-signal", f"{NF} record --simulate 4 --duration 60 --no-progress --out $D/x.fif.gz",
         expect=(129,), sig="SIGHUP", delay=6, record_out=True, need_data=True, target="record-sim")
    # recover twice at once, recover killed mid-way then again
    K = shlex.quote(str(kill))
    case("fault-live", f"cp -a {K} $D/s && ({NF} recover $D/s & {NF} recover $D/s; e=$?; wait $! ; e2=$?; "
         "echo rcs=$e,$e2 >&2; [ $e = 0 ] || [ $e2 = 0 ])", expect=(0,))
    case("fault-live", f"cp -a {K} $D/s && ({NF} recover $D/s & P=$!; sleep 1.2; kill -9 $P; wait $P; "
         f"{NF} recover $D/s)", expect=(0,))
    # 1e6 s timestamp jump in a killed folder: bounded output size and time
    jump = ("import json,numpy as np;d='$D/s';n=len(json.load(open(d+'/session.json'))['eeg']['ch_names'])+1;"
            "a=np.fromfile(d+'/eeg.f64').reshape(-1,n);a[len(a)//2:,0]+=1e6;a.tofile(d+'/eeg.f64')")
    case("damaged-folder", f"cp -a {K} $D/s && {PY} -c \"{jump}\" && {NF} recover $D/s && "
         "du -sb $D/s/eeg*_raw.fif >&2 && test $(du -cb $D/s/eeg*_raw.fif | tail -1 | cut -f1) -lt 3000000",
         expect=(0,))
    # report/progress --out bad
    FIN = shlex.quote(str(fin))
    for o in ["$D/f", "$D/f/below", "/proc/x", "/dev/null"]:
        case("args-out", f"touch $D/f && cp -a {FIN} $D/s && {NF} report $D/s --out {o}")
        case("args-out", f"touch $D/f && mkdir $D/h && cp -a {FIN} $D/h/ && {NF} progress --subject tpl "
             f"--sessions $D/h --out {o}")
    # privacy: --lsl-out source_id carries no subject
    probe = ("import pylsl;s=pylsl.resolve_streams(3);x=[(i.name(),i.source_id(),i.hostname()) for i in s];"
             "print(x);import sys;"
             "sys.exit(2 if any('SECRET' in str(v) or 'relax' in str(v) for v in x) or not x else 0)")
    case("lsl", f"({NF} replay {F}/S001R01.edf --speed 1 --subject SECRETSUBJ --preset relax-alpha "
         "--duration 20 --lsl-out --audio none --no-status --out $D/out >/dev/null 2>&1 & P=$!; sleep 6; "
         f"{PY} -c \"{probe}\"; e=$?; wait $P; exit $e)", expect=(0,))

    # later additions
    uni = f"{PY} {shlex.quote(str(HERE / 'outlet.py'))} qa_uni --unicode"
    case("lsl", f"({uni} & P=$!; sleep 2; {NF} record --lsl qa_uni --duration 5 --no-progress "
         "--out $D/x.fif; e=$?; kill $P; exit $e)", expect=(0,), must_finalise=NON_ASCII)
    case("stop-signal", f"{NF} run --preset relax-alpha {SYN} --duration 60 --baseline 8 --audio none "
         "--no-status --out $D/out", expect=(130,), sig="SIGINT", delay=14, target="run+report")
