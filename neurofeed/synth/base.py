"""The life of a pyo server that plays music: boot, a block clock, steering, fades and stop.

:class:`AudioEngine` is what every kind of music shares; :class:`neurofeed.synth.Engine`
(generative music) and :class:`neurofeed.synth.playlist.PlaylistEngine` (the client's own
tracks) build their graphs on it. All changes to the pyo graph happen in one place, the
block callback, which pyo calls just before it computes each block: it takes the newest
state handed to :meth:`AudioEngine.apply` and lets the music start what begins in the
block, at its exact samples. So a state applied before block k is heard from block k on, in
every backend; in ``manual`` mode that makes a render a pure function of the seed and the
(block, state) script.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from pathlib import Path

from neurofeed._check import check_option, check_range, check_writable_file
from neurofeed.errors import AudioError, InvalidArgumentError
from neurofeed.synth._pyo import load_pyo
from neurofeed.synth.backends import BACKENDS, REALTIME, boot_server, resolve_backend
from neurofeed.synth.entrainment import EAR_CHECK_S
from neurofeed.synth.palettes import LOUDNESS_RANGE_LUFS, REFERENCE_LUFS
from neurofeed.synth.score import ScoreLog
from neurofeed.synth.state import MusicState

log = logging.getLogger(__name__)

#: Shortest glide accepted (seconds): anything faster is a jump, heard as a click or a lurch.
MIN_GLIDE_S = 0.25
#: Default fade-in (seconds), shaped by :func:`neurofeed.synth.master.fade_in_gains`, so its
#: loudness rises under 3 LU/s once audible; a 3 s fade rose at 5-6 LU/s after the headphone
#: check's chimes.
FADE_IN_S = 20.0
#: The longest glide or fade accepted, in seconds.
MAX_FADE_S = 60.0
#: Accepted block sizes (samples).
BUFFER_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)
# pyo allows one server per process.
_ACTIVE = threading.Lock()
# A real-time clock that has not moved for this long (seconds) means the audio server is gone.
_STALL_S = 2.0
# While real-time audio runs, let the interpreter switch threads often, so the audio callback
# waits less for the GIL (measured: ~200 JACK xruns in 20 s with a busy thread at the default
# 5 ms, ~2 at 0.5 ms).
_SWITCH_INTERVAL_S = 0.0005


class AudioEngine:
    """A pyo server playing music that can be steered; a context manager.

    Entering boots the server, builds the graph (:meth:`_build`) and starts it; leaving
    (also on an exception) fades out, stops and closes the WAV file. Subclasses build the
    graph and say what each block starts (:meth:`_play_block`).

    Parameters
    ----------
    backend : str
        ``"auto"`` (JACK if a server runs, else PortAudio if there is a device, else
        :class:`AudioError`), ``"portaudio"``, ``"jack"``, ``"manual"`` (the caller drives the
        clock with :meth:`advance` or :meth:`process_blocks`) or ``"offline"`` (``manual``
        that must write ``wav_path``).
    sample_rate : int
        Hz, 8000-192000 (JACK imposes its own); the ceiling holds at every rate.
    buffer_size : int
        Samples per block.
    seed : int
        Seeds pyo and the music; the same seed and states give the same music.
    ceiling_dbfs : float
        Output ceiling, at most -1 dBFS: no sample and no true peak (4x oversampled) exceeds it.
    loudness_lufs : float
        Integrated loudness (ITU-R BS.1770) of the music at intensity 0.5 and volume 1.0, in
        LUFS, -30 to -14; ``volume`` is the live level below it.
    ear_check : bool
        Start with the headphone check (chimes in the left ear, then the right; see
        :meth:`neurofeed.synth.entrainment.EntrainmentVoice.start_ear_check`); the music
        starts :data:`neurofeed.synth.entrainment.EAR_CHECK_S` seconds later.
    glide_s : float
        Seconds over which continuous parameters glide to a new value (at least 0.25).
    fade_in_s, fade_out_s : float
        Seconds of fade at start and at stop (and on a fault).
    max_volume_rate_per_s : float
        Largest change of volume per second (volume runs 0-1).
    wav_path : str or Path, optional
        Record the output to this WAV file (24-bit) in any backend.
    state : MusicState, optional
        The state to start in; :meth:`MusicState.neutral` by default.
    device : int, optional
        PortAudio output device index (see ``neurofeed devices``).
    client_name : str
        JACK client name.
    """

    def __init__(self, backend: str = "auto", *, sample_rate: int = 44100, buffer_size: int = 256,
                 seed: int = 0, ceiling_dbfs: float = -3.0, loudness_lufs: float = REFERENCE_LUFS,
                 ear_check: bool = False, glide_s: float = 1.0, fade_in_s: float = FADE_IN_S,
                 fade_out_s: float = 3.0, max_volume_rate_per_s: float = 0.5,
                 wav_path: str | Path | None = None, state: MusicState | None = None,
                 device: int | None = None, client_name: str = "neurofeed"):
        check_option("backend", backend, BACKENDS)
        if backend == "offline" and wav_path is None:
            raise InvalidArgumentError("backend='offline' needs wav_path, the file to render to")
        self._requested_backend = backend
        self._sr = int(check_range("sample_rate", sample_rate, 8000, 192000, unit=" Hz"))
        self.buffer_size = int(check_option("buffer_size", buffer_size, BUFFER_SIZES))
        self._seed = int(seed)
        self._ceiling_dbfs = ceiling_dbfs
        self._loudness_lufs = check_range("loudness_lufs", loudness_lufs, *LOUDNESS_RANGE_LUFS, unit=" LUFS")
        self.ear_check = bool(check_option("ear_check", ear_check, (False, True)))
        self._music_start = 0  # sample of the music's first beat (after the headphone check)
        self._glide_s = check_range("glide_s", glide_s, MIN_GLIDE_S, MAX_FADE_S, unit=" s")
        self._fade_in_s = check_range("fade_in_s", fade_in_s, 0.0, MAX_FADE_S, unit=" s")
        self._fade_out_s = check_range("fade_out_s", fade_out_s, 0.0, MAX_FADE_S, unit=" s")
        self._max_volume_rate = max_volume_rate_per_s
        self._wav_path = None if wav_path is None else check_writable_file("wav_path", wav_path, (".wav",))
        self._initial = (state or MusicState.neutral()).clamped()
        self._device = device
        self._client_name = client_name
        self.backend: str | None = None
        self.score = ScoreLog()
        self._server = None
        self._patch = None
        self._jack = None
        self._xruns_at_stop: int | None = None
        self._pending: MusicState | None = None
        self._taken: MusicState | None = None
        self._block = 0
        self._target_sample = 0.0
        self._fault: BaseException | None = None
        self._running = False
        self._switch_interval = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> AudioEngine:
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()

    def start(self) -> None:
        """Boot the server, build the graph, start the music and its fade-in."""
        if not _ACTIVE.acquire(blocking=False):
            raise AudioError("another Engine is running in this process (pyo allows one server)")
        try:
            self._boot()
        except BaseException:
            self._teardown()
            raise

    def _boot(self) -> None:
        pyo = load_pyo()
        self.backend = resolve_backend(self._requested_backend)
        self._server = boot_server(pyo, self.backend, sample_rate=self._sr, buffer_size=self.buffer_size,
                                   seed=self._seed, device=self._device, client_name=self._client_name)
        self._sr = int(self._server.getSamplingRate())
        self._music_start = round(EAR_CHECK_S * self._sr) if self.ear_check else 0
        self._patch = self._build(pyo)
        self._patch.output.out()
        self._pending = self._initial
        self._server.setCallback(self._on_block)
        if self._wav_path is not None:
            self._server.recordOptions(filename=str(self._wav_path), fileformat=0, sampletype=1)
            self._server.recstart()
        if self.backend == "jack":
            from neurofeed.synth.jack import JackClient

            self._jack = JackClient(f"{self._client_name}-monitor")
        if self.backend in REALTIME:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(_SWITCH_INTERVAL_S)
        self._server.start()
        self._running = True
        log.info("engine started: %s at %d Hz, %d-sample blocks", self.backend, self._sr, self.buffer_size)

    def stop(self) -> None:
        """Fade out over ``fade_out_s``, then stop the server and close the WAV file."""
        if not self._running:
            return
        try:
            self._patch.master.fade_out(self._fade_out_s)
            # The fade starts at the next block and reaches the output after the limiter's
            # look-ahead; two blocks more make the file end on at least one block of silence.
            tail = self._patch.master.latency_samples + 2 * self.buffer_size
            self._run_for(self._fade_out_s + tail / self._sr)
        finally:
            self._teardown()

    def _teardown(self) -> None:
        self._running = False
        if self._server is not None:
            if self._wav_path is not None:
                self._server.recstop()
            self._server.stop()
            if self.backend in REALTIME:
                time.sleep(0.05)  # let the audio thread leave its last callback
        if self._jack is not None:
            self._xruns_at_stop = self._jack.xruns
            self._jack.close()
            self._jack = None
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
        # Graph objects go before the server that owns them.
        self._release()
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if _ACTIVE.locked():
            _ACTIVE.release()

    # -- what a kind of music adds ----------------------------------------------------------

    def _build(self, pyo):
        """Build the graph from ``self._initial``; return it (with ``output``, ``master``,
        ``entrainment`` and ``take(state)``). Runs before the server starts."""
        raise NotImplementedError

    def _release(self) -> None:
        """Drop every graph object (before the server that owns them shuts down)."""
        self._patch = None

    def _first_block(self) -> None:
        """Start the fades (and the headphone check) in the first block."""
        raise NotImplementedError

    def _took(self, state: MusicState) -> None:
        """React to a new state beyond the graph's glides (the audio thread)."""

    def _play_block(self, start: int, latency: int) -> None:
        """Start what begins in the block from sample ``start`` (the audio thread)."""
        raise NotImplementedError

    # -- steering --------------------------------------------------------------------------

    def apply(self, state: MusicState) -> None:
        """Make ``state`` (clamped to the valid ranges) the music's target, from the next block.

        Safe from any thread: the state is handed over by a single reference assignment, which
        is atomic in CPython, and the audio thread takes the newest one at its next block.
        Tempo changes on the next beat, key and mode on the next bar; the rest glides.

        Raises
        ------
        AudioError
            If the engine is not running or the audio failed.
        """
        self._check_running()
        self._pending = state.clamped()

    @property
    def time_s(self) -> float:
        """Audio time in seconds: the start of the block being computed (or next, in manual mode)."""
        return self._block * self.buffer_size / self._sr

    @property
    def sample_rate(self) -> int:
        """The server's sampling rate in Hz."""
        return self._sr

    @property
    def xruns(self) -> int | None:
        """Xruns the JACK server reported since start (kept after stop); None for other backends."""
        return self._xruns_at_stop if self._jack is None else self._jack.xruns

    @property
    def output_latency_s(self) -> float:
        """How far the output lags the block clock (the limiter's look-ahead), in seconds.

        Score times include it: they say when the output carries a note or change.
        """
        return 0.0 if self._patch is None else self._patch.master.latency_samples / self._sr

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of audio pass.

        In ``manual``/``offline`` mode this computes the blocks, keeping a running target so
        that audio time never drifts from the caller's clock: afterwards the audio time is at
        or past the total advanced, by less than one block. In real time it waits until the
        audio clock has moved that far.
        """
        self._check_running()
        self._run_for(check_range("seconds", seconds, 0.0, math.inf))
        self._check_running()

    def process_blocks(self, n: int) -> None:
        """Compute ``n`` blocks now (``manual`` and ``offline`` only)."""
        self._check_running()
        if self.backend in REALTIME:
            raise InvalidArgumentError(
                f"process_blocks needs backend 'manual' or 'offline', not {self.backend!r}")
        for _ in range(int(n)):
            self._server.process()
        self._target_sample = max(self._target_sample, self._block * self.buffer_size)
        self._check_running()

    def _run_for(self, seconds: float) -> None:
        if self.backend not in REALTIME:
            # The target runs on by exactly `seconds` each call, so whole-block rounding never accumulates.
            self._target_sample += seconds * self._sr
            while self._block * self.buffer_size < self._target_sample:
                self._server.process()
            return
        # A real-time clock runs on by itself: wait from where it is now.
        self._target_sample = max(self._target_sample, self._block * self.buffer_size) + seconds * self._sr
        last_block, last_move = self._block, time.monotonic()
        while self._block * self.buffer_size < self._target_sample:
            time.sleep(min(0.02, max(0.001,
                                     (self._target_sample - self._block * self.buffer_size) / self._sr)))
            if self._block != last_block:
                last_block, last_move = self._block, time.monotonic()
            elif time.monotonic() - last_move > _STALL_S:
                self._fault = AudioError(f"the {self.backend} audio clock stopped "
                                         f"(no block for {_STALL_S:g} s; audio server gone?)")
                break

    def _check_running(self) -> None:
        if self._fault is not None:
            raise AudioError(str(self._fault)) if not isinstance(self._fault, AudioError) else self._fault
        if not self._running:
            raise AudioError("the engine is not running (use it inside 'with Engine(...)')")

    # -- the audio thread ------------------------------------------------------------------

    def _on_block(self) -> None:
        """Called by pyo before each block: take the newest state, start this block's notes."""
        if self._fault is not None or self._patch is None:
            self._block += 1
            return
        try:
            self._prepare_block()
        except Exception as err:  # any bug here must fade out, not kill the audio thread
            self._fault = AudioError(f"music engine fault at {self.time_s:.3f} s: {err!r}")
            self._patch.master.fade_out(self._fade_out_s)
            log.error("%s", self._fault)
        self._block += 1

    def _prepare_block(self) -> None:
        start = self._block * self.buffer_size
        latency = self._patch.master.latency_samples
        if self._block == 0:
            # Started here rather than before the server starts: JACK may run the graph for a
            # few cycles before the first block we count, and the fade must not start in them.
            self._first_block()
        state = self._pending
        # Only apply() writes _pending and only this thread writes _taken, so comparing
        # identities never loses a state that arrives while this block is prepared.
        if state is not self._taken:
            self._taken = state
            self._patch.take(state)
            self._took(state)
            self.score.add_state((start + latency) / self._sr, state)
        self._play_block(start, latency)
