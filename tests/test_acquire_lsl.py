"""LSL source and outlet against real outlets in other processes."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli
from pylsl import StreamInfo, StreamOutlet, local_clock, resolve_byprop

from neurofeed.acquire import EEGOutlet, LSLSource
from neurofeed.acquire.units import volts_per_unit
from neurofeed.errors import InvalidArgumentError, SourceError
from neurofeed.publish import SessionOutlets

HELPER = Path(__file__).with_name("_lsl_outlet.py")
RATE = 250.0
EXPECTED_NAMES = ["Counter", "Fz", "Cz", "Pz", "O1", "EEG006"]
#: Every EEG channel of the helper carries 50 µV, whatever unit it is written in.
EEG_VOLTS = 50e-6


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _start_outlet(name, kind, source_id, origin, fmt="float32", rate=RATE,
                  env=None) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, str(HELPER), name, kind, source_id, repr(origin),
                                fmt, repr(rate)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    assert process.stdout.readline().strip() == "ready"
    return process


def _stop(process: subprocess.Popen) -> None:
    process.kill()
    process.wait(timeout=10)


def _read_until(source, condition, timeout_s=15.0):
    """Read every 20 ms until ``condition(source)`` or the deadline; return the chunks."""
    chunks = []
    deadline = time.monotonic() + timeout_s
    while not condition(source) and time.monotonic() < deadline:
        chunk = source.read()
        if chunk.timestamps.size:
            chunks.append(chunk)
        time.sleep(0.02)
    return chunks


def _joined(chunks):
    return (np.concatenate([c.data for c in chunks], axis=1),
            np.concatenate([c.timestamps for c in chunks]))


@pytest.fixture(scope="module")
def outlet():
    """One helper outlet for the tests that only read: (name, type, source_id, origin)."""
    name, kind, source_id = _unique("nf-test"), _unique("T"), _unique("sid")
    origin = local_clock()
    process = _start_outlet(name, kind, source_id, origin)
    yield name, kind, source_id, origin
    _stop(process)


def test_reads_labels_units_and_timestamps_from_another_process(outlet):
    name, kind, source_id, origin = outlet
    source = LSLSource(name=name, timeout_s=10)
    with source:
        chunks = _read_until(source, lambda s: s.n_samples >= 100)
        now = local_clock()
    data, stamps = _joined(chunks)
    assert source.info["ch_names"] == EXPECTED_NAMES
    assert source.info.get_channel_types() == ["misc", "eeg", "eeg", "eeg", "eeg", "eeg"]
    assert source.info["sfreq"] == RATE
    assert data.dtype == np.float64 and data.shape[0] == 6 and data.shape[1] >= 100
    # microvolts, millivolts, no unit (taken as microvolts), volts, no description: all 50 µV.
    np.testing.assert_allclose(data[1:], EEG_VOLTS, rtol=1e-6)
    counter = data[0]
    assert np.all(np.diff(counter) == 1)
    assert np.all(np.diff(stamps) > 0)
    # Same machine: the clock-offset correction is tiny, so stamps keep the helper's schedule.
    np.testing.assert_allclose(stamps, origin + counter / RATE, atol=2e-3, rtol=0)
    assert now - 2.0 < stamps[-1] <= now + 0.01
    description = source.description
    assert description["kind"] == "lsl" and description["name"] == name
    assert description["type"] == kind and description["source_id"] == source_id
    assert description["volts_per_unit"] == [1.0, 1e-6, 1e-3, 1e-6, 1.0, 1e-6]
    assert description["n_channels"] == 6 and description["sfreq"] == RATE
    assert source.n_dropped == 0 and not source.stalled


def test_selectors_combine_with_and(outlet):
    name, kind, source_id, _ = outlet
    with LSLSource(type=kind, source_id=source_id, timeout_s=10) as source:
        assert source.description["name"] == name
    with pytest.raises(SourceError) as excinfo:
        LSLSource(name=name, type="Markers", timeout_s=0.5).open()
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith(f"no LSL stream with name={name!r} and type='Markers' appeared "
                              "within 0.5 s; visible streams: ")
    assert f"{name!r} ({kind}, 6 ch at 250 Hz)" in message


def test_missing_stream_error_names_the_selector(outlet):
    missing = _unique("missing")
    with pytest.raises(SourceError, match=rf"no LSL stream with source_id='{missing}' appeared "
                                          rf"within 0.3 s; visible streams: .*'{outlet[0]}'"):
        _ = LSLSource(source_id=missing, timeout_s=0.3).info


@pytest.mark.parametrize("kwargs, fragment", [
    ({}, "needs a selector"), ({"name": ""}, "LSL name must be a non-empty string"),
    ({"name": "x", "timeout_s": 0}, "timeout_s must be in (0, 3600] s")])
def test_bad_arguments_are_refused(kwargs, fragment):
    with pytest.raises(InvalidArgumentError) as excinfo:
        LSLSource(**kwargs)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize("unit, volts", [
    ("microvolts", 1e-6), ("µV", 1e-6), ("\u03bcV", 1e-6), ("uV", 1e-6), ("millivolts", 1e-3),
    ("mV", 1e-3), ("volts", 1.0), ("V", 1.0), ("-6", 1e-6), ("none", 1.0), ("", 1e-6),
    ("furlongs", 1e-6)])
def test_units_convert_to_volts(unit, volts):
    assert volts_per_unit(unit) == volts


@pytest.mark.parametrize("same_source_id", [True, False], ids=["same-source-id", "new-source-id"])
def test_resumes_after_the_outlet_process_restarts(same_source_id):
    name, kind = _unique("nf-restart"), "EEG"
    origin = local_clock()
    first = _start_outlet(name, kind, "restart-a", origin, "double64")
    try:
        source = LSLSource(name=name, timeout_s=10, stall_timeout_s=0.3)
        with source:
            before = _read_until(source, lambda s: s.n_samples >= 50)
            _stop(first)
            before += _read_until(source, lambda s: s.stalled)
            assert source.stalled and source.gaps[0].end is None
            second = _start_outlet(name, kind, "restart-a" if same_source_id else "restart-b",
                                   origin, "double64")
            try:
                after = _read_until(source, lambda s: not s.stalled and s.n_samples
                                    >= sum(c.timestamps.size for c in before) + 50)
            finally:
                _stop(second)
    finally:
        _stop(first)
    data, stamps = _joined(before + after)
    counter = data[0]
    steps = np.diff(counter)
    # No sample twice, none out of order, and one jump: the samples nobody published.
    assert np.all(steps >= 1) and np.all(np.diff(stamps) > 0)
    assert np.count_nonzero(steps > 1) == 1
    assert counter[-1] - counter[0] > 100
    np.testing.assert_allclose(stamps, origin + counter / RATE, atol=2e-3, rtol=0)
    np.testing.assert_allclose(data[1:], EEG_VOLTS, rtol=1e-9)
    gap = source.gaps[0]
    assert len(source.gaps) == 1 and gap.end is not None and gap.end > gap.start
    assert source.description["source_id"] == ("restart-a" if same_source_id else "restart-b")
    assert source.n_dropped == 0


def test_an_incompatible_restart_is_ignored(caplog):
    name = _unique("nf-incompatible")
    origin = local_clock()
    first = _start_outlet(name, "EEG", "incompatible-a", origin)
    second = None
    try:
        source = LSLSource(name=name, timeout_s=10, stall_timeout_s=0.3)
        with source:
            _read_until(source, lambda s: s.n_samples >= 20)
            _stop(first)
            # Samples still in flight when the outlet died keep arriving until liblsl reports
            # the connection lost; after that the old inlet is never read again, so the count
            # is final (counting earlier made this test fail on a loaded machine).
            _read_until(source, lambda s: s.stalled and "the outlet was lost" in caplog.text)
            assert "the outlet was lost" in caplog.text
            n_before = source.n_samples
            second = _start_outlet(name, "EEG", "incompatible-b", origin, rate=500.0)
            _read_until(source, lambda s: "which runs at 500 Hz, not 250 Hz" in caplog.text)
            assert "which runs at 500 Hz, not 250 Hz" in caplog.text
            assert source.read().timestamps.size == 0
            assert source.stalled and source.n_samples == n_before
            assert source.description["source_id"] == "incompatible-a"
    finally:
        _stop(first)
        if second is not None:
            _stop(second)


def test_a_stream_declaring_an_absurd_rate_is_refused_before_anything_is_allocated():
    name = _unique("nf-fast")
    # Just above the limit: liblsl itself takes seconds to create an outlet at 1e9 Hz.
    outlet = StreamOutlet(StreamInfo(name, "EEG", 4, 2e5, "float32", _unique("sid")))
    with pytest.raises(SourceError) as caught:
        LSLSource(name=name, timeout_s=10).open()
    del outlet
    message = str(caught.value)
    assert "\n" not in message
    assert (f"LSL stream {name!r} (EEG, 4 ch at 200000 Hz) on " in message
            and "declares a sampling rate of 200000.0 Hz; accepted: from 1 to 100000 Hz" in message)


def test_samples_queued_before_open_are_not_delivered(outlet):
    source = LSLSource(name=outlet[0], timeout_s=10)
    assert source.info["ch_names"] == EXPECTED_NAMES  # connects, before open()
    time.sleep(1.0)
    opened_at = local_clock()
    with source:
        chunks = _read_until(source, lambda s: s.n_samples >= 10)
    _, stamps = _joined(chunks)
    # Not the 1 s queued before open(): at most what a helper held up by a loaded machine
    # pushed late, well under half of it.
    assert stamps[0] > opened_at - 0.5


def test_neurofeed_stream_is_read_by_lsl_source():
    name = _unique("nf-stream")
    env = {**os.environ, "PYO_GUI_WX": "0", "OPENBLAS_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "neurofeed", "stream", "--board", "synthetic", "--name", name,
         "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        status = process.stdout.readline()
        source = LSLSource(name=name, timeout_s=15)
        with source:
            chunks = _read_until(source, lambda s: s.n_samples >= 250)
            now = local_clock()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert status.startswith(f"publishing {name!r} (EEG, 16 ch at 250 Hz) source_id=")
    assert "BrainFlowSource('Synthetic'" in status
    # SIGTERM stops it like Ctrl-C: outlet and board closed, exit 128 + 15, one line saying so.
    assert process.returncode == 143 and stderr == "neurofeed stream: stopped by SIGTERM\n"
    data, stamps = _joined(chunks)
    assert source.info["ch_names"][:3] == ["Fz", "C3", "Cz"] and data.shape[0] == 16
    # The synthetic board's 10-160 µV sines, back in volts after a trip through microvolts.
    rms = np.sqrt(np.mean(data ** 2, axis=1))
    assert np.all((rms > 1e-6) & (rms < 1e-3))
    assert np.all(np.diff(stamps) > 0)
    assert now - 2.0 < stamps[-1] <= now + 0.01


def test_devices_lists_boards_and_visible_streams(outlet):
    result = run_cli("devices", "--lsl-timeout", "1")
    assert result.returncode == 0, result.stderr
    assert "synthetic (-1)" in result.stdout and "cyton (0)" in result.stdout
    assert f"{outlet[0]!r} ({outlet[1]}, 6 ch at 250 Hz) source_id={outlet[2]!r}" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("args, fragments", [
    (["stream", "--lsl", "name=__nf_absent__", "--lsl-timeout", "0.3"],
     ["neurofeed stream: error: no LSL stream with name='__nf_absent__'"]),
    (["stream", "--board", "synthetic", "--duration", "-1"],
     ["--duration '-1' is not accepted; accepted: a time over 0"]),
    (["stream"], ["no EEG source given"]),
    (["stream", "--lsl", "kind=EEG"], ["not a stream selector"]),
    (["devices", "--lsl-timeout", "0"],
     ["--lsl-timeout '0' is not accepted; accepted: a time over 0 and up to 1m"])])
def test_cli_bad_input_is_one_line(args, fragments):
    assert_one_line_error(run_cli(*args, timeout=60), *fragments)


def test_outlet_refuses_a_chunk_of_the_wrong_shape():
    import mne

    with EEGOutlet(mne.create_info(["A", "B"], 100.0, "eeg"), name=_unique("nf-shape")) as outlet:
        with pytest.raises(InvalidArgumentError, match=r"takes data of shape \(2, n\)"):
            outlet.push((np.zeros((3, 4)), np.arange(4.0)))
    with pytest.raises(InvalidArgumentError, match="name must be a non-empty string"):
        EEGOutlet(mne.create_info(["A"], 100.0, "eeg"), name=" ")


# -- privacy: what --lsl-out streams say, and who can find them ------------------------


def test_session_outlets_have_opaque_random_source_ids():
    name = _unique("nf-session")
    # Nothing the caller knows about the person can go in: the id is made inside.
    with pytest.raises(TypeError):
        SessionOutlets(name, [("alpha", "ratio")], 10.0, "S01_2026-12-01_relax-alpha")
    first = SessionOutlets(name, [("alpha", "ratio")], 10.0)
    second = SessionOutlets(name + "-2", [("alpha", "ratio")], 10.0)
    with first, second:
        ids = []
        for stream_name in (f"{name}-features", f"{name}-markers", f"{name}-2-features"):
            (found,) = resolve_byprop("name", stream_name, timeout=10)
            ids.append(found.source_id())
    suffixes = ["features", "markers", "features"]
    for source_id, suffix in zip(ids, suffixes, strict=True):
        assert re.fullmatch(rf"neurofeed-[0-9a-f]{{32}}-{suffix}", source_id), source_id
    # One random id per session, shared by its two streams; another session has another.
    assert ids[0].removesuffix("-features") == ids[1].removesuffix("-markers") == first.source_id
    assert ids[2].removesuffix("-features") == second.source_id != first.source_id


def _sockets(pid: int) -> list[tuple[str, str, int]]:
    """Return (protocol, local address, port) of every inet socket that ``pid`` holds (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = []
    for protocol in ("udp", "tcp", "udp6", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{protocol}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                address, port = fields[1].split(":")
                if not protocol.endswith("6"):  # /proc lists IPv4 addresses little-endian
                    address = socket.inet_ntoa(bytes.fromhex(address)[::-1])
                found.append((protocol, address, int(port, 16)))
    return found


#: liblsl's default port for discovery queries (multicast and broadcast).
LSL_MULTICAST_PORT = 16571


@pytest.mark.skipif(not Path("/proc/self/net/udp").exists(), reason="reads Linux's /proc")
def test_machine_scope_answers_discovery_on_loopback_only_and_opens_no_ipv6():
    name = _unique("nf-machine")
    process = _start_outlet(name, "EEG", _unique("sid"), local_clock(),
                            env={"NEUROFEED_TEST_LSL_SCOPE": "machine"})
    try:
        sockets = _sockets(process.pid)
        # This machine still finds and reads it.
        with LSLSource(name=name, timeout_s=10) as source:
            _read_until(source, lambda s: s.n_samples >= 10)
    finally:
        _stop(process)
    assert source.n_samples >= 10
    assert sockets and all(protocol in ("udp", "tcp") for protocol, _, _ in sockets)
    discovery = [address for protocol, address, port in sockets
                 if protocol == "udp" and port == LSL_MULTICAST_PORT]
    assert discovery == ["127.0.0.1"]
    # What the scope leaves open: the data and service ports, on every IPv4 interface.
    assert {address for _, address, port in sockets if port != LSL_MULTICAST_PORT} == {"0.0.0.0"}


def test_machine_scope_config_keeps_the_port_range_and_the_users_settings(tmp_path, monkeypatch):
    from neurofeed.acquire.lsl import _parse_liblsl_config, _user_liblsl_config, machine_scope_config

    alone = _parse_liblsl_config(machine_scope_config({}))
    assert alone == {"log.level": "-1", "multicast.ResolveScope": "machine",
                     "multicast.ListenAddress": "127.0.0.1", "ports.IPv6": "disable",
                     "ports.AllowRandomPorts": "false"}
    # The user's file, where liblsl would find it: its settings survive, except those that
    # would widen discovery or leave the port range.
    config = tmp_path / "lsl_api.cfg"
    config.write_text("; mine\n[ports]\nBasePort = 17100\nPortRange = 8\nAllowRandomPorts = true\n"
                      "IPv6 = allow\n[lab]\nSessionID = lab-7\nKnownPeers = {10.0.0.9}\n"
                      "[multicast]\nResolveScope = site\nAddressesOverride = {239.1.1.1}\n"
                      "[log]\nlevel = 2\n[tuning]\nTimeProbeCount = 12\n")
    monkeypatch.setenv("LSLAPICFG", str(config))
    path, user = _user_liblsl_config()
    assert path == str(config)
    merged = _parse_liblsl_config(machine_scope_config(user))
    assert merged == {"ports.BasePort": "17100", "ports.PortRange": "8",
                      "ports.AllowRandomPorts": "false", "ports.IPv6": "disable",
                      "lab.SessionID": "lab-7", "multicast.ResolveScope": "machine",
                      "multicast.ListenAddress": "127.0.0.1", "log.level": "2",
                      "tuning.TimeProbeCount": "12"}
    # A level liblsl refuses would make it drop the whole configuration, machine scope with it.
    assert _parse_liblsl_config(machine_scope_config({"log.level": "12"}))["log.level"] == "-1"
    with pytest.raises(ValueError, match="given twice"):
        _parse_liblsl_config("[ports]\nBasePort = 1\nBasePort = 2\n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(not Path("/proc/self/net/udp").exists(), reason="reads Linux's /proc")
def test_machine_scope_outlets_stay_in_the_users_port_range(tmp_path):
    port = _free_port()
    config = tmp_path / "lsl_api.cfg"
    config.write_text(f"[ports]\nBasePort = {port}\nPortRange = 1\nAllowRandomPorts = true\n")
    env = {"NEUROFEED_TEST_LSL_SCOPE": "machine", "LSLAPICFG": str(config)}
    process = _start_outlet(_unique("nf-range"), "EEG", _unique("sid"), local_clock(), env=env)
    try:
        sockets = _sockets(process.pid)
    finally:
        _stop(process)
    # The user's BasePort is kept (the merged configuration), and discovery stays local.
    assert {(protocol, port_) for protocol, _, port_ in sockets
            if port_ != LSL_MULTICAST_PORT} == {("udp", port), ("tcp", port)}
    # The range taken, AllowRandomPorts = false refuses the outlet rather than open a port
    # outside it, though the user's file allows random ports.
    with socket.socket() as taken:
        taken.bind(("", port))
        taken.listen()
        process = subprocess.Popen([sys.executable, str(HELPER), _unique("nf-full"), "EEG",
                                    _unique("sid"), repr(local_clock())], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and "ready" not in stdout
    assert "ports were found occupied" in stderr, stderr


@pytest.fixture
def other_machine():
    """A network namespace joined to this one by a veth pair: another machine on the LAN.

    Yields the namespace's name and this machine's address as the other one sees it.
    """
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create a network namespace standing for "
                    "another machine")
    tag = uuid.uuid4().hex[:6]
    namespace, here, there = f"nf{tag}", f"nfh{tag}", f"nfp{tag}"
    subnet = f"10.{int(tag[:2], 16)}.{int(tag[2:4], 16)}"
    commands = [["ip", "netns", "add", namespace],
                ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
                ["ip", "link", "set", there, "netns", namespace],
                ["ip", "addr", "add", f"{subnet}.1/24", "dev", here],
                ["ip", "link", "set", here, "up"],
                ["ip", "netns", "exec", namespace, "ip", "addr", "add", f"{subnet}.2/24", "dev",
                 there],
                ["ip", "netns", "exec", namespace, "ip", "link", "set", there, "up"],
                ["ip", "netns", "exec", namespace, "ip", "route", "add", "default", "dev", there]]
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True, text=True)
        yield namespace, f"{subnet}.1"
    except subprocess.CalledProcessError as err:
        pytest.skip(f"cannot create a network namespace here: {err.stderr.strip()}")
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", here], capture_output=True)


def _found_from(namespace: str, name: str, known_peer: str | None = None) -> int:
    """Count the streams called ``name`` that a default LSL client in ``namespace`` finds."""
    config = "[log]\nlevel = -1\n" + (f"[lab]\nKnownPeers = {{{known_peer}}}\n"
                                        if known_peer else "")
    code = ("import sys, pylsl; pylsl.set_config_content(sys.argv[1]); "
            "print(len(pylsl.resolve_byprop('name', sys.argv[2], timeout=3.0)))")
    result = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, "-c", code,
                             config, name], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def test_machine_scope_hides_outlets_from_other_machines_unless_addressed(other_machine):
    namespace, address = other_machine
    visible, hidden = _unique("nf-network"), _unique("nf-machine")
    origin = local_clock()
    processes = [_start_outlet(visible, "EEG", _unique("sid"), origin),
                 _start_outlet(hidden, "EEG", _unique("sid"), origin,
                               env={"NEUROFEED_TEST_LSL_SCOPE": "machine"})]
    try:
        found = {"network": _found_from(namespace, visible),
                 "machine": _found_from(namespace, hidden),
                 "machine, by address": _found_from(namespace, hidden, known_peer=address)}
    finally:
        for process in processes:
            _stop(process)
    # Liblsl's default: any machine on the network finds the stream. The machine scope hides
    # it from discovery, but a client told this machine's address still finds it.
    assert found == {"network": 1, "machine": 0, "machine, by address": 1}
