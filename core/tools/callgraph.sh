#!/bin/sh
# SPDX-License-Identifier: MIT
# callgraph.sh: prove that no pair or group of source files calls each
# other (docs/hacking.md, Layout).  Reads the symbols of the built objects
# with nm: a file depends on another when it uses (U) a symbol the other
# defines.  The file-level graph must have no cycle, i.e. no strongly
# connected component of more than one file.  Exits 1 and prints each
# cycle's files when there is one.
#
#   callgraph.sh [-n NM] [-v] [-f LIST]... [DIR...]
#
# The objects are those listed in each LIST file (one path a line; the
# build writes one per library, so stale objects of removed files do not
# count) and every *.o / *.obj under each DIR.  -v prints every edge
# "caller -> callee (symbol)" as well.
set -eu
NM=nm
VERBOSE=0
LISTS=
while [ $# -gt 0 ]; do
  case $1 in
    -n) NM=$2; shift 2 ;;
    -v) VERBOSE=1; shift ;;
    -f) LISTS="$LISTS$2
"; shift 2 ;;
    --) shift; break ;;
    -*) echo "callgraph.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ] && [ -z "$LISTS" ]; then
  echo "usage: callgraph.sh [-n NM] [-v] [-f LIST]... [DIR...]" >&2
  exit 2
fi

for d in "$@"; do
  [ -d "$d" ] || { echo "callgraph.sh: no directory $d" >&2; exit 2; }
done

# One object path a line (paths may hold spaces, not newlines).
objs=$(
  printf '%s' "$LISTS" | while IFS= read -r list; do
    [ -n "$list" ] && cat "$list"
  done
  [ $# -eq 0 ] || find "$@" -type f \( -name '*.o' -o -name '*.obj' \)
)
objs=$(printf '%s\n' "$objs" | sed '/^$/d' | LC_ALL=C sort -u)
[ -n "$objs" ] || { echo "callgraph.sh: no objects" >&2; exit 2; }

# "FILE<TAB>TYPE<TAB>NAME" per symbol, the file named by its source path
# below the object directory (.../rm_objects.dir/src/linux/scan.c.o is
# src/linux/scan.c).  An object nm cannot read fails the check.
syms=$(mktemp)
trap 'rm -f "$syms" "$syms.objs"' EXIT
printf '%s\n' "$objs" > "$syms.objs"
while IFS= read -r o; do
  name=$(printf '%s\n' "$o" | sed -e 's,.*\.dir/,,' -e 's,^\./,,' -e 's,\.o$,,' -e 's,\.obj$,,')
  out=$("$NM" "$o") || { echo "callgraph.sh: $NM failed on $o" >&2; exit 2; }
  printf '%s\n' "$out" | awk -v f="$name" 'NF >= 2 { print f "\t" $(NF-1) "\t" $NF }' >> "$syms"
done < "$syms.objs"

awk -v verbose="$VERBOSE" -F '\t' '
  # Global definitions: T text, D/B/R data, C common, W/V weak, G/S small data.
  $2 ~ /^[TDBRCWVGS]$/ { def[$3] = $1; files[$1] = 1; next }
  $2 == "U" { nu++; uf[nu] = $1; us[nu] = $3; files[$1] = 1; next }
  END {
    n = 0
    for (f in files) { n++; idx[f] = n; name[n] = f }
    for (i = 1; i <= nu; i++) {
      s = us[i]
      if (!(s in def)) continue          # libc, the OS, the linker
      a = idx[uf[i]]; b = idx[def[s]]
      if (a == b) continue
      if (!((a, b) in reach)) {
        reach[a, b] = 1; edges++
      }
      if (verbose && !((a, b, s) in shown)) {
        shown[a, b, s] = 1
        printf "%s -> %s (%s)\n", name[a], name[b], s
      }
    }
    # Transitive closure (Warshall): a few dozen files, fast enough.
    for (k = 1; k <= n; k++)
      for (i = 1; i <= n; i++) {
        if (!((i, k) in reach)) continue
        for (j = 1; j <= n; j++)
          if ((k, j) in reach) reach[i, j] = 1
      }
    bad = 0
    for (i = 1; i <= n; i++) {
      if (i in done) continue
      group = name[i]; size = 1
      for (j = i + 1; j <= n; j++)
        if (((i, j) in reach) && ((j, i) in reach)) {
          done[j] = 1; group = group " " name[j]; size++
        }
      if (size > 1) {
        bad++
        # Show the direct calls inside the group, so the cycle can be cut.
        printf "cycle of %d files: %s\n", size, group
      }
    }
    if (bad) {
      printf "callgraph.sh: %d cycle(s) among %d files\n", bad, n
      exit 1
    }
    printf "callgraph.sh: no cycles among %d files (%d file-level edges)\n", n, edges
  }' "$syms"
