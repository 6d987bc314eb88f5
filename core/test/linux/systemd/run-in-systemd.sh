#!/bin/sh
# SPDX-License-Identifier: MIT
# run-in-systemd.sh LAYOUT [--host | --server] PROGRAM [ARG...]
#
# Boots a real systemd (the host's own /usr/lib/systemd/systemd) as PID 1
# of a throw-away systemd-nspawn container, runs PROGRAM inside it in a
# scope unit of its own, and tears everything down, also when PROGRAM
# fails or this script is interrupted.  Exit status: PROGRAM's, or 1 when
# the container could not be set up.  With --host, PROGRAM runs on the
# host instead (the host's view of a container), with $RMT_LEADER the
# host pid of the container's PID 1 and $RMT_CGROUP its cgroup path
# (relative to a hierarchy's root).
#
# With --server the root is not a fresh tmpfs with the host's /usr but
# the host's whole / under an overlay whose upper layer is a tmpfs of
# ours (systemd-nspawn --volatile=overlay refuses --directory=/): the
# container is a server, booting Debian's nginx, ssh, redis-server, cron
# and rsyslog (socket-activated) as units, with the host's /etc and
# packages, and whatever the program changes there (a package reinstalled
# with dpkg, a user added) stays in the tmpfs and never touches the host.
# Only those five units are enabled (our own /etc/systemd/system), the
# host's fstab is not mounted, and package scripts start nothing
# (policy-rc.d).  $RMT_REINSTALL names installed packages whose .deb (the
# installed version from apt's cache, else another cached one, else
# `apt-get download`) are bound read-only at /run/rmt-debs, for the
# program to install offline.
#
# LAYOUT is the cgroup layout inside: unified (pure cgroup2, like a
# Debian 12 host), hybrid (cgroup v1 plus a cgroup2 "unified" mount) or
# legacy (cgroup v1 only).  $RMT_BIND_RO lists directories (colon
# separated) bound read-only at the same path inside: the build tree the
# program and its helpers live in.
#
# Why these flags (docs/linux.md, "Testing under a real systemd"; the facts come from
# booting systemd 252 on machines whose PID 1 is not systemd):
#   --directory=/ --volatile=yes  a tmpfs root with the host's /usr
#                                 read-only: nothing of the host is written
#   --register=no --keep-unit     no host systemd/machined to talk to
#   --private-network             container services cannot take host ports
#   /etc/machine-id bound + systemd.firstboot=off + machine-id-commit
#                                 masked: otherwise the boot is a "first
#                                 boot" that waits for input
#   /etc/systemd/system           a directory of ours, where the tests
#                                 write their units from inside
#   /etc/nginx, passwd, group, shadow  for Debian's nginx.service; a test
#                                 user and PAM for its user manager
# nspawn is started from a shell already moved into cgroups of our own,
# so the payload/ and supervisor/ cgroups it creates land there and are
# removed with them.
set -u

layout=${1:-}
[ $# -ge 2 ] || { echo "usage: $0 unified|hybrid|legacy [--host|--server] PROGRAM [ARG...]" >&2; exit 2; }
shift
on_host=""
server=""
if [ "$1" = --host ] || [ "$1" = --server ]; then
  [ "$1" = --host ] && on_host=1
  [ "$1" = --server ] && server=1
  shift
  [ $# -ge 1 ] || { echo "$0: --host and --server need a PROGRAM" >&2; exit 2; }
fi
case "$layout" in
  unified) SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1; export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY ;;
  legacy) SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0; export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY ;;
  hybrid) unset SYSTEMD_NSPAWN_UNIFIED_HIERARCHY ;;
  *) echo "$0: unknown layout $layout" >&2; exit 2 ;;
esac

say() { echo "run-in-systemd: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "must run as root (systemd-nspawn)"; exit 1; }
for prog in systemd-nspawn systemd-id128 nsenter timeout; do
  command -v "$prog" >/dev/null 2>&1 ||
    { say "$prog is missing (sh .ci/bootstrap test installs it)"; exit 1; }
done

name="rmt-$layout-$$"
[ -n "$server" ] && name="rmt-server-$$"
work=""
mounts=""
nspawn_pid=""
leader=""
test_pid=""
cgroups=""

# SIGKILL to every process left in the cgroup tree $1 (ours: everything
# in it was started by this script's container), until it is empty.
kill_tree() {
  i=0
  while [ $i -lt 100 ]; do
    pids=$(find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null)
    [ -z "$pids" ] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# Ends the container: SIGTERM to nspawn (a clean poweroff), after 10 s
# SIGKILL to the container's PID 1 (which ends its whole pid namespace;
# killing only nspawn would orphan it), then nspawn is reaped, anything
# left in our cgroups is killed, the cgroups are removed depth first, and
# so are the work dir and nspawn's propagation dir.
cleanup() {
  status=$?
  trap - EXIT INT TERM HUP
  if [ -n "$nspawn_pid" ]; then
    kill -TERM "$nspawn_pid" 2>/dev/null
    i=0
    while kill -0 "$nspawn_pid" 2>/dev/null && [ $i -lt 100 ]; do
      sleep 0.1; i=$((i + 1))
    done
    if kill -0 "$nspawn_pid" 2>/dev/null; then
      say "container did not power off in 10 s: killing it"
      [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
      i=0
      while kill -0 "$nspawn_pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
      done
      kill -KILL "$nspawn_pid" 2>/dev/null
    fi
    wait "$nspawn_pid" 2>/dev/null
  fi
  for cg in $cgroups; do
    [ -d "$cg" ] || continue
    kill_tree "$cg" || say "processes left in $cg"
    i=0
    # Cgroups empty asynchronously: the removal is retried briefly.
    while [ -d "$cg" ] && [ $i -lt 50 ]; do
      find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$cg" ] && sleep 0.1
      i=$((i + 1))
    done
    [ -d "$cg" ] && { say "could not remove cgroup $cg"; status=1; }
  done
  if [ -n "$test_pid" ]; then
    kill -TERM "$test_pid" 2>/dev/null
    wait "$test_pid" 2>/dev/null
  fi
  # The server's overlay, then its tmpfs (last mounted, first unmounted).
  for m in $mounts; do
    i=0
    while mountpoint -q "$m" && ! umount "$m" 2>/dev/null && [ $i -lt 50 ]; do
      sleep 0.1; i=$((i + 1))
    done
    mountpoint -q "$m" && { say "could not unmount $m"; umount -l "$m"; status=1; }
  done
  # nspawn's own state directories: ours, then the shared ones if empty.
  rmdir "/run/systemd/nspawn/propagate/$name" 2>/dev/null
  rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn \
        /run/systemd/nspawn-root 2>/dev/null
  if [ -n "$work" ]; then
    [ "$status" -ne 0 ] && [ -s "$work/console.log" ] &&
      { say "container console:"; tail -n 40 "$work/console.log" >&2; }
    # Never into a mount that is still there.
    mountpoint -q "$work/root" || mountpoint -q "$work/layer" || rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

work=$(mktemp -d "${TMPDIR:-/tmp}/rmt-nspawn.XXXXXX") || exit 1
mkdir "$work/units" || exit 1
ln -s /dev/null "$work/units/systemd-machine-id-commit.service" || exit 1
systemd-id128 new >"$work/machine-id" || exit 1

# Our own cgroups: the cgroup2 root, or each v1 hierarchy nspawn uses.
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  roots=/sys/fs/cgroup
else
  roots=""
  for r in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
    [ -d "$r" ] && roots="$roots $r"
  done
fi
for r in $roots; do
  mkdir "$r/$name" || exit 1
  cgroups="$cgroups $r/$name"
done

binds=""
root_flags="--directory=/ --volatile=yes"
old_ifs=$IFS
if [ -n "$server" ]; then
  # The overlay: a tmpfs layer over the host's /, then what the server
  # needs written into that layer (never into the host).
  mkdir "$work/layer" "$work/root" || exit 1
  mount -t tmpfs -o mode=0755 rmt-server "$work/layer" || exit 1
  mounts="$work/layer"
  mkdir "$work/layer/upper" "$work/layer/work" || exit 1
  mount -t overlay -o "lowerdir=/,upperdir=$work/layer/upper,workdir=$work/layer/work" \
    rmt-server "$work/root" || exit 1
  mounts="$work/root $mounts"
  r=$work/root
  cp "$work/machine-id" "$r/etc/machine-id" || exit 1
  rm -rf "$r/etc/systemd/system" || exit 1
  mkdir -p "$r/etc/systemd/system/multi-user.target.wants" || exit 1
  for u in nginx ssh redis-server cron rsyslog; do
    [ -e "/lib/systemd/system/$u.service" ] || { say "$u.service is missing (sh .ci/bootstrap test installs it)"; exit 1; }
    ln -s "/lib/systemd/system/$u.service" "$r/etc/systemd/system/multi-user.target.wants/$u.service"
  done
  ln -s /lib/systemd/system/rsyslog.service "$r/etc/systemd/system/syslog.service"
  ln -s /dev/null "$r/etc/systemd/system/systemd-machine-id-commit.service"
  : >"$r/etc/fstab"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d" && chmod 755 "$r/usr/sbin/policy-rc.d" || exit 1
  mkdir -p "$r/run/rmt-debs"
  root_flags="--directory=$r"
  if [ -n "${RMT_REINSTALL:-}" ]; then
    mkdir "$work/debs" || exit 1
    arch=$(dpkg --print-architecture)
    for p in $RMT_REINSTALL; do
      v=$(dpkg-query -W -f='${Version}' "$p" | sed 's/:/%3a/') ||
        { say "$p is not installed"; exit 1; }
      cache=/var/cache/apt/archives
      deb="$cache/${p}_${v}_${arch}.deb"
      [ -f "$deb" ] || deb=$(ls "$cache/${p}_"*"_$arch.deb" 2>/dev/null | tail -n 1)
      if [ -n "$deb" ] && [ -f "$deb" ]; then
        cp "$deb" "$work/debs/" || exit 1
      else
        (cd "$work/debs" && apt-get download -q "$p" >/dev/null 2>&1) ||
          { say "cannot get a .deb of $p"; exit 1; }
      fi
    done
    binds="$binds --bind-ro=$work/debs:/run/rmt-debs"
  fi
fi
IFS=:
for d in ${RMT_BIND_RO:-}; do
  [ -n "$d" ] && binds="$binds --bind-ro=$d"
done
IFS=$old_ifs
if [ -z "$server" ]; then
binds="$binds --bind-ro=$work/machine-id:/etc/machine-id"
binds="$binds --bind=$work/units:/etc/systemd/system"
for f in /etc/nginx /etc/shadow; do
  [ -e "$f" ] && binds="$binds --bind-ro=$f"
done
# The host's users and groups plus rmt-user (the first free uid from
# 4242), whose systemd user manager the tests start; PAM as the host has
# it, with a permissive "systemd-user" service for that manager (the
# container has no logind).
uid=4242
while getent passwd "$uid" >/dev/null 2>&1 || getent group "$uid" >/dev/null 2>&1; do
  uid=$((uid + 1))
done
{ cat /etc/passwd; echo "rmt-user:x:$uid:$uid:restartmgr tests:/run/user/$uid:/bin/sh"; } >"$work/passwd" || exit 1
{ cat /etc/group; echo "rmt-user:x:$uid:"; } >"$work/group" || exit 1
mkdir "$work/pam.d" && cp -R /etc/pam.d/. "$work/pam.d/" || exit 1
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required pam_permit.so\n' \
  >"$work/pam.d/systemd-user" || exit 1
chmod 644 "$work/passwd" "$work/group" "$work/pam.d/systemd-user"
binds="$binds --bind-ro=$work/passwd:/etc/passwd --bind-ro=$work/group:/etc/group"
binds="$binds --bind-ro=$work/pam.d:/etc/pam.d"
fi

# shellcheck disable=SC2086  # $binds and $cgroups are word lists
sh -c 'for cg in $1; do echo $$ >"$cg/cgroup.procs" || exit 1; done
       shift; exec "$@"' nspawn "$cgroups" \
  systemd-nspawn --quiet $root_flags --boot \
  --register=no --keep-unit --private-network --console=read-only \
  --machine="$name" \
  $binds \
  -- systemd.firstboot=off >"$work/console.log" 2>&1 </dev/null &
nspawn_pid=$!

# The leader: the child of nspawn whose comm is systemd.
i=0
while [ -z "$leader" ] && [ $i -lt 300 ]; do
  kill -0 "$nspawn_pid" 2>/dev/null || { say "systemd-nspawn exited"; exit 1; }
  for c in $(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null); do
    [ "$(cat /proc/"$c"/comm 2>/dev/null)" = systemd ] && leader=$c
  done
  [ -z "$leader" ] && sleep 0.1
  i=$((i + 1))
done
[ -n "$leader" ] || { say "no systemd in the container"; exit 1; }

# Up once the manager answers "running" or "degraded" (its socket appears
# a moment after the leader does).
i=0
while :; do
  state=$(timeout 10 nsenter -t "$leader" -a systemctl is-system-running 2>&1)
  case "$state" in
    running|degraded) break ;;
  esac
  [ $i -lt 600 ] || { say "container did not boot: $state"; exit 1; }
  kill -0 "$nspawn_pid" 2>/dev/null || { say "systemd-nspawn exited"; exit 1; }
  sleep 0.1; i=$((i + 1))
done

# The program sits in a scope unit of its own, so it is nobody's service
# and stopping services never stops it.
# In the background, so that a signal to this script is handled at once
# (the trap ends the container, and the program with it).
if [ -n "$on_host" ]; then
  RMT_LEADER=$leader RMT_CGROUP=/$name/payload timeout 480 "$@" &
else
  timeout 480 nsenter -t "$leader" -a \
    systemd-run --scope --quiet --unit="rmt-test-$$" -- "$@" &
fi
test_pid=$!
wait "$test_pid"
status=$?
test_pid=""
exit "$status"
