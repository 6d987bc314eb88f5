/* SPDX-License-Identifier: MIT */
/*
 * held_files_load.h: the BPF iterator scan of held_files.bpf.c, as the
 * benchmark (bench_bpf.c) drives it, through either of two loaders:
 *   libbpf  bpftool's ordinary skeleton: libbpf parses the running
 *           kernel's BTF (/sys/kernel/btf/vmlinux, 5 MB here) in this
 *           process to relocate the programs' field offsets and to find
 *           the iterators' attach points (held_files.c);
 *   light   bpftool's light skeleton (gen skeleton -L): a loader program
 *           run in the kernel does both against the kernel's own BTF, no
 *           BTF parsed here (held_files_light.c; Linux >= 5.17).
 * Running the iterators and reading them is the same for both.
 */
#ifndef RM_HELD_FILES_LOAD_H
#define RM_HELD_FILES_LOAD_H

#include <sys/stat.h>

typedef struct held_scan {
  void *skel;                       /* the loader's skeleton */
  int light;                        /* which loader */
  int map_fd, files_prog, mappings_prog;
} held_scan;

/* Milliseconds per phase (fields of phases not run are left alone). */
typedef struct held_times {
  double load;      /* parse, relocate, create the map, verify, load */
  double files;     /* attach iter/task_file, read it to the end */
  double mappings;  /* the same for iter/task_vma */
} held_times;

/* Opens and loads the programs with `light`'s loader, with room for
 * `capacity` registered files.  NULL with errno set (EPERM: not
 * privileged enough). */
held_scan *held_scan_open(int light, long capacity, held_times *t);
/* Registers the file stat() described.  -1 with errno on failure. */
int held_scan_register(held_scan *s, const struct stat *st);
/* Runs the open-file iterator and, when `mappings`, the mapping one;
 * *pids gets the distinct tgids holding a registered file, sorted (the
 * caller frees it).  Their count, or -1 with errno set. */
long held_scan_run(held_scan *s, int mappings, long **pids, held_times *t);
void held_scan_close(held_scan *s);
/* What libbpf's parse of the running kernel's BTF alone costs (part of
 * its load), in ms; -1 when it fails. */
double held_btf_parse_ms(void);

/* held_files_light.c: the light skeleton's part of held_scan_open and
 * held_scan_close (0, or -1 with errno set). */
int held_light_load(held_scan *s, long capacity);
void held_light_unload(held_scan *s);

#endif
