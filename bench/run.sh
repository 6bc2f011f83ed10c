#!/usr/bin/env bash
# Runs one of the shared benchmarks for this build and for AnyEvent + EV, side by side.
# usage: bench/run.sh watchers|server|connect|dns|https|handshake|echo|http-client|aio [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${AE_SHARED_BENCH:-../shared/bench}
rounds=${2:-5}
compare() { perl "$shared/compare.pl" . "$rounds" "$@"; }
case "${1:-}" in
  watchers) compare "$shared/watchers.pl" 100000 ;;
  server)   compare "$shared/server.pl" 9000 90 2 ;;
  connect)  compare bench/connect.pl 10000 50 ;;
  dns)      # dnsmasq on 127.0.0.53 (root: adds the address to lo), stopped afterwards
            ip addr show lo | grep -q 127.0.0.53 || ip addr add 127.0.0.53/8 dev lo
            pid=$("$shared/start-dnsmasq.sh")
            trap 'kill $pid' EXIT
            compare "$shared/dns.pl" 20000 ;;
  # issue 7 workloads (each script starts and stops its own peers)
  https)    compare bench/https.pl 3 1; compare bench/https.pl 3 50 ;;
  handshake) compare bench/handshake.pl 3 ecdsa; compare bench/handshake.pl 3 rsa ;;
  echo)     compare bench/echo.pl 3 200 1; compare bench/echo.pl 3 200 4 ;;
  http-client) compare bench/http_client.pl 3 50 ;;
  aio)      # AnyEvent::IO: ours (Rust pool) vs 7.17 + EV + IO::AIO, then our Rust pool vs our IOAIO backend
            compare bench/aio.pl
            perl bench/aio.pl --backends "$rounds" ;;
  *) echo "usage: $0 watchers|server|connect|dns|https|handshake|echo|http-client|aio [rounds]" >&2; exit 2 ;;
esac
