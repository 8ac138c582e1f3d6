"""Synth benchmark: the cost of the full music patch per audio block, and render speed, per palette.

Run: ``.venv/bin/python benchmarks/bench_synth.py`` (a few minutes; ``--seconds`` and
``--rounds`` change how much audio each measurement renders and how many turns are taken).

The full patch of each palette (:data:`neurofeed.synth.palettes.PALETTES`): every voice it
plays at intensity 1 (the densest notes), its hall and texture, the master limiter and
ceiling, with binaural entrainment on (one row) or isochronic entrainment on (the other),
at 44100 Hz in 256-sample blocks. The real-time budget of one block is 256 / 44100 s =
5.805 ms. For each row:

- block CPU: ``Engine('manual')``, ``process_blocks(1)`` timed block by block with the
  thread's CPU clock (``time.thread_time_ns``; in manual mode pyo computes in the calling
  thread) over ``--seconds`` of audio per round, after 2 s of warm-up. Mean, p50 and p99
  per block in ms; "% budget" is the mean over the budget, which is the share of one core
  the engine would take in real time (the target is at most 10%). This includes the
  engine's block callback (new state, sequencer, note starts), as a real-time run does.
- manual render: ``Engine('manual').advance(seconds)``, wall clock, as a multiple of real
  time.
- offline render: ``Engine('offline', wav_path=...)`` writing a 24-bit WAV in a temporary
  folder, ``advance(seconds)`` on the wall clock, as a multiple of real time (target at
  least 30x); start-up (server boot and graph, pyo already imported) is given apart, and
  importing pyo, once per process, in the footnote.

Anchor, measured in the same run with the same clocks: a bare pyo ``Server`` (manual audio,
same rate and block size, same global seed) running the first warm sound written directly in
pyo with its stock objects, as the engine's patch first did: 12 band-limited saw ``LFO`` pad
voices through a ``MoogLP`` whose
cutoff is computed from a ``SigTo``, 8 ``FM`` melody voices with an envelope-driven index,
3 + 2 triangle ``LFO`` bass and pulse voices, each voice under a looping ``Linseg``
envelope with its own frequency ``Sig``, four ``Pan``, ``DCBlock``, the same stereo
``STRev`` (two instances, one per input channel), binaural ``Sine`` pair and isochronic
``Osc`` gate and ``Sine``, then gain, ``Compress`` with look-ahead and ``Clip``. Every voice
sounds all the time and nothing runs in Python between blocks: this is the patch as one
would write it in plain pyo, what that sound costs with no engine around it. The
ratio columns are engine / anchor (below 1 means the engine is cheaper: it stops idle
voices and reads its saw and triangle waves from tables instead of computing ``LFO``'s
formula per sample; its convolution hall costs about what the anchor's two STRev do). The
anchor's offline render records to WAV the same way the engine does.

The rounds take turns (each palette binaural, then isochronic, then the anchor) so that load from
other processes falls on all of them; render speeds are medians over rounds, block
percentiles are over all timed blocks. This machine is a shared 2-core nested VM: compare
the rows as ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("PYO_GUI_WX", "0")

import numpy as np

from neurofeed.synth import Engine, Entrainment, MusicState
from neurofeed.synth._pyo import load_pyo
from neurofeed.synth.palettes import PALETTES

SR, BLOCK, SEED = 44100, 256, 1
BUDGET_MS = BLOCK / SR * 1000.0
WARMUP_S = 2.0
STATES = {
    "binaural": MusicState.neutral().replace(intensity=1.0, entrainment=Entrainment("binaural", 6.0, 0.3)),
    "isochronic": MusicState.neutral().replace(intensity=1.0,
                                               entrainment=Entrainment("isochronic", 6.0, 0.3)),
}


def blocks_in(seconds: float) -> int:
    return int(np.ceil(seconds * SR / BLOCK))


def timed_blocks(step, n: int) -> np.ndarray:
    """CPU milliseconds of each of ``n`` calls of ``step`` (this thread's CPU clock)."""
    out = np.empty(n)
    clock = time.thread_time_ns
    for i in range(n):
        t0 = clock()
        step()
        out[i] = clock() - t0
    return out / 1e6


# -- ours ------------------------------------------------------------------------------------

def engine_round(palette: str, state: MusicState, seconds: float, tmp: Path) -> dict:
    """Block CPU (ms per block), manual and offline x real time, offline start-up (s)."""
    with Engine("manual", state=state, seed=SEED, palette=palette) as engine:
        engine.advance(WARMUP_S)
        cpu = timed_blocks(lambda: engine.process_blocks(1), blocks_in(seconds))
        t0 = time.perf_counter()
        engine.advance(seconds)
        manual = seconds / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    with Engine("offline", state=state, seed=SEED, palette=palette, wav_path=tmp / "engine.wav") as engine:
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine.advance(seconds)
        offline = seconds / (time.perf_counter() - t0)
    return {"cpu": cpu, "manual": manual, "offline": offline, "startup": startup}


# -- the anchor: the same graph in plain pyo ------------------------------------------------

def build_anchor(pyo) -> tuple[object, list]:
    """The patch's graph written directly in pyo, every voice sounding; returns (output, keep)."""
    keep = []

    def pool(count, low_midi, shape, make):
        voices = []
        for i in range(count):
            freq = pyo.Sig(440.0 * 2 ** ((low_midi + 3 * i - 69) / 12))
            attack, peak, hold, release = shape
            env = pyo.Linseg([(0, 0), (attack, peak), (attack + hold, peak * 0.6),
                              (attack + hold + release, 0), (attack + hold + release + 0.05 * i, 0)],
                             loop=True).play()
            out = make(freq, env)
            keep.extend([freq, env, out])
            voices.append(out)
        mixed = pyo.Mix(voices, voices=1)
        keep.append(mixed)
        return mixed

    brightness = pyo.SigTo(0.5, time=1.0, init=0.5)
    sharp = brightness * 0.5 + 0.25
    fm_index = brightness * 2.5 + 0.6
    cutoff = pyo.Pow(10.0, brightness, mul=500.0)
    keep += [brightness, sharp, fm_index, cutoff]
    pad = pool(12, 52, (1.2, 0.35, 2.0, 2.2), lambda f, e: pyo.LFO(freq=f, sharp=sharp, type=0, mul=e))

    def fm(f, e):
        index = e * fm_index * (1 / 0.85)
        keep.append(index)
        return pyo.FM(carrier=f, ratio=1.0, index=index, mul=e)

    melody = pool(8, 62, (0.006, 0.85, 0.5, 0.6), fm)
    bass = pool(3, 36, (0.02, 0.48, 0.8, 0.4), lambda f, e: pyo.LFO(freq=f, sharp=0.2, type=3, mul=e))
    pulse = pool(2, 48, (0.003, 1.3, 0.1, 0.15), lambda f, e: pyo.LFO(freq=f, sharp=0.45, type=3, mul=e))
    filtered = pyo.MoogLP(pad, freq=cutoff, res=0.15)
    pans = [pyo.Pan(filtered, outs=2, pan=0.5, spread=0.6), pyo.Pan(melody, outs=2, pan=0.58, spread=0.2),
            pyo.Pan(bass, outs=2, pan=0.5, spread=0.2), pyo.Pan(pulse, outs=2, pan=0.44, spread=0.2)]
    mixed = pyo.Mix(pans, voices=2)
    dry = pyo.DCBlock(mixed)
    reverb = pyo.STRev(dry, inpos=[0.3, 0.7], revtime=2.6, cutoff=5000, bal=0.3, roomSize=1.1,
                       firstRefGain=-6)
    gain = pyo.SigTo(0.75, time=1.0, init=0.75)
    music = pyo.Mix(reverb, voices=2, mul=gain)
    carrier, beat = pyo.SigTo(261.6, time=1.0, init=261.6), pyo.SigTo(6.0, time=1.0, init=6.0)
    binaural_amp, iso_amp = pyo.SigTo(0.0375, time=1.0, init=0.0375), pyo.SigTo(0.0375, time=1.0, init=0.0375)
    half = beat * 0.5
    left, right = carrier - half, carrier + half
    binaural = pyo.Sine(freq=[left, right], mul=binaural_amp)
    table = pyo.CosTable([(0, 0.0), (1024, 1.0), (3584, 1.0), (4608, 0.0), (8191, 0.0)])
    gate = pyo.Osc(table, freq=beat, mul=iso_amp)
    iso = pyo.Sine(freq=carrier, mul=gate)
    mix = music + binaural + iso
    volume, fade = pyo.SigTo(0.8, time=1.0, init=0.8), pyo.SigTo(1.0, time=0.0, init=1.0)
    level = volume * fade
    pre = mix * level
    limiter = pyo.Compress(pre, thresh=-4.5, ratio=40, risetime=0.002, falltime=0.25, lookahead=5.0, knee=0.3)
    output = pyo.Clip(limiter, min=-0.708, max=0.708)
    keep += [filtered, *pans, mixed, dry, reverb, gain, music, carrier, beat, binaural_amp, iso_amp, half,
             left, right, binaural, table, gate, iso, mix, volume, fade, level, pre, limiter, output]
    return output, keep


def anchor_round(seconds: float, tmp: Path) -> dict:
    pyo = load_pyo()
    result = {}
    for mode in ("manual", "offline"):
        t0 = time.perf_counter()
        server = pyo.Server(sr=SR, nchnls=2, buffersize=BLOCK, duplex=0, audio="manual", verbosity=1)
        server.deactivateMidi()
        server.setGlobalSeed(SEED + 1)
        server.boot()
        output, keep = build_anchor(pyo)
        output.out()
        if mode == "offline":
            server.recordOptions(filename=str(tmp / "anchor.wav"), fileformat=0, sampletype=1)
            server.recstart()
        server.start()
        startup = time.perf_counter() - t0
        for _ in range(blocks_in(WARMUP_S)):
            server.process()
        if mode == "manual":
            result["cpu"] = timed_blocks(server.process, blocks_in(seconds))
        n = blocks_in(seconds)
        t0 = time.perf_counter()
        for _ in range(n):
            server.process()
        result[mode] = n * BLOCK / SR / (time.perf_counter() - t0)
        if mode == "offline":
            server.recstop()
            result["startup"] = startup
        server.stop()
        del output, keep  # graph objects go before their server
        server.shutdown()
        del server
    return result


# -- report ----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio per measurement (default 60)")
    parser.add_argument("--rounds", type=int, default=3, help="turns taken (default 3)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    load_pyo()
    import_s = time.perf_counter() - t0
    rows = {(palette, kind): [] for palette in PALETTES for kind in STATES}
    anchor_row = ("anchor: plain pyo, stock objects, all voices on", "")
    rows[anchor_row] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for _ in range(args.rounds):
            for palette, kind in rows:
                if kind:
                    rows[palette, kind].append(engine_round(palette, STATES[kind], args.seconds, tmp))
            rows[anchor_row].append(anchor_round(args.seconds, tmp))

    summary = {}
    for name, rounds in rows.items():
        cpu = np.concatenate([r["cpu"] for r in rounds])
        summary[name] = {"mean": cpu.mean(), "p50": np.percentile(cpu, 50), "p99": np.percentile(cpu, 99),
                         "n": cpu.size,
                         **{key: statistics.median(r[key] for r in rounds)
                            for key in ("manual", "offline", "startup")}}
    anchor = summary[anchor_row]

    print(f"\nSynth, full patch per palette (its voices, hall, texture; limiter), intensity 1, {SR} Hz, "
          f"{BLOCK}-sample blocks (budget {BUDGET_MS:.3f} ms); {args.rounds} rounds of {args.seconds:g} s")
    print(f"{'configuration':<46}{'cpu/block mean':>15}{'p50':>7}{'p99':>7}{'% budget':>10}"
          f"{'manual x rt':>13}{'offline x rt':>14}{'start ms':>10}{'cpu ratio':>11}{'speed ratio':>13}")
    anchor_speed = min(anchor["manual"], anchor["offline"])
    for (palette, kind), s in summary.items():
        name = f"engine, {palette}, {kind}" if kind else palette
        cpu_ratio, speed_ratio = s["mean"] / anchor["mean"], min(s["manual"], s["offline"]) / anchor_speed
        print(f"{name:<46}{s['mean']:>12.3f} ms{s['p50']:>7.3f}{s['p99']:>7.3f}"
              f"{100 * s['mean'] / BUDGET_MS:>9.1f}%"
              f"{s['manual']:>13.1f}{s['offline']:>14.1f}{1000 * s['startup']:>10.1f}{cpu_ratio:>11.2f}"
              f"{speed_ratio:>13.2f}")
    print(f"\nblock cpu: this thread's CPU time per process_blocks(1), "
          f"{anchor['n']} blocks "
          f"per row; % budget = mean / {BUDGET_MS:.3f} ms (share of one core in real time; target <= 10%)")
    print(f"render: wall clock of advance(seconds); offline writes a 24-bit WAV (target >= 30x); start: boot "
          f"and graph (importing pyo, once per process: {import_s:.2f} s)")
    print("ratios: engine / anchor (cpu: lower is cheaper; "
          "speed: the slower of the two renders, higher is faster)")
    ours = {row: s for row, s in summary.items() if row[1]}
    worst = max(ours, key=lambda row: ours[row]["mean"])
    slowest = min(min(s["manual"], s["offline"]) for s in ours.values())
    worst_pct = 100 * ours[worst]["mean"] / BUDGET_MS
    print(f"\nsynth: max block cpu {worst_pct:.1f}% of budget (palette {worst[0]}, {worst[1]}), "
          f"min render {slowest:.0f}x real time")


if __name__ == "__main__":
    main()
