/*
 * session.c: handles, roles, and the store operations of a session.
 *
 * A handle lives in this process only: a small table maps it to a store
 * slot (0..63), the session key and the role.  Handle values are
 * index + 256 * generation, so the first handle of a process is 0 (as on
 * Windows) and a handle that was ended stays invalid when its table entry
 * is reused.  The table is guarded by the backend's global mutex; store
 * records are guarded by the store's cross-process lock, held only for a
 * read-modify-write, never during a scan or a shutdown.
 */
#include "internal.h"
#include "native.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HANDLES 256

typedef struct handle_slot {
  rm__handle h;
  int ops;                    /* operations running on this handle */
} handle_slot;

static handle_slot handles[MAX_HANDLES];

static unsigned lock_timeout(void) {
  return rm__env_ms("RESTARTMGR_LOCK_TIMEOUT_MS", RM_LOCK_TIMEOUT_MS);
}

static void slot_name(char *buf, size_t cap, unsigned slot) {
  snprintf(buf, cap, "session.%02u", slot);
}

/* {===== Handle table */

static uint32_t handle_alloc(int primary, unsigned slot, const char *key,
                             uint32_t *out) {
  unsigned i;
  rm__os_global_lock();
  for (i = 0; i < MAX_HANDLES; i++) {
    if (!handles[i].h.in_use) {
      rm__handle *h = &handles[i].h;
      uint32_t gen = h->generation;
      memset(&handles[i], 0, sizeof handles[i]);
      h->generation = gen;
      h->in_use = 1;
      h->primary = primary;
      h->slot = slot;
      memcpy(h->key, key, RM_SESSION_KEY_CHARS + 1);
      *out = i + MAX_HANDLES * gen;
      rm__os_global_unlock();
      return RM_OK;
    }
  }
  rm__os_global_unlock();
  return RM_ERROR_MAX_SESSIONS_REACHED;
}

static handle_slot *handle_find(uint32_t handle) {
  unsigned i = handle % MAX_HANDLES;
  if (!handles[i].h.in_use || handles[i].h.generation != handle / MAX_HANDLES)
    return NULL;
  return &handles[i];
}

uint32_t rm__enter(uint32_t handle, int need_primary, int exclusive,
                   rm__handle **out) {
  handle_slot *s;
  rm__os_global_lock();
  s = handle_find(handle);
  if (!s) {
    rm__os_global_unlock();
    return RM_ERROR_INVALID_HANDLE;
  }
  if (need_primary && !s->h.primary) {
    rm__os_global_unlock();
    return RM_ERROR_SESSION_CREDENTIAL_CONFLICT;
  }
  if (exclusive) {
    if (s->h.busy) {
      rm__os_global_unlock();
      return RM_ERROR_REQUEST_OUT_OF_SEQUENCE;
    }
    s->h.busy = 1;
    s->h.cancel = 0;
  }
  s->ops++;
  rm__os_global_unlock();
  *out = &s->h;
  return RM_OK;
}

void rm__leave(rm__handle *h, int exclusive) {
  handle_slot *s = (handle_slot *)(void *)h;
  rm__os_global_lock();
  if (exclusive) h->busy = 0;
  s->ops--;
  if (s->ops == 0) h->cancel = 0;   /* no pending cancel outlives the call */
  rm__os_global_unlock();
}

uint32_t rm__cancel(uint32_t handle) {
  handle_slot *s;
  uint32_t rc = RM_OK;
  rm__os_global_lock();
  s = handle_find(handle);
  if (!s)
    rc = RM_ERROR_INVALID_HANDLE;
  else if (!s->h.primary)
    rc = RM_ERROR_SESSION_CREDENTIAL_CONFLICT;
  else if (s->ops > 0)
    s->h.cancel = 1;
  rm__os_global_unlock();
  return rc;
}

/* }=====
 * {===== Store access */

static void journal_name(char *buf, size_t cap, unsigned slot, uint64_t gen) {
  snprintf(buf, cap, "session.%02u.files.%llu", slot, (unsigned long long)gen);
}

/* Reads the committed files of r's journal into r. */
static uint32_t read_files(rm__dir *d, unsigned slot, rm__record *r) {
  char name[64], *text;
  size_t len;
  uint32_t rc;
  if (!r->journal.gen) return RM_OK;
  journal_name(name, sizeof name, slot, r->journal.gen);
  rc = rm__os_store_read(d, name, &text, &len);
  if (rc != RM_OK) return rc;
  rc = len >= r->journal.bytes
           ? rm__record_parse_files(text, (size_t)r->journal.bytes, r)
           : RM_ERROR_WRITE_FAULT;
  free(text);
  return rc;
}

/* Reads and checks the record of a slot, with its files when with_files.
 * RM_ERROR_FILE_NOT_FOUND when the slot is free, ended, abandoned or not
 * this key's.  Readers take no lock: a journal that a compaction replaced
 * between reading the record and the journal is missed, and read again
 * through the new record. */
static uint32_t read_slot(rm__dir *d, unsigned slot, const char *key,
                          rm__record *r, int with_files) {
  int attempt;
  for (attempt = 0;; attempt++) {
    char name[32], *text;
    size_t len;
    uint32_t rc;
    slot_name(name, sizeof name, slot);
    rc = rm__os_store_read(d, name, &text, &len);
    if (rc != RM_OK) return rc;
    rc = rm__record_parse(text, len, r);
    free(text);
    if (rc != RM_OK) return rc;
    if ((key && strcmp(r->key, key) != 0) || !rm__os_alive(&r->owner)) {
      rm__record_free(r);
      return RM_ERROR_FILE_NOT_FOUND;
    }
    if (!with_files) return RM_OK;
    rc = read_files(d, slot, r);
    if (rc == RM_OK) return RM_OK;
    rm__record_free(r);
    if (rc != RM_ERROR_FILE_NOT_FOUND) return rc;
    if (attempt == 3) return RM_ERROR_WRITE_FAULT;
  }
}

static uint32_t write_slot(rm__dir *d, unsigned slot, const rm__record *r) {
  char name[32], *text;
  size_t len;
  uint32_t rc = rm__record_format(r, &text, &len);
  if (rc != RM_OK) return rc;
  slot_name(name, sizeof name, slot);
  rc = rm__os_store_write(d, name, text, len);
  free(text);
  return rc;
}

/* Removes the journal of whatever record the slot holds now (ended,
 * abandoned or live), before the slot is reused or removed. */
static void remove_journal_of(rm__dir *d, unsigned slot) {
  char name[64], *text;
  size_t len;
  rm__record r;
  slot_name(name, sizeof name, slot);
  if (rm__os_store_read(d, name, &text, &len) != RM_OK) return;
  if (rm__record_parse(text, len, &r) == RM_OK) {
    if (r.journal.gen) {
      journal_name(name, sizeof name, slot, r.journal.gen);
      rm__os_store_remove(d, name);
    }
    rm__record_free(&r);
  }
  free(text);
}

uint32_t rm__load(rm__handle *h, rm__record *out) {
  rm__dir *d;
  uint32_t rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = read_slot(d, h->slot, h->key, out, 1);
  rm__os_store_close(d);
  return rc == RM_ERROR_FILE_NOT_FOUND ? RM_ERROR_INVALID_HANDLE : rc;
}

/* The callback sees the record without its files (they live in the
 * journal, which only registration appends to). */
uint32_t rm__update(rm__handle *h, rm__update_fn fn, void *ctx) {
  rm__dir *d;
  rm__record r;
  uint32_t rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = rm__os_store_lock(d, lock_timeout());
  if (rc == RM_OK) {
    rc = read_slot(d, h->slot, h->key, &r, 0);
    if (rc == RM_ERROR_FILE_NOT_FOUND) rc = RM_ERROR_INVALID_HANDLE;
    if (rc == RM_OK) {
      rc = fn(&r, ctx);
      if (rc == RM_OK) {
        r.sequence++;
        rc = write_slot(d, h->slot, &r);
      }
      rm__record_free(&r);
    }
    rm__os_store_unlock(d);
  }
  rm__os_store_close(d);
  return rc;
}

/* }=====
 * {===== Start, join, end */

static void make_key(const unsigned char bytes[16], char key[33]) {
  static const char hex[] = "0123456789abcdef";
  int i;
  for (i = 0; i < 16; i++) {
    key[2 * i] = hex[bytes[i] >> 4];
    key[2 * i + 1] = hex[bytes[i] & 15];
  }
  key[32] = 0;
}

uint32_t rm_start_session(uint32_t *session_handle, uint32_t session_flags,
                          char session_key[RM_SESSION_KEY_CHARS + 1]) {
  rm__dir *d;
  rm__record r;
  unsigned char bytes[16];
  char key[RM_SESSION_KEY_CHARS + 1];
  unsigned slot, free_slot = RM_MAX_SESSIONS;
  uint32_t rc;

  if (rm__native()) return rm__native()->start_session(session_handle, session_flags,
        session_key);
  if (!session_handle || !session_key || session_flags != 0)
    return RM_ERROR_BAD_ARGUMENTS;
  rc = rm__os_random(bytes, sizeof bytes);
  if (rc != RM_OK) return rc;
  make_key(bytes, key);

  rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = rm__os_store_lock(d, lock_timeout());
  if (rc != RM_OK) {
    rm__os_store_close(d);
    return rc;
  }
  /* The first slot that is free, ended, abandoned or unreadable is ours;
   * live sessions keep theirs. */
  rc = RM_OK;
  for (slot = 0; slot < RM_MAX_SESSIONS && rc == RM_OK; slot++) {
    uint32_t got = read_slot(d, slot, NULL, &r, 0);
    if (got == RM_OK) {
      if (strcmp(r.key, key) == 0) rc = RM_ERROR_WRITE_FAULT; /* 2^-128 */
      rm__record_free(&r);
    } else if (got == RM_ERROR_OUTOFMEMORY) {
      rc = got;
    } else if (free_slot == RM_MAX_SESSIONS) {
      free_slot = slot;
    }
  }
  if (rc == RM_OK && free_slot == RM_MAX_SESSIONS)
    rc = RM_ERROR_MAX_SESSIONS_REACHED;
  if (rc == RM_OK) {
    remove_journal_of(d, free_slot);
    memset(&r, 0, sizeof r);
    memcpy(r.key, key, sizeof key);
    rm__os_self(&r.owner);
    rc = write_slot(d, free_slot, &r);
  }
  rm__os_store_unlock(d);
  rm__os_store_close(d);
  if (rc != RM_OK) return rc;

  rc = handle_alloc(1, free_slot, key, session_handle);
  if (rc != RM_OK) {
    /* No handle for it in this process: give the slot back. */
    if (rm__os_store_open(&d) == RM_OK) {
      char name[32];
      slot_name(name, sizeof name, free_slot);
      if (rm__os_store_lock(d, lock_timeout()) == RM_OK) {
        rm__os_store_remove(d, name);
        rm__os_store_unlock(d);
      }
      rm__os_store_close(d);
    }
    return rc;
  }
  memcpy(session_key, key, sizeof key);
  return RM_OK;
}

uint32_t rm_join_session(uint32_t *session_handle, const char *session_key) {
  char key[RM_SESSION_KEY_CHARS + 1];
  rm__dir *d;
  rm__record r;
  unsigned i, slot;
  uint32_t rc;

  if (rm__native()) return rm__native()->join_session(session_handle, session_key);
  if (!session_handle || !session_key) return RM_ERROR_BAD_ARGUMENTS;
  for (i = 0; i < RM_SESSION_KEY_CHARS; i++) {
    char c = session_key[i];
    if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return RM_ERROR_SESSION_CREDENTIAL_CONFLICT;
    key[i] = c;
  }
  if (session_key[RM_SESSION_KEY_CHARS] != 0)
    return RM_ERROR_SESSION_CREDENTIAL_CONFLICT;
  key[RM_SESSION_KEY_CHARS] = 0;

  rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = RM_ERROR_SESSION_CREDENTIAL_CONFLICT;
  for (slot = 0; slot < RM_MAX_SESSIONS; slot++) {
    uint32_t got = read_slot(d, slot, key, &r, 0);
    if (got == RM_OK) {
      rm__record_free(&r);
      rc = RM_OK;
      break;
    }
    if (got == RM_ERROR_OUTOFMEMORY) {
      rc = got;
      break;
    }
  }
  rm__os_store_close(d);
  if (rc != RM_OK) return rc;
  return handle_alloc(0, slot, key, session_handle);
}

uint32_t rm_end_session(uint32_t session_handle) {
  handle_slot *s;
  rm__handle *h;
  uint32_t rc = RM_OK;
  int primary;

  if (rm__native()) return rm__native()->end_session(session_handle);
  /* Cancel whatever runs on this handle and wait for it, so the entry is
   * not freed under a running operation. */
  for (;;) {
    rm__os_global_lock();
    s = handle_find(session_handle);
    if (!s) {
      rm__os_global_unlock();
      return RM_ERROR_INVALID_HANDLE;
    }
    if (s->ops == 0) break;
    s->h.cancel = 1;
    rm__os_global_unlock();
    rm__os_sleep_ms(5);
  }
  h = &s->h;
  primary = h->primary;
  s->ops = 1;                     /* keep others out while we end it */
  rm__os_global_unlock();

  if (primary) {
    rm__dir *d;
    rc = rm__os_store_open(&d);
    if (rc == RM_OK) {
      rc = rm__os_store_lock(d, lock_timeout());
      if (rc == RM_OK) {
        rm__record r;
        uint32_t got = read_slot(d, h->slot, h->key, &r, 0);
        if (got == RM_OK) {
          char name[64];
          slot_name(name, sizeof name, h->slot);
          rc = rm__os_store_remove(d, name);
          if (rc == RM_OK && r.journal.gen) {
            journal_name(name, sizeof name, h->slot, r.journal.gen);
            rm__os_store_remove(d, name);
          }
          rm__record_free(&r);
        } else if (got != RM_ERROR_FILE_NOT_FOUND) {
          rc = got;
        }
        rm__os_store_unlock(d);
      }
      rm__os_store_close(d);
    }
  }

  rm__os_global_lock();
  if (rc == RM_OK) {
    h->in_use = 0;
    h->generation++;
    s->ops = 0;
  } else {
    s->ops = 0;                   /* the session stays; the caller may retry */
  }
  rm__os_global_unlock();
  return rc;
}

/* }=====
 * {===== Register */

typedef struct reg_ctx {
  unsigned n_files;
  const char *const *files;
  const rm__file_id *file_ids;      /* [n_files], taken before the lock */
  unsigned n_apps;
  const rm_unique_process *apps;
  unsigned n_services;
  const char *const *services;
  unsigned char *keep;              /* scratch: [max of the three counts] */
} reg_ctx;

/* Deduplication without quadratic work: the items being added go into a
 * small open-addressing table (a power of two, at least twice their
 * count); the call's own duplicates are dropped while filling it, and the
 * record's existing items are then looked up in it once each.  So a call
 * costs O(items added + items already registered), whatever the sizes. */
typedef struct dedup {
  size_t *slot;                     /* index of an added item + 1; 0 empty */
  size_t mask;
} dedup;

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h) {
  const unsigned char *u = p;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= u[i];
    h *= 0x100000001b3ull;            /* FNV-1a */
  }
  return h ^ (h >> 32);
}

static uint64_t hash_str(const char *s) {
  return hash_bytes(s, strlen(s), 0xcbf29ce484222325ull);
}

static uint64_t hash_proc(const rm_unique_process *p) {
  uint64_t h = hash_bytes(&p->pid, sizeof p->pid, 0xcbf29ce484222325ull);
  return hash_bytes(&p->start_time, sizeof p->start_time, h);
}

static int same_proc(const rm_unique_process *a, const rm_unique_process *b) {
  return a->pid == b->pid && a->start_time == b->start_time;
}

static int dedup_init(dedup *d, size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  d->slot = calloc(cap, sizeof *d->slot);
  d->mask = cap - 1;
  return d->slot ? 0 : -1;
}

/* keep[i] = 1 for the first occurrence of each string of add[] that have
 * does not hold yet. */
static uint32_t dedup_strings(const char *const *add, unsigned n,
                              const rm__strv *have, unsigned char *keep) {
  dedup d;
  size_t i, k;
  if (dedup_init(&d, n) != 0) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n; i++) {
    k = (size_t)hash_str(add[i]) & d.mask;
    while (d.slot[k] && strcmp(add[d.slot[k] - 1], add[i]) != 0)
      k = (k + 1) & d.mask;
    keep[i] = d.slot[k] == 0;
    if (keep[i]) d.slot[k] = i + 1;
  }
  for (i = 0; i < have->n; i++) {
    k = (size_t)hash_str(have->v[i]) & d.mask;
    while (d.slot[k] && strcmp(add[d.slot[k] - 1], have->v[i]) != 0)
      k = (k + 1) & d.mask;
    if (d.slot[k]) keep[d.slot[k] - 1] = 0;
  }
  free(d.slot);
  return RM_OK;
}

static uint32_t dedup_procs(const rm_unique_process *add, unsigned n,
                            const rm_unique_process *have, size_t n_have,
                            unsigned char *keep) {
  dedup d;
  size_t i, k;
  if (dedup_init(&d, n) != 0) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n; i++) {
    k = (size_t)hash_proc(&add[i]) & d.mask;
    while (d.slot[k] && !same_proc(&add[d.slot[k] - 1], &add[i]))
      k = (k + 1) & d.mask;
    keep[i] = d.slot[k] == 0;
    if (keep[i]) d.slot[k] = i + 1;
  }
  for (i = 0; i < n_have; i++) {
    k = (size_t)hash_proc(&have[i]) & d.mask;
    while (d.slot[k] && !same_proc(&add[d.slot[k] - 1], &have[i]))
      k = (k + 1) & d.mask;
    if (d.slot[k]) keep[d.slot[k] - 1] = 0;
  }
  free(d.slot);
  return RM_OK;
}

/* The files of this call that are new to it (the journal's duplicates
 * are dropped when it is read, or when it is compacted), appended to the
 * journal; when the journal has grown past twice its distinct paths
 * (plus some slack) it is rewritten whole, deduplicated, under the next
 * generation instead, so that registering the same files again and again
 * cannot grow it without bound.  *old_gen: a journal to remove once the
 * record points past it, else 0. */
static uint32_t add_files(rm__dir *d, unsigned slot, rm__record *r,
                          reg_ctx *c, uint64_t *old_gen) {
  rm__strv none = { NULL, 0, 0 };
  const char **paths;
  rm__file_id *ids;
  size_t n = 0, i;
  char name[64], *text = NULL;
  size_t len = 0;
  uint32_t rc = dedup_strings(c->files, c->n_files, &none, c->keep);
  int compact = r->journal.gen &&
                r->journal.lines + c->n_files > 2 * r->journal.unique + 1024;
  *old_gen = 0;
  if (rc != RM_OK) return rc;
  if (compact) {
    rc = read_files(d, slot, r);
    if (rc == RM_OK)
      rc = dedup_strings(c->files, c->n_files, &r->files, c->keep);
    if (rc != RM_OK) return rc;
  }
  paths = malloc((r->files.n + c->n_files + 1) * sizeof *paths);
  ids = malloc((r->files.n + c->n_files + 1) * sizeof *ids);
  if (!paths || !ids) {
    free(paths);
    free(ids);
    return RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; compact && i < r->files.n; i++, n++) {
    paths[n] = r->files.v[i];
    ids[n] = r->file_ids[i];
  }
  for (i = 0; i < c->n_files; i++)
    if (c->keep[i]) {
      paths[n] = c->files[i];
      ids[n++] = c->file_ids[i];
    }
  if (n > 0) rc = rm__files_format(paths, ids, n, &text, &len);
  if (rc == RM_OK && n > 0) {
    if (!r->journal.gen || compact) {
      /* A new generation, written from offset 0 (over whatever an older
       * session of this slot left under that name). */
      *old_gen = r->journal.gen;
      r->journal.gen++;
      r->journal.lines = r->journal.bytes = r->journal.unique = 0;
    }
    journal_name(name, sizeof name, slot, r->journal.gen);
    rc = rm__os_store_append(d, name, r->journal.bytes, text, len);
    if (rc == RM_OK) {
      r->journal.lines += n;
      r->journal.bytes += len;
      if (!r->journal.unique) r->journal.unique = n;
    }
  }
  if (rc != RM_OK) *old_gen = 0;
  free(text);
  free(paths);
  free(ids);
  return rc;
}

static uint32_t add_others(rm__record *r, reg_ctx *c) {
  unsigned i, kept = 0;
  uint32_t rc = dedup_strings(c->services, c->n_services, &r->services,
                              c->keep);
  for (i = 0; i < c->n_services && rc == RM_OK; i++)
    if (c->keep[i]) rc = rm__strv_push(&r->services, c->services[i]);
  if (rc == RM_OK)
    rc = dedup_procs(c->apps, c->n_apps, r->procs, r->n_procs, c->keep);
  for (i = 0; i < c->n_apps && rc == RM_OK; i++) kept += c->keep[i];
  if (rc == RM_OK && kept) {
    rm_unique_process *p = realloc(r->procs, (r->n_procs + kept) * sizeof *p);
    if (!p) return RM_ERROR_OUTOFMEMORY;
    r->procs = p;
    for (i = 0; i < c->n_apps; i++)
      if (c->keep[i]) r->procs[r->n_procs++] = c->apps[i];
  }
  return rc;
}

/* One registration under the lock: journal append (durable first), then
 * the record that commits it, in one atomic replace. */
static uint32_t register_locked(rm__handle *h, reg_ctx *c) {
  rm__dir *d;
  rm__record r;
  uint64_t old_gen = 0;
  uint32_t rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = rm__os_store_lock(d, lock_timeout());
  if (rc == RM_OK) {
    rc = read_slot(d, h->slot, h->key, &r, 0);
    if (rc == RM_ERROR_FILE_NOT_FOUND) rc = RM_ERROR_INVALID_HANDLE;
    if (rc == RM_OK) {
      rc = add_others(&r, c);
      if (rc == RM_OK && c->n_files) rc = add_files(d, h->slot, &r, c, &old_gen);
      if (rc == RM_OK) {
        r.sequence++;
        rc = write_slot(d, h->slot, &r);
      }
      if (rc == RM_OK && old_gen) {
        char name[64];
        journal_name(name, sizeof name, h->slot, old_gen);
        rm__os_store_remove(d, name);
      }
      rm__record_free(&r);
    }
    rm__os_store_unlock(d);
  }
  rm__os_store_close(d);
  return rc;
}

int rm__valid_service_name(const char *s) {
  size_t n, i;
  if (!s) return 0;
  n = strlen(s);
  if (n == 0 || n > RM_MAX_SVC_NAME || !rm__utf8_valid(s, n)) return 0;
  if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == '/' || s[i] == '\\') return 0;
  return 1;
}

int rm__valid_path(const char *s) {
  size_t n;
  if (!s) return 0;
  n = strlen(s);
  if (n == 0 || n > RM_PATH_MAX || !rm__utf8_valid(s, n)) return 0;
  return rm__os_path_absolute(s);
}

uint32_t rm_register_resources(uint32_t session_handle,
    unsigned n_files, const char *const file_names[],
    unsigned n_applications, const rm_unique_process applications[],
    unsigned n_services, const char *const service_names[]) {
  rm__handle *h;
  reg_ctx ctx;
  rm__file_id *ids;
  unsigned i, most;
  uint32_t rc;
  if (rm__native()) return rm__native()->register_resources(session_handle, n_files,
        file_names, n_applications, applications, n_services, service_names);
  rc = rm__enter(session_handle, 0, 0, &h);
  if (rc != RM_OK) return rc;
  if ((n_files && !file_names) || (n_applications && !applications) ||
      (n_services && !service_names)) {
    rm__leave(h, 0);
    return RM_ERROR_BAD_ARGUMENTS;
  }
  for (i = 0; i < n_files; i++)
    if (!rm__valid_path(file_names[i])) {
      rm__leave(h, 0);
      return RM_ERROR_BAD_ARGUMENTS;
    }
  for (i = 0; i < n_services; i++)
    if (!rm__valid_service_name(service_names[i])) {
      rm__leave(h, 0);
      return RM_ERROR_BAD_ARGUMENTS;
    }
  if (n_files + n_applications + n_services == 0) {
    /* A no-op, but a handle of an ended session still says so. */
    rm__record r;
    rc = rm__load(h, &r);
    if (rc == RM_OK) rm__record_free(&r);
    rm__leave(h, 0);
    return rc;
  }
  ctx.n_files = n_files;
  ctx.files = file_names;
  ctx.n_apps = n_applications;
  ctx.apps = applications;
  ctx.n_services = n_services;
  ctx.services = service_names;
  /* Each file's identity now, outside the lock: the scan also finds an
   * inode that was replaced later but lives on under another name. */
  ids = calloc(n_files ? n_files : 1, sizeof *ids);
  most = n_files > n_services ? n_files : n_services;
  if (n_applications > most) most = n_applications;
  ctx.keep = malloc((size_t)most + 1);
  if (!ids || !ctx.keep) {
    free(ids);
    free(ctx.keep);
    rm__leave(h, 0);
    return RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; i < n_files; i++)
    if (rm__os_file_id(file_names[i], &ids[i]) != RM_OK)
      ids[i].dev = ids[i].ino = 0;
  ctx.file_ids = ids;
  rc = register_locked(h, &ctx);
  free(ids);
  free(ctx.keep);
  rm__leave(h, 0);
  return rc;
}

/* }=====
 * {===== Small entry points */

uint32_t rm_store_path(char *path, size_t path_cap, uint32_t *skipped) {
  uint32_t dummy;
  if (!skipped) skipped = &dummy;
  *skipped = 0;
  if (!path || path_cap == 0) return RM_ERROR_BAD_ARGUMENTS;
  return rm__os_store_locate(path, path_cap, skipped);
}

uint32_t rm_get_process_identity(uint32_t pid, rm_unique_process *out) {
  if (!out) return RM_ERROR_BAD_ARGUMENTS;
  return rm__os_identity(pid, out);
}

uint32_t rm_set_timeouts(uint32_t session_handle, uint32_t app_timeout_ms,
                         uint32_t service_timeout_ms) {
  rm__handle *h;
  uint32_t rc;
  if (rm__native()) return rm__native()->set_timeouts(session_handle, app_timeout_ms,
        service_timeout_ms);
  rc = rm__enter(session_handle, 0, 0, &h);
  if (rc != RM_OK) return rc;
  rm__os_global_lock();
  h->app_timeout_ms = app_timeout_ms;
  h->service_timeout_ms = service_timeout_ms;
  rm__os_global_unlock();
  rm__leave(h, 0);
  return RM_OK;
}

unsigned rm__app_timeout(const rm__handle *h) {
  return h->app_timeout_ms ? h->app_timeout_ms
                           : rm__env_ms("RESTARTMGR_APP_TIMEOUT_MS",
                                        RM_APP_TIMEOUT_MS);
}

unsigned rm__service_timeout(const rm__handle *h) {
  return h->service_timeout_ms ? h->service_timeout_ms
                               : rm__env_ms("RESTARTMGR_SERVICE_TIMEOUT_MS",
                                            RM_SERVICE_TIMEOUT_MS);
}

/* }===== */
