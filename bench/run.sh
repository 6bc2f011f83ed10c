#!/usr/bin/env bash
# Runs one of the shared benchmarks for this build and for AnyEvent + EV, side by side.
# usage: bench/run.sh watchers|server|connect|dns|aio [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${AE_SHARED_BENCH:-../shared/bench}
rounds=${2:-5}
case "${1:-}" in
  watchers) perl "$shared/compare.pl" . "$rounds" "$shared/watchers.pl" 100000 ;;
  server)   perl "$shared/compare.pl" . "$rounds" "$shared/server.pl" 9000 90 2 ;;
  connect)  perl "$shared/compare.pl" . "$rounds" bench/connect.pl 10000 50 ;;
  dns)      # dnsmasq on 127.0.0.53 (root: adds the address to lo), stopped afterwards
            ip addr show lo | grep -q 127.0.0.53 || ip addr add 127.0.0.53/8 dev lo
            pid=$("$shared/start-dnsmasq.sh")
            trap 'kill $pid' EXIT
            perl "$shared/compare.pl" . "$rounds" "$shared/dns.pl" 20000 ;;
  aio)      # AnyEvent::IO: ours (Rust pool) vs 7.17 + EV + IO::AIO, then our Rust pool vs our IOAIO backend
            perl "$shared/compare.pl" . "$rounds" bench/aio.pl
            perl bench/aio.pl --backends "$rounds" ;;
  *) echo "usage: $0 watchers|server|connect|dns|aio [rounds]" >&2; exit 2 ;;
esac
