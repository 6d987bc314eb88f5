/* SPDX-License-Identifier: MIT */
/*
 * util.c: small helpers of the engine: owned strings, string vectors,
 * record releases, and the validators of the arguments
 * every entry point takes (paths, service names).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rm__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

char *rm__path_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *p = malloc(a + b + 2);
  if (!p) return NULL;
  memcpy(p, dir, a);
  p[a] = '/';
  memcpy(p + a + 1, name, b + 1);
  return p;
}

uint32_t rm__strv_push(rm__strv *sv, const char *s) {
  char *copy;
  if (sv->n == sv->cap) {
    size_t cap = sv->cap ? sv->cap * 2 : 8;
    char **v = realloc(sv->v, cap * sizeof *v);
    if (!v) return RM_ERROR_OUTOFMEMORY;
    sv->v = v;
    sv->cap = cap;
  }
  copy = rm__strdup(s);
  if (!copy) return RM_ERROR_OUTOFMEMORY;
  sv->v[sv->n++] = copy;
  return RM_OK;
}

void rm__strv_free(rm__strv *sv) {
  size_t i;
  for (i = 0; i < sv->n; i++) free(sv->v[i]);
  free(sv->v);
  sv->v = NULL;
  sv->n = sv->cap = 0;
}

char **rm__argv_dup(char *const *v) {
  size_t n = 0, i;
  char **d;
  while (v && v[n]) n++;
  d = calloc(n + 1, sizeof *d);
  if (!d) return NULL;
  for (i = 0; i < n; i++) {
    d[i] = rm__strdup(v[i]);
    if (!d[i]) {
      rm__argv_free(d);
      return NULL;
    }
  }
  return d;
}

void rm__argv_free(char **v) {
  size_t i;
  if (!v) return;
  for (i = 0; v[i]; i++) free(v[i]);
  free(v);
}

void rm__launch_free(rm__launch *l) {
  rm__argv_free(l->argv);
  rm__argv_free(l->envp);
  free(l->cwd);
  free(l->exe);
  free(l->groups);
  free(l->ctx.cgroup);
  free(l->ctx.stdio[0]);
  free(l->ctx.stdio[1]);
  memset(l, 0, sizeof *l);
}

uint32_t rm__launch_copy(const rm__launch *from, rm__launch *to) {
  rm__launch l;
  memset(&l, 0, sizeof l);
  l.argv = rm__argv_dup(from->argv);
  l.envp = rm__argv_dup(from->envp);
  l.cwd = rm__strdup(from->cwd ? from->cwd : "/");
  l.exe = from->exe ? rm__strdup(from->exe) : NULL;
  l.uid = from->uid;
  l.gid = from->gid;
  l.exe_id = from->exe_id;
  l.notes = from->notes;
  l.ctx = from->ctx;
  l.ctx.cgroup = from->ctx.cgroup ? rm__strdup(from->ctx.cgroup) : NULL;
  l.ctx.stdio[0] = from->ctx.stdio[0] ? rm__strdup(from->ctx.stdio[0]) : NULL;
  l.ctx.stdio[1] = from->ctx.stdio[1] ? rm__strdup(from->ctx.stdio[1]) : NULL;
  l.n_groups = from->n_groups;
  if (from->n_groups) {
    l.groups = malloc(from->n_groups * sizeof *l.groups);
    if (l.groups)
      memcpy(l.groups, from->groups, from->n_groups * sizeof *l.groups);
  }
  if (!l.argv || !l.envp || !l.cwd || (from->exe && !l.exe) ||
      (from->n_groups && !l.groups) || (from->ctx.cgroup && !l.ctx.cgroup) ||
      (from->ctx.stdio[0] && !l.ctx.stdio[0]) ||
      (from->ctx.stdio[1] && !l.ctx.stdio[1])) {
    rm__launch_free(&l);
    return RM_ERROR_OUTOFMEMORY;
  }
  rm__launch_free(to);
  *to = l;
  return RM_OK;
}

void rm__found_free(rm__found *f, size_t n) {
  size_t i;
  if (!f) return;
  for (i = 0; i < n; i++) {
    free(f[i].uses);
    rm__stale_free(f[i].stale, f[i].n_stale);
  }
  free(f);
}

void rm__found_parts_free(rm__found *f) {
  free(f->uses);
  f->uses = NULL;
  f->n_uses = 0;
  rm__stale_free(f->stale, f->n_stale);
  f->stale = NULL;
  f->n_stale = 0;
}

void rm__stale_free(rm__stale *s, size_t n) {
  size_t i;
  if (!s) return;
  for (i = 0; i < n; i++) free(s[i].text);
  free(s);
}

unsigned rm__env_ms(const char *name, unsigned dflt) {
  const char *v = rm__os_getenv(name);
  char *end;
  unsigned long ms;
  if (!v || !*v) return dflt;
  ms = strtoul(v, &end, 10);
  if (*end || ms > 24ul * 3600 * 1000) return dflt;
  return (unsigned)ms;
}

int rm__ascii_ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return 0;
  }
  return *a == *b;
}

/* Length of s without a trailing ".service" (any ASCII case). */
static size_t without_service_suffix(const char *s) {
  size_t n = strlen(s);
  const char *suffix = ".service";
  size_t i;
  if (n <= 8) return n;
  for (i = 0; i < 8; i++) {
    char c = s[n - 8 + i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != suffix[i]) return n;
  }
  return n - 8;
}

int rm__service_name_eq(const char *a, const char *b) {
  size_t na = without_service_suffix(a), nb = without_service_suffix(b), i;
  if (na != nb) return 0;
  for (i = 0; i < na; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return 0;
  }
  return 1;
}

/* {===== Validators: each returns why its argument is refused, worded
 * for a person ("not an absolute path"), or NULL when it is accepted.
 * The Lua binding shows the same words after the quoted culprit. */

/* The rules paths and service names share: not empty, at most max bytes,
 * valid UTF-8. */
static const char *text_problem(const char *s, const char *empty, size_t max,
                                char *why, size_t cap) {
  size_t n = strlen(s), bad;
  if (n == 0) return empty;
  if (n > max) {
    snprintf(why, cap, "longer than %lu bytes", (unsigned long)max);
    return why;
  }
  if ((bad = rm__utf8_bad_byte(s, n)) != 0) {
    snprintf(why, cap, "not valid UTF-8 at byte %lu", (unsigned long)bad);
    return why;
  }
  return NULL;
}

const char *rm__path_problem(const char *s, char *why, size_t cap) {
  const char *p;
  if (!s) return "no path";
  if ((p = text_problem(s, "an empty path", RM_PATH_MAX, why, cap)))
    return p;
  return rm__os_path_absolute(s) ? NULL : "not an absolute path";
}

const char *rm__service_name_problem(const char *s, char *why, size_t cap) {
  const char *p;
  size_t i;
  if (!s) return "no service name";
  if ((p = text_problem(s, "an empty service name", RM_MAX_SVC_NAME, why,
                        cap)))
    return p;
  if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return "not a service name";
  for (i = 0; s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == '/' || c == '\\') {
      snprintf(why, cap, "a service name cannot contain %s (byte %lu)",
               c < 0x20 ? "control characters" : c == '/' ? "'/'" : "'\\'",
               (unsigned long)i + 1);
      return why;
    }
  }
  return NULL;
}

int rm__valid_path(const char *s) {
  char why[RM_REASON_MAX];
  return rm__path_problem(s, why, sizeof why) == NULL;
}

int rm__valid_service_name(const char *s) {
  char why[RM_REASON_MAX];
  return rm__service_name_problem(s, why, sizeof why) == NULL;
}

/* }===== */
