/* SPDX-License-Identifier: MIT */
/*
 * internal.h: the portable engine's private declarations.
 *
 * session.c   handle table, roles, start/join/end, the slot files
 * register.c  rm_register_resources: dedup, file journal appends
 * store.c     the session record: its text format in the store, parsing
 * store_format.c  writing it in that format
 * list.c      rm_get_list: scan + history + filters, reboot reasons
 * list_keep.c the MORE_DATA result a two-call loop's second call reuses
 * filter.c    rm_add_filter, rm_remove_filter, rm_get_filter_list
 * shutdown.c  rm_shutdown, rm_cancel_current_task
 * restart.c   rm_restart
 * registration.c  restart registrations (rm_register_application_restart)
 * sessions.c  rm_list_sessions
 * native.c    forwarding to the system's own Restart Manager (native.h)
 * error.c     names and sentences of the codes
 * util.c      allocation, string vectors, releases, the argument validators
 * tx*.c       the upgrade transaction (tx.h has its files)
 * trees.c     rm_register_trees: who uses anything under a directory
 * utf8.c      UTF-8 checks (the lowest file: it calls nothing of ours)
 * version.c   Debian's version order (calls nothing of ours either)
 * leftovers.c rm_get_stale_scripts, rm_get_kernel_info: what an upgrade
 *             leaves beyond mapped files (the backend finds it)
 *
 * shutdown.c and restart.c also share actions.h.
 */
#ifndef RM_INTERNAL_H
#define RM_INTERNAL_H

#include "restartmgr.h"
#include "os.h"

#define RM_PATH_MAX 4096            /* longest registered path, in bytes */
#define RM_LOCK_TIMEOUT_MS 5000u    /* store lock wait; RESTARTMGR_LOCK_TIMEOUT_MS */
#define RM_APP_TIMEOUT_MS 30000u
#define RM_SERVICE_TIMEOUT_MS 20000u

/* {===== version.c */

/* Debian's version order (deb-version(7)): <0, 0, >0. */
int rm__version_compare(const char *a, const char *b);

/* }=====
 * {===== utf8.c */

/* The length of the valid UTF-8 sequence at s[i] (no overlongs, no
 * surrogates, at most U+10FFFF), or 0 when none starts there. */
size_t rm__utf8_seq(const char *s, size_t len, size_t i);
/* 0 when s[0..len) is valid UTF-8, else the 1-based byte where it stops
 * being valid. */
size_t rm__utf8_bad_byte(const char *s, size_t len);
/* 1 when s is valid UTF-8. */
int rm__utf8_valid(const char *s, size_t len);
/* Copies src into dst[cap], truncated on a UTF-8 character boundary, always
 * NUL-terminated. */
void rm__utf8_copy(char *dst, size_t cap, const char *src);

/* }=====
 * {===== util.c */

/* A growable array of owned strings. */
typedef struct rm__strv {
  char **v;
  size_t n, cap;
} rm__strv;

char *rm__strdup(const char *s);
/* A new "dir/name", or NULL when out of memory. */
char *rm__path_join(const char *dir, const char *name);
uint32_t rm__strv_push(rm__strv *sv, const char *s);   /* copies s */
void rm__strv_free(rm__strv *sv);
/* Copies a NULL-terminated char* array (NULL gives an empty one). */
char **rm__argv_dup(char *const *v);
void rm__argv_free(char **v);

void rm__launch_free(rm__launch *l);
/* Replaces *to with a deep copy of *from.  RM_OK, RM_ERROR_OUTOFMEMORY
 * (*to unchanged). */
uint32_t rm__launch_copy(const rm__launch *from, rm__launch *to);
void rm__found_free(rm__found *f, size_t n);
void rm__stale_free(rm__stale *s, size_t n);
/* Frees one record's uses and stale records (not the record). */
void rm__found_parts_free(rm__found *f);

/* 1 when a and b are equal ignoring ASCII case (service names). */
int rm__ascii_ieq(const char *a, const char *b);

/* 1 when a registered or filtered service name a names the listed service
 * b: equal ignoring ASCII case and a trailing ".service" on either (the
 * Linux list shows systemd's "x.service" as "x"). */
int rm__service_name_eq(const char *a, const char *b);

/* Timeout from an environment variable in ms, else dflt. */
unsigned rm__env_ms(const char *name, unsigned dflt);

/* The argument rules every entry point applies (the Lua binding too): a
 * registrable path is absolute (rm__os_path_absolute), at most
 * RM_PATH_MAX bytes of valid UTF-8; a service short name is 1 to
 * RM_MAX_SVC_NAME bytes of valid UTF-8, not "." or "..", without control
 * characters, '/' or '\'.  The *_problem functions return why s breaks
 * the rule, worded for a person ("not an absolute path", "not valid
 * UTF-8 at byte 3"; the caller names the culprit before it), either a
 * constant or why[cap] filled; NULL when s follows it.  why needs
 * RM_REASON_MAX bytes.  The rm__valid_* are the same as a yes or no. */
#define RM_REASON_MAX 80
const char *rm__path_problem(const char *s, char *why, size_t cap);
const char *rm__service_name_problem(const char *s, char *why, size_t cap);
int rm__valid_path(const char *s);
int rm__valid_service_name(const char *s);

/* }=====
 * {===== store.c: the session record, parsing its text in the store */

/* A filter as stored. */
typedef struct rm__filter {
  rm_filter_action action;
  rm_filter_trigger trigger;
  char *name;                       /* file path or service name */
  rm_unique_process process;
} rm__filter;

/* An entry the session acted on: kept with its history so that later
 * lists and rm_restart see it after the process is gone. */
typedef struct rm__acted {
  rm_process_info info;             /* app_status is the history */
  rm__launch launch;                /* argv == NULL: nothing captured */
  uint32_t order;                   /* shutdown sequence number */
  uint32_t reasons;                 /* reboot reasons it caused */
  rm_unique_process through;        /* a worker of this master, or pid 0 */
  rm_restart_outcome outcome;       /* of the last restart */
} rm__acted;

/* Where a session's registered files are: its journal file. */
typedef struct rm__journal {
  uint64_t gen;                     /* 0: no files registered */
  uint64_t lines, bytes;            /* committed lines and bytes */
  uint64_t unique;                  /* distinct paths when last compacted */
} rm__journal;

/* One session as kept in the store. */
typedef struct rm__record {
  char key[RM_SESSION_KEY_CHARS + 1];
  rm_unique_process owner;
  uint64_t sequence;                /* bumped on every write */
  int shutdown_called;              /* rm_shutdown ran at least once */
  rm__journal journal;
  rm__strv files, services;         /* files: from the journal, when read */
  rm__file_id *file_ids;            /* [files.n]: each file's identity when
                                       it was registered, {0, 0} when it
                                       did not exist then */
  uint32_t *file_views;             /* [files.n]: the view it was
                                       registered in (rm__os_file_view) */
  rm_unique_process *procs;
  size_t n_procs;
  rm__filter *filters;
  size_t n_filters;
  rm__acted *acted;
  size_t n_acted;
} rm__record;

void rm__record_free(rm__record *r);

/* Appends a registered file (taking ownership of path, freed on failure)
 * with its identity and view.  RM_OK or RM_ERROR_OUTOFMEMORY. */
uint32_t rm__record_add_file(rm__record *r, char *path, rm__file_id id,
                             uint32_t view);

/* Parses a record (without its files), validating everything:
 * RM_ERROR_WRITE_FAULT for any malformed or hostile content,
 * RM_ERROR_OUTOFMEMORY. */
uint32_t rm__record_parse(const char *text, size_t len, rm__record *r);

/* The files of a journal's committed text (exactly r->journal.bytes bytes
 * holding r->journal.lines lines) into r->files, r->file_ids and
 * r->file_views, each (path, view) once.  Same codes. */
uint32_t rm__record_parse_files(const char *text, size_t len, rm__record *r);

/* }=====
 * {===== store_format.c: writing the record in that format */

/* 1 for a byte a stored string always carries %-escaped (a control
 * byte, space, '%', DEL): the writer escapes it, the parser refuses it
 * raw. */
int rm__store_needs_escape(unsigned char c);

/* A growing text buffer (zero it to start): an append that cannot grow
 * it sets oom and every later one does nothing, so the writer checks
 * once at the end; p is NUL-terminated, the caller frees it. */
typedef struct rm__outbuf {
  char *p;
  size_t n, cap;
  int oom;
} rm__outbuf;

/* Appends n bytes of s. */
void rm__out_raw(rm__outbuf *b, const char *s, size_t n);

/* Appends a NUL-terminated word as it is. */
void rm__out_word(rm__outbuf *b, const char *word);

/* Appends " N" in decimal. */
void rm__out_num(rm__outbuf *b, unsigned long long v);

/* Appends " :ESCAPED": s (NULL: "") with every byte
 * rm__store_needs_escape names written %xx. */
void rm__out_str(rm__outbuf *b, const char *s);

/* A read position in a store text [p, end): bad becomes 1 at the first
 * malformed item, 2 when out of memory, and stays (the parser checks it
 * once at the end). */
typedef struct rm__cursor {
  const char *p, *end;
  int bad;                          /* 1 malformed, 2 out of memory */
} rm__cursor;

/* " N" with min <= N <= max, exactly; 0 when bad. */
unsigned long long rm__cur_num(rm__cursor *c, unsigned long long min,
                               unsigned long long max);

/* " :ESCAPED" decoded into a new string; NULL (and c->bad) when bad
 * already, malformed (%00, a raw byte rm__store_needs_escape names) or
 * out of memory. */
char *rm__cur_str(rm__cursor *c);

/* 1, moving past it, when word stands next, followed by a space, a
 * newline or the end; else 0. */
int rm__cur_word(rm__cursor *c, const char *word);

/* Moves past the newline that must stand next (else c->bad). */
void rm__cur_eol(rm__cursor *c);

/* Serialises a record (without its files).  RM_OK or
 * RM_ERROR_OUTOFMEMORY. */
uint32_t rm__record_format(const rm__record *r, char **out, size_t *len);

/* The journal's lines for n files (ids may be NULL: unknown; views may
 * be NULL: all 0).  Same codes. */
uint32_t rm__files_format(const char *const *paths, const rm__file_id *ids,
                          const uint32_t *views,
                          size_t n, char **out, size_t *len);

/* }=====
 * {===== registration.c: restart registrations in the store */

/* Every live registration of the caller's store (dead processes' are
 * skipped).  RM_OK with *n 0 when there are none, RM_ERROR_WRITE_FAULT,
 * RM_ERROR_OUTOFMEMORY. */
uint32_t rm__restarts_load(rm__restart_reg **out, size_t *n);
void rm__restarts_free(rm__restart_reg *v, size_t n);
/* A fingerprint of the stored registrations (0: none).  RM_OK or the
 * store's codes. */
uint32_t rm__restarts_fingerprint(uint64_t *out);
/* The registration of p in v, or NULL. */
const rm__restart_reg *rm__restart_find(const rm__restart_reg *v, size_t n,
                                        const rm_unique_process *p);

/* }=====
 * {===== session.c: handles */

typedef struct rm__list_kept rm__list_kept;

/* A handle held by this process. */
typedef struct rm__handle {
  int in_use;
  uint32_t generation;
  int primary;
  unsigned slot;                    /* store slot 0..63 */
  char key[RM_SESSION_KEY_CHARS + 1];
  volatile int cancel;              /* set by rm_cancel_current_task */
  volatile int busy;                /* a shutdown/restart/list is running */
  unsigned app_timeout_ms, service_timeout_ms;  /* 0: default */
  rm__list_kept *kept;              /* the last MORE_DATA list, or NULL
                                       (list_keep.c; guarded by the
                                       global lock) */
} rm__handle;

/* Looks up a handle and marks an operation as running on it.  need_primary
 * gives RM_ERROR_SESSION_CREDENTIAL_CONFLICT for a secondary; exclusive
 * gives RM_ERROR_REQUEST_OUT_OF_SEQUENCE while another exclusive
 * operation runs (shutdown and restart are exclusive).  RM_OK or
 * RM_ERROR_INVALID_HANDLE.  Every successful enter needs one leave. */
uint32_t rm__enter(uint32_t handle, int need_primary, int exclusive,
                   rm__handle **out);
void rm__leave(rm__handle *h, int exclusive);

/* rm_cancel_current_task: sets the handle's cancel flag when an operation
 * runs on it, else does nothing. */
uint32_t rm__cancel(uint32_t handle);

/* Reads the session's current record.  RM_ERROR_INVALID_HANDLE when the
 * session was ended or its owner died, plus the store's codes. */
uint32_t rm__load(rm__handle *h, rm__record *out);

/* Read-modify-write of the record under the store lock, one write.  fn
 * may also write the slot's files in the store directory d (registration
 * appends to the journal); a journal the written record no longer points
 * to is removed once the record is committed. */
typedef uint32_t (*rm__update_fn)(rm__dir *d, unsigned slot, rm__record *r,
                                  void *ctx);
uint32_t rm__update(rm__handle *h, rm__update_fn fn, void *ctx);

/* The slots' files, for register.c: the record of a slot (with its
 * files when with_files; RM_ERROR_FILE_NOT_FOUND when free, ended,
 * abandoned or another key's), its replacement, the committed files of
 * its journal, and the journal's name.  Codes of the store. */
uint32_t rm__read_slot(rm__dir *d, unsigned slot, const char *key,
                       rm__record *r, int with_files);
uint32_t rm__write_slot(rm__dir *d, unsigned slot, const rm__record *r);
uint32_t rm__read_files(rm__dir *d, unsigned slot, rm__record *r);
void rm__journal_name(char *buf, size_t cap, unsigned slot, uint64_t gen);
/* The store lock's bound: RESTARTMGR_LOCK_TIMEOUT_MS, else 5 s. */
unsigned rm__lock_timeout(void);
/* Opens the store and takes its lock within that bound (nothing is left
 * open on failure).  Codes of rm__os_store_open and rm__os_store_lock. */
uint32_t rm__store_open_locked(rm__dir **d);

/* The shutdown timeouts in force for a handle. */
unsigned rm__app_timeout(const rm__handle *h);
unsigned rm__service_timeout(const rm__handle *h);

/* }=====
 * {===== shutdown.c: for the transaction */

/* rm_shutdown with internal flags: RM__SHUTDOWN_PAST_REASONS stops what
 * can be stopped even when an entry causes a reboot reason (critical
 * entries are never acted on); the transaction's RM_TX_ALLOW_REBOOT. */
#define RM__SHUTDOWN_PAST_REASONS 0x80000000u
uint32_t rm__shutdown(uint32_t session_handle, uint32_t flags,
                      rm_status_callback status, void *context);

/* }=====
 * {===== list.c: the computed list */

/* One entry of the computed list. */
typedef struct rm__entry {
  rm_process_info info;
  uint32_t reasons;                 /* reboot reasons this entry causes */
  rm__use *uses;                    /* files it holds (owned) */
  size_t n_uses;
  int acted;                        /* index+1 into record.acted, or 0 */
  rm_unique_process through;        /* a worker of this master, or pid 0 */
  rm_filter_action filter;          /* filter that applies, or INVALID */
  uint32_t traits;                  /* RM_TRAIT_* of a live entry */
  uint32_t not_restartable;         /* RM_NOT_RESTARTABLE_* (live entries) */
} rm__entry;

/* Scans and merges: live entries from the scan, entries the session acted
 * on with their history, filters applied.  *reasons is the OR of the live
 * entries' reasons.  Codes of rm__os_scan. */
uint32_t rm__compute_list(rm__handle *h, const rm__record *r,
                          rm__entry **out, size_t *n, uint32_t *reasons);
void rm__entries_free(rm__entry *e, size_t n);

/* The k-th file of an entry being copied out, and its RM_USE_* bits. */
typedef const char *rm__use_text_fn(const void *ctx, size_t k, uint32_t *how);

/* Gives a the n files text_of names, as rm_get_list_alloc hands them
 * out: one block holding the rm_file_use records and then the texts
 * they point to, which rm_free_list releases.  RM_OK (a untouched when n
 * is 0) or RM_ERROR_OUTOFMEMORY. */
uint32_t rm__app_files(rm_app_info *a, size_t n, rm__use_text_fn *text_of,
                       const void *ctx);

/* The filter action that applies to a live or acted entry. */
rm_filter_action rm__filter_for(const rm__record *r,
                                const rm_process_info *info,
                                const rm__file_id *exe);

/* }=====
 * {===== list_keep.c: the list a two-call loop reuses */

void rm__kept_free(rm__list_kept *k);
/* The reuse window in ms: RESTARTMGR_LIST_REUSE_MS, else 500; 0: never. */
unsigned rm__kept_window(void);
/* Detaches the handle's kept list (NULL: none); puts one in its place
 * (freeing what was there). */
rm__list_kept *rm__kept_take(rm__handle *h);
void rm__kept_put(rm__handle *h, rm__list_kept *k);
/* Keeps n listed entries answered at at_ms (the scan's end) for a record
 * at sequence with the registrations' fingerprint restarts.  NULL when
 * out of memory. */
rm__list_kept *rm__kept_make(uint64_t at_ms, uint64_t sequence,
                             uint64_t restarts, const rm__entry *e, size_t n,
                             uint32_t reasons);
/* 1 when k may answer now: within the window, the record's sequence and
 * the registrations' fingerprint as they read now (the caller's) the
 * same as when k was kept, every running entry alive with its identity. */
int rm__kept_valid(const rm__list_kept *k, uint64_t sequence,
                   uint64_t restarts);
/* rm_get_list's answer from k: RM_OK or RM_ERROR_MORE_DATA. */
uint32_t rm__kept_serve(const rm__list_kept *k, unsigned *needed,
                        unsigned *n_info, rm_process_info *apps,
                        uint32_t *reasons);

/* }===== */

#endif /* RM_INTERNAL_H */
