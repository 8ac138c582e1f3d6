"""Which audio outputs exist, found without booting an audio server.

Querying PortAudio is safe on a machine with no sound card; booting pyo's PortAudio server
there is not (it segfaults), which is why the engine asks here first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from neurofeed.synth._pyo import load_pyo
from neurofeed.synth._quiet import quiet_stderr
from neurofeed.synth.jack import JackClient


@dataclass(frozen=True)
class AudioOutput:
    """One place the engine can play to.

    Attributes
    ----------
    backend : str
        ``"portaudio"`` or ``"jack"``.
    index : int or None
        PortAudio device index (``--device``); None for JACK.
    name : str
        Device or server name.
    channels : int
        Output channels (0 when unknown).
    default : bool
        Whether the engine uses this output when none is chosen.
    sample_rate : float or None
        The rate the output runs at in Hz, where it dictates one (JACK); else None.
    """

    backend: str
    index: int | None
    name: str
    channels: int
    default: bool
    sample_rate: float | None = None


def portaudio_outputs() -> list[AudioOutput]:
    """PortAudio's output devices (ALSA and OSS in pyo's wheel); empty on a machine without sound."""
    pyo = load_pyo()
    # ALSA prints a page of "cannot find card" lines while PortAudio scans.
    with quiet_stderr():
        names, indexes = pyo.pa_get_output_devices()
        default = pyo.pa_get_default_output()
        channels = [pyo.pa_get_output_max_channels(i) for i in indexes]
    return [AudioOutput("portaudio", i, str(n), int(c), i == default)
            for n, i, c in zip(names, indexes, channels)]


def jack_output() -> AudioOutput | None:
    """The running JACK server (``$JACK_DEFAULT_SERVER`` or the default), or None."""
    try:
        with JackClient("neurofeed-probe") as client:
            rate = client.sample_rate
    except ConnectionError:
        return None
    name = os.environ.get("JACK_DEFAULT_SERVER", "default")
    return AudioOutput("jack", None, f"JACK server '{name}'", 2, False, float(rate))


def list_audio_outputs() -> list[AudioOutput]:
    """Every audio output: PortAudio devices, then a running JACK server if there is one.

    Never boots an audio server, so it is safe on a machine with no sound card. The output
    ``backend="auto"`` would use is marked ``default`` (JACK when it runs).
    """
    outputs = portaudio_outputs()
    jack = jack_output()
    if jack is None:
        return outputs
    return [AudioOutput(o.backend, o.index, o.name, o.channels, False) for o in outputs] + [
        AudioOutput(jack.backend, jack.index, jack.name, jack.channels, True, jack.sample_rate)]
