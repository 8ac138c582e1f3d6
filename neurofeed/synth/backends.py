"""Choosing and booting the pyo audio server, without ever booting PortAudio blind.

In pyo 1.1.0's wheel, booting the PortAudio server on a machine with no output device
segfaults, so PortAudio is booted only after :mod:`neurofeed.synth.devices` has found a device.
"""

from __future__ import annotations

import logging
import os

from neurofeed._check import check_option
from neurofeed.errors import AudioError, InvalidArgumentError
from neurofeed.synth.devices import jack_output, portaudio_outputs

log = logging.getLogger(__name__)

#: Accepted ``backend`` values. ``auto`` is JACK when a server runs, else PortAudio when a
#: device exists, else an error; ``manual`` and ``offline`` are driven block by block by the caller.
BACKENDS: tuple[str, ...] = ("auto", "portaudio", "jack", "manual", "offline")
REALTIME: tuple[str, ...] = ("portaudio", "jack")

# Advice without flags: the API, 'play' (--backend, --wav) and sessions (--audio) all raise these.
_NO_OUTPUT = "start a JACK server (the jack backend), or render to a WAV file"


def resolve_backend(backend: str) -> str:
    """Turn ``backend`` into a concrete one; ``auto`` picks JACK, then PortAudio, or raises AudioError."""
    backend = str(check_option("backend", backend, BACKENDS))
    if backend != "auto":
        return backend
    if jack_output() is not None:
        return "jack"
    if any(o.default for o in portaudio_outputs()):
        return "portaudio"
    raise AudioError("no audio output: no JACK server is running and PortAudio finds no output "
                     "device; render to a WAV file")


def check_portaudio_device(device: int | None) -> None:
    """Raise unless PortAudio has an output device to boot on (``device``, or the default)."""
    outputs = portaudio_outputs()
    if not outputs or (device is None and not any(o.default for o in outputs)):
        raise AudioError(f"no audio output device: PortAudio finds none on this machine; {_NO_OUTPUT}")
    if device is not None and device not in [o.index for o in outputs]:
        raise InvalidArgumentError(f"audio device {device!r} is not an output device; accepted: "
                                   + ", ".join(f"{o.index} ({o.name})" for o in outputs))


def boot_server(pyo, backend: str, *, sample_rate: int, buffer_size: int, seed: int,
                device: int | None = None, client_name: str = "neurofeed"):
    """Create and boot a stereo, output-only pyo server for a concrete ``backend``.

    Parameters
    ----------
    pyo : module
        The pyo module (see :func:`neurofeed.synth._pyo.load_pyo`).
    backend : str
        ``"portaudio"``, ``"jack"``, ``"manual"`` or ``"offline"``.
    sample_rate : int
        Requested rate in Hz; under JACK the server's own rate is used instead.
    buffer_size : int
        Samples per block.
    seed : int
        pyo's global seed, so that any randomness inside pyo objects repeats.
    device : int or None
        PortAudio output device index; None for the default.
    client_name : str
        The JACK client name.

    Raises
    ------
    AudioError
        If there is no device, no JACK server, or the server does not boot.
    """
    if backend == "portaudio":
        check_portaudio_device(device)
    elif backend == "jack":
        jack = jack_output()
        if jack is None:
            raise AudioError("no JACK server is running (start one, e.g. 'jackd -d alsa', or set "
                             "JACK_DEFAULT_SERVER to its name)")
        if jack.sample_rate != sample_rate:
            log.info("JACK runs at %g Hz; using that instead of %g Hz", jack.sample_rate, sample_rate)
        sample_rate = int(jack.sample_rate)
    # pyo lets $PYO_SERVER_AUDIO override the backend we chose, which could send it to
    # PortAudio past the device check above.
    os.environ.pop("PYO_SERVER_AUDIO", None)
    audio = "manual" if backend in ("manual", "offline") else backend
    server = pyo.Server(sr=sample_rate, nchnls=2, buffersize=buffer_size, duplex=0, audio=audio,
                        jackname=client_name, verbosity=1)
    server.deactivateMidi()
    if backend == "jack":
        server.setJackAuto(False, True)  # connect our outputs to the physical playback ports
    if device is not None:
        server.setOutputDevice(device)
    server.setGlobalSeed(seed % (2 ** 31 - 1) + 1)  # 0 would mean "seed from the clock"
    server.boot()
    if not server.getIsBooted():
        server.shutdown()
        raise AudioError(f"the {backend} audio server did not start (pyo could not open the output)")
    return server
