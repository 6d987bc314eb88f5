/* SPDX-License-Identifier: MIT */
/*
 * session.c: handles, roles, and the store operations of a session
 * (registration, with its deduplication and file journal: register.c).
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

unsigned rm__lock_timeout(void) {
  return rm__env_ms("RESTARTMGR_LOCK_TIMEOUT_MS", RM_LOCK_TIMEOUT_MS);
}

uint32_t rm__store_open_locked(rm__dir **d) {
  uint32_t rc = rm__os_store_open(d);
  if (rc != RM_OK) return rc;
  rc = rm__os_store_lock(*d, rm__lock_timeout());
  if (rc != RM_OK) rm__os_store_close(*d);
  return rc;
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

void rm__journal_name(char *buf, size_t cap, unsigned slot, uint64_t gen) {
  snprintf(buf, cap, "session.%02u.files.%llu", slot, (unsigned long long)gen);
}

/* Reads the committed files of r's journal into r. */
uint32_t rm__read_files(rm__dir *d, unsigned slot, rm__record *r) {
  char name[64], *text;
  size_t len;
  uint32_t rc;
  if (!r->journal.gen) return RM_OK;
  rm__journal_name(name, sizeof name, slot, r->journal.gen);
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
uint32_t rm__read_slot(rm__dir *d, unsigned slot, const char *key,
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
    rc = rm__read_files(d, slot, r);
    if (rc == RM_OK) return RM_OK;
    rm__record_free(r);
    if (rc != RM_ERROR_FILE_NOT_FOUND) return rc;
    if (attempt == 3) return RM_ERROR_WRITE_FAULT;
  }
}

uint32_t rm__write_slot(rm__dir *d, unsigned slot, const rm__record *r) {
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
      rm__journal_name(name, sizeof name, slot, r.journal.gen);
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
  rc = rm__read_slot(d, h->slot, h->key, out, 1);
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
  rc = rm__os_store_lock(d, rm__lock_timeout());
  if (rc == RM_OK) {
    rc = rm__read_slot(d, h->slot, h->key, &r, 0);
    if (rc == RM_ERROR_FILE_NOT_FOUND) rc = RM_ERROR_INVALID_HANDLE;
    if (rc == RM_OK) {
      uint64_t journal = r.journal.gen;
      rc = fn(d, h->slot, &r, ctx);
      if (rc == RM_OK) {
        r.sequence++;
        rc = rm__write_slot(d, h->slot, &r);
      }
      if (rc == RM_OK && journal && journal != r.journal.gen) {
        char name[64];
        rm__journal_name(name, sizeof name, h->slot, journal);
        rm__os_store_remove(d, name);
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

  rc = rm__store_open_locked(&d);
  if (rc != RM_OK) return rc;
  /* The first slot that is free, ended, abandoned or unreadable is ours;
   * live sessions keep theirs. */
  rc = RM_OK;
  for (slot = 0; slot < RM_MAX_SESSIONS && rc == RM_OK; slot++) {
    uint32_t got = rm__read_slot(d, slot, NULL, &r, 0);
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
    rc = rm__write_slot(d, free_slot, &r);
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
      if (rm__os_store_lock(d, rm__lock_timeout()) == RM_OK) {
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
    uint32_t got = rm__read_slot(d, slot, key, &r, 0);
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
      rc = rm__os_store_lock(d, rm__lock_timeout());
      if (rc == RM_OK) {
        rm__record r;
        uint32_t got = rm__read_slot(d, h->slot, h->key, &r, 0);
        if (got == RM_OK) {
          char name[64];
          slot_name(name, sizeof name, h->slot);
          rc = rm__os_store_remove(d, name);
          if (rc == RM_OK && r.journal.gen) {
            rm__journal_name(name, sizeof name, h->slot, r.journal.gen);
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
    rm__kept_free(h->kept);
    h->kept = NULL;
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
