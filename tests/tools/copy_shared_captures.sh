#!/bin/sh
# Copy the capture fixtures used by the tests from /work/shared/captures into tests/data.
# Re-runnable; only copies (never modifies) the shared read-only originals.
# Usage: tests/tools/copy_shared_captures.sh [SHARED_CAPTURES_DIR]
set -eu
SRC=${1:-/work/shared/captures}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data
PUB=$DATA/public
mkdir -p "$DATA" "$PUB"

cp_ro() { cp "$1" "$2"; chmod 0644 "$2"; }

# seed captures (project-owned, see README)
for f in seed-ftp-active.pcap seed-ftp-active.expected.txt seed-ftp-active.dump.sql \
         seed-ftp-passive.pcap seed-ftp-passive.expected.txt; do
  cp_ro "$SRC/$f" "$DATA/$f"
done

# licence / attribution files
cp_ro "$SRC/public/zeek/LICENSE.zeek-COPYING" "$PUB/LICENSE.zeek-COPYING"
cp_ro "$SRC/public/suricata-verify/LICENSE.suricata-verify.txt" "$PUB/LICENSE.suricata-verify.txt"
cp_ro "$SRC/public/mixed/LICENSE.tcpdump" "$PUB/LICENSE.tcpdump"
cp_ro "$SRC/public/chrissanders/README.chrissanders-packets.md" "$PUB/README.chrissanders-packets.md"

# public/<set>/<path>  ->  public/<local name>
while read -r src dst; do
  [ -n "$src" ] || continue
  cp_ro "$SRC/public/$src" "$PUB/$dst"
  cp_ro "$SRC/public/$src.tshark.txt" "$PUB/$dst.tshark.txt"
done <<'LIST'
zeek/ipv4.pcap zeek__ipv4.pcap
zeek/ipv6.pcap zeek__ipv6.pcap
zeek/retr.pcap zeek__retr.pcap
zeek/ipv6-multiline-reply.pcap zeek__ipv6-multiline-reply.pcap
zeek/bigtransfer.pcap zeek__bigtransfer.pcap
zeek/ftp-auth-tls.pcap zeek__ftp-auth-tls.pcap
suricata-verify/bug-3519/input.pcap suricata-verify__bug-3519.pcap
suricata-verify/ftp-epsv/input.pcap suricata-verify__ftp-epsv.pcap
suricata-verify/firewall__ruletype-firewall-117-ftp-all-data-ipv6/input.pcap suricata-verify__firewall-117-ftp-all-data-ipv6.pcap
suricata-verify/ftp-port-memcap/input.pcap suricata-verify__ftp-port-memcap.pcap
chrissanders/tickedoffdeveloper.pcapng chrissanders__tickedoffdeveloper.pcapng
chrissanders/wrongdissector.pcapng chrissanders__wrongdissector.pcapng
chrissanders/ppa1e__ftp.pcap chrissanders__ppa1e__ftp.pcap
mixed/chrissanders__http_ip4and6.pcapng chrissanders__http_ip4and6.pcapng
mixed/tcpdump__802.1ad_QinQ.pcap tcpdump__802.1ad_QinQ.pcap
mixed/tcpdump__dns-badcookie.pcap tcpdump__dns-badcookie.pcap
mixed/zeek__icmp_dot1q.pcap zeek__icmp_dot1q.pcap
mixed/zeek__linux_dlt_sll2.pcap zeek__linux_dlt_sll2.pcap
mixed/zeek__var-services-std-ports.pcap zeek__var-services-std-ports.pcap
mixed/zeek__wikipedia.pcap zeek__wikipedia.pcap
mixed/suricata-verify__bug-5758/input.pcap suricata-verify__bug-5758.pcap
LIST
# The tcpdump expected text outputs for the tcpdump captures (tcpdump -e [-v]) are small; keep them.
cp_ro "$SRC/public/mixed/tcpdump__802.1ad_QinQ.out" "$PUB/tcpdump__802.1ad_QinQ.tcpdump-e.out"
cp_ro "$SRC/public/mixed/tcpdump__dns-badcookie.out" "$PUB/tcpdump__dns-badcookie.tcpdump.out"
