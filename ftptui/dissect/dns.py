"""DNS (and mDNS / LLMNR) messages with tshark's Info summary."""
from __future__ import annotations

import struct

from ..text import bits, format_text, ipv4, ipv6
from .context import Context
from .tree import Field

TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA",
         33: "SRV", 35: "NAPTR", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
         65: "HTTPS", 64: "SVCB", 99: "SPF", 250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA"}
# tshark's long names (Type labels, NSEC type bitmaps)
TYPE_NAMES = {1: "A (Host Address)", 2: "NS (authoritative Name Server)", 5: "CNAME (Canonical NAME for an alias)",
              6: "SOA (Start Of a zone of Authority)", 12: "PTR (domain name PoinTeR)",
              13: "HINFO (host information)", 15: "MX (Mail eXchange)", 16: "TXT (Text strings)",
              28: "AAAA (IPv6 Address)", 33: "SRV (Server Selection)", 35: "NAPTR (Naming Authority Pointer)",
              41: "OPT", 43: "DS (Delegation Signer)", 46: "RRSIG (Resource Record Signature)", 47: "NSEC (Next Secure)",
              48: "DNSKEY (DNS Public Key)", 50: "NSEC3", 64: "SVCB (General Purpose Service Endpoints)",
              65: "HTTPS (HTTPS Specific Service Endpoints)", 99: "SPF", 250: "TSIG (Transaction Signature)",
              251: "IXFR (incremental transfer)", 252: "AXFR (transfer of an entire zone)",
              255: "* (A request for all records the server/cache has available)",
              257: "CAA (Certification Authority Restriction)"}
CLASSES = {1: "IN", 2: "CS", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
EDNS_OPTIONS = {0: "Reserved", 1: "LLQ - Long-lived query", 2: "UL - Update lease",
                3: "NSID - Name Server Identifier", 4: "Owner (reserved)",
                5: "DAU - DNSSEC Algorithm Understood (RFC6975)", 6: "DHU - DS Hash Understood (RFC6975)",
                7: "N3U - NSEC3 Hash Understood (RFC6975)", 8: "CSUBNET - Client subnet", 9: "EDNS EXPIRE (RFC7314)",
                10: "COOKIE", 11: "EDNS TCP Keepalive", 12: "PADDING", 13: "CHAIN", 15: "Extended DNS Error",
                20730: "Experimental - CSUBNET - Client subnet"}
RCODES = {1: "Format error", 2: "Server failure", 3: "No such name", 4: "Not implemented", 5: "Refused",
          6: "Name exists", 7: "RRset exists", 8: "RRset does not exist", 9: "Not authoritative",
          10: "Name out of zone"}
OPCODES = {0: "Standard query", 1: "Inverse query", 2: "Server status request", 4: "Zone change notification",
           5: "Dynamic update"}
FLAG_OPCODES = {**OPCODES, 6: "DNS Stateful operations (DSO)"}
FLAG_RCODES = {0: "No error", **RCODES, 11: "DSO-Type not implemented",
               16: "Bad OPT Version or TSIG Signature Failure", 17: "Key not recognized",
               18: "Signature out of time window", 19: "Bad TKEY Mode", 20: "Duplicate key name",
               21: "Algorithm not supported", 22: "Bad Truncation", 23: "Bad/missing Server Cookie"}
# (mask, field, title, true text, false text, shown on: "q"uery, "r"esponse or both), in tshark's order
DNS_FLAGS = ((0x0400, "authoritative", "Authoritative", "Server is an authority for domain",
              "Server is not an authority for domain", "r"),
             (0x0200, "truncated", "Truncated", "Message is truncated", "Message is not truncated", "qr"),
             (0x0100, "recdesired", "Recursion desired", "Do query recursively", "Don't do query recursively", "qr"),
             (0x0080, "recavail", "Recursion available", "Server can do recursive queries",
              "Server can't do recursive queries", "r"),
             (0x0040, "z", "Z", "reserved - incorrect!", "reserved (0)", "qr"),
             (0x0020, "authenticated", "Answer authenticated", "Answer/authority portion was authenticated by the "
              "server", "Answer/authority portion was not authenticated by the server", "r"),
             (0x0010, "checkdisable", "Non-authenticated data", "Acceptable", "Unacceptable", "qr"))
LLMNR_FLAGS = ((0x0200, "truncated", "Truncated", "Message is truncated", "Message is not truncated", "qr"),
               (0x0100, "tentative", "Tentative", "Tentative", "Not tentative", "qr"))


class _Bad(Exception):
    pass


def _name(msg: bytes, off: int) -> tuple[str, int]:
    """Decode a possibly compressed name; returns (name, offset after it in place)."""
    labels, end, jumps = [], None, 0
    while True:
        if off >= len(msg):
            raise _Bad()
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg) or jumps > 20:
                raise _Bad()
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            continue
        if n == 0:
            off += 1
            break
        labels.append(format_text(msg[off + 1:off + 1 + n]))
        off += 1 + n
    return (".".join(labels) if labels else "<Root>"), (end if end is not None else off)


def dissect(ctx: Context, p: int, end: int, proto: str) -> None:
    d = ctx.d
    msg = ctx.pkt.data[p:end]
    d.protocol = proto
    # tshark names the layer after the protocol (mdns, llmnr); the fields inside stay dns.*
    title = {"DNS": "Domain Name System", "MDNS": "Multicast Domain Name System",
             "LLMNR": "Link-local Multicast Name Resolution"}[proto]
    layer = d.layer(title + " (query)", proto.lower(), p, end - p)
    try:
        ident, flags, qd, an, ns, ar = struct.unpack_from(">HHHHHH", msg, 0)
    except struct.error:
        d.info = "[Malformed Packet]"
        d.malformed = True
        return
    response = bool(flags & 0x8000)
    tree = d.tree  # the list needs the Info only: the items below are skipped without a tree
    if tree:
        if response:
            layer.label = layer.label.replace("(query)", "(response)")
        layer.add(f"Transaction ID: 0x{ident:04x}", "dns.id", p, 2, ident)
        _flags(layer, p + 2, flags, llmnr=proto == "LLMNR")
        layer.add(f"Questions: {qd}", "dns.count.queries", p + 4, 2, qd)
        layer.add(f"Answer RRs: {an}", "dns.count.answers", p + 6, 2, an)
        layer.add(f"Authority RRs: {ns}", "dns.count.auth_rr", p + 8, 2, ns)
        layer.add(f"Additional RRs: {ar}", "dns.count.add_rr", p + 10, 2, ar)
    opcode = (flags >> 11) & 0xF
    rcode = flags & 0xF
    info = OPCODES.get(opcode, f"Unknown operation ({opcode})") + (" response" if response else "")
    info += f" 0x{ident:04x}"
    if response and rcode:
        info += " " + RCODES.get(rcode, f"Unknown error ({rcode})")
    off = 12
    try:
        # like tshark, a section appears only when its count is not zero
        queries = layer.add("Queries", "", p + off, 0) if qd else None
        for _ in range(qd):
            assert queries is not None
            start = off
            name, off = _name(msg, off)
            qtype, qclass = struct.unpack_from(">HH", msg, off)
            off += 4
            tname = TYPES.get(qtype, f"Unknown ({qtype})")
            # mDNS uses the class's top bit as the unicast-response ("QU") flag
            cls = qclass & 0x7FFF if proto == "MDNS" else qclass
            qu = (', "QU" question' if qclass & 0x8000 else ', "QM" question') if proto == "MDNS" else ""
            if tree:
                q = queries.add(f"{name}: type {tname}, class {CLASSES.get(cls, 'Unknown')}{qu}", "",
                                p + start, off - start)
                q.add(f"Name: {name}", "dns.qry.name", p + start, off - start - 4, name)
                q.add(f"[Name Length: {len(name)}]", "dns.qry.name.len", p + start, off - start - 4, len(name))
                q.add(f"[Label Count: {name.count('.') + 1}]", "dns.count.labels", p + start, off - start - 4,
                      name.count(".") + 1)
                q.add(f"Type: {TYPE_NAMES.get(qtype, 'Unknown')} ({qtype})", "dns.qry.type", p + off - 4, 2, qtype)
                _class(q, "dns.qry", p + off - 2, qclass, proto == "MDNS")
            info += f" {tname} {name}{qu}"
        if queries:
            queries.length = off - 12
        for section, count in (("Answers", an), ("Authoritative nameservers", ns), ("Additional records", ar)):
            if not count:
                continue
            sec = layer.add(section, "", p + off, 0)
            sec_start = off
            for _ in range(count):
                start = off
                name, off = _name(msg, off)
                rtype, rclass, ttl, rdlen = struct.unpack_from(">HHIH", msg, off)
                off += 10
                rdata = off
                off += rdlen
                if off > len(msg):
                    raise _Bad()
                tname = TYPES.get(rtype, f"Unknown ({rtype})")
                text = _rdata_text(msg, rtype, rdata, rdlen)
                if tree:
                    rr = sec.add(f"{name}: type {tname}", "", p + start, off - start)
                    name_len = rdata - 10 - start
                    if rtype == 33:
                        # tshark splits an SRV owner name into service, protocol and the rest, each item
                        # over the whole name
                        for title, field, part in zip(("Service", "Protocol", "Name"), ("service", "proto", "name"),
                                                      name.split(".", 2)):
                            rr.add(f"{title}: {part}", f"dns.srv.{field}", p + start, name_len, part)
                    else:
                        rr.add(f"Name: {name}", "dns.resp.name", p + start, name_len, name)
                    rr.add(f"Type: {TYPE_NAMES.get(rtype, 'Unknown')} ({rtype})", "dns.resp.type", p + rdata - 10, 2,
                           rtype)
                    if rtype == 41:
                        _opt_header(rr, p + rdata - 8, rclass, ttl)
                    else:
                        _class(rr, "dns.resp", p + rdata - 8, rclass, proto == "MDNS")
                        rr.add(f"Time to live: {ttl} ({_duration(ttl)})", "dns.resp.ttl", p + rdata - 6, 4, ttl)
                    rr.add(f"Data length: {rdlen}", "dns.resp.len", p + rdata - 2, 2, rdlen)
                    if rtype == 41:
                        _edns_options(rr, msg, p, rdata, off)
                    elif rtype == 1 and rdlen == 4:
                        rr.add(f"Address: {text}", "dns.a", p + rdata, 4, text)
                    elif rtype == 28 and rdlen == 16:
                        rr.add(f"AAAA Address: {text}", "dns.aaaa", p + rdata, 16, text)
                    elif rtype == 47:
                        _nsec(rr, msg, p, rdata, off)
                elif rtype == 47:  # its next name, if bad, makes the packet malformed: tree or not
                    _nsec(sec, msg, p, rdata, off)
                flush = ", cache flush" if proto == "MDNS" and rclass & 0x8000 and rtype != 41 else ""
                info += f" {tname}{flush}" + (f" {text}" if text else "")
            sec.length = off - sec_start
    except (_Bad, struct.error):
        d.info = info + " [Malformed Packet]"
        d.malformed = True
        return
    d.info = info


def _class(node: Field, prefix: str, at: int, value: int, mdns: bool) -> None:
    """A question's or record's class; in mDNS its top bit is a flag of its own (the question's
    unicast-response "QU" bit, the record's cache-flush bit)."""
    if not mdns:
        node.add(f"Class: {CLASSES.get(value, 'Unknown')} (0x{value:04x})", f"{prefix}.class", at, 2, value)
        return
    cls = value & 0x7FFF
    node.add(f"{bits(value, 0x7FFF, 16)} = Class: {CLASSES.get(cls, 'Unknown')} (0x{cls:04x})", f"{prefix}.class",
             at, 2, cls)
    top = bool(value & 0x8000)
    if prefix == "dns.qry":
        node.add(f'{bits(value, 0x8000, 16)} = "QU" question: {top}', "dns.qry.qu", at, 2, top)
    else:
        node.add(f"{bits(value, 0x8000, 16)} = Cache flush: {top}", "dns.resp.cache_flush", at, 2, top)


def _duration(secs: int) -> str:
    """tshark's unsigned_time_secs_to_str: '15 minutes', '1 day, 2 hours, 3 seconds'."""
    if not secs:
        return "0 seconds"
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        n, secs = divmod(secs, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    return ", ".join(parts)


def _opt_header(rr: Field, at: int, payload_size: int, ttl: int) -> None:
    """An OPT record's class and TTL are EDNS0 fields: payload size, extended RCODE, version, Z."""
    ext, version, z = ttl >> 24, (ttl >> 16) & 0xFF, ttl & 0xFFFF
    rr.add(f"UDP payload size: {payload_size}", "dns.rr.udp_payload_size", at, 2, payload_size)
    rr.add(f"Higher bits in extended RCODE: 0x{ext:02x}", "dns.resp.ext_rcode", at + 2, 1, ext)
    rr.add(f"EDNS0 version: {version}", "dns.resp.edns0_version", at + 3, 1, version)
    zn = rr.add(f"Z: 0x{z:04x}", "dns.resp.z", at + 4, 2, z)
    do = "Accepts DNSSEC security RRs" if z & 0x8000 else "Cannot handle DNSSEC security RRs"
    zn.add(f"{bits(z, 0x8000, 16)} = DO bit: {do}", "dns.resp.z.do", at + 4, 2, bool(z & 0x8000))
    zn.add(f"{bits(z, 0x7FFF, 16)} = Reserved: 0x{z & 0x7FFF:04x}", "dns.resp.z.reserved", at + 4, 2, z & 0x7FFF)


def _edns_options(rr: Field, msg: bytes, p: int, off: int, end: int) -> None:
    """EDNS0 options: code, length and data of each; a COOKIE is split into its client and
    server parts (tshark marks a missing server cookie with an empty item)."""
    while off + 4 <= end:
        code, length = struct.unpack_from(">HH", msg, off)
        name = EDNS_OPTIONS.get(code, "Unknown")
        opt = rr.add(f"Option: {name}", "dns.opt", p + off, 4 + length)
        opt.add(f"Option Code: {name} ({code})", "dns.opt.code", p + off, 2, code)
        opt.add(f"Option Length: {length}", "dns.opt.len", p + off + 2, 2, length)
        data = msg[off + 4:off + 4 + length]
        if length:
            opt.add(f"Option Data: {data.hex()}", "dns.opt.data", p + off + 4, length)
        if code == 10 and length >= 8:
            opt.add(f"Client Cookie: {data[:8].hex()}", "dns.opt.cookie.client", p + off + 4, 8)
            server = data[8:]
            opt.add(f"Server Cookie: {server.hex() or '<MISSING>'}", "dns.opt.cookie.server", p + off + 12,
                    len(server))
        off += 4 + length


def _flags(layer: Field, at: int, flags: int, llmnr: bool) -> None:
    """The flags word and its parts as tshark shows them: which bits appear depends on query or
    response (and LLMNR has its own); every part highlights both bytes."""
    response, opcode, rcode = bool(flags & 0x8000), (flags >> 11) & 0xF, flags & 0xF
    text = FLAG_OPCODES.get(opcode, "Unknown") + (f" response, {FLAG_RCODES.get(rcode, 'Unknown')}" if response else "")
    node = layer.add(f"Flags: 0x{flags:04x} {text}", "dns.flags", at, 2, flags)
    node.add(f"{bits(flags, 0x8000, 16)} = Response: Message is a {'response' if response else 'query'}",
             "dns.flags.response", at, 2, response)
    node.add(f"{bits(flags, 0x7800, 16)} = Opcode: {FLAG_OPCODES.get(opcode, 'Unknown')} ({opcode})",
             "dns.flags.opcode", at, 2, opcode)
    table: tuple[tuple[int, str, str, str, str, str], ...] = DNS_FLAGS
    if llmnr:
        table = LLMNR_FLAGS
        words = ("The name is not considered unique", "The name is considered unique") if response else \
            ("The sender received multiple responses", "None")
        node.add(f"{bits(flags, 0x0400, 16)} = Conflict: {words[0] if flags & 0x0400 else words[1]}",
                 "dns.flags.conflict", at, 2, bool(flags & 0x0400))
    for mask, name, title, yes, no, shown in table:
        if ("r" if response else "q") in shown:
            node.add(f"{bits(flags, mask, 16)} = {title}: {yes if flags & mask else no}", f"dns.flags.{name}", at, 2,
                     bool(flags & mask))
        elif name == "authenticated" and flags & mask:  # a query's AD bit, under another title
            node.add(f"{bits(flags, mask, 16)} = AD bit: Set", "dns.flags.authenticated", at, 2, True)
    if response:
        node.add(f"{bits(flags, 0x000F, 16)} = Reply code: {FLAG_RCODES.get(rcode, 'Unknown')} ({rcode})",
                 "dns.flags.rcode", at, 2, rcode)


def _nsec(rr: Field, msg: bytes, p: int, rdata: int, end: int) -> None:
    """NSEC rdata: the next name, then one dns.resp.type item per type in the bitmap windows, each
    over the bitmap byte that holds its bit (as tshark does)."""
    name, off = _name(msg, rdata)
    rr.add(f"Next Domain Name: {name}", "dns.nsec.next_domain_name", p + rdata, off - rdata, name)
    while off + 2 <= end:
        window, length = msg[off], msg[off + 1]
        off += 2
        for k in range(min(length, end - off)):
            for bit in range(8):
                if msg[off + k] & (0x80 >> bit):
                    t = window * 256 + k * 8 + bit
                    rr.add(f"RR type in bit map: {TYPE_NAMES.get(t, f'Unknown ({t})')}", "dns.resp.type",
                           p + off + k, 1, t)
        off += length


def _rdata_text(msg: bytes, rtype: int, off: int, rdlen: int) -> str:
    if rtype == 1 and rdlen == 4:
        return ipv4(msg[off:off + 4])
    if rtype == 28 and rdlen == 16:
        return ipv6(msg[off:off + 16])
    if rtype in (2, 5, 12, 6, 47):
        return _name(msg, off)[0]
    if rtype == 15:
        return f"{struct.unpack_from('>H', msg, off)[0]} {_name(msg, off + 2)[0]}"
    if rtype == 33:
        prio, weight, port = struct.unpack_from(">HHH", msg, off)
        return f"{prio} {weight} {port} {_name(msg, off + 6)[0]}"
    if rtype == 16:
        return format_text(msg[off + 1:off + 1 + msg[off]]) if rdlen else ""
    return ""
