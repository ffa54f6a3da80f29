"""Tests for ftptui.capture.interfaces against the real kernel and iproute2.

The namespace test builds a private netns with a veth pair whose far end
stays down: the up end then has no carrier, so nothing is ever transmitted,
and the whole namespace is deleted in the fixture teardown.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ftptui.capture import interfaces as ifmod
from ftptui.capture.interfaces import Address, Interface, describe, list_interfaces

REPO = Path(__file__).resolve().parents[1]
IP = shutil.which("ip")
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2})+$")
TIMEOUT = 30  # seconds for any subprocess; tests must never hang

needs_ip = pytest.mark.skipif(IP is None, reason="iproute2 'ip' not installed")
needs_netlink = pytest.mark.skipif(not hasattr(socket, "AF_NETLINK"),
                                   reason="rtnetlink is Linux-only")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)


def ip_json(*netns: str) -> list[dict]:
    prefix = ("-n", netns[0]) if netns else ()
    out = run(IP, *prefix, "-j", "addr", "show")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_matches_ip(ours: list[Interface], theirs: list[dict]) -> None:
    """Field-by-field comparison with `ip -j addr` output."""
    assert [i.index for i in ours] == [j["ifindex"] for j in theirs]
    for i, j in zip(ours, theirs):
        where = f"interface {j['ifname']}"
        assert i.name == j["ifname"], where
        assert i.state == j.get("operstate", "UNKNOWN"), where
        assert list(i.flags) == j["flags"], where
        assert i.mtu == j["mtu"], where
        assert i.link_type == j["link_type"], where
        hw = j.get("address", "")
        assert i.mac == (hw if MAC_RE.match(hw) else ""), where
        expected = [Address(a["family"], a["local"], a["prefixlen"], a["scope"])
                    for a in j.get("addr_info", ())
                    if a["family"] in ("inet", "inet6")]
        assert list(i.addresses) == expected, where


@needs_netlink
@needs_ip
def test_matches_ip_addr_on_this_machine():
    ours = list_interfaces()
    assert ours, "expected at least the loopback interface"
    assert_matches_ip(ours, ip_json())


@needs_netlink
def test_loopback_present_and_sorted():
    ours = list_interfaces()
    assert [i.index for i in ours] == sorted(i.index for i in ours)
    lo = next(i for i in ours if "LOOPBACK" in i.flags)
    assert lo.link_type == "loopback"
    assert all(isinstance(i, Interface) for i in ours)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lo.name = "x"  # type: ignore[misc]


def test_fallback_uses_if_nameindex(monkeypatch):
    # Simulate a platform where netlink fails; the real if_nameindex() answers.
    def broken():
        raise OSError("netlink unavailable")
    monkeypatch.setattr(ifmod, "_netlink_interfaces", broken)
    got = list_interfaces()
    want = sorted(socket.if_nameindex())
    assert [(i.index, i.name) for i in got] == want
    assert all(i.addresses == () and i.state == "UNKNOWN" for i in got)


def test_describe_format():
    iface = Interface(2, "eth0", "UP", ("BROADCAST", "MULTICAST", "UP"), 1500,
                      "ether", "02:42:ac:11:00:02",
                      (Address("inet", "172.17.0.2", 16, "global"),
                       Address("inet6", "fe80::42:acff:fe11:2", 64, "link")))
    assert describe(iface) == ("2: eth0 UP ether 02:42:ac:11:00:02 inet 172.17.0.2/16"
                               " inet6 fe80::42:acff:fe11:2/64")
    bare = Interface(7, "tun0", "UNKNOWN", (), 1500, "none", "")
    assert describe(bare) == "7: tun0 UNKNOWN none"


# --- private network namespace -------------------------------------------

NS_MAC = "02:00:5e:10:20:30"
NS_V4 = ("10.200.0.1", 24)
NS_V6 = ("fd12:3456:789a::1", 64)


@pytest.fixture
def netns():
    if IP is None:
        pytest.skip("iproute2 'ip' not installed")
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("creating a network namespace needs root")
    name = f"ftptui-test-{os.getpid()}"
    made = run(IP, "netns", "add", name)
    if made.returncode != 0:
        pytest.skip(f"'ip netns add' unavailable: {made.stderr.strip()}")
    try:
        steps = [
            ("link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b"),
            ("link", "set", "veth-a", "address", NS_MAC),
            ("addr", "add", f"{NS_V4[0]}/{NS_V4[1]}", "dev", "veth-a"),
            # nodad: no duplicate-address probes, the address is usable at once
            ("-6", "addr", "add", f"{NS_V6[0]}/{NS_V6[1]}", "dev", "veth-a", "nodad"),
            ("link", "set", "veth-a", "up"),  # veth-b stays down: no carrier
        ]
        for step in steps:
            out = run(IP, "-n", name, *step)
            assert out.returncode == 0, f"ip {' '.join(step)}: {out.stderr}"
        yield name
    finally:
        run(IP, "netns", "del", name)


def list_in_netns(name: str) -> list[Interface]:
    code = ("import dataclasses, json, sys; sys.path.insert(0, sys.argv[1]);"
            "from ftptui.capture.interfaces import list_interfaces;"
            "print(json.dumps([dataclasses.asdict(i) for i in list_interfaces()]))")
    out = run(IP, "netns", "exec", name, sys.executable, "-c", code, str(REPO))
    assert out.returncode == 0, out.stderr
    return [Interface(**{**d, "flags": tuple(d["flags"]),
                         "addresses": tuple(Address(**a) for a in d["addresses"])})
            for d in json.loads(out.stdout)]


@needs_netlink
def test_veth_pair_in_private_namespace(netns):
    ours = list_in_netns(netns)
    by_name = {i.name: i for i in ours}
    assert set(by_name) == {"lo", "veth-a", "veth-b"}

    lo = by_name["lo"]
    assert (lo.index, lo.state, lo.flags, lo.link_type) == (1, "DOWN", ("LOOPBACK",), "loopback")
    assert lo.addresses == ()

    a, b = by_name["veth-a"], by_name["veth-b"]
    # Up but its peer is down: no carrier, and ip marks the down peer M-DOWN.
    assert a.state == "LOWERLAYERDOWN"
    assert a.flags == ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN")
    assert a.mac == NS_MAC and a.link_type == "ether"
    assert a.addresses == (Address("inet", *NS_V4, "global"),
                           Address("inet6", *NS_V6, "global"))
    assert b.state == "DOWN"
    assert b.flags == ("BROADCAST", "MULTICAST")
    assert MAC_RE.match(b.mac) and b.addresses == ()

    assert describe(a) == (f"{a.index}: veth-a LOWERLAYERDOWN ether {NS_MAC} "
                           f"inet {NS_V4[0]}/{NS_V4[1]} inet6 {NS_V6[0]}/{NS_V6[1]}")
    # And the whole listing agrees with ip's own view of the namespace.
    assert_matches_ip(ours, ip_json(netns))
