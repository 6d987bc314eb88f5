#!/bin/sh
# SPDX-License-Identifier: MIT
# server-bench.sh BUILD_DIR: restartmgr beside needrestart on a whole
# server (root; not a test).  Boots the server container of the test
# lua.systemd_server (core/test/linux/systemd/run-in-systemd.sh --server:
# the host's / under a tmpfs overlay, Debian's nginx, ssh, redis-server,
# cron and rsyslog as units) and runs server-bench-inside.sh there, which
# makes the services stale by installing the .deb of libraries they map,
# measures each service's downtime while restartmgr `stale --restart
# --services-only` restarts them, makes them stale again the same way,
# measures needrestart `-r a`, and times a `stale` listing beside
# needrestart `-b`.  Nothing reaches the host.
set -eu
build=$(cd "${1:?usage: server-bench.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v needrestart >/dev/null ||
  { echo "server-bench: needrestart is missing (sh .ci/bootstrap test installs it)" >&2; exit 1; }
binds=$src
case "$build/" in "$src/"*) ;; *) binds="$binds:$build" ;; esac
RMT_BIND_RO=$binds \
RMT_REINSTALL="libssl3 zlib1g libpam0g libevent-core-2.1-7" \
  exec sh "$src/core/test/linux/systemd/run-in-systemd.sh" unified --server \
  sh "$src/core/bench/server-bench-inside.sh" "$src" "$build"
