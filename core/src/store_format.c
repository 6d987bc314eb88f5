/* SPDX-License-Identifier: MIT */
/*
 * store_format.c: the store's text form, item by item: writing (a
 * session record and its registered files' journal lines, and the
 * buffer the restart registrations and a transaction's journal are
 * written with too) and reading one item at a time (the cursor every
 * parser of the store uses).  The session format, and the parser that
 * trusts none of it, are in store.c; what is written here is exactly
 * what those parsers accept (strings percent-escaped after a ':',
 * numbers in decimal, one item per line).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {===== Output buffer (internal.h; the transaction's journal writes
 * with it too) */

void rm__out_raw(rm__outbuf *b, const char *s, size_t n) {
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

void rm__out_word(rm__outbuf *b, const char *word) {
  rm__out_raw(b, word, strlen(word));
}

void rm__out_num(rm__outbuf *b, unsigned long long v) {
  char tmp[24];
  size_t n = sizeof tmp;
  do tmp[--n] = (char)('0' + v % 10); while ((v /= 10) != 0);
  tmp[--n] = ' ';
  rm__out_raw(b, tmp + n, sizeof tmp - n);
}

/* Appends " N" for each number. */
static void out_nums(rm__outbuf *b, unsigned long long a,
                     unsigned long long c) {
  rm__out_num(b, a);
  rm__out_num(b, c);
}

static void out_line(rm__outbuf *b, const char *word, unsigned long long a,
                     unsigned long long c) {
  rm__out_word(b, word);
  out_nums(b, a, c);
  rm__out_raw(b, "\n", 1);
}

int rm__store_needs_escape(unsigned char c) {
  return c <= 0x20 || c == '%' || c == 0x7f;
}

/* Runs of plain bytes are copied at once. */
void rm__out_str(rm__outbuf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)(s ? s : "");
  rm__out_raw(b, " :", 2);
  while (*u) {
    const unsigned char *run = u;
    while (*u && !rm__store_needs_escape(*u)) u++;
    if (u > run) rm__out_raw(b, (const char *)run, (size_t)(u - run));
    if (*u) {
      char e[3];
      e[0] = '%';
      e[1] = hex[*u >> 4];
      e[2] = hex[*u & 15];
      rm__out_raw(b, e, 3);
      u++;
    }
  }
}

/* The context lines of a launch (store.c, the format). */
static void out_context(rm__outbuf *b, const rm__launch_ctx *x) {
  size_t k;
  rm__out_raw(b, "context", 7);
  out_nums(b, (unsigned long long)(x->nice + 20), x->umask);
  out_nums(b, x->no_new_privs, (unsigned long long)(x->oom_score_adj + 1000));
  out_nums(b, x->personality, x->cap_bounding);
  rm__out_raw(b, "\n", 1);
  for (k = 0; k < x->n_limits; k++) {
    rm__out_raw(b, "limit", 5);
    out_nums(b, k, x->limit_cur[k]);
    out_nums(b, x->limit_max[k], 0);
    rm__out_raw(b, "\n", 1);
  }
  if (x->cgroup) {
    rm__out_raw(b, "cgroup", 6);
    out_nums(b, x->cgroup_id.dev, x->cgroup_id.ino);
    rm__out_str(b, x->cgroup);
    rm__out_raw(b, "\n", 1);
  }
  for (k = 0; k < 2; k++) {
    if (!x->stdio[k]) continue;
    rm__out_raw(b, "stdio", 5);
    out_nums(b, k + 1, x->stdio_id[k].dev);
    out_nums(b, x->stdio_id[k].ino, 0);
    rm__out_str(b, x->stdio[k]);
    rm__out_raw(b, "\n", 1);
  }
}

/* }=====
 * {===== Format */

uint32_t rm__record_format(const rm__record *r, char **out, size_t *len) {
  rm__outbuf b = { NULL, 0, 0, 0 };
  size_t i, k;

  rm__out_raw(&b, "restartmgr-session 2\nkey ", 25);
  rm__out_raw(&b, r->key, strlen(r->key));
  rm__out_raw(&b, "\n", 1);
  out_line(&b, "owner", r->owner.pid, r->owner.start_time);
  {
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "sequence %llu\nshutdown %d\n",
                     (unsigned long long)r->sequence, r->shutdown_called != 0);
    rm__out_raw(&b, tmp, (size_t)n);
  }
  if (r->journal.gen) {
    out_line(&b, "files", r->journal.gen, r->journal.lines);
    b.n--;                                   /* continue the line */
    out_nums(&b, r->journal.bytes, r->journal.unique);
    rm__out_raw(&b, "\n", 1);
  }
  for (i = 0; i < r->n_procs; i++)
    out_line(&b, "proc", r->procs[i].pid, r->procs[i].start_time);
  for (i = 0; i < r->services.n; i++) {
    rm__out_raw(&b, "service", 7);
    rm__out_str(&b, r->services.v[i]);
    rm__out_raw(&b, "\n", 1);
  }
  for (i = 0; i < r->n_filters; i++) {
    const rm__filter *f = &r->filters[i];
    rm__out_raw(&b, "filter", 6);
    out_nums(&b, (unsigned)f->action, (unsigned)f->trigger);
    out_nums(&b, f->process.pid, f->process.start_time);
    rm__out_str(&b, f->name);
    rm__out_raw(&b, "\n", 1);
  }
  for (i = 0; i < r->n_acted; i++) {
    const rm__acted *a = &r->acted[i];
    rm__out_raw(&b, "acted", 5);
    out_nums(&b, a->info.process.pid, a->info.process.start_time);
    out_nums(&b, (unsigned)a->info.app_type, a->info.app_status);
    out_nums(&b, a->info.session_id,
             (unsigned long long)(a->info.restartable != 0));
    out_nums(&b, a->order, a->reasons);
    rm__out_str(&b, a->info.app_name);
    rm__out_str(&b, a->info.service_short_name);
    rm__out_raw(&b, "\n", 1);
    if (a->outcome.failure || a->outcome.error || a->outcome.notes ||
        a->through.pid) {
      rm__out_raw(&b, "restart", 7);
      out_nums(&b, a->outcome.failure, (uint32_t)a->outcome.error);
      out_nums(&b, a->outcome.notes, a->through.pid);
      out_nums(&b, a->through.start_time, 0);
      rm__out_raw(&b, "\n", 1);
    }
    if (a->launch.argv) {
      rm__out_raw(&b, "launch", 6);
      out_nums(&b, a->launch.uid, a->launch.gid);
      rm__out_str(&b, a->launch.cwd);
      rm__out_raw(&b, "\n", 1);
      if (a->launch.exe) {
        rm__out_raw(&b, "exe", 3);
        out_nums(&b, a->launch.exe_id.dev, a->launch.exe_id.ino);
        out_nums(&b, a->launch.notes, 0);
        rm__out_str(&b, a->launch.exe);
        rm__out_raw(&b, "\n", 1);
      }
      for (k = 0; k < a->launch.n_groups; k++)
        out_line(&b, "group", a->launch.groups[k], 0);
      if (a->launch.ctx.captured) out_context(&b, &a->launch.ctx);
      for (k = 0; a->launch.argv[k]; k++) {
        rm__out_raw(&b, "arg", 3);
        rm__out_str(&b, a->launch.argv[k]);
        rm__out_raw(&b, "\n", 1);
      }
      for (k = 0; a->launch.envp && a->launch.envp[k]; k++) {
        rm__out_raw(&b, "env", 3);
        rm__out_str(&b, a->launch.envp[k]);
        rm__out_raw(&b, "\n", 1);
      }
    }
  }
  rm__out_raw(&b, "end\n", 4);
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
  rm__outbuf b = { NULL, 0, 0, 0 };
  size_t i;
  for (i = 0; i < n; i++) {
    rm__out_raw(&b, "file", 4);
    out_nums(&b, ids ? ids[i].dev : 0, ids ? ids[i].ino : 0);
    rm__out_str(&b, paths[i]);
    if (views && views[i]) rm__out_num(&b, views[i]);  /* view 0: as before */
    rm__out_raw(&b, "\n", 1);
  }
  if (!b.p) rm__out_raw(&b, "", 0);
  if (b.oom || !b.p) {
    free(b.p);
    return RM_ERROR_OUTOFMEMORY;
  }
  *out = b.p;
  *len = b.n;
  return RM_OK;
}

/* }=====
 * {===== Reading items (internal.h, rm__cursor) */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* v * 10 + d > max is tested without computing anything that can wrap. */
unsigned long long rm__cur_num(rm__cursor *c, unsigned long long min,
                               unsigned long long max) {
  unsigned long long v = 0;
  int digits = 0;
  if (c->p < c->end && *c->p == ' ') c->p++;
  else c->bad = 1;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    unsigned d = (unsigned)(*c->p - '0');
    if (v > max / 10 || (v == max / 10 && d > max % 10)) {
      c->bad = 1;
      return 0;
    }
    v = v * 10 + d;
    c->p++;
    digits++;
  }
  if (!digits || v < min) {
    c->bad = 1;
    return 0;
  }
  return v;
}

char *rm__cur_str(rm__cursor *c) {
  const char *s;
  char *out, *o;
  if (c->bad) return NULL;
  if (c->end - c->p < 2 || c->p[0] != ' ' || c->p[1] != ':') {
    c->bad = 1;
    return NULL;
  }
  c->p += 2;
  s = c->p;
  while (c->p < c->end && *c->p != ' ' && *c->p != '\n') c->p++;
  out = malloc((size_t)(c->p - s) + 1);
  if (!out) {
    c->bad = 2;
    return NULL;
  }
  for (o = out; s < c->p; s++) {
    if (*s == '%') {
      int hi, lo;
      if (c->p - s < 3 || (hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0 ||
          (hi == 0 && lo == 0)) {
        free(out);
        c->bad = 1;
        return NULL;
      }
      *o++ = (char)(hi * 16 + lo);
      s += 2;
    } else if (rm__store_needs_escape((unsigned char)*s)) {
      free(out);                   /* a raw byte the writer escapes: NUL */
      c->bad = 1;
      return NULL;
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
  return out;
}

int rm__cur_word(rm__cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
  if (c->p + n < c->end && c->p[n] != ' ' && c->p[n] != '\n') return 0;
  c->p += n;
  return 1;
}

void rm__cur_eol(rm__cursor *c) {
  if (c->p < c->end && *c->p == '\n') c->p++;
  else c->bad = 1;
}

/* }===== */
