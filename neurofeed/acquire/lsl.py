"""EEG from a Lab Streaming Layer (LSL) stream, on the local LSL clock."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np
from pylsl import (
    ContinuousResolver,
    StreamInfo,
    StreamInlet,
    cf_string,
    proc_clocksync,
    resolve_streams,
    set_config_content,
)
from pylsl.util import LostError
from pylsl.util import TimeoutError as LSLTimeoutError

from neurofeed._check import check_range
from neurofeed.acquire.base import Source, channel_names, logger
from neurofeed.acquire.headers import check_n_channels, check_sfreq
from neurofeed.acquire.montage import identify
from neurofeed.acquire.units import volts_per_unit
from neurofeed.errors import InvalidArgumentError, SourceError

_USER_CONFIG_FILES = ("lsl_api.cfg", "~/lsl_api/lsl_api.cfg", "/etc/lsl_api/lsl_api.cfg")
_RESOLVE_POLL_S = 0.01
#: While stalled, how often to look for a restarted outlet, in seconds.
RECONNECT_INTERVAL_S = 1.0
#: Timeout of each network step when connecting to a restarted outlet, in seconds.
_RECONNECT_STEP_TIMEOUT_S = 2.0
#: Seconds of samples one pull can take before it loops.
_PULL_BUFFER_S = 1.0
_MAX_LISTED = 10


#: liblsl's log verbosity -1: warnings and errors only.
_QUIET_CONFIG = "[log]\nlevel = -1\n"
#: liblsl settings that keep LSL discovery on this machine (see docs/privacy.md), as
#: ``section.key``: outlets answer broadcast and multicast queries on the loopback interface
#: only, resolvers ask this machine only, no IPv6 socket is opened (liblsl's IPv6 sockets
#: listen on every interface), and no outlet takes a port outside ``BasePort`` ..
#: ``BasePort + PortRange - 1`` (16572-16603 by default), the range a firewall closes. Data
#: and service ports still listen on every IPv4 interface.
MACHINE_SCOPE_SETTINGS = {"multicast.ResolveScope": "machine",
                          "multicast.ListenAddress": "127.0.0.1",
                          "ports.IPv6": "disable",
                          "ports.AllowRandomPorts": "false"}
#: Settings of the user's liblsl configuration that machine scope drops, because they would
#: send discovery queries or answers beyond this machine: other multicast addresses or
#: TTL, other "machine" addresses, peers queried by address.
MACHINE_SCOPE_DROPPED = ("multicast.AddressesOverride", "multicast.TTLOverride",
                         "multicast.MachineAddresses", "lab.KnownPeers")
#: Whether use_machine_scope() ran, so that quiet_liblsl() leaves its settings in place.
_machine_scope = False


def quiet_liblsl() -> None:
    """Keep liblsl's INFO lines off stderr, unless the user configured liblsl.

    Run when this module is imported. A no-op after :func:`use_machine_scope`, whose
    settings it would otherwise replace.
    """
    if _machine_scope or os.environ.get("LSLAPICFG") or any(os.path.isfile(os.path.expanduser(path))
                                          for path in _USER_CONFIG_FILES):
        return
    # Without it every process that touches the network prints two INFO lines, which would
    # break the CLI's one-line error messages. It only takes effect before liblsl's first
    # network call, and is harmless after.
    set_config_content(_QUIET_CONFIG)


def _parse_liblsl_config(text: str) -> dict[str, str]:
    """Return the ``section.key: value`` pairs of a liblsl configuration, in order.

    Follows liblsl's own reader (``src/util/inireader.cpp``): ``;`` starts a comment line,
    a line starting with ``[`` opens a section, every other non-blank line is ``key = value``.
    Raises ValueError where liblsl would refuse the file (no ``=``, an empty key or value, a
    repeated key).
    """
    values, section = {}, ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(";"):
            continue
        if line.startswith("["):
            if "]" not in line:
                raise ValueError(f"line {number}: no closing bracket")
            section = line[1:line.index("]")] + "."
            continue
        key, equals, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key or not value:
            raise ValueError(f"line {number}: not 'key = value'")
        if section + key in values:
            raise ValueError(f"line {number}: {section + key} given twice")
        values[section + key] = value
    return values


def _user_liblsl_config() -> tuple[str | None, dict[str, str]]:
    """Return the liblsl configuration file this process would read, and its settings.

    The file is the first readable one of ``$LSLAPICFG``, ``./lsl_api.cfg``,
    ``~/lsl_api/lsl_api.cfg`` and ``/etc/lsl_api/lsl_api.cfg``, as liblsl looks for it; one
    that liblsl's reader would refuse is skipped, as liblsl skips it. ``(None, {})`` when
    there is none.
    """
    candidates = [os.environ.get("LSLAPICFG") or None, *_USER_CONFIG_FILES]
    for path in candidates:
        if path is None:
            continue
        path = os.path.expanduser(path)
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                text = file.read()
        except OSError:
            continue
        try:
            return path, _parse_liblsl_config(text)
        except ValueError as error:
            logger.warning("liblsl configuration %s is not read: %s", path, error)
    return None, {}


def machine_scope_config(user: dict[str, str] | None = None) -> str:
    """Return the liblsl configuration that :func:`use_machine_scope` sets.

    Parameters
    ----------
    user : dict | None
        The user's liblsl settings as ``section.key: value``; None reads them from the file
        liblsl would read (see :func:`_user_liblsl_config`).

    Returns
    -------
    str
        The user's settings, less :data:`MACHINE_SCOPE_DROPPED`, with
        :data:`MACHINE_SCOPE_SETTINGS` in place of theirs, and ``[log] level = -1`` unless
        the user set a level liblsl accepts (-3 to 9).
    """
    if user is None:
        user = _user_liblsl_config()[1]
    settings = {key: value for key, value in user.items() if key not in MACHINE_SCOPE_DROPPED}
    try:
        level_ok = -3 <= int(settings.get("log.level", "")) <= 9
    except ValueError:
        level_ok = False
    if not level_ok:
        # liblsl refuses a whole configuration with a level out of range, and would then
        # fall back to the files, without machine scope.
        settings["log.level"] = "-1"
    settings.update(MACHINE_SCOPE_SETTINGS)
    sections: dict[str, list[str]] = {"": []}  # keys before any section come first
    for name, value in settings.items():
        section, _, key = name.rpartition(".")
        sections.setdefault(section, []).append(f"{key} = {value}\n")
    return "".join((f"[{section}]\n" if section else "") + "".join(lines)
                   for section, lines in sections.items())


def use_machine_scope() -> None:
    """Keep this process's LSL streams undiscoverable from other machines.

    Outlets then answer discovery queries (multicast and broadcast) on the loopback
    interface only, take no port outside liblsl's port range, and resolvers (``--lsl``
    sources, ``neurofeed devices``) only find streams of this machine. It does not close
    the ports: a client elsewhere that is given this machine's address (liblsl's
    ``KnownPeers``) still finds the streams and can read them. docs/privacy.md says what is
    exposed, to whom, and how to close it.

    Notes
    -----
    liblsl reads its configuration once, when the process creates its first LSL object
    (stream info, outlet, inlet or resolver); call this before that, e.g. first thing in
    a command. Importing pylsl is harmless. liblsl takes configuration content over files,
    so the user's ``lsl_api.cfg`` (the one liblsl would read) is merged into what is set:
    see :func:`machine_scope_config`.
    """
    global _machine_scope
    _machine_scope = True
    path, user = _user_liblsl_config()
    if path is not None:
        logger.info("LSL machine scope: merged with %s", path)
    set_config_content(machine_scope_config(user))


quiet_liblsl()


def stream_summary(stream: StreamInfo) -> str:
    """Return ``'NAME' (TYPE, N ch at R Hz)`` for one LSL stream."""
    rate = f"{stream.nominal_srate():g} Hz" if stream.nominal_srate() > 0 else "irregular rate"
    kind = stream.type() or "no type"
    return f"{stream.name()!r} ({kind}, {stream.channel_count()} ch at {rate})"


def visible_streams(wait_s: float = 1.0) -> list[StreamInfo]:
    """Return every LSL stream that answers within ``wait_s`` seconds (this waits all of it)."""
    return resolve_streams(wait_time=wait_s)


@dataclass
class _Connection:
    """An open inlet and what is needed to turn its samples into volts."""

    inlet: StreamInlet
    stream: StreamInfo  # the full description, with desc
    labels: list[str]  # as the stream gives them (EEG001... where missing)
    types: list[str]  # as the stream declares them, lower case ('' where missing)
    volts: np.ndarray  # (n_channels, 1) volts per stream unit
    buffer: np.ndarray  # (n_samples, n_channels) in the stream's dtype, reused by every pull

    def describe(self) -> dict:
        """Return the stream's properties for :attr:`LSLSource.description`."""
        stream = self.stream
        return {"name": stream.name(), "type": stream.type(), "source_id": stream.source_id(),
                "hostname": stream.hostname(), "uid": stream.uid(),
                "channel_format": str(self.buffer.dtype),
                "volts_per_unit": self.volts.ravel().tolist(),
                "sfreq": stream.nominal_srate(), "n_channels": stream.channel_count()}


class LSLSource(Source):
    """EEG from an LSL stream, in volts on this machine's LSL clock.

    Parameters
    ----------
    name, type, source_id : str | None
        Select the stream by these properties; give at least one. A stream matches
        when it has every property given.
    timeout_s : float
        Seconds to wait for a matching stream to appear.
    montage : str | None
        Names for channels without usable labels (``--montage``): see
        :func:`~neurofeed.acquire.montage.parse_montage`. Checked when the stream is first
        connected.
    stall_timeout_s : float
        Seconds without a new sample before the source reports itself stalled.

    Notes
    -----
    The stream is resolved and connected on :meth:`open`, or on first access to
    :attr:`info` if that comes earlier. When several streams match, the newest is used.

    Channel labels come from ``desc/channels/channel/label`` (``EEG001``, ... where missing
    or repeated, see :func:`~neurofeed.acquire.base.channel_names`) and types from ``type``;
    both are turned into names and types by
    :func:`~neurofeed.acquire.channels.standardize` (a missing or EEG type is decided from
    the label, a type MNE does not know becomes ``misc``). Units come from ``unit``,
    converted to volts by :func:`~neurofeed.acquire.units.volts_per_unit`. **A channel
    with no unit, or one not recognised, is assumed to be in microvolts**, the LSL
    convention for EEG.

    Timestamps are moved onto the local LSL clock with LSL's clock-offset estimate, so
    that a stream from another machine lines up with local events.

    When the outlet goes away, :attr:`stalled` turns True after ``stall_timeout_s``.
    While stalled, a background thread looks for a matching outlet once per
    :data:`RECONNECT_INTERVAL_S` and switches to it when it appears, whether it is the
    same stream or a restarted one with a new ``source_id``. It must have the same
    channel names and sampling rate. Samples are never repeated or reordered across a
    switch: the old inlet is dropped before the new one is read, and the base class
    discards any sample not later than the last one delivered.
    """

    def __init__(self, name: str | None = None, type: str | None = None,
                 source_id: str | None = None, *, timeout_s: float = 5.0,
                 montage: str | None = None, stall_timeout_s: float = 2.0):
        super().__init__(stall_timeout_s=stall_timeout_s)
        selector = {"name": name, "type": type, "source_id": source_id}
        for key, value in selector.items():
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidArgumentError(f"LSL {key} must be a non-empty string, got {value!r}")
        self.selector = {key: value for key, value in selector.items() if value is not None}
        if not self.selector:
            raise InvalidArgumentError("an LSL stream needs a selector: name, type or source_id")
        self.timeout_s = check_range("timeout_s", timeout_s, 0, 3600, unit=" s",
                                     low_inclusive=False)
        self._montage = montage
        self._connection: _Connection | None = None
        # The last stream connected, kept after close() for session metadata.
        self._stream_description: dict = {}
        self._info = None
        self._lost = False
        self._replacement: _Connection | None = None
        self._wanted = threading.Event()
        self._closing = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- what the Source contract asks for -----------------------------------------------
    @property
    def info(self):
        """mne.Info: the stream's channels, in volts, and its nominal sampling rate in Hz."""
        if self._info is None:
            self._attach()
        return self._info

    @property
    def description(self) -> dict:
        """dict: The selector and the connected stream's properties, for session metadata."""
        return {"kind": "lsl", "selector": dict(self.selector), **self._stream_description,
                **self.channel_description()}

    def __repr__(self) -> str:
        selector = ", ".join(f"{key}={value!r}" for key, value in self.selector.items())
        if self._info is None:
            return f"LSLSource({selector})"
        return f"LSLSource({selector}, {self.n_channels} ch, {self.sfreq:g} Hz)"

    def _open(self) -> None:
        if self._connection is None:
            self._attach()
        else:
            # Connected by an earlier look at `info`: what queued since predates the session.
            self._connection.inlet.flush()
        self._lost = False
        self._closing.clear()
        self._wanted.clear()
        self._watcher = threading.Thread(target=self._watch, name=f"{self!r} reconnect",
                                         daemon=True)
        self._watcher.start()

    def _close(self) -> None:
        self._closing.set()
        self._wanted.set()
        if self._watcher is not None:
            # At most a few seconds, and only if a reconnection is half-way through.
            self._watcher.join()
            self._watcher = None
        self._connection = self._replacement = None

    def _pull(self):
        replacement = self._replacement
        if replacement is not None:
            self._replacement = None
            self._connection, self._lost = replacement, False
            self._stream_description = replacement.describe()
            logger.warning("%r: switched to %s from %s", self, stream_summary(replacement.stream),
                           replacement.stream.hostname())
        if not self._lost:
            try:
                return self._pull_connected(self._connection)
            except LostError:
                self._lost = True
                logger.warning("%r: the outlet was lost; looking for it again", self)
        if self._replacement is None and (self._lost or self.stalled):
            self._wanted.set()
        return np.empty((self.n_channels, 0)), np.empty(0)

    @staticmethod
    def _pull_connected(connection: _Connection):
        buffer, pieces = connection.buffer, []
        while True:
            _, stamps = connection.inlet.pull_chunk(timeout=0.0, max_samples=len(buffer),
                                                    dest_obj=buffer, as_numpy=True)
            n = stamps.size
            data = np.empty((connection.volts.size, n))
            np.multiply(buffer[:n].T, connection.volts, out=data)
            pieces.append((data, stamps))
            # A full buffer means more may be waiting: a read returns everything that arrived.
            if n < len(buffer):
                break
        if len(pieces) == 1:
            return pieces[0]
        return (np.concatenate([p[0] for p in pieces], axis=1),
                np.concatenate([p[1] for p in pieces]))

    # -- finding and connecting ---------------------------------------------------------
    def _matches(self, stream: StreamInfo) -> bool:
        found = {"name": stream.name(), "type": stream.type(), "source_id": stream.source_id()}
        return all(found[key] == value for key, value in self.selector.items())

    def _resolve(self) -> StreamInfo:
        """Return the newest matching stream, waiting up to ``timeout_s``."""
        # A continuous resolver answers within milliseconds once a stream is up, and when
        # nothing matches it already holds the visible streams that the error lists.
        resolver = ContinuousResolver()
        deadline = time.monotonic() + self.timeout_s
        while True:
            visible = resolver.results()
            matches = [stream for stream in visible if self._matches(stream)]
            if matches:
                if len(matches) > 1:
                    logger.warning("%d LSL streams match %r; using the newest", len(matches), self)
                return max(matches, key=lambda stream: stream.created_at())
            if time.monotonic() >= deadline:
                raise SourceError(self._not_found(visible))
            time.sleep(_RESOLVE_POLL_S)

    def _attach(self) -> None:
        """Resolve and connect; the first time, this also fixes :attr:`info`."""
        connection = self._connect(self._resolve(), self.timeout_s)
        if self._info is None:
            self._info = self._make_info(connection)
        else:
            problem = self._incompatibility(connection)
            if problem:
                raise SourceError(f"{self!r}: the stream found now {problem}")
        self._connection, self._stream_description = connection, connection.describe()

    def _not_found(self, visible: list[StreamInfo]) -> str:
        wanted = " and ".join(f"{key}={value!r}" for key, value in self.selector.items())
        message = f"no LSL stream with {wanted} appeared within {self.timeout_s:g} s; "
        if not visible:
            return message + ("no LSL streams are visible (is the outlet running, and does "
                              "this network allow multicast?)")
        listed = ", ".join(stream_summary(stream) for stream in visible[:_MAX_LISTED])
        more = f" and {len(visible) - _MAX_LISTED} more" if len(visible) > _MAX_LISTED else ""
        return message + f"visible streams: {listed}{more} (see 'neurofeed devices')"

    @staticmethod
    def _connect(found: StreamInfo, timeout_s: float) -> _Connection:
        """Open an inlet on ``found``, subscribed, with its clock offset already measured."""
        if found.channel_format() == cf_string:
            raise SourceError(f"LSL stream {stream_summary(found)} carries text, not EEG samples")
        if found.nominal_srate() <= 0:
            raise SourceError(f"LSL stream {stream_summary(found)} has no nominal sampling "
                              "rate; an EEG source needs a regular one")
        # The rate and channel count size the pull buffer: bounded before it is allocated.
        origin = f"LSL stream {stream_summary(found)} on {found.hostname()!r}"
        check_sfreq(origin, found.nominal_srate(), error=SourceError)
        check_n_channels(origin, found.channel_count(), error=SourceError)
        # recover=False: liblsl's own recovery only finds an outlet with the same source_id,
        # and running it beside our reconnection (which also finds restarted outlets with a
        # new one) could deliver the same samples through two inlets. Processing: only
        # clocksync, which adds LSL's offset estimate so that remote timestamps land on the
        # local clock. No dejitter: it would replace the outlet's timestamps with a fit that
        # assumes no gaps. No monotonize: it turns a step back into repeated timestamps, which
        # the base class drops anyway.
        inlet = StreamInlet(found, recover=False, processing_flags=proc_clocksync)
        try:
            stream = inlet.info(timeout_s)
            inlet.open_stream(timeout_s)
            # The first offset estimate takes about 0.6 s; getting it here keeps it out of
            # the first read(). Later estimates are refreshed by liblsl in the background.
            inlet.time_correction(timeout_s)
        except (LSLTimeoutError, LostError) as err:
            raise SourceError(f"LSL stream {stream_summary(found)} on {found.hostname()!r} was "
                              f"found but did not connect within {timeout_s:g} s ({err})") from None
        labels, types, volts = _channels(stream)
        n_buffer = max(64, int(np.ceil(stream.nominal_srate() * _PULL_BUFFER_S)))
        return _Connection(inlet=inlet, stream=stream, labels=labels, types=types,
                           volts=np.asarray(volts)[:, np.newaxis],
                           buffer=np.empty((n_buffer, len(labels)), dtype=inlet.np_dtype))

    def _make_info(self, connection: _Connection):
        import mne

        identity = identify(connection.labels, connection.types, montage=self._montage)
        channels = self._identified(identity, f"LSL stream {stream_summary(connection.stream)}")
        return mne.create_info([ch.name for ch in channels], connection.stream.nominal_srate(),
                               [ch.type for ch in channels])

    def _incompatibility(self, connection: _Connection) -> str | None:
        """Say how a newly found stream differs from :attr:`info`, or return None."""
        if connection.stream.nominal_srate() != self.sfreq:
            return (f"runs at {connection.stream.nominal_srate():g} Hz, "
                    f"not {self.sfreq:g} Hz")
        labels = [ch.label for ch in self.channel_map]
        if connection.labels != labels:
            return f"has channels {connection.labels}, not {labels}"
        return None

    # -- reconnection, in a background thread ---------------------------------------------
    def _watch(self) -> None:
        """Hand :meth:`_pull` a new connection when the stream is lost or stalled."""
        rejected: set[str] = set()
        while not self._closing.is_set():
            self._wanted.wait()
            if self._closing.is_set():
                return
            # A fresh resolver per episode: an outlet that died is then never offered.
            resolver = ContinuousResolver()
            while not self._closing.wait(RECONNECT_INTERVAL_S):
                if not (self._lost or self.stalled) or self._replacement is not None:
                    break
                connection = self._reconnect(resolver.results(), rejected)
                if connection is not None:
                    self._replacement = connection
                    break
            del resolver
            self._wanted.clear()

    def _reconnect(self, visible: list[StreamInfo], rejected: set[str]) -> _Connection | None:
        current = self._connection.stream.uid()
        # While the current inlet is alive, only a different outlet can help.
        candidates = [stream for stream in visible if self._matches(stream)
                      and stream.uid() not in rejected and (self._lost or stream.uid() != current)]
        for found in sorted(candidates, key=lambda stream: -stream.created_at()):
            try:
                connection = self._connect(found, _RECONNECT_STEP_TIMEOUT_S)
            except SourceError as err:
                logger.warning("%r: %s", self, err)
                continue
            problem = self._incompatibility(connection)
            if problem is None:
                return connection
            rejected.add(found.uid())
            logger.warning("%r: ignoring %s, which %s", self, stream_summary(found), problem)
        return None


def _channels(stream: StreamInfo) -> tuple[list[str], list[str], list[float]]:
    """Return channel labels, declared types and volts per unit from a stream description."""
    n = stream.channel_count()
    labels, types, units = [""] * n, [""] * n, [""] * n
    channel = stream.desc().child("channels").child("channel")
    for i in range(n):
        if channel.empty():
            break
        labels[i] = channel.child_value("label").strip()
        types[i] = channel.child_value("type").strip().lower()
        units[i] = channel.child_value("unit")
        channel = channel.next_sibling("channel")
    labels = channel_names(labels, n, origin=f"LSL stream {stream_summary(stream)}")
    return labels, types, [volts_per_unit(unit) for unit in units]
