#!/usr/bin/env bash
# wire-spread.sh PORT N -- COMMAND...
#
# A burst's arrival spread on the wire, independent of any server: captures loopback packets to PORT with
# tshark while COMMAND runs, takes per TCP connection the time of its last client->server payload packet
# (the packet that completes its request), and prints the spread (max - min, ms) of the tightest N of
# those times (other connections, e.g. health checks, fall outside). Meaningful for one request per
# connection (the HTTP/1.1 modes). Needs tshark (`apt-get install -y tshark`) and the right to capture.
set -u
port=$1; n=$2; shift 2; [ "${1:-}" = "--" ] && shift
pcap=$(mktemp --suffix=.pcap)
tshark -i lo -f "tcp dst port $port" -w "$pcap" -q >/dev/null 2>&1 &
cap=$!; sleep 1.5
"$@" >/dev/null 2>&1
sleep 0.5; kill -INT $cap; wait $cap 2>/dev/null
tshark -r "$pcap" -Y "tcp.len > 0" -T fields -e tcp.stream -e frame.time_epoch 2>/dev/null \
  | awk '{ last[$1] = $2 } END { for (s in last) print last[s] }' | sort -n | awk -v n="$n" '
  { t[NR] = $1 }
  END { if (NR < n) { printf "only %d connections seen, wanted %d\n", NR, n; exit 1 }
        best = -1; for (i = 1; i + n - 1 <= NR; i++) { w = t[i + n - 1] - t[i]; if (best < 0 || w < best) best = w }
        printf "connections %d burst %d spread_ms %.3f\n", NR, n, best * 1000 }'
rm -f "$pcap"
