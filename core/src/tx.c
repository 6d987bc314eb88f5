/* SPDX-License-Identifier: MIT */
/*
 * tx.c: rm_tx_begin, staging, rm_tx_rollback before a commit, rm_tx_end.
 *
 * Staging decides everything that can fail before anything is stopped:
 * every path is checked (absolute, UTF-8, not a target of another
 * transaction, in a directory no other user can write, of the kind the
 * action needs), the names are chosen and written to the journal, and
 * only then are the staged copies made.  A failure removes what the call
 * made and leaves the transaction as it was before the call.  Names are
 * ".BASE.rmtx-RANDOM" beside the target (".BASE.rmtx-RANDOM.old" for a
 * backup), 48 bits from the OS CSPRNG: no one can have taken them, and
 * the copy refuses one that exists anyway (docs/transaction.md,
 * "Hostile users").
 */
#include "tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t rm_tx_begin(uint32_t session_handle, uint32_t flags, rm_tx **out) {
  rm__handle *h;
  rm_tx *tx;
  uint32_t rc;
  if (!out || (flags & ~RM_TX_DRY_RUN)) return RM_ERROR_BAD_ARGUMENTS;
  rc = rm__enter(session_handle, 1, 0, &h);
  if (rc != RM_OK) return rc;
  tx = calloc(1, sizeof *tx);
  if (!tx) {
    rm__leave(h, 0);
    return RM_ERROR_OUTOFMEMORY;
  }
  tx->session = session_handle;
  tx->flags = flags;
  memcpy(tx->key, h->key, sizeof tx->key);
  rm__leave(h, 0);
  rc = rm__txj_claim(tx);
  if (rc != RM_OK) {
    free(tx);
    return rc;
  }
  *out = tx;
  return RM_OK;
}

/* {===== Plans: what one staging call stages */

typedef struct plan_item {
  uint32_t action, type;
  char *target, *source;        /* owned */
  const void *data;             /* rm_tx_replace_data */
  size_t len;
  int has_data;
} plan_item;

typedef struct plan {
  plan_item *v;
  size_t n, cap;
} plan;

static void plan_free(plan *p) {
  size_t i;
  for (i = 0; i < p->n; i++) {
    free(p->v[i].target);
    free(p->v[i].source);
  }
  free(p->v);
}

static uint32_t plan_add(plan *p, uint32_t action, uint32_t type,
                         const char *target, const char *source) {
  plan_item *it;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    plan_item *v = realloc(p->v, cap * sizeof *v);
    if (!v) return RM_ERROR_OUTOFMEMORY;
    p->v = v;
    p->cap = cap;
  }
  it = &p->v[p->n];
  memset(it, 0, sizeof *it);
  it->action = action;
  it->type = type;
  it->target = rm__strdup(target);
  it->source = source ? rm__strdup(source) : NULL;
  if (!it->target || (source && !it->source)) {
    free(it->target);
    free(it->source);
    return RM_ERROR_OUTOFMEMORY;
  }
  p->n++;
  return RM_OK;
}

/* A fresh name beside target: ".BASE.rmtx-RANDOM" plus suffix. */
static char *sibling(const char *target, const char *suffix) {
  size_t b = rm__os_tx_base(target), base_len = strlen(target + b);
  unsigned char r[6];
  char *p;
  if (base_len > 200) base_len = 200;
  if (rm__os_random(r, sizeof r) != RM_OK) return NULL;
  p = malloc(b + base_len + 40);
  if (!p) return NULL;
  memcpy(p, target, b);
  p[b] = '.';
  memcpy(p + b + 1, target + b, base_len);
  snprintf(p + b + 1 + base_len, 40, ".rmtx-%02x%02x%02x%02x%02x%02x%s", r[0],
           r[1], r[2], r[3], r[4], r[5], suffix);
  return p;
}

static const char *kind_name(uint32_t t) {
  return t == RM__TX_DIR ? "a directory" : t == RM__TX_LINK ? "a link"
         : t == RM__TX_FILE ? "a file" : t == RM__TX_NONE ? "missing"
         : "a FIFO, device or socket";
}

/* }=====
 * {===== Checks */

static uint32_t check_path(rm_tx *tx, const char *what, const char *p) {
  if (!p || !rm__valid_path(p) || !rm__os_path_absolute(p) ||
      !p[rm__os_tx_base(p)])
    return rm__tx_fail(tx, RM_ERROR_BAD_ARGUMENTS,
                       "%s is not an absolute UTF-8 path of at most %d bytes",
                       what, RM_PATH_MAX);
  return RM_OK;
}

/* Everything about one item that can be known before writing. */
static uint32_t check_item(rm_tx *tx, plan_item *it) {
  uint32_t tt, st = RM__TX_FILE, rc;
  rm__file_id id;
  int err = 0;
  size_t i, b = rm__os_tx_base(it->target);
  char dir[RM_PATH_MAX + 1];

  for (i = 0; i < tx->n; i++)
    if (strcmp(tx->e[i].target, it->target) == 0)
      return rm__tx_fail(tx, RM_ERROR_BAD_ARGUMENTS,
                         "%s is already staged in this transaction",
                         it->target);
  rc = rm__txj_check_free(tx, it->target);
  if (rc != RM_OK) return rc;
  memcpy(dir, it->target, b);
  dir[b > 1 ? b - 1 : 1] = 0;
  rc = rm__os_tx_dir_safe(dir, &err);
  if (rc != RM_OK)
    return rm__tx_fail(tx, rc, "%s: %s%s", dir, rm__os_tx_strerror(err),
                       rc == RM_ERROR_ACCESS_DENIED
                           ? " (the directory must be the caller's or "
                             "root's and not writable by other users)" : "");
  if (rm__os_tx_lstat(it->target, &tt, &id, &err) != RM_OK)
    return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED, "%s: %s", it->target,
                       rm__os_tx_strerror(err));
  if (it->source) {
    rm__file_id sid;
    if (rm__os_tx_lstat(it->source, &st, &sid, &err) != RM_OK)
      return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED, "%s: %s", it->source,
                         rm__os_tx_strerror(err));
    if (st == RM__TX_NONE)
      return rm__tx_fail(tx, RM_ERROR_FILE_NOT_FOUND, "%s: no such file",
                         it->source);
    if (st == RM__TX_OTHER)
      return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                         "%s is a FIFO, device or socket, not staged",
                         it->source);
  }
  switch (it->action) {
  case RM_TX_ACTION_REPLACE:
    if (tt == RM__TX_NONE)
      return rm__tx_fail(tx, RM_ERROR_FILE_NOT_FOUND,
                         "%s: no such file to replace", it->target);
    if (tt != RM__TX_FILE && tt != RM__TX_LINK)
      return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                         "%s is %s: a directory in the way", it->target,
                         kind_name(tt));
    if (st == RM__TX_DIR)
      return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                         "%s is a directory, %s is %s", it->source,
                         it->target, kind_name(tt));
    break;
  case RM_TX_ACTION_ADD:
    if (tt != RM__TX_NONE)
      return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                         "%s exists (%s): not added over", it->target,
                         kind_name(tt));
    break;
  default:
    if (tt == RM__TX_NONE)
      return rm__tx_fail(tx, RM_ERROR_FILE_NOT_FOUND,
                         "%s: no such file to remove", it->target);
    if (tt == RM__TX_OTHER)
      return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                         "%s is a FIFO, device or socket, not removed",
                         it->target);
    st = tt;
    break;
  }
  it->type = st;
  return RM_OK;
}

/* }=====
 * {===== Staging a plan */

static void drop_from(rm_tx *tx, size_t first) {
  size_t i;
  for (i = first; i < tx->n; i++) {
    if (!(tx->flags & RM_TX_DRY_RUN)) rm__tx_drop_staged(&tx->e[i], NULL);
    free(tx->e[i].target);
    free(tx->e[i].staged);
    free(tx->e[i].backup);
  }
  tx->n = first;
}

static uint32_t stage_plan(rm_tx *tx, plan *p, uint32_t flags) {
  size_t i, first = tx->n;
  uint32_t rc = RM_OK;
  int err = 0;

  for (i = 0; i < p->n && rc == RM_OK; i++) rc = check_item(tx, &p->v[i]);
  if (rc != RM_OK) return rc;
  if (tx->n + p->n > tx->cap) {
    size_t cap = tx->cap ? tx->cap : 16;
    rm__tx_entry *v;
    while (cap < tx->n + p->n) cap *= 2;
    v = realloc(tx->e, cap * sizeof *v);
    if (!v) return RM_ERROR_OUTOFMEMORY;
    tx->e = v;
    tx->cap = cap;
  }
  for (i = 0; i < p->n; i++) {
    plan_item *it = &p->v[i];
    rm__tx_entry *e = &tx->e[tx->n];
    memset(e, 0, sizeof *e);
    e->action = it->action;
    e->type = it->type;
    e->target = it->target;
    it->target = NULL;
    if (it->action != RM_TX_ACTION_REMOVE) e->staged = sibling(e->target, "");
    if (it->action != RM_TX_ACTION_ADD) e->backup = sibling(e->target, ".old");
    tx->n++;
    if ((it->action != RM_TX_ACTION_REMOVE && !e->staged) ||
        (it->action != RM_TX_ACTION_ADD && !e->backup)) {
      drop_from(tx, first);
      return RM_ERROR_OUTOFMEMORY;
    }
    {
      uint32_t now_type;
      if (rm__os_tx_lstat(e->target, &now_type, &e->old_id, &err) != RM_OK) {
        drop_from(tx, first);
        return rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED, "%s: %s", e->target,
                           rm__os_tx_strerror(err));
      }
      if (it->action == RM_TX_ACTION_REMOVE) e->type = now_type;
    }
  }
  /* The names are in the journal before any of them exists. */
  rc = rm__txj_write(tx, RM__TXJ_STAGING);
  if (rc != RM_OK) {
    drop_from(tx, first);
    return rm__tx_fail(tx, rc, "the journal could not be written");
  }
  if (tx->flags & RM_TX_DRY_RUN) return RM_OK;
  for (i = 0; i < p->n && rc == RM_OK; i++) {
    plan_item *it = &p->v[i];
    rm__tx_entry *e = &tx->e[first + i];
    const char *meta = (flags & RM_TX_METADATA_FROM_SOURCE) ? it->source
                       : it->action == RM_TX_ACTION_REPLACE ? e->target
                       : NULL;
    char *culprit = NULL;
    if (it->action == RM_TX_ACTION_REMOVE) continue;
    rc = rm__os_tx_copy(e->staged, it->source, it->data, it->len, meta,
                        &e->new_id, &err, &culprit);
    if (rc != RM_OK)
      rm__tx_fail(tx, rc, "staging %s: %s (%s)", e->target,
                  rm__os_tx_strerror(err), culprit ? culprit : e->staged);
    free(culprit);
  }
  if (rc == RM_OK) rc = rm__txj_write(tx, RM__TXJ_STAGING);   /* the ids */
  if (rc != RM_OK) {
    char keep[sizeof tx->msg];
    memcpy(keep, tx->msg, sizeof keep);
    drop_from(tx, first);
    (void)rm__txj_write(tx, RM__TXJ_STAGING);
    memcpy(tx->msg, keep, sizeof keep);
  }
  return rc;
}

static uint32_t stage_one(rm_tx *tx, uint32_t action, const char *target,
                          const char *source, const void *data, size_t len,
                          int has_data, uint32_t flags) {
  plan p = { NULL, 0, 0 };
  uint32_t rc;
  if (!tx) return RM_ERROR_BAD_ARGUMENTS;
  tx->msg[0] = 0;
  if (tx->done)
    return rm__tx_fail(tx, RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
                       "the transaction was committed or rolled back");
  if (flags & ~RM_TX_METADATA_FROM_SOURCE)
    return rm__tx_fail(tx, RM_ERROR_BAD_ARGUMENTS, "unknown flags 0x%x",
                       (unsigned)flags);
  if (has_data && !data && len)
    return rm__tx_fail(tx, RM_ERROR_BAD_ARGUMENTS, "data is NULL");
  rc = check_path(tx, "target", target);
  if (rc == RM_OK && action != RM_TX_ACTION_REMOVE && !has_data)
    rc = check_path(tx, "source", source);
  if (rc == RM_OK) rc = plan_add(&p, action, RM__TX_FILE, target,
                                 has_data ? NULL : source);
  if (rc == RM_OK && has_data) {
    p.v[0].data = data ? data : "";
    p.v[0].len = len;
    p.v[0].has_data = 1;
  }
  if (rc == RM_OK) rc = stage_plan(tx, &p, flags);
  plan_free(&p);
  return rc;
}

uint32_t rm_tx_replace(rm_tx *tx, const char *target, const char *source,
                       uint32_t flags) {
  return stage_one(tx, RM_TX_ACTION_REPLACE, target, source, NULL, 0, 0,
                   flags);
}

uint32_t rm_tx_replace_data(rm_tx *tx, const char *target, const void *data,
                            size_t len, uint32_t flags) {
  return stage_one(tx, RM_TX_ACTION_REPLACE, target, NULL, data, len, 1,
                   flags);
}

uint32_t rm_tx_add(rm_tx *tx, const char *target, const char *source,
                   uint32_t flags) {
  return stage_one(tx, RM_TX_ACTION_ADD, target, source, NULL, 0, 0, flags);
}

uint32_t rm_tx_remove(rm_tx *tx, const char *target) {
  return stage_one(tx, RM_TX_ACTION_REMOVE, target, NULL, NULL, 0, 0, 0);
}

/* }=====
 * {===== Trees */

static int has_name(const rm__strv *v, const char *name) {
  size_t i;
  for (i = 0; i < v->n; i++)
    if (strcmp(v->v[i], name) == 0) return 1;
  return 0;
}

/* Plans dest ← src, one directory level, recursing into shared
 * directories. */
static uint32_t plan_tree(rm_tx *tx, plan *p, const char *dest,
                          const char *src, uint32_t flags, int depth) {
  rm__strv names = { NULL, 0, 0 }, have = { NULL, 0, 0 };
  uint32_t rc;
  size_t i;
  int err = 0;
  if (depth > 64)
    return rm__tx_fail(tx, RM_ERROR_BAD_ARGUMENTS, "%s: nested too deep",
                       src);
  rc = rm__os_tx_list(src, &names, &err);
  if (rc == RM_OK) rc = rm__os_tx_list(dest, &have, &err);
  if (rc != RM_OK) {
    rm__strv_free(&names);
    rm__strv_free(&have);
    return rm__tx_fail(tx, rc, "listing %s or %s: %s", src, dest,
                       rm__os_tx_strerror(err));
  }
  for (i = 0; i < names.n && rc == RM_OK; i++) {
    char *s = rm__path_join(src, names.v[i]), *d = rm__path_join(dest, names.v[i]);
    uint32_t st = 0, dt = 0;
    rm__file_id id;
    if (!s || !d) rc = RM_ERROR_OUTOFMEMORY;
    else if (rm__os_tx_lstat(s, &st, &id, &err) != RM_OK ||
             rm__os_tx_lstat(d, &dt, &id, &err) != RM_OK)
      rc = rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED, "%s: %s", s,
                       rm__os_tx_strerror(err));
    else if (st == RM__TX_OTHER)
      rc = rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                       "%s is a FIFO, device or socket, not staged", s);
    else if (dt == RM__TX_NONE)
      rc = plan_add(p, RM_TX_ACTION_ADD, st, d, s);
    else if (st == RM__TX_DIR && dt == RM__TX_DIR)
      rc = plan_tree(tx, p, d, s, flags, depth + 1);
    else if (st == RM__TX_DIR || dt == RM__TX_DIR || dt == RM__TX_OTHER)
      rc = rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                       "%s is %s but %s is %s: a directory in the way", d,
                       kind_name(dt), s, kind_name(st));
    else if (!rm__os_tx_same(d, s))
      rc = plan_add(p, RM_TX_ACTION_REPLACE, st, d, s);
    free(s);
    free(d);
  }
  for (i = 0; i < have.n && rc == RM_OK && (flags & RM_TX_REMOVE_MISSING);
       i++) {
    char *d;
    if (has_name(&names, have.v[i]) || strstr(have.v[i], ".rmtx-")) continue;
    d = rm__path_join(dest, have.v[i]);
    rc = d ? plan_add(p, RM_TX_ACTION_REMOVE, RM__TX_FILE, d, NULL)
           : RM_ERROR_OUTOFMEMORY;
    free(d);
  }
  rm__strv_free(&names);
  rm__strv_free(&have);
  return rc;
}

uint32_t rm_tx_tree(rm_tx *tx, const char *dest, const char *src,
                    uint32_t flags, unsigned *staged) {
  plan p = { NULL, 0, 0 };
  uint32_t rc, dt = 0, st = 0;
  rm__file_id id;
  int err = 0;
  if (!tx) return RM_ERROR_BAD_ARGUMENTS;
  tx->msg[0] = 0;
  if (staged) *staged = 0;
  if (tx->done)
    return rm__tx_fail(tx, RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
                       "the transaction was committed or rolled back");
  if (flags & ~(RM_TX_METADATA_FROM_SOURCE | RM_TX_REMOVE_MISSING))
    return rm__tx_fail(tx, RM_ERROR_BAD_ARGUMENTS, "unknown flags 0x%x",
                       (unsigned)flags);
  rc = check_path(tx, "dest", dest);
  if (rc == RM_OK) rc = check_path(tx, "src", src);
  if (rc != RM_OK) return rc;
  if (rm__os_tx_lstat(dest, &dt, &id, &err) != RM_OK || dt != RM__TX_DIR)
    return rm__tx_fail(tx, dt == RM__TX_NONE ? RM_ERROR_FILE_NOT_FOUND
                                             : RM_ERROR_ACCESS_DENIED,
                       "%s is %s, not a directory", dest, kind_name(dt));
  if (rm__os_tx_lstat(src, &st, &id, &err) != RM_OK || st != RM__TX_DIR)
    return rm__tx_fail(tx, st == RM__TX_NONE ? RM_ERROR_FILE_NOT_FOUND
                                             : RM_ERROR_ACCESS_DENIED,
                       "%s is %s, not a directory", src, kind_name(st));
  rc = plan_tree(tx, &p, dest, src, flags, 0);
  if (rc == RM_OK) rc = stage_plan(tx, &p, flags & RM_TX_METADATA_FROM_SOURCE);
  if (rc == RM_OK && staged) *staged = (unsigned)p.n;
  plan_free(&p);
  return rc;
}

/* }=====
 * {===== Rollback before commit, end */

uint32_t rm_tx_rollback(rm_tx *tx) {
  uint32_t rc;
  if (!tx) return RM_ERROR_BAD_ARGUMENTS;
  if (tx->committed)
    return rm__tx_fail(tx, RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
                       "the transaction was committed");
  if (tx->done) return RM_OK;
  if (!(tx->flags & RM_TX_DRY_RUN)) {
    size_t i;
    for (i = 0; i < tx->n; i++) rm__tx_drop_staged(&tx->e[i], NULL);
  }
  rc = rm__txj_remove(tx);
  if (rc != RM_OK)
    return rm__tx_fail(tx, RM_ERROR_WRITE_FAULT,
                       "the journal tx.%02u could not be removed", tx->slot);
  tx->done = 1;
  return RM_OK;
}

uint32_t rm_tx_end(rm_tx *tx) {
  uint32_t rc = RM_OK;
  if (!tx) return RM_OK;
  if (!tx->done) rc = rm_tx_rollback(tx);
  rm__tx_clear(tx);
  free(tx);
  return rc;
}

/* }===== */
