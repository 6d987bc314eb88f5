#!/bin/sh
# SPDX-License-Identifier: MIT
# server-bench-inside.sh SRC BUILD: the part of server-bench.sh that runs
# inside the server container (see there).  Prints one table of
# downtimes (ms from the old main process's exit to the new one
# answering; rm_bench_downtime measures it) and one of listing costs.
set -u
src=$1
build=$2
watch=$build/core/bench/rm_bench_downtime
state=/run/rmt-bench-state
mkdir -p -m 700 "$state"
restartmgr() {
  env LUA_CPATH_5_4="$build/lua/?.so;;" LUA_PATH_5_4="$src/lua/?.lua;;" \
    RESTARTMGR_STATE_DIR="$state" \
    lua5.4 "$src/lua/cli/restartmgr" "$@"
}
# unit:probe, as rm_bench_downtime takes them (the old pid goes between).
units="nginx:http:80 ssh:ssh:22 redis-server:redis:6379 cron:pid rsyslog:pid"
out=/run/rmt-bench
mkdir -p "$out"

for u in nginx ssh redis-server cron rsyslog; do
  i=0
  until [ "$(systemctl is-active $u)" = active ]; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "$u is not up" >&2; exit 1; }
    sleep 0.1
  done
done

# The upgrade: the same .deb files installed again (new inodes).
make_stale() {
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
    dpkg -i /run/rmt-debs/*.deb >/tmp/dpkg.out 2>&1 ||
    { tail -n 20 /tmp/dpkg.out >&2; echo "dpkg -i failed" >&2; exit 1; }
}

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# measure LABEL COMMAND...: downtimes into $out/LABEL, wall time too.
measure() {
  label=$1; shift
  args=""
  for spec in $units; do
    u=${spec%%:*}
    args="$args $u:$(systemctl show -p MainPID --value "$u.service"):${spec#*:}"
  done
  rm -f "$out/$label.fifo"; mkfifo "$out/$label.fifo"
  # shellcheck disable=SC2086
  "$watch" -t 60 $args >"$out/$label.fifo" &
  wpid=$!
  exec 3<"$out/$label.fifo"
  read -r ready <&3
  [ "$ready" = ready ] || { echo "watcher failed" >&2; exit 1; }
  t0=$(ms)
  "$@" >"$out/$label.log" 2>&1 </dev/null
  rc=$?
  t1=$(ms)
  cat <&3 >"$out/$label"
  exec 3<&-
  wait "$wpid"
  echo "$((t1 - t0)) $rc" >"$out/$label.wall"
}

make_stale
measure restartmgr restartmgr stale --restart --services-only
make_stale
measure needrestart needrestart -r a

echo
echo "Downtime per service (ms, old main process's exit -> new one answering;"
echo "'-': not restarted within 60 s)"
printf '%-14s %12s %12s\n' SERVICE restartmgr needrestart
for spec in $units; do
  u=${spec%%:*}
  a=$(awk -v u="$u" '$1 == u { print $4 }' "$out/restartmgr")
  b=$(awk -v u="$u" '$1 == u { print $4 }' "$out/needrestart")
  printf '%-14s %12s %12s\n' "$u" "$a" "$b"
done
read -r wa ra <"$out/restartmgr.wall"
read -r wb rb <"$out/needrestart.wall"
printf '%-14s %12s %12s\n' "whole run" "$wa" "$wb"
printf '%-14s %12s %12s\n' "exit status" "$ra" "$rb"

# The cost of a listing, the system stale again: median of 7 runs each.
make_stale
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
time_runs() {
  i=0
  while [ $i -lt 7 ]; do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1 </dev/null; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
    i=$((i + 1))
  done | median
}
a=$(time_runs restartmgr stale)
b=$(time_runs needrestart -b)
echo
echo "Listing what is stale (ms, median of 7 whole runs)"
printf '%-34s %8s\n' "restartmgr stale" "$a"
printf '%-34s %8s\n' "needrestart -b" "$b"
printf '%-34s %8s\n' "ratio restartmgr / needrestart" \
  "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
if [ -n "${RMT_BENCH_LOGS:-}" ]; then
  for f in restartmgr.log needrestart.log; do echo "== $f"; cat "$out/$f"; done
fi
