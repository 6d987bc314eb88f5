/* SPDX-License-Identifier: MIT */
/*
 * store.c: a session record and its text form in the store.
 *
 * One file per session slot ("session.NN"), and the registered files of
 * that session in a journal beside it ("session.NN.files.GEN").
 * Line-based, one item per line, strings percent-escaped after a ':' so
 * that paths with spaces, newlines or any byte survive, and the empty
 * string is ":".
 *
 *   restartmgr-session 2
 *   key 0123456789abcdef0123456789abcdef
 *   owner PID START
 *   sequence N
 *   shutdown 0|1
 *   files GEN LINES BYTES UNIQUE     (when files are registered: the
 *                                     journal's generation, its committed
 *                                     lines and bytes, and how many
 *                                     distinct paths it had when last
 *                                     compacted)
 *   proc PID START
 *   service :ESCAPED
 *   filter ACTION TRIGGER PID START :ESCAPED
 *   acted PID START TYPE STATUS SESSION RESTARTABLE ORDER REASONS :NAME :SVC
 *   restart FAILURE ERROR NOTES THROUGH_PID THROUGH_START
 *                                    (optional; belongs to the acted line)
 *   launch UID GID :CWD              (belongs to the acted line above)
 *   exe DEV INO NOTES :PATH          (optional; belongs to the launch)
 *   group GID                        (one per supplementary group; likewise)
 *   context NICE+20 UMASK NNP OOM+1000 PERSONALITY CAPBND
 *                                    (the launch's context, at most one;
 *                                     a launch without it is not started)
 *   limit RESOURCE CUR MAX 0         (after context, in resource order)
 *   cgroup DEV INO :PATH             (after context; optional)
 *   stdio FD DEV INO 0 :PATH         (after context; FD 1 or 2, optional)
 *   arg :ESCAPED / env :ESCAPED      (likewise)
 *   end
 *
 * The journal holds one line per registered file,
 *
 *   file DEV INO :ESCAPED [VIEW]     (with the identity it had when
 *                                     registered; 0 0 when it did not
 *                                     exist; VIEW, 1 to 2^32-1, the
 *                                     registrant's view of paths when it
 *                                     is not the system's own: absent,
 *                                     as in journals written before it
 *                                     existed, is view 0)
 *
 * appended by each registration: a registration then writes a few bytes
 * and the small record, whatever the session's size.  Only the first
 * BYTES bytes count (a crash after an append and before the record's
 * rename leaves a tail that the next append overwrites), duplicates are
 * dropped when read, and a journal that grew past twice its distinct
 * paths is rewritten whole under a new generation.
 *
 * The parser trusts nothing: any malformed line, a number outside the
 * exact range of its field, an enum value the API never stores, a string
 * the API would have refused (a registered path that is not absolute
 * UTF-8, a bad service name, an over-long name), a line out of place or a
 * missing "end" makes the whole file RM_ERROR_WRITE_FAULT, which the
 * engine treats as a free slot.  It is linear in the record's size:
 * every array is counted and grows by doubling.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {===== Parse */

/* Makes room for one more element of an array holding n (capacity
 * doubles at powers of two, so appends are amortised O(1)); extra is 1
 * for NULL-terminated arrays. */
static int grow(void **arr, size_t n, size_t extra, size_t size) {
  size_t want = n + extra;
  if (want == 0 || (want & (want - 1)) == 0 || !*arr) {
    size_t cap = 4;
    void *p;
    while (cap < want + 1) cap *= 2;
    p = realloc(*arr, cap * size);
    if (!p) return -1;
    *arr = p;
  }
  return 0;
}

/* A NULL-terminated vector with its count (launch.argv, launch.envp). */
static int push_counted(char ***v, size_t *n, char *s) {
  if (grow((void **)v, *n, 1, sizeof **v)) {
    free(s);
    return -1;
  }
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
  return 0;
}

uint32_t rm__record_add_file(rm__record *r, char *path, rm__file_id id,
                             uint32_t view) {
  if (r->files.n == r->files.cap) {
    size_t cap = r->files.cap ? 2 * r->files.cap : 8;
    char **v = realloc(r->files.v, cap * sizeof *v);
    rm__file_id *ids;
    uint32_t *views;
    if (!v) {
      free(path);
      return RM_ERROR_OUTOFMEMORY;
    }
    r->files.v = v;
    ids = realloc(r->file_ids, cap * sizeof *ids);
    if (!ids) {
      free(path);
      return RM_ERROR_OUTOFMEMORY;
    }
    r->file_ids = ids;
    views = realloc(r->file_views, cap * sizeof *views);
    if (!views) {
      free(path);
      return RM_ERROR_OUTOFMEMORY;
    }
    r->file_views = views;
    r->files.cap = cap;
  }
  r->file_ids[r->files.n] = id;
  r->file_views[r->files.n] = view;
  r->files.v[r->files.n++] = path;
  return RM_OK;
}

static int valid_app_type(unsigned long long t) {
  return t <= RM_APP_CONSOLE || t == RM_APP_CRITICAL;
}

/* A string that fits a fixed field of cap bytes, valid UTF-8. */
static int fits(const char *s, size_t cap) {
  size_t n = strlen(s);
  return n < cap && rm__utf8_valid(s, n);
}

static int valid_filter_name(const rm__filter *f) {
  switch (f->trigger) {
  case RM_FILTER_TRIGGER_FILE: return rm__valid_path(f->name);
  case RM_FILTER_TRIGGER_SERVICE: return rm__valid_service_name(f->name);
  case RM_FILTER_TRIGGER_PROCESS: return f->name[0] == 0;
  default: return 0;
  }
}

/* The lines after the header. */
typedef struct parse_state {
  size_t argc, envc;                /* of the last acted entry's launch */
} parse_state;

static void parse_file(rm__cursor *c, rm__record *r) {
  rm__file_id id;
  uint32_t view = 0;
  char *s;
  id.dev = rm__cur_num(c, 0, ~0ull);
  id.ino = rm__cur_num(c, 0, ~0ull);
  s = rm__cur_str(c);
  if (!s) return;
  if (c->p < c->end && *c->p == ' ')      /* written only when not 0 */
    view = (uint32_t)rm__cur_num(c, 1, 0xFFFFFFFFull);
  if (c->bad || !rm__valid_path(s)) {
    free(s);
    c->bad = 1;
    return;
  }
  if (rm__record_add_file(r, s, id, view) != RM_OK) c->bad = 2;
}

/* The files of a journal, in the order registered, each path once: a
 * table of indices into r->files, sized for the journal's lines. */
uint32_t rm__record_parse_files(const char *text, size_t len, rm__record *r) {
  rm__cursor c;
  size_t *table = NULL, mask = 15, lines = 0;
  c.p = text;
  c.end = text + len;
  c.bad = 0;
  while (mask / 2 < r->journal.lines && mask < len) mask = 2 * mask + 1;
  if (len != r->journal.bytes) c.bad = 1;
  else if (!(table = calloc(mask + 1, sizeof *table))) c.bad = 2;
  while (!c.bad && c.p < c.end) {
    size_t before = r->files.n;
    if (!rm__cur_word(&c, "file")) {
      c.bad = 1;
      break;
    }
    parse_file(&c, r);
    if (c.bad) break;
    rm__cur_eol(&c);
    if (++lines > r->journal.lines) c.bad = 1;
    if (c.bad) break;
    {
      /* A path seen before in the same view: the first registration (and
       * identity) wins.  In another view it may name another file. */
      const char *s = r->files.v[before];
      uint32_t view = r->file_views[before];
      uint64_t h = 0xcbf29ce484222325ull;
      const unsigned char *u;
      size_t k;
      for (u = (const unsigned char *)s; *u; u++) {
        h ^= *u;
        h *= 0x100000001b3ull;
      }
      h = (h ^ view) * 0x100000001b3ull;
      k = (size_t)(h ^ (h >> 29)) & mask;
      while (table[k] && (r->file_views[table[k] - 1] != view ||
                          strcmp(r->files.v[table[k] - 1], s) != 0))
        k = (k + 1) & mask;
      if (table[k]) {
        free(r->files.v[before]);
        r->files.n = before;
      } else {
        table[k] = before + 1;
      }
    }
  }
  free(table);
  if (!c.bad && lines != r->journal.lines) c.bad = 1;
  if (c.bad) {
    rm__strv_free(&r->files);
    free(r->file_ids);
    r->file_ids = NULL;
    free(r->file_views);
    r->file_views = NULL;
    return c.bad == 2 ? RM_ERROR_OUTOFMEMORY : RM_ERROR_WRITE_FAULT;
  }
  return RM_OK;
}

static void parse_service(rm__cursor *c, rm__record *r) {
  char *s = rm__cur_str(c);
  if (!s) return;
  if (!rm__valid_service_name(s)) c->bad = 1;
  else if (rm__strv_push(&r->services, s) != RM_OK) c->bad = 2;
  free(s);
}

static void parse_proc(rm__cursor *c, rm__record *r) {
  if (grow((void **)&r->procs, r->n_procs, 0, sizeof *r->procs)) {
    c->bad = 2;
    return;
  }
  r->procs[r->n_procs].pid = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  r->procs[r->n_procs].start_time = rm__cur_num(c, 0, ~0ull);
  r->n_procs++;
}

static void parse_filter(rm__cursor *c, rm__record *r) {
  rm__filter *f;
  if (grow((void **)&r->filters, r->n_filters, 0, sizeof *r->filters)) {
    c->bad = 2;
    return;
  }
  f = &r->filters[r->n_filters];
  memset(f, 0, sizeof *f);
  f->action = (rm_filter_action)rm__cur_num(c, RM_FILTER_ACTION_INVALID + 1,
                                        RM_FILTER_ACTION_INVALID + 2);
  f->trigger = (rm_filter_trigger)rm__cur_num(c, RM_FILTER_TRIGGER_FILE,
                                          RM_FILTER_TRIGGER_SERVICE);
  f->process.pid = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  f->process.start_time = rm__cur_num(c, 0, ~0ull);
  f->name = rm__cur_str(c);
  if (!f->name) return;
  r->n_filters++;
  if (!valid_filter_name(f)) c->bad = 1;
}

static void parse_acted(rm__cursor *c, rm__record *r, parse_state *st) {
  rm__acted *a;
  char *name, *svc;
  if (grow((void **)&r->acted, r->n_acted, 0, sizeof *r->acted)) {
    c->bad = 2;
    return;
  }
  a = &r->acted[r->n_acted];
  memset(a, 0, sizeof *a);
  r->n_acted++;
  st->argc = st->envc = 0;
  a->info.process.pid = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  a->info.process.start_time = rm__cur_num(c, 0, ~0ull);
  {
    unsigned long long type = rm__cur_num(c, 0, RM_APP_CRITICAL);
    if (!valid_app_type(type)) c->bad = 1;
    a->info.app_type = (rm_app_type)type;
  }
  a->info.app_status = (uint32_t)rm__cur_num(c, 0, 0xFF);
  a->info.session_id = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  a->info.restartable = (int)rm__cur_num(c, 0, 1);
  a->order = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  a->reasons = (uint32_t)rm__cur_num(c, 0, 0x1F);
  name = rm__cur_str(c);
  svc = rm__cur_str(c);
  if (name && svc) {
    if (fits(name, sizeof a->info.app_name) &&
        fits(svc, sizeof a->info.service_short_name)) {
      memcpy(a->info.app_name, name, strlen(name) + 1);
      memcpy(a->info.service_short_name, svc, strlen(svc) + 1);
    } else {
      c->bad = 1;
    }
  }
  free(name);
  free(svc);
}

static void parse_launch(rm__cursor *c, rm__record *r, parse_state *st) {
  rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
  if (!a || a->launch.argv) {
    c->bad = 1;
    return;
  }
  a->launch.uid = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  a->launch.gid = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  a->launch.cwd = rm__cur_str(c);
  a->launch.argv = calloc(1, sizeof(char *));
  a->launch.envp = calloc(1, sizeof(char *));
  st->argc = st->envc = 0;
  if (!a->launch.argv || !a->launch.envp) c->bad = 2;
}

/* Supplementary groups a launch may carry (Linux's NGROUPS_MAX). */
#define RM_MAX_LAUNCH_GROUPS 65536

/* "restart FAILURE ERROR NOTES THROUGH_PID THROUGH_START 0": the outcome
 * of the last restart of the acted entry above, before its launch. */
static void parse_outcome(rm__cursor *c, rm__record *r) {
  rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
  if (!a || a->launch.argv) {
    c->bad = 1;
    return;
  }
  a->outcome.failure = (uint32_t)rm__cur_num(c, 0, RM_RESTART_FAILED_CONTEXT);
  a->outcome.error = (int32_t)(uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  a->outcome.notes = (uint32_t)rm__cur_num(c, 0, 0x7F);
  a->through.pid = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  a->through.start_time = rm__cur_num(c, 0, ~0ull);
  (void)rm__cur_num(c, 0, 0);
}

/* "exe DEV INO NOTES 0 :PATH": the executable of the launch above,
 * checked by identity at restart; at most one. */
static void parse_exe(rm__cursor *c, rm__record *r) {
  rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
  if (!a || !a->launch.argv || a->launch.exe) {
    c->bad = 1;
    return;
  }
  a->launch.exe_id.dev = rm__cur_num(c, 0, ~0ull);
  a->launch.exe_id.ino = rm__cur_num(c, 0, ~0ull);
  a->launch.notes = (uint32_t)rm__cur_num(c, 0, 0x7F);
  (void)rm__cur_num(c, 0, 0);
  a->launch.exe = rm__cur_str(c);
  if (a->launch.exe && a->launch.exe[0] != '/') c->bad = 1;
}

/* "group GID 0": one supplementary group of the launch above. */
static void parse_group(rm__cursor *c, rm__record *r) {
  rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
  uint32_t gid;
  if (!a || !a->launch.argv || a->launch.n_groups >= RM_MAX_LAUNCH_GROUPS) {
    c->bad = 1;
    return;
  }
  gid = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  (void)rm__cur_num(c, 0, 0);
  if (c->bad) return;
  if (grow((void **)&a->launch.groups, a->launch.n_groups, 0,
           sizeof *a->launch.groups)) {
    c->bad = 2;
    return;
  }
  a->launch.groups[a->launch.n_groups++] = gid;
}

/* "context ...": the launch's context (rm__launch_ctx), at most one. */
static void parse_context(rm__cursor *c, rm__record *r) {
  rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
  rm__launch_ctx *x;
  if (!a || !a->launch.argv || a->launch.ctx.captured) {
    c->bad = 1;
    return;
  }
  x = &a->launch.ctx;
  x->captured = 1;
  x->nice = (int32_t)rm__cur_num(c, 0, 39) - 20;
  x->umask = (uint32_t)rm__cur_num(c, 0, 0777);
  x->no_new_privs = (uint32_t)rm__cur_num(c, 0, 1);
  x->oom_score_adj = (int32_t)rm__cur_num(c, 0, 2000) - 1000;
  x->personality = (uint32_t)rm__cur_num(c, 0, 0xFFFFFFFFull);
  x->cap_bounding = rm__cur_num(c, 0, ~0ull);
}

/* The context of the launch above, for its limit, cgroup and stdio
 * lines; NULL (and c->bad) when there is none. */
static rm__launch_ctx *context_of(rm__cursor *c, rm__record *r) {
  rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
  if (!a || !a->launch.argv || !a->launch.ctx.captured) {
    c->bad = 1;
    return NULL;
  }
  return &a->launch.ctx;
}

/* "limit RESOURCE CUR MAX 0", resources in order from 0. */
static void parse_limit(rm__cursor *c, rm__record *r) {
  rm__launch_ctx *x = context_of(c, r);
  if (!x || x->n_limits >= RM_LAUNCH_LIMITS) {
    c->bad = 1;
    return;
  }
  (void)rm__cur_num(c, x->n_limits, x->n_limits);
  x->limit_cur[x->n_limits] = rm__cur_num(c, 0, ~0ull);
  x->limit_max[x->n_limits] = rm__cur_num(c, 0, ~0ull);
  (void)rm__cur_num(c, 0, 0);
  if (!c->bad && x->limit_cur[x->n_limits] > x->limit_max[x->n_limits])
    c->bad = 1;
  x->n_limits++;
}

/* "cgroup DEV INO :PATH", at most one. */
static void parse_cgroup(rm__cursor *c, rm__record *r) {
  rm__launch_ctx *x = context_of(c, r);
  if (!x || x->cgroup) {
    c->bad = 1;
    return;
  }
  x->cgroup_id.dev = rm__cur_num(c, 0, ~0ull);
  x->cgroup_id.ino = rm__cur_num(c, 0, ~0ull);
  x->cgroup = rm__cur_str(c);
  if (x->cgroup && x->cgroup[0] != '/') c->bad = 1;
}

/* "stdio FD DEV INO 0 :PATH", FD 1 or 2, each at most once. */
static void parse_stdio(rm__cursor *c, rm__record *r) {
  rm__launch_ctx *x = context_of(c, r);
  unsigned fd;
  if (!x) return;
  fd = (unsigned)rm__cur_num(c, 1, 2);
  if (c->bad || x->stdio[fd - 1]) {
    c->bad = 1;
    return;
  }
  x->stdio_id[fd - 1].dev = rm__cur_num(c, 0, ~0ull);
  x->stdio_id[fd - 1].ino = rm__cur_num(c, 0, ~0ull);
  (void)rm__cur_num(c, 0, 0);
  x->stdio[fd - 1] = rm__cur_str(c);
  if (x->stdio[fd - 1] && x->stdio[fd - 1][0] != '/') c->bad = 1;
}

static void parse_arg(rm__cursor *c, rm__record *r, parse_state *st,
                      int is_arg) {
  rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
  char *s;
  if (!a || !a->launch.argv) {
    c->bad = 1;
    return;
  }
  s = rm__cur_str(c);
  if (!s) return;
  if (push_counted(is_arg ? &a->launch.argv : &a->launch.envp,
                   is_arg ? &st->argc : &st->envc, s))
    c->bad = 2;
}

uint32_t rm__record_parse(const char *text, size_t len, rm__record *r) {
  rm__cursor c;
  parse_state st = { 0, 0 };
  int ended = 0;
  size_t i;
  memset(r, 0, sizeof *r);
  c.p = text;
  c.end = text + len;
  c.bad = 0;

  if (!rm__cur_word(&c, "restartmgr-session")) goto bad;
  rm__cur_num(&c, 2, 2);
  rm__cur_eol(&c);
  if (c.bad || !rm__cur_word(&c, "key") ||
      c.end - c.p < 1 + RM_SESSION_KEY_CHARS || *c.p != ' ')
    goto bad;
  c.p++;
  for (i = 0; i < RM_SESSION_KEY_CHARS; i++) {
    char ch = c.p[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) goto bad;
    r->key[i] = ch;
  }
  r->key[RM_SESSION_KEY_CHARS] = 0;
  c.p += RM_SESSION_KEY_CHARS;
  rm__cur_eol(&c);
  if (c.bad || !rm__cur_word(&c, "owner")) goto bad;
  r->owner.pid = (uint32_t)rm__cur_num(&c, 0, 0xFFFFFFFFull);
  r->owner.start_time = rm__cur_num(&c, 0, ~0ull);
  rm__cur_eol(&c);
  if (c.bad || !rm__cur_word(&c, "sequence")) goto bad;
  r->sequence = rm__cur_num(&c, 0, ~0ull);
  rm__cur_eol(&c);
  if (c.bad || !rm__cur_word(&c, "shutdown")) goto bad;
  r->shutdown_called = (int)rm__cur_num(&c, 0, 1);
  rm__cur_eol(&c);
  if (!c.bad && rm__cur_word(&c, "files")) {
    r->journal.gen = rm__cur_num(&c, 1, ~0ull);
    r->journal.lines = rm__cur_num(&c, 1, ~0ull);
    r->journal.bytes = rm__cur_num(&c, 1, ~0ull);
    r->journal.unique = rm__cur_num(&c, 1, ~0ull);
    if (!c.bad && (r->journal.unique > r->journal.lines ||
                   r->journal.bytes / 12 < r->journal.lines))
      c.bad = 1;                  /* a journal line has at least 12 bytes */
    rm__cur_eol(&c);
  }

  while (!c.bad && c.p < c.end) {
    if (rm__cur_word(&c, "end")) {
      rm__cur_eol(&c);
      ended = 1;
      break;
    } else if (rm__cur_word(&c, "service")) {
      parse_service(&c, r);
    } else if (rm__cur_word(&c, "proc")) {
      parse_proc(&c, r);
    } else if (rm__cur_word(&c, "filter")) {
      parse_filter(&c, r);
    } else if (rm__cur_word(&c, "acted")) {
      parse_acted(&c, r, &st);
    } else if (rm__cur_word(&c, "restart")) {
      parse_outcome(&c, r);
    } else if (rm__cur_word(&c, "exe")) {
      parse_exe(&c, r);
    } else if (rm__cur_word(&c, "group")) {
      parse_group(&c, r);
    } else if (rm__cur_word(&c, "launch")) {
      parse_launch(&c, r, &st);
    } else if (rm__cur_word(&c, "context")) {
      parse_context(&c, r);
    } else if (rm__cur_word(&c, "limit")) {
      parse_limit(&c, r);
    } else if (rm__cur_word(&c, "cgroup")) {
      parse_cgroup(&c, r);
    } else if (rm__cur_word(&c, "stdio")) {
      parse_stdio(&c, r);
    } else if (rm__cur_word(&c, "arg")) {
      parse_arg(&c, r, &st, 1);
    } else if (rm__cur_word(&c, "env")) {
      parse_arg(&c, r, &st, 0);
    } else {
      c.bad = 1;
    }
    if (!c.bad) rm__cur_eol(&c);
  }
  if (c.bad == 2) {
    rm__record_free(r);
    return RM_ERROR_OUTOFMEMORY;
  }
  if (!c.bad && ended && c.p == c.end) return RM_OK;
bad:
  rm__record_free(r);
  return RM_ERROR_WRITE_FAULT;
}

/* }===== */

void rm__record_free(rm__record *r) {
  size_t i;
  rm__strv_free(&r->files);
  free(r->file_ids);
  free(r->file_views);
  rm__strv_free(&r->services);
  free(r->procs);
  for (i = 0; i < r->n_filters; i++) free(r->filters[i].name);
  free(r->filters);
  for (i = 0; i < r->n_acted; i++) rm__launch_free(&r->acted[i].launch);
  free(r->acted);
  memset(r, 0, sizeof *r);
}
