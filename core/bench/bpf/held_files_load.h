/* SPDX-License-Identifier: MIT */
/*
 * held_files_load.h: the BPF iterator scan of held_files.c, as the
 * benchmark (bench_bpf.c) drives it.
 */
#ifndef RM_HELD_FILES_LOAD_H
#define RM_HELD_FILES_LOAD_H

#include <sys/stat.h>

typedef struct held_scan held_scan;

/* Milliseconds per phase (fields of phases not run are left alone). */
typedef struct held_times {
  double open;      /* parse the embedded object and the kernel's BTF */
  double load;      /* create the map, relocate, verify, load */
  double files;     /* attach iter/task_file, read it to the end */
  double mappings;  /* the same for iter/task_vma */
} held_times;

/* Opens and loads the programs, with room for `capacity` registered
 * files.  NULL with errno set (EPERM: not privileged enough). */
held_scan *held_scan_open(long capacity, held_times *t);
/* Registers the file stat() described.  -1 with errno on failure. */
int held_scan_register(held_scan *s, const struct stat *st);
/* Runs the open-file iterator and, when `mappings`, the mapping one;
 * *pids gets the distinct tgids holding a registered file, sorted (the
 * caller frees it).  Their count, or -1 with errno set. */
long held_scan_run(held_scan *s, int mappings, long **pids, held_times *t);
void held_scan_close(held_scan *s);
/* What libbpf's parse of the running kernel's BTF alone costs (part of
 * the load: it needs it to relocate and to find the iterators' attach
 * points), in ms; -1 when it fails. */
double held_btf_parse_ms(void);

#endif
