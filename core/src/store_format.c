/* SPDX-License-Identifier: MIT */
/*
 * store_format.c: a session record written in the store's text form, the
 * record and its registered files' journal lines.  The format, and the
 * parser that trusts none of it, are in store.c; what is written here is
 * exactly what that parser accepts (strings percent-escaped after a ':',
 * numbers in decimal, one item per line).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {===== Output buffer */

typedef struct outbuf {
  char *p;
  size_t n, cap;
  int oom;
} outbuf;

static void out_raw(outbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    char *p;
    while (cap < b->n + n + 1) cap *= 2;
    p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

/* " N" in decimal. */
static void out_num(outbuf *b, unsigned long long v) {
  char tmp[24];
  size_t n = sizeof tmp;
  do tmp[--n] = (char)('0' + v % 10); while ((v /= 10) != 0);
  tmp[--n] = ' ';
  out_raw(b, tmp + n, sizeof tmp - n);
}

/* Appends " N" for each number. */
static void out_nums(outbuf *b, unsigned long long a, unsigned long long c) {
  out_num(b, a);
  out_num(b, c);
}

static void out_line(outbuf *b, const char *word, unsigned long long a,
                     unsigned long long c) {
  out_raw(b, word, strlen(word));
  out_nums(b, a, c);
  out_raw(b, "\n", 1);
}

int rm__store_needs_escape(unsigned char c) {
  return c <= 0x20 || c == '%' || c == 0x7f;
}

/* " :ESCAPED": runs of plain bytes are copied at once. */
static void out_str(outbuf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)(s ? s : "");
  out_raw(b, " :", 2);
  while (*u) {
    const unsigned char *run = u;
    while (*u && !rm__store_needs_escape(*u)) u++;
    if (u > run) out_raw(b, (const char *)run, (size_t)(u - run));
    if (*u) {
      char e[3];
      e[0] = '%';
      e[1] = hex[*u >> 4];
      e[2] = hex[*u & 15];
      out_raw(b, e, 3);
      u++;
    }
  }
}

/* The context lines of a launch (store.c, the format). */
static void out_context(outbuf *b, const rm__launch_ctx *x) {
  size_t k;
  out_raw(b, "context", 7);
  out_nums(b, (unsigned long long)(x->nice + 20), x->umask);
  out_nums(b, x->no_new_privs, (unsigned long long)(x->oom_score_adj + 1000));
  out_nums(b, x->personality, x->cap_bounding);
  out_raw(b, "\n", 1);
  for (k = 0; k < x->n_limits; k++) {
    out_raw(b, "limit", 5);
    out_nums(b, k, x->limit_cur[k]);
    out_nums(b, x->limit_max[k], 0);
    out_raw(b, "\n", 1);
  }
  if (x->cgroup) {
    out_raw(b, "cgroup", 6);
    out_nums(b, x->cgroup_id.dev, x->cgroup_id.ino);
    out_str(b, x->cgroup);
    out_raw(b, "\n", 1);
  }
  for (k = 0; k < 2; k++) {
    if (!x->stdio[k]) continue;
    out_raw(b, "stdio", 5);
    out_nums(b, k + 1, x->stdio_id[k].dev);
    out_nums(b, x->stdio_id[k].ino, 0);
    out_str(b, x->stdio[k]);
    out_raw(b, "\n", 1);
  }
}

/* }=====
 * {===== Format */

uint32_t rm__record_format(const rm__record *r, char **out, size_t *len) {
  outbuf b = { NULL, 0, 0, 0 };
  size_t i, k;

  out_raw(&b, "restartmgr-session 2\nkey ", 25);
  out_raw(&b, r->key, strlen(r->key));
  out_raw(&b, "\n", 1);
  out_line(&b, "owner", r->owner.pid, r->owner.start_time);
  {
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "sequence %llu\nshutdown %d\n",
                     (unsigned long long)r->sequence, r->shutdown_called != 0);
    out_raw(&b, tmp, (size_t)n);
  }
  if (r->journal.gen) {
    out_line(&b, "files", r->journal.gen, r->journal.lines);
    b.n--;                                   /* continue the line */
    out_nums(&b, r->journal.bytes, r->journal.unique);
    out_raw(&b, "\n", 1);
  }
  for (i = 0; i < r->n_procs; i++)
    out_line(&b, "proc", r->procs[i].pid, r->procs[i].start_time);
  for (i = 0; i < r->services.n; i++) {
    out_raw(&b, "service", 7);
    out_str(&b, r->services.v[i]);
    out_raw(&b, "\n", 1);
  }
  for (i = 0; i < r->n_filters; i++) {
    const rm__filter *f = &r->filters[i];
    out_raw(&b, "filter", 6);
    out_nums(&b, (unsigned)f->action, (unsigned)f->trigger);
    out_nums(&b, f->process.pid, f->process.start_time);
    out_str(&b, f->name);
    out_raw(&b, "\n", 1);
  }
  for (i = 0; i < r->n_acted; i++) {
    const rm__acted *a = &r->acted[i];
    out_raw(&b, "acted", 5);
    out_nums(&b, a->info.process.pid, a->info.process.start_time);
    out_nums(&b, (unsigned)a->info.app_type, a->info.app_status);
    out_nums(&b, a->info.session_id,
             (unsigned long long)(a->info.restartable != 0));
    out_nums(&b, a->order, a->reasons);
    out_str(&b, a->info.app_name);
    out_str(&b, a->info.service_short_name);
    out_raw(&b, "\n", 1);
    if (a->outcome.failure || a->outcome.error || a->outcome.notes ||
        a->through.pid) {
      out_raw(&b, "restart", 7);
      out_nums(&b, a->outcome.failure, (uint32_t)a->outcome.error);
      out_nums(&b, a->outcome.notes, a->through.pid);
      out_nums(&b, a->through.start_time, 0);
      out_raw(&b, "\n", 1);
    }
    if (a->launch.argv) {
      out_raw(&b, "launch", 6);
      out_nums(&b, a->launch.uid, a->launch.gid);
      out_str(&b, a->launch.cwd);
      out_raw(&b, "\n", 1);
      if (a->launch.exe) {
        out_raw(&b, "exe", 3);
        out_nums(&b, a->launch.exe_id.dev, a->launch.exe_id.ino);
        out_nums(&b, a->launch.notes, 0);
        out_str(&b, a->launch.exe);
        out_raw(&b, "\n", 1);
      }
      for (k = 0; k < a->launch.n_groups; k++)
        out_line(&b, "group", a->launch.groups[k], 0);
      if (a->launch.ctx.captured) out_context(&b, &a->launch.ctx);
      for (k = 0; a->launch.argv[k]; k++) {
        out_raw(&b, "arg", 3);
        out_str(&b, a->launch.argv[k]);
        out_raw(&b, "\n", 1);
      }
      for (k = 0; a->launch.envp && a->launch.envp[k]; k++) {
        out_raw(&b, "env", 3);
        out_str(&b, a->launch.envp[k]);
        out_raw(&b, "\n", 1);
      }
    }
  }
  out_raw(&b, "end\n", 4);
  if (b.oom) {
    free(b.p);
    return RM_ERROR_OUTOFMEMORY;
  }
  *out = b.p;
  *len = b.n;
  return RM_OK;
}

uint32_t rm__files_format(const char *const *paths, const rm__file_id *ids,
                          const uint32_t *views,
                          size_t n, char **out, size_t *len) {
  outbuf b = { NULL, 0, 0, 0 };
  size_t i;
  for (i = 0; i < n; i++) {
    out_raw(&b, "file", 4);
    out_nums(&b, ids ? ids[i].dev : 0, ids ? ids[i].ino : 0);
    out_str(&b, paths[i]);
    if (views && views[i]) out_num(&b, views[i]);  /* view 0: as before */
    out_raw(&b, "\n", 1);
  }
  if (!b.p) out_raw(&b, "", 0);
  if (b.oom || !b.p) {
    free(b.p);
    return RM_ERROR_OUTOFMEMORY;
  }
  *out = b.p;
  *len = b.n;
  return RM_OK;
}

/* }===== */
