/* SPDX-License-Identifier: MIT */
/*
 * tx_journal.c: the transaction's journal in the session store.
 *
 * One file per transaction, "tx.NN" (NN 00..63) in the caller's session
 * store, so it has the store's care: a directory only the owner can use,
 * files 0600 opened without following links, replaced atomically (temp
 * file, fsync, rename, fsync of the directory).  It is rewritten whole
 * before each step (tx.h, RM__TXJ_*), so a kill at any instant leaves the
 * last step complete.  The text form, one item per line, strings
 * percent-escaped after ':' as in the session record:
 *
 *   restartmgr-tx 1
 *   key :KEY
 *   owner PID START
 *   step N
 *   entry ACTION TYPE OUTCOME NEWDEV NEWINO OLDDEV OLDINO :TARGET :STAGED
 *         :BACKUP                        (OUTCOME 3: renamed at the next
 *                                         boot, Windows)
 *   app PID START TYPE STOPPED THROUGH_PID THROUGH_START :NAME :SERVICE
 *   launch UID GID NOTES EXEDEV EXEINO :CWD :EXE   (belongs to the app)
 *   group GID / arg :S / env :S                    (belong to the launch)
 *   end
 *
 * The parser trusts nothing: a staged or backup name must be a
 * ".NAME.rmtx-HEX" name in its target's own directory, so not even a
 * forged journal can make recovery rename or remove anything else.
 *
 * The transaction's messages and freeing are here too, below every
 * other tx file.
 */
#include "tx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TX_SLOTS RM__TX_SLOTS

/* {===== The transaction's own data: messages, freeing */

uint32_t rm__tx_fail(rm_tx *tx, uint32_t rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tx->msg, sizeof tx->msg, fmt, ap);
  va_end(ap);
  return rc;
}

const char *rm_tx_message(const rm_tx *tx) { return tx ? tx->msg : ""; }

void rm__tx_apps_free(rm__tx_app *v, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) rm__launch_free(&v[i].launch);
  free(v);
}

void rm__tx_clear(rm_tx *tx) {
  size_t i;
  for (i = 0; i < tx->n; i++) {
    free(tx->e[i].target);
    free(tx->e[i].staged);
    free(tx->e[i].backup);
  }
  free(tx->e);
  tx->e = NULL;
  tx->n = tx->cap = 0;
  rm__tx_apps_free(tx->apps, tx->n_apps);
  tx->apps = NULL;
  tx->n_apps = 0;
}

/* }===== */

void rm__txj_name(char *buf, size_t cap, unsigned slot) {
  snprintf(buf, cap, "tx.%02u", slot);
}

/* {===== Writing */

/* The launch's context (docs/linux.md, "Relaunch context"): "ctx NICE+20
 * UMASK NNP OOM+1000 PERSONALITY CAPBND CGDEV CGINO OUTDEV OUTINO ERRDEV
 * ERRINO :CGROUP :STDOUT :STDERR" (an empty string: none), then one
 * "lim CUR MAX" per resource in order. */
static void put_context(rm__outbuf *b, const rm__launch_ctx *x) {
  size_t k;
  rm__out_word(b, "ctx");
  rm__out_num(b, (unsigned long long)(x->nice + 20));
  rm__out_num(b, x->umask);
  rm__out_num(b, x->no_new_privs);
  rm__out_num(b, (unsigned long long)(x->oom_score_adj + 1000));
  rm__out_num(b, x->personality);
  rm__out_num(b, x->cap_bounding);
  rm__out_num(b, x->cgroup_id.dev);
  rm__out_num(b, x->cgroup_id.ino);
  for (k = 0; k < 2; k++) {
    rm__out_num(b, x->stdio_id[k].dev);
    rm__out_num(b, x->stdio_id[k].ino);
  }
  rm__out_str(b, x->cgroup);
  rm__out_str(b, x->stdio[0]);
  rm__out_str(b, x->stdio[1]);
  rm__out_word(b, "\n");
  for (k = 0; k < x->n_limits; k++) {
    rm__out_word(b, "lim");
    rm__out_num(b, x->limit_cur[k]);
    rm__out_num(b, x->limit_max[k]);
    rm__out_word(b, "\n");
  }
}

static uint32_t format(const rm_tx *tx, uint32_t step, rm__outbuf *b) {
  rm_unique_process self;
  size_t i, k;
  rm__os_self(&self);
  rm__out_word(b, "restartmgr-tx 1\nkey");
  rm__out_str(b, tx->key);
  rm__out_word(b, "\nowner");
  rm__out_num(b, self.pid);
  rm__out_num(b, self.start_time);
  rm__out_word(b, "\nstep");
  rm__out_num(b, step);
  rm__out_word(b, "\n");
  for (i = 0; i < tx->n; i++) {
    const rm__tx_entry *e = &tx->e[i];
    rm__out_word(b, "entry");
    rm__out_num(b, e->action);
    rm__out_num(b, e->type);
    rm__out_num(b,
                e->outcome == RM_TX_FILE_AT_REBOOT ? RM_TX_FILE_AT_REBOOT : 0);
    rm__out_num(b, e->new_id.dev);
    rm__out_num(b, e->new_id.ino);
    rm__out_num(b, e->old_id.dev);
    rm__out_num(b, e->old_id.ino);
    rm__out_str(b, e->target);
    rm__out_str(b, e->staged);
    rm__out_str(b, e->backup);
    rm__out_word(b, "\n");
  }
  for (i = 0; i < tx->n_apps; i++) {
    const rm__tx_app *a = &tx->apps[i];
    const rm__launch *l = &a->launch;
    rm__out_word(b, "app");
    rm__out_num(b, a->info.process.pid);
    rm__out_num(b, a->info.process.start_time);
    rm__out_num(b, (unsigned)a->info.app_type);
    rm__out_num(b, (unsigned)(a->stopped != 0));
    rm__out_num(b, a->through.pid);
    rm__out_num(b, a->through.start_time);
    rm__out_str(b, a->info.app_name);
    rm__out_str(b, a->info.service_short_name);
    rm__out_word(b, "\n");
    if (!l->argv) continue;
    rm__out_word(b, "launch");
    rm__out_num(b, l->uid);
    rm__out_num(b, l->gid);
    rm__out_num(b, l->notes);
    rm__out_num(b, l->exe_id.dev);
    rm__out_num(b, l->exe_id.ino);
    rm__out_str(b, l->cwd);
    rm__out_str(b, l->exe);
    rm__out_word(b, "\n");
    for (k = 0; k < l->n_groups; k++) {
      rm__out_word(b, "group");
      rm__out_num(b, l->groups[k]);
      rm__out_word(b, "\n");
    }
    if (l->ctx.captured) put_context(b, &l->ctx);
    for (k = 0; l->argv[k]; k++) {
      rm__out_word(b, "arg");
      rm__out_str(b, l->argv[k]);
      rm__out_word(b, "\n");
    }
    for (k = 0; l->envp && l->envp[k]; k++) {
      rm__out_word(b, "env");
      rm__out_str(b, l->envp[k]);
      rm__out_word(b, "\n");
    }
  }
  rm__out_word(b, "end\n");
  return b->oom ? RM_ERROR_OUTOFMEMORY : RM_OK;
}

/* RESTARTMGR_TX_KILL_AT: the crash test's hook. */
static unsigned writes_done;

static void maybe_die(void) {
  const char *at = rm__os_getenv("RESTARTMGR_TX_KILL_AT");
  if (at && *at && strtoul(at, NULL, 10) == ++writes_done) rm__os_tx_die();
}

static uint32_t store_put(const char *name, const char *data, size_t len,
                          int remove) {
  rm__dir *d;
  uint32_t rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = remove ? rm__os_store_remove(d, name)
              : rm__os_store_write(d, name, data, len);
  rm__os_store_close(d);
  return rc;
}

uint32_t rm__txj_write(rm_tx *tx, uint32_t step) {
  rm__outbuf b = { NULL, 0, 0, 0 };
  char name[16];
  uint32_t rc;
  if (tx->flags & RM_TX_DRY_RUN) return RM_OK;
  rc = format(tx, step, &b);
  rm__txj_name(name, sizeof name, tx->slot);
  if (rc == RM_OK) rc = store_put(name, b.p, b.n, 0);
  free(b.p);
  if (rc == RM_OK) {
    tx->step = step;
    maybe_die();
  }
  return rc;
}

uint32_t rm__txj_remove(rm_tx *tx) {
  char name[16];
  uint32_t rc;
  if (tx->flags & RM_TX_DRY_RUN) return RM_OK;
  rm__txj_name(name, sizeof name, tx->slot);
  rc = store_put(name, NULL, 0, 1);
  if (rc == RM_OK) maybe_die();
  return rc;
}

/* }=====
 * {===== Parsing */

/* " :ESCAPED" (rm__cur_str); with empty_null, "" gives NULL. */
static char *get_str(rm__cursor *c, int empty_null) {
  char *s = rm__cur_str(c);
  if (s && empty_null && !*s) {
    free(s);
    s = NULL;
  }
  return s;
}

/* A staged or backup name: ".SOMETHING.rmtx-HEX..." beside target. */
static int sibling_ok(const char *target, const char *name) {
  size_t bt, bn;
  if (!name) return 1;
  if (!rm__valid_path(name)) return 0;
  bt = rm__os_tx_base(target);
  bn = rm__os_tx_base(name);
  return bt == bn && memcmp(target, name, bt) == 0 && name[bn] == '.' &&
         strstr(name + bn, ".rmtx-") != NULL;
}

static int push_str(char ***v, size_t *n, char *s) {
  char **nv = realloc(*v, (*n + 2) * sizeof **v);
  if (!nv) return 0;
  nv[(*n)++] = s;
  nv[*n] = NULL;
  *v = nv;
  return 1;
}

uint32_t rm__txj_parse(const char *text, size_t len, rm_tx *tx,
                       rm_unique_process *owner) {
  rm__cursor c;
  char *key;
  size_t nargs = 0, nenv = 0;
  c.p = text;
  c.end = text + len;
  c.bad = 0;
  if (!rm__cur_word(&c, "restartmgr-tx") || rm__cur_num(&c, 0, 1) != 1)
    c.bad = 1;
  rm__cur_eol(&c);
  if (!c.bad && !rm__cur_word(&c, "key")) c.bad = 1;
  key = c.bad ? NULL : get_str(&c, 0);
  if (c.bad) {
    /* nothing */
  } else if (!key || strlen(key) != RM_SESSION_KEY_CHARS) c.bad = 1;
  else memcpy(tx->key, key, RM_SESSION_KEY_CHARS + 1);
  free(key);
  rm__cur_eol(&c);
  if (!c.bad && !rm__cur_word(&c, "owner")) c.bad = 1;
  owner->pid = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
  owner->start_time = rm__cur_num(&c, 0, ~0ull);
  rm__cur_eol(&c);
  if (!c.bad && !rm__cur_word(&c, "step")) c.bad = 1;
  tx->step = (uint32_t)rm__cur_num(&c, 0, RM__TXJ_ROLLBACK);
  if (tx->step == 0) c.bad = 1;
  rm__cur_eol(&c);
  while (!c.bad && c.p < c.end) {
    if (rm__cur_word(&c, "end")) {
      rm__cur_eol(&c);
      return c.bad || c.p != c.end ? RM_ERROR_WRITE_FAULT : RM_OK;
    } else if (rm__cur_word(&c, "entry")) {
      rm__tx_entry e, *ne;
      memset(&e, 0, sizeof e);
      e.action = (uint32_t)rm__cur_num(&c, 0, RM_TX_ACTION_REMOVE);
      e.type = (uint32_t)rm__cur_num(&c, 0, RM__TX_LINK);
      e.outcome = (uint32_t)rm__cur_num(&c, 0, RM_TX_FILE_AT_REBOOT);
      e.new_id.dev = rm__cur_num(&c, 0, ~0ull);
      e.new_id.ino = rm__cur_num(&c, 0, ~0ull);
      e.old_id.dev = rm__cur_num(&c, 0, ~0ull);
      e.old_id.ino = rm__cur_num(&c, 0, ~0ull);
      e.target = get_str(&c, 0);
      e.staged = get_str(&c, 1);
      e.backup = get_str(&c, 1);
      if (!c.bad && (!e.action || !e.type || !rm__valid_path(e.target) ||
                     !sibling_ok(e.target, e.staged) ||
                     !sibling_ok(e.target, e.backup)))
        c.bad = 1;
      if (!c.bad && tx->n == tx->cap) {
        size_t cap = tx->cap ? tx->cap * 2 : 16;
        ne = realloc(tx->e, cap * sizeof *ne);
        if (!ne) c.bad = 1;
        else {
          tx->e = ne;
          tx->cap = cap;
        }
      }
      if (c.bad) {
        free(e.target);
        free(e.staged);
        free(e.backup);
      } else {
        tx->e[tx->n++] = e;
      }
    } else if (rm__cur_word(&c, "app")) {
      rm__tx_app *na = realloc(tx->apps, (tx->n_apps + 1) * sizeof *na), *a;
      char *name, *svc;
      if (!na) return RM_ERROR_OUTOFMEMORY;
      tx->apps = na;
      a = &tx->apps[tx->n_apps++];
      memset(a, 0, sizeof *a);
      a->info.process.pid = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
      a->info.process.start_time = rm__cur_num(&c, 0, ~0ull);
      a->info.app_type = (rm_app_type)rm__cur_num(&c, 0, RM_APP_CONSOLE);
      a->stopped = (int)rm__cur_num(&c, 0, 1);
      a->through.pid = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
      a->through.start_time = rm__cur_num(&c, 0, ~0ull);
      name = get_str(&c, 0);
      svc = get_str(&c, 0);
      if (!c.bad) {
        if (strlen(name) > RM_MAX_APP_NAME || strlen(svc) > RM_MAX_SVC_NAME)
          c.bad = 1;
        else {
          strcpy(a->info.app_name, name);
          strcpy(a->info.service_short_name, svc);
        }
      }
      free(name);
      free(svc);
      nargs = nenv = 0;
    } else if (rm__cur_word(&c, "launch")) {
      rm__launch *l;
      if (!tx->n_apps || tx->apps[tx->n_apps - 1].launch.cwd) {
        c.bad = 1;
        break;
      }
      l = &tx->apps[tx->n_apps - 1].launch;
      l->uid = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
      l->gid = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
      l->notes = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
      l->exe_id.dev = rm__cur_num(&c, 0, ~0ull);
      l->exe_id.ino = rm__cur_num(&c, 0, ~0ull);
      l->cwd = get_str(&c, 0);
      l->exe = get_str(&c, 1);
      if (!c.bad && (!rm__valid_path(l->cwd) ||
                     (l->exe && !rm__valid_path(l->exe))))
        c.bad = 1;
    } else if (rm__cur_word(&c, "ctx")) {
      rm__launch_ctx *x = tx->n_apps ? &tx->apps[tx->n_apps - 1].launch.ctx
                                     : NULL;
      size_t k;
      if (!x || !tx->apps[tx->n_apps - 1].launch.cwd || x->captured) {
        c.bad = 1;
        break;
      }
      x->captured = 1;
      x->nice = (int32_t)rm__cur_num(&c, 0, 39) - 20;
      x->umask = (uint32_t)rm__cur_num(&c, 0, 0777);
      x->no_new_privs = (uint32_t)rm__cur_num(&c, 0, 1);
      x->oom_score_adj = (int32_t)rm__cur_num(&c, 0, 2000) - 1000;
      x->personality = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
      x->cap_bounding = rm__cur_num(&c, 0, ~0ull);
      x->cgroup_id.dev = rm__cur_num(&c, 0, ~0ull);
      x->cgroup_id.ino = rm__cur_num(&c, 0, ~0ull);
      for (k = 0; k < 2; k++) {
        x->stdio_id[k].dev = rm__cur_num(&c, 0, ~0ull);
        x->stdio_id[k].ino = rm__cur_num(&c, 0, ~0ull);
      }
      x->cgroup = get_str(&c, 1);
      x->stdio[0] = get_str(&c, 1);
      x->stdio[1] = get_str(&c, 1);
      if (!c.bad && ((x->cgroup && x->cgroup[0] != '/') ||
                     (x->stdio[0] && x->stdio[0][0] != '/') ||
                     (x->stdio[1] && x->stdio[1][0] != '/')))
        c.bad = 1;
    } else if (rm__cur_word(&c, "lim")) {
      rm__launch_ctx *x = tx->n_apps ? &tx->apps[tx->n_apps - 1].launch.ctx
                                     : NULL;
      if (!x || !x->captured || x->n_limits >= RM_LAUNCH_LIMITS) {
        c.bad = 1;
        break;
      }
      x->limit_cur[x->n_limits] = rm__cur_num(&c, 0, ~0ull);
      x->limit_max[x->n_limits] = rm__cur_num(&c, 0, ~0ull);
      if (x->limit_cur[x->n_limits] > x->limit_max[x->n_limits]) c.bad = 1;
      x->n_limits++;
    } else if (rm__cur_word(&c, "group") || rm__cur_word(&c, "arg") ||
               rm__cur_word(&c, "env")) {
      /* c.p is past the word; look back to tell which. */
      rm__launch *l = tx->n_apps ? &tx->apps[tx->n_apps - 1].launch : NULL;
      char kind = c.p[-1];              /* 'p' group, 'g' arg, 'v' env */
      if (!l || !l->cwd) {
        c.bad = 1;
        break;
      }
      if (kind == 'p') {
        uint32_t *ng = realloc(l->groups, (l->n_groups + 1) * sizeof *ng);
        if (!ng) return RM_ERROR_OUTOFMEMORY;
        l->groups = ng;
        l->groups[l->n_groups++] = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFu);
      } else {
        char *s = get_str(&c, 0);
        if (s && !push_str(kind == 'g' ? &l->argv : &l->envp,
                           kind == 'g' ? &nargs : &nenv, s)) {
          free(s);
          return RM_ERROR_OUTOFMEMORY;
        }
      }
    } else {
      c.bad = 1;
      break;
    }
    rm__cur_eol(&c);
  }
  return RM_ERROR_WRITE_FAULT;
}

/* }=====
 * {===== Slots */

uint32_t rm__txj_read(rm__dir *d, unsigned i, rm_tx *out,
                     rm_unique_process *owner) {
  char name[16], *text = NULL;
  size_t len = 0;
  uint32_t rc;
  rm__txj_name(name, sizeof name, i);
  rc = rm__os_store_read(d, name, &text, &len);
  if (rc != RM_OK) return rc;
  memset(out, 0, sizeof *out);
  out->slot = i;
  rc = rm__txj_parse(text, len, out, owner);
  free(text);
  if (rc != RM_OK) rm__tx_clear(out);
  return rc;
}

uint32_t rm__txj_claim(rm_tx *tx) {
  rm__dir *d;
  unsigned i, free_slot = TX_SLOTS;
  uint32_t rc;
  if (tx->flags & RM_TX_DRY_RUN) return RM_OK;
  rc = rm__store_open_locked(&d);
  if (rc != RM_OK) return rc;
  for (i = 0; i < TX_SLOTS && rc == RM_OK; i++) {
    rm_tx other;
    rm_unique_process owner;
    uint32_t got = rm__txj_read(d, i, &other, &owner);
    if (got == RM_ERROR_FILE_NOT_FOUND) {
      if (free_slot == TX_SLOTS) free_slot = i;
      continue;
    }
    if (got == RM_OK && strcmp(other.key, tx->key) == 0)
      rc = rm__tx_fail(tx, RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
                       "session %s already has a transaction (journal "
                       "tx.%02u)", tx->key, i);
    if (got == RM_OK) rm__tx_clear(&other);
  }
  if (rc == RM_OK && free_slot == TX_SLOTS)
    rc = rm__tx_fail(tx, RM_ERROR_MAX_SESSIONS_REACHED,
                     "64 transactions already have journals in the store");
  if (rc == RM_OK) {
    tx->slot = free_slot;
    rc = rm__txj_write(tx, RM__TXJ_STAGING);
  }
  rm__os_store_unlock(d);
  rm__os_store_close(d);
  return rc;
}

uint32_t rm__txj_check_free(rm_tx *tx, const char *path) {
  rm__dir *d;
  unsigned i;
  uint32_t rc = RM_OK;
  if (rm__os_store_open(&d) != RM_OK) return RM_OK;   /* begin wrote one */
  for (i = 0; i < TX_SLOTS && rc == RM_OK; i++) {
    rm_tx other;
    rm_unique_process owner;
    size_t k;
    if ((!(tx->flags & RM_TX_DRY_RUN) && i == tx->slot) ||
        rm__txj_read(d, i, &other, &owner) != RM_OK)
      continue;
    for (k = 0; k < other.n && rc == RM_OK; k++)
      if (strcmp(other.e[k].target, path) == 0)
        rc = rm__tx_fail(
            tx, RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
            rm__os_alive(&owner)
                ? "%s is a target of the transaction of pid %lu (journal "
                  "tx.%02u), still running"
                : "%s is a target of an unfinished transaction of pid %lu, "
                  "which died (journal tx.%02u): run rm_tx_recover "
                  "(`restartmgr recover`) first",
            path, (unsigned long)owner.pid, i);
    rm__tx_clear(&other);
  }
  rm__os_store_close(d);
  return rc;
}

/* }===== */
