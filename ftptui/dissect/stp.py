"""IEEE 802.2 LLC and the Spanning Tree BPDUs it carries, as tshark 4.0 shows them."""
from __future__ import annotations

from ..macnames import resolve_mac
from ..text import bits, mac
from .context import Context
from .tree import Field

STP_VERSIONS = {0: "Spanning Tree", 2: "Rapid Spanning Tree", 3: "Multiple Spanning Tree", 4: "Shortest Path Tree"}
BPDU_TYPES = {0x00: "Configuration", 0x02: "Rapid/Multiple Spanning Tree", 0x80: "Topology Change Notification"}
PORT_ROLES = {1: "Alternate or Backup", 2: "Root", 3: "Designated"}
SAPS = {0x42: "Spanning Tree BPDU", 0xAA: "SNAP", 0x06: "IP", 0xE0: "NetWare", 0xF0: "NetBIOS"}
# RSTP flag bits, top bit first: (mask, field, title); the port role (0x0c) sits between
RSTP_FLAGS = ((0x80, "tcack", "Topology Change Acknowledgment"), (0x40, "agreement", "Agreement"),
              (0x20, "forwarding", "Forwarding"), (0x10, "learning", "Learning"), (0x0C, "port_role", "Port Role"),
              (0x02, "proposal", "Proposal"), (0x01, "tc", "Topology Change"))


def llc(ctx: Context, off: int, dst: bytes) -> None:
    d, pkt = ctx.d, ctx.pkt
    dsap, ssap, control = pkt.u8(off), pkt.u8(off + 1), pkt.u8(off + 2)
    layer = d.layer("Logical-Link Control", "llc", off, 3)
    for name, value, last_bit in (("dsap", dsap, ("ig", "IG Bit", ("Individual", "Group"))),
                                  ("ssap", ssap, ("cr", "CR Bit", ("Command", "Response")))):
        sap = SAPS.get(value & 0xFE, "Unknown")
        node = layer.add(f"{name.upper()}: {sap} (0x{value:02x})", f"llc.{name}", off, 1, value)
        node.add(f"{bits(value, 0xFE, 8)} = SAP: {sap}", f"llc.{name}.sap", off, 1, value >> 1)
        field, title, words = last_bit
        node.add(f"{bits(value, 0x01, 8)} = {title}: {words[value & 1]}", f"llc.{name}.{field}", off, 1,
                 bool(value & 1))
        off += 1
    if control & 3 == 3:  # an unnumbered frame; STP uses UI
        ctl = layer.add(f"Control field: U, func={'UI' if control == 3 else hex(control)} (0x{control:02x})",
                        "llc.control", off, 1, control)
        ctl.add(f"{bits(control, 0xEC, 8)} = Command: Unnumbered Information (0x{control & 0xEC:02x})",
                "llc.control.u_modifier_cmd", off, 1, control & 0xEC)
        ctl.add(f"{bits(control, 0x03, 8)} = Frame type: Unnumbered frame (0x3)", "llc.control.ftype", off, 1, 3)
    if dst[:5] == b"\x01\x80\xc2\x00\x00" and dsap == ssap == 0x42:
        # The 802.3 Length field (just before the LLC header) bounds the BPDU, as in tshark:
        # the Ethernet padding after it is not part of STP.
        stp(ctx, off + 1, min(off - 2 + pkt.u16(off - 4), len(pkt.data)))
    else:
        d.protocol = "LLC"


def stp(ctx: Context, b: int, end: int) -> None:
    d, pkt = ctx.d, ctx.pkt
    d.protocol = "STP"
    bpdu = pkt.data[b:end]
    layer = d.layer("Spanning Tree Protocol", "stp", b, len(bpdu))
    if len(bpdu) < 4:
        return
    proto, version, kind = pkt.u16(b), bpdu[2], bpdu[3]
    layer.add(f"Protocol Identifier: Spanning Tree Protocol (0x{proto:04x})", "stp.protocol", b, 2, proto)
    layer.add(f"Protocol Version Identifier: {STP_VERSIONS.get(version, 'Unknown')} ({version})", "stp.version",
              b + 2, 1, version)
    layer.add(f"BPDU Type: {BPDU_TYPES.get(kind, 'Unknown')} (0x{kind:02x})", "stp.type", b + 3, 1, kind)
    if kind == 0x80:
        d.info = "Topology Change Notification"
        return
    if len(bpdu) < 35:
        return
    _flags(layer, b + 4, bpdu[4], rapid=kind == 0x02)
    root = _bridge_id(layer, "Root Identifier", "stp.root", "Root Bridge", b + 5, bpdu[5:13])
    cost = int.from_bytes(bpdu[13:17], "big")
    layer.add(f"Root Path Cost: {cost}", "stp.root.cost", b + 13, 4, cost)
    _bridge_id(layer, "Bridge Identifier", "stp.bridge", "Bridge", b + 17, bpdu[17:25])
    port = int.from_bytes(bpdu[25:27], "big")
    layer.add(f"Port identifier: 0x{port:04x}", "stp.port", b + 25, 2, port)
    # the four timers are in 1/256 s; tshark's fields are FT_DOUBLE seconds
    for k, (name, title) in enumerate((("msg_age", "Message Age"), ("max_age", "Max Age"),
                                       ("hello", "Hello Time"), ("forward", "Forward Delay"))):
        secs = int.from_bytes(bpdu[27 + 2 * k:29 + 2 * k], "big") / 256
        layer.add(f"{title}: {secs:g}", f"stp.{name}", b + 27 + 2 * k, 2, secs)
    if version >= 2 and len(bpdu) >= 36:
        layer.add(f"Version 1 Length: {bpdu[35]}", "stp.version_1_length", b + 35, 1, bpdu[35])
    kind_text = {0: "Conf.", 2: "RST.", 3: "MST."}.get(version, "Conf.")
    d.info = f"{kind_text} Root = {root}  Cost = {cost}  Port = 0x{port:04x}"


def _flags(layer: Field, off: int, flags: int, rapid: bool) -> None:
    """Configuration BPDUs have two flags; RSTP ones all seven, the port role a 2-bit number."""
    names = []
    node = layer.add("", "stp.flags", off, 1, flags)
    for mask, name, title in RSTP_FLAGS:
        if not rapid and mask not in (0x80, 0x01):
            continue
        if mask == 0x0C:
            role = (flags & 0x0C) >> 2
            text = f"{PORT_ROLES.get(role, 'Unknown')} ({role})"
            names.append(f"Port Role: {PORT_ROLES.get(role, 'Unknown')}")
        else:
            text = "Yes" if flags & mask else "No"
            if flags & mask:
                names.append(title)
        node.add(f"{bits(flags, mask, 8)} = {title}: {text}", f"stp.flags.{name}", off, 1,
                 (flags & mask) >> 2 if mask == 0x0C else bool(flags & mask))
    node.label = f"BPDU flags: 0x{flags:02x}" + "".join(", " + n for n in names)


def _bridge_id(layer: Field, title: str, prefix: str, words: str, off: int, raw: bytes) -> str:
    """Priority (the top 4 bits), system ID extension (12 bits) and MAC of a bridge; tshark's
    priority item covers one byte.  Returns the 'prio/ext/mac' text of the Info column."""
    word = int.from_bytes(raw[:2], "big")
    prio, ext, hw = word & 0xF000, word & 0x0FFF, raw[2:8]
    node = layer.add(f"{title}: {prio} / {ext} / {mac(hw)}", "", off, 8)
    node.add(f"{words} Priority: {prio}", f"{prefix}.prio", off, 1, prio)
    node.add(f"{words} System ID Extension: {ext}", f"{prefix}.ext", off, 2, ext)
    name = resolve_mac(hw)
    node.add(f"{words} System ID: {name if name == mac(hw) else f'{name} ({mac(hw)})'}", f"{prefix}.hw", off + 2, 6,
             hw)
    return f"{prio}/{ext}/{mac(hw)}"
