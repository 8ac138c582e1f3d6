"""A minimal JACK client through ctypes: is a server running, and how many xruns it had.

pyo neither says whether a JACK server is reachable without trying to boot, nor counts
xruns, so we open a second, passive client of our own. It has no ports and no process
callback, so it costs the audio graph nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import threading
from pathlib import Path

from neurofeed.synth._quiet import quiet_stderr

_JACK_NO_START_SERVER = 0x01
_XRUN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


def _libjack() -> ctypes.CDLL | None:
    """pyo's bundled libjack if present (the one pyo talks to the server with), else the system's."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("pyo")
        bundled = sorted(glob.glob(str(Path(spec.origin).parent.parent / "pyo.libs" / "libjack*.so*"))) \
            if spec and spec.origin else []
    except (ImportError, ValueError):
        bundled = []
    for candidate in [*bundled, ctypes.util.find_library("jack")]:
        if candidate:
            try:
                lib = ctypes.CDLL(candidate)
            except OSError:
                continue
            lib.jack_client_open.restype = ctypes.c_void_p
            lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
            lib.jack_client_close.argtypes = [ctypes.c_void_p]
            lib.jack_activate.argtypes = [ctypes.c_void_p]
            lib.jack_set_xrun_callback.argtypes = [ctypes.c_void_p, _XRUN_CALLBACK, ctypes.c_void_p]
            lib.jack_get_sample_rate.argtypes = [ctypes.c_void_p]
            lib.jack_get_sample_rate.restype = ctypes.c_uint32
            return lib
    return None


class JackClient:
    """A passive JACK client that counts xruns; use as a context manager.

    Parameters
    ----------
    name : str
        Client name shown by JACK tools. The server is ``$JACK_DEFAULT_SERVER`` or the
        default one, as for pyo.

    Raises
    ------
    ConnectionError
        If libjack is missing or no JACK server is running.
    """

    def __init__(self, name: str = "neurofeed-monitor"):
        self._lib = _libjack()
        if self._lib is None:
            raise ConnectionError("libjack not found")
        status = ctypes.c_int(0)
        # libjack prints its connection failures to stderr; the caller gets ConnectionError instead.
        with quiet_stderr():
            self._client = self._lib.jack_client_open(name.encode(), _JACK_NO_START_SERVER,
                                                      ctypes.byref(status))
        if not self._client:
            raise ConnectionError(f"no JACK server running (status 0x{status.value:x})")
        self._lock = threading.Lock()
        self._xruns = 0
        # Keep the ctypes callback referenced: JACK calls it for as long as the client lives.
        self._callback = _XRUN_CALLBACK(self._on_xrun)
        self._lib.jack_set_xrun_callback(self._client, self._callback, None)
        self._lib.jack_activate(self._client)

    def _on_xrun(self, _arg) -> int:
        with self._lock:
            self._xruns += 1
        return 0

    @property
    def xruns(self) -> int:
        """Xruns the server reported since this client opened."""
        with self._lock:
            return self._xruns

    @property
    def sample_rate(self) -> int:
        """The server's sampling rate in Hz."""
        return int(self._lib.jack_get_sample_rate(self._client))

    def close(self) -> None:
        if self._client:
            self._lib.jack_client_close(self._client)
            self._client = None

    def __enter__(self) -> JackClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def jack_server_running() -> bool:
    """Whether the JACK server (``$JACK_DEFAULT_SERVER`` or the default) accepts clients now."""
    try:
        with JackClient("neurofeed-probe"):
            return True
    except ConnectionError:
        return False
