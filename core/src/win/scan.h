/* SPDX-License-Identifier: MIT */
/*
 * scan.h: what the two halves of the Win32 scan share.
 *
 * scanfiles.c  what is known before any process is inspected: the
 *              registered files' identities (and, where the file system
 *              says, which processes have them open), the system handle
 *              table, and a path → identity cache
 * scanviews.c  the walks of processes' address spaces for mapped views,
 *              run ahead of the scan on worker threads
 * scan.c       rm__os_scan: each process inspected, records classified
 */
#ifndef RM_WIN_SCAN_H
#define RM_WIN_SCAN_H

#include "win.h"

/* {===== scanfiles.c */

typedef struct rm__win_reg {
  rm__file_id id;
  size_t file;                     /* index into rm__scan_input.files */
  uint32_t older;                  /* 0, or RM_USE_OLDER_INODE: the file
                                      the path named when registered, no
                                      longer the one it names */
} rm__win_reg;

typedef struct rm__win_pid_file {
  uint32_t pid;
  size_t file;
  uint32_t how;                    /* RM_USE_OPEN_FILE, maybe | _OLDER_INODE */
} rm__win_pid_file;

typedef struct rm__win_file_handle {
  uint32_t pid;
  ULONG_PTR value;
} rm__win_file_handle;

enum {
  RM__WIN_ID_UNSET,                /* not looked up yet */
  RM__WIN_ID_NONE,                 /* no identity (cannot be opened) */
  RM__WIN_ID_INDEX,                /* id.ino only: no registered file's */
  RM__WIN_ID_FULL                  /* id complete */
};

typedef struct rm__win_path_slot {
  wchar_t *path;                   /* NULL: empty slot */
  rm__file_id id;
  int state;                       /* RM__WIN_ID_* */
} rm__win_path_slot;

typedef struct rm__win_uses {
  rm__use *v;
  size_t n, cap;
} rm__win_uses;

typedef struct rm__win_walk rm__win_walk;

typedef struct rm__win_scan {
  const rm__scan_input *in;
  rm__win_reg *reg;
  size_t n_reg;
  uint64_t *reg_ino;               /* [n_reg] their file indexes, sorted */
  rm__win_pid_file *holders;       /* the kernel's per-file lists */
  size_t n_holders;
  rm__win_file_handle *handles;    /* file handles, sorted by pid */
  size_t n_handles;
  rm__win_path_slot *cache;
  size_t cache_cap, cache_n;
  rm__win_procs procs;
  rm__win_walk **walks;            /* [procs.n], scanviews.c */
  size_t next_walk;
  rm__win_services services;
  rm__win_context ctx;
  rm__found *found;
  size_t n_found, cap_found;
} rm__win_scan;

/* Sets up s->reg, s->reg_ino (RM_ERROR_ACCESS_DENIED for a registered
 * directory) and s->holders. */
uint32_t rm__win_load_registered(rm__win_scan *s);
/* Sets up s->handles: the file handles of the system, sorted by pid. */
uint32_t rm__win_load_handles(rm__win_scan *s);
/* Adds a use of a registered file, or the how bits to an existing one.
 * 0 when out of memory. */
int rm__win_add_use(rm__win_uses *u, size_t file, uint32_t how);
/* Records a use of every registered file with this identity. */
int rm__win_match(const rm__win_scan *s, const rm__file_id *id, uint32_t how,
                  rm__win_uses *u);
/* 1 when the two identities are equal. */
int rm__win_same_id(const rm__file_id *a, const rm__file_id *b);
/* The identity of the file at path through the cache.  1 when known. */
int rm__win_cached_id(rm__win_scan *s, const wchar_t *path, rm__file_id *id);
/* The identity of an open file, or of the file at path through the
 * cache, when it may be a registered file: 1 when *id is complete and a
 * registered file has its index; 0 otherwise (then it matches nothing).
 * Cheaper than the full identity: see scanfiles.c. */
int rm__win_candidate_id(const rm__win_scan *s, HANDLE h, rm__file_id *id);
int rm__win_cached_candidate(rm__win_scan *s, const wchar_t *path,
                             rm__file_id *id);
/* An NT path from GetMappedFileName as a path CreateFileW opens,
 * malloc'd. */
wchar_t *rm__win_nt_to_win32(const wchar_t *nt);

/* }=====
 * {===== scanviews.c */

/* Starts the first walks (s->procs is taken).  RM_ERROR_OUTOFMEMORY. */
uint32_t rm__win_walks_start(rm__win_scan *s);
/* Records a use of every registered file that process i (an index into
 * s->procs) has mapped as data: waits for its walk, at most until the
 * walk's time is up.  0 when out of memory. */
int rm__win_walk_match(rm__win_scan *s, size_t i, rm__win_uses *u);
/* Done with process i without its views. */
void rm__win_walks_skip(rm__win_scan *s, size_t i);
/* Lets go of every walk (unfinished ones end on their own). */
void rm__win_walks_free(rm__win_scan *s);

/* }===== */

#endif
