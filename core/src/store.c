/*
 * store.c: a session record and its text form in the store.
 *
 * One file per session slot ("session.NN").  Line-based, one item per
 * line, strings percent-escaped after a ':' so that paths with spaces,
 * newlines or any byte survive, and the empty string is ":".
 *
 *   restartmgr-session 1
 *   key 0123456789abcdef0123456789abcdef
 *   owner PID START
 *   sequence N
 *   shutdown 0|1
 *   file :ESCAPED                    (one per registered file)
 *   proc PID START
 *   service :ESCAPED
 *   filter ACTION TRIGGER PID START :ESCAPED
 *   acted PID START TYPE STATUS SESSION RESTARTABLE ORDER REASONS :NAME :SVC
 *   restart FAILURE ERROR NOTES THROUGH_PID THROUGH_START
 *                                    (optional; belongs to the acted line)
 *   launch UID GID :CWD              (belongs to the acted line above)
 *   exe DEV INO NOTES :PATH          (optional; belongs to the launch)
 *   group GID                        (one per supplementary group; likewise)
 *   arg :ESCAPED / env :ESCAPED      (likewise)
 *   end
 *
 * The parser trusts nothing: any malformed line, out-of-range number or
 * missing "end" makes the whole file RM_ERROR_WRITE_FAULT.
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

/* Appends " N" for each number. */
static void out_nums(outbuf *b, unsigned long long a, unsigned long long c) {
  char tmp[64];
  int n = snprintf(tmp, sizeof tmp, " %llu %llu", a, c);
  out_raw(b, tmp, (size_t)n);
}

static void out_line(outbuf *b, const char *word, unsigned long long a,
                     unsigned long long c) {
  out_raw(b, word, strlen(word));
  out_nums(b, a, c);
  out_raw(b, "\n", 1);
}

static void out_str(outbuf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)(s ? s : "");
  out_raw(b, " :", 2);
  for (; *u; u++) {
    if (*u <= 0x20 || *u == '%' || *u == 0x7f) {
      char e[3];
      e[0] = '%';
      e[1] = hex[*u >> 4];
      e[2] = hex[*u & 15];
      out_raw(b, e, 3);
    } else {
      out_raw(b, (const char *)u, 1);
    }
  }
}

/* }=====
 * {===== Format */

uint32_t rm__record_format(const rm__record *r, char **out, size_t *len) {
  outbuf b = { NULL, 0, 0, 0 };
  size_t i, k;

  out_raw(&b, "restartmgr-session 1\nkey ", 25);
  out_raw(&b, r->key, strlen(r->key));
  out_raw(&b, "\n", 1);
  out_line(&b, "owner", r->owner.pid, r->owner.start_time);
  {
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "sequence %llu\nshutdown %d\n",
                     (unsigned long long)r->sequence, r->shutdown_called != 0);
    out_raw(&b, tmp, (size_t)n);
  }
  for (i = 0; i < r->files.n; i++) {
    out_raw(&b, "file", 4);
    out_str(&b, r->files.v[i]);
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

/* }=====
 * {===== Parse */

typedef struct cursor {
  const char *p, *end;
  int bad;
} cursor;

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static unsigned long long get_num(cursor *c, unsigned long long max) {
  unsigned long long v = 0;
  int digits = 0;
  if (c->p < c->end && *c->p == ' ') c->p++;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    unsigned d = (unsigned)(*c->p - '0');
    if (v > (max - d) / 10) {
      c->bad = 1;
      return 0;
    }
    v = v * 10 + d;
    c->p++;
    digits++;
  }
  if (!digits) c->bad = 1;
  return v;
}

/* Decodes " :ESCAPED" into a new string. */
static char *get_str(cursor *c) {
  const char *s;
  char *out, *o;
  if (c->p + 2 > c->end || c->p[0] != ' ' || c->p[1] != ':') {
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
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
  return out;
}

static int get_word(cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
  if (c->p + n < c->end && c->p[n] != ' ' && c->p[n] != '\n') return 0;
  c->p += n;
  return 1;
}

static void end_line(cursor *c) {
  if (c->p < c->end && *c->p == '\n') c->p++;
  else c->bad = 1;
}

static int grow(void **arr, size_t n, size_t size) {
  /* Grows by doubling at powers of two, so appends are amortised O(1). */
  if (n == 0 || (n & (n - 1)) == 0) {
    void *p = realloc(*arr, (n ? n * 2 : 4) * size);
    if (!p) return -1;
    *arr = p;
  }
  return 0;
}

static uint32_t push_arg(char ***v, char *s) {
  size_t n = 0;
  char **nv;
  while (*v && (*v)[n]) n++;
  nv = realloc(*v, (n + 2) * sizeof *nv);
  if (!nv) {
    free(s);
    return RM_ERROR_OUTOFMEMORY;
  }
  nv[n] = s;
  nv[n + 1] = NULL;
  *v = nv;
  return RM_OK;
}

uint32_t rm__record_parse(const char *text, size_t len, rm__record *r) {
  cursor c;
  int ended = 0;
  size_t i;
  memset(r, 0, sizeof *r);
  c.p = text;
  c.end = text + len;
  c.bad = 0;

  if (!get_word(&c, "restartmgr-session") || get_num(&c, 1) != 1) goto bad;
  end_line(&c);
  if (!get_word(&c, "key") || c.end - c.p < 1 + RM_SESSION_KEY_CHARS) goto bad;
  c.p++;
  for (i = 0; i < RM_SESSION_KEY_CHARS; i++) {
    char ch = c.p[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) goto bad;
    r->key[i] = ch;
  }
  r->key[RM_SESSION_KEY_CHARS] = 0;
  c.p += RM_SESSION_KEY_CHARS;
  end_line(&c);
  if (!get_word(&c, "owner")) goto bad;
  r->owner.pid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
  r->owner.start_time = get_num(&c, ~0ull);
  end_line(&c);
  if (!get_word(&c, "sequence")) goto bad;
  r->sequence = get_num(&c, ~0ull);
  end_line(&c);
  if (!get_word(&c, "shutdown")) goto bad;
  r->shutdown_called = (int)get_num(&c, 1);
  end_line(&c);

  while (!c.bad && c.p < c.end) {
    if (get_word(&c, "end")) {
      end_line(&c);
      ended = 1;
      break;
    } else if (get_word(&c, "file") || get_word(&c, "service")) {
      int is_file = c.p[-1] == 'e' && c.p[-2] == 'l';
      char *s = get_str(&c);
      if (!s) break;
      if (rm__strv_push(is_file ? &r->files : &r->services, s) != RM_OK)
        c.bad = 2;
      free(s);
    } else if (get_word(&c, "proc")) {
      if (grow((void **)&r->procs, r->n_procs, sizeof *r->procs)) {
        c.bad = 2;
        break;
      }
      r->procs[r->n_procs].pid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      r->procs[r->n_procs].start_time = get_num(&c, ~0ull);
      r->n_procs++;
    } else if (get_word(&c, "filter")) {
      rm__filter *f;
      if (grow((void **)&r->filters, r->n_filters, sizeof *r->filters)) {
        c.bad = 2;
        break;
      }
      f = &r->filters[r->n_filters];
      memset(f, 0, sizeof *f);
      f->action = (rm_filter_action)get_num(&c, 2);
      f->trigger = (rm_filter_trigger)get_num(&c, 3);
      f->process.pid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      f->process.start_time = get_num(&c, ~0ull);
      f->name = get_str(&c);
      if (!f->name) break;
      r->n_filters++;
      if (f->action == RM_FILTER_ACTION_INVALID ||
          f->trigger == RM_FILTER_TRIGGER_INVALID)
        c.bad = 1;
    } else if (get_word(&c, "acted")) {
      rm__acted *a;
      char *name, *svc;
      if (grow((void **)&r->acted, r->n_acted, sizeof *r->acted)) {
        c.bad = 2;
        break;
      }
      a = &r->acted[r->n_acted];
      memset(a, 0, sizeof *a);
      a->info.process.pid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      a->info.process.start_time = get_num(&c, ~0ull);
      a->info.app_type = (rm_app_type)get_num(&c, 1000);
      a->info.app_status = (uint32_t)get_num(&c, 0xFF);
      a->info.session_id = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      a->info.restartable = (int)get_num(&c, 1);
      a->order = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      a->reasons = (uint32_t)get_num(&c, 0x1F);
      name = get_str(&c);
      svc = name ? get_str(&c) : NULL;
      if (name && svc) {
        rm__utf8_copy(a->info.app_name, sizeof a->info.app_name, name);
        rm__utf8_copy(a->info.service_short_name,
                      sizeof a->info.service_short_name, svc);
      }
      free(name);
      free(svc);
      r->n_acted++;
    } else if (get_word(&c, "restart")) {
      rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
      if (!a || a->launch.argv) {
        c.bad = 1;
        break;
      }
      a->outcome.failure = (uint32_t)get_num(&c, 0xFF);
      a->outcome.error = (int32_t)(uint32_t)get_num(&c, 0xFFFFFFFFull);
      a->outcome.notes = (uint32_t)get_num(&c, 0xFF);
      a->through.pid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      a->through.start_time = get_num(&c, ~0ull);
      (void)get_num(&c, 0);
    } else if (get_word(&c, "exe") || get_word(&c, "group")) {
      int is_exe = c.p[-1] == 'e';
      rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
      if (!a || !a->launch.argv || (is_exe && a->launch.exe)) {
        c.bad = 1;
        break;
      }
      if (is_exe) {
        a->launch.exe_id.dev = get_num(&c, ~0ull);
        a->launch.exe_id.ino = get_num(&c, ~0ull);
        a->launch.notes = (uint32_t)get_num(&c, 0xFF);
        (void)get_num(&c, 0);
        a->launch.exe = get_str(&c);
        if (!a->launch.exe) break;
      } else {
        uint32_t gid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
        (void)get_num(&c, 0);
        if (grow((void **)&a->launch.groups, a->launch.n_groups,
                 sizeof *a->launch.groups)) {
          c.bad = 2;
          break;
        }
        a->launch.groups[a->launch.n_groups++] = gid;
      }
    } else if (get_word(&c, "launch")) {
      rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
      if (!a || a->launch.argv) {
        c.bad = 1;
        break;
      }
      a->launch.uid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      a->launch.gid = (uint32_t)get_num(&c, 0xFFFFFFFFull);
      a->launch.cwd = get_str(&c);
      a->launch.argv = calloc(1, sizeof(char *));
      a->launch.envp = calloc(1, sizeof(char *));
      if (!a->launch.argv || !a->launch.envp) c.bad = 2;
    } else if (get_word(&c, "arg") || get_word(&c, "env")) {
      int is_arg = c.p[-1] == 'g';
      rm__acted *a = r->n_acted ? &r->acted[r->n_acted - 1] : NULL;
      char *s;
      if (!a || !a->launch.argv) {
        c.bad = 1;
        break;
      }
      s = get_str(&c);
      if (!s) break;
      if (push_arg(is_arg ? &a->launch.argv : &a->launch.envp, s) != RM_OK)
        c.bad = 2;
    } else {
      c.bad = 1;
      break;
    }
    if (!c.bad) end_line(&c);
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
  rm__strv_free(&r->services);
  free(r->procs);
  for (i = 0; i < r->n_filters; i++) free(r->filters[i].name);
  free(r->filters);
  for (i = 0; i < r->n_acted; i++) rm__launch_free(&r->acted[i].launch);
  free(r->acted);
  memset(r, 0, sizeof *r);
}
