#!/usr/bin/env bash
# Runs one of the shared benchmarks for this build and for AnyEvent + EV, side by side.
# usage: bench/run.sh watchers|server|connect [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${AE_SHARED_BENCH:-../shared/bench}
rounds=${2:-5}
case "${1:-}" in
  watchers) perl "$shared/compare.pl" . "$rounds" "$shared/watchers.pl" 100000 ;;
  server)   perl "$shared/compare.pl" . "$rounds" "$shared/server.pl" 9000 90 2 ;;
  connect)  perl "$shared/compare.pl" . "$rounds" bench/connect.pl 10000 50 ;;
  *) echo "usage: $0 watchers|server|connect [rounds]" >&2; exit 2 ;;
esac
