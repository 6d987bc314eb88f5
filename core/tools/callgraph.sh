#!/bin/sh
# SPDX-License-Identifier: MIT
# callgraph.sh: prove that no pair or group of source files calls each
# other (docs/hacking.md, Layout).  Reads the symbols of the built objects
# with nm: a file depends on another when it uses (U) a symbol the other
# defines.  The file-level graph must have no cycle, i.e. no strongly
# connected component of more than one file.  Exits 1 and prints each
# cycle's files when there is one.
#
#   callgraph.sh [-n NM] [-v] DIR...   (objects *.o / *.obj under each DIR)
#
# -v prints every edge "caller -> callee (symbol)" as well.
set -eu
NM=nm
VERBOSE=0
while [ $# -gt 0 ]; do
  case $1 in
    -n) NM=$2; shift 2 ;;
    -v) VERBOSE=1; shift ;;
    --) shift; break ;;
    -*) echo "callgraph.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: callgraph.sh [-n NM] [-v] DIR..." >&2; exit 2; }

objs=$(find "$@" -type f \( -name '*.o' -o -name '*.obj' \) | LC_ALL=C sort)
[ -n "$objs" ] || { echo "callgraph.sh: no objects under $*" >&2; exit 2; }

for o in $objs; do
  # "FILE<TAB>TYPE<TAB>NAME" per symbol; the file named by its source path
  # below the object directory (src/linux/scan.c.o -> src/linux/scan.c).
  name=$(printf '%s\n' "$o" | sed -e 's,.*\.dir/,,' -e 's,\.o$,,' -e 's,\.obj$,,')
  "$NM" "$o" | awk -v f="$name" 'NF >= 2 { print f "\t" $(NF-1) "\t" $NF }'
done | awk -v verbose="$VERBOSE" -F '\t' '
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
  }'
