/* SPDX-License-Identifier: MIT */
/*
 * registration.c: restart registrations, the counterpart of Windows'
 * RegisterApplicationRestart (rm_register_application_restart,
 * rm_register_process_restart, rm_get_application_restart).
 *
 * A registration says how to start one process again: a command whose
 * argv[0] is an absolute program path, an optional directory, and the
 * Win32 flags.  They live in the caller's session store in one file,
 * "restarts", separate from the session records, keyed by process
 * identity (pid and start time):
 *
 *   restartmgr-restarts 1
 *   reg PID START FLAGS
 *   cwd :ESCAPED                  (optional, belongs to the reg above)
 *   arg :ESCAPED                  (one per argument)
 *   end
 *
 * Strings are percent-escaped like the session records'.  A registration
 * "vanishes with its process": readers skip entries whose process is no
 * longer alive with that start time, and every write drops them, so the
 * file holds at most the live registrations plus those of processes that
 * died since the last write.  The file is replaced atomically under the
 * store lock; readers (rm_get_list) read it without the lock.  A file
 * that does not parse is treated as empty and replaced on the next write.
 *
 * Validation happens before anything is read or written, so a bad
 * command stores nothing.  Who may register for a process is the
 * backend's call (rm__os_may_register): its own user, or root.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTARTS_FILE "restarts"
#define MAX_COMMAND_BYTES (128u * 1024)   /* all of argv together */
#define KNOWN_FLAGS                                                   \
  (RM_RESTART_NO_CRASH | RM_RESTART_NO_HANG | RM_RESTART_NO_PATCH |   \
   RM_RESTART_NO_REBOOT)

/* {===== Validation */

static int valid_string(const char *s) {
  size_t n = strlen(s);
  return n <= RM_PATH_MAX && rm__utf8_valid(s, n);
}

static uint32_t validate(const char *const argv[], const char *cwd,
                         uint32_t flags) {
  size_t i, total = 0;
  if (flags & ~KNOWN_FLAGS) return RM_ERROR_BAD_ARGUMENTS;
  if (!argv[0] || !rm__valid_path(argv[0])) return RM_ERROR_BAD_ARGUMENTS;
  for (i = 0; argv[i]; i++) {
    if (!valid_string(argv[i])) return RM_ERROR_BAD_ARGUMENTS;
    total += strlen(argv[i]) + 1;
    if (total > MAX_COMMAND_BYTES) return RM_ERROR_BAD_ARGUMENTS;
  }
  if (cwd && !rm__valid_path(cwd)) return RM_ERROR_BAD_ARGUMENTS;
  return RM_OK;
}

/* }=====
 * {===== The file */

static void reg_free(rm__restart_reg *r) {
  rm__argv_free(r->argv);
  free(r->cwd);
  memset(r, 0, sizeof *r);
}

void rm__restarts_free(rm__restart_reg *v, size_t n) {
  size_t i;
  if (!v) return;
  for (i = 0; i < n; i++) reg_free(&v[i]);
  free(v);
}

const rm__restart_reg *rm__restart_find(const rm__restart_reg *v, size_t n,
                                        const rm_unique_process *p) {
  size_t i;
  for (i = 0; i < n; i++)
    if (v[i].process.pid == p->pid &&
        v[i].process.start_time == p->start_time)
      return &v[i];
  return NULL;
}

/* "WORD :ESCAPED\n" */
static void put_str(rm__outbuf *t, const char *word, const char *s) {
  rm__out_word(t, word);
  rm__out_str(t, s);
  rm__out_raw(t, "\n", 1);
}

static uint32_t format(const rm__restart_reg *v, size_t n, char **out,
                       size_t *len) {
  rm__outbuf t = { NULL, 0, 0, 0 };
  size_t i, k;
  rm__out_raw(&t, "restartmgr-restarts 1\n", 22);
  for (i = 0; i < n; i++) {
    char line[96];
    int m = snprintf(line, sizeof line, "reg %u %llu %u\n",
                     (unsigned)v[i].process.pid,
                     (unsigned long long)v[i].process.start_time,
                     (unsigned)v[i].flags);
    rm__out_raw(&t, line, (size_t)m);
    if (v[i].cwd) put_str(&t, "cwd", v[i].cwd);
    for (k = 0; v[i].argv[k]; k++) put_str(&t, "arg", v[i].argv[k]);
  }
  rm__out_raw(&t, "end\n", 4);
  if (t.oom) {
    free(t.p);
    return RM_ERROR_OUTOFMEMORY;
  }
  *out = t.p;
  *len = t.n;
  return RM_OK;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes the " :ESCAPED" rest of a line [p, end) into a new string, or
 * NULL (malformed, or out of memory: *oom set). */
static char *get_str(const char *p, const char *end, int *oom) {
  char *out, *o;
  if (end - p < 2 || p[0] != ' ' || p[1] != ':') return NULL;
  p += 2;
  out = malloc((size_t)(end - p) + 1);
  if (!out) {
    *oom = 1;
    return NULL;
  }
  for (o = out; p < end; p++) {
    int hi, lo;
    if (*p == ' ' || *p == '\n') goto bad;
    if (*p != '%') {
      *o++ = *p;
      continue;
    }
    if (end - p < 3 || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0 ||
        (hi == 0 && lo == 0))
      goto bad;
    *o++ = (char)(hi * 16 + lo);
    p += 2;
  }
  *o = 0;
  return out;
bad:
  free(out);
  return NULL;
}

static uint32_t push_string(char ***v, char *s) {
  size_t n = 0;
  char **grown;
  while (*v && (*v)[n]) n++;
  grown = realloc(*v, (n + 2) * sizeof *grown);
  if (!grown) {
    free(s);
    return RM_ERROR_OUTOFMEMORY;
  }
  grown[n] = s;
  grown[n + 1] = NULL;
  *v = grown;
  return RM_OK;
}

/* Parses the file.  Anything malformed, or a registration that would not
 * pass validation, makes the whole file RM_ERROR_WRITE_FAULT. */
static uint32_t parse(const char *s, size_t len, rm__restart_reg **out,
                      size_t *n_out) {
  const char *p = s, *end = s + len;
  rm__restart_reg *v = NULL;
  size_t n = 0;
  int oom = 0, ended = 0;
  if (len < 22 || memcmp(s, "restartmgr-restarts 1\n", 22) != 0)
    return RM_ERROR_WRITE_FAULT;
  p += 22;
  while (p < end && !ended) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    rm__restart_reg *cur = n ? &v[n - 1] : NULL;
    if (!eol) goto bad;
    if (eol - p == 3 && memcmp(p, "end", 3) == 0) {
      ended = 1;
    } else if (eol - p > 4 && memcmp(p, "reg ", 4) == 0) {
      unsigned pid, flags;
      unsigned long long start;
      char tail;
      char line[96];
      rm__restart_reg *grown;
      if (eol - p >= (long)sizeof line) goto bad;
      memcpy(line, p, (size_t)(eol - p));
      line[eol - p] = 0;
      if (sscanf(line, "reg %u %llu %u%c", &pid, &start, &flags, &tail) != 3 ||
          (flags & ~KNOWN_FLAGS) || (cur && !cur->argv))
        goto bad;
      grown = realloc(v, (n + 1) * sizeof *v);
      if (!grown) {
        oom = 1;
        goto bad;
      }
      v = grown;
      memset(&v[n], 0, sizeof v[n]);
      v[n].process.pid = pid;
      v[n].process.start_time = start;
      v[n].flags = flags;
      n++;
    } else if (cur && eol - p > 3 &&
               (memcmp(p, "cwd", 3) == 0 || memcmp(p, "arg", 3) == 0)) {
      char *str = get_str(p + 3, eol, &oom);
      if (!str) goto bad;
      if (p[0] == 'c') {
        if (cur->cwd || cur->argv) {
          free(str);
          goto bad;
        }
        cur->cwd = str;
      } else if (push_string(&cur->argv, str) != RM_OK) {
        oom = 1;
        goto bad;
      }
    } else {
      goto bad;
    }
    p = eol + 1;
  }
  if (!ended || p != end) goto bad;
  {
    size_t i;
    for (i = 0; i < n; i++)
      if (!v[i].argv || validate((const char *const *)v[i].argv, v[i].cwd,
                                 v[i].flags) != RM_OK)
        goto bad;
  }
  *out = v;
  *n_out = n;
  return RM_OK;
bad:
  rm__restarts_free(v, n);
  return oom ? RM_ERROR_OUTOFMEMORY : RM_ERROR_WRITE_FAULT;
}

/* Reads the file from an open store: missing or malformed is empty. */
static uint32_t read_all(rm__dir *d, rm__restart_reg **v, size_t *n) {
  char *data = NULL;
  size_t len = 0;
  uint32_t rc = rm__os_store_read(d, RESTARTS_FILE, &data, &len);
  *v = NULL;
  *n = 0;
  if (rc == RM_ERROR_FILE_NOT_FOUND) return RM_OK;
  if (rc != RM_OK) return rc;
  rc = parse(data, len, v, n);
  free(data);
  return rc == RM_ERROR_WRITE_FAULT ? RM_OK : rc;
}

/* Drops dead processes' registrations (and p's, when p is not NULL). */
static void prune(rm__restart_reg *v, size_t *n, const rm_unique_process *p) {
  size_t i, k = 0;
  for (i = 0; i < *n; i++) {
    int drop = !rm__os_alive(&v[i].process) ||
               (p && v[i].process.pid == p->pid &&
                v[i].process.start_time == p->start_time);
    if (drop)
      reg_free(&v[i]);
    else
      v[k++] = v[i];
  }
  *n = k;
}

uint32_t rm__restarts_load(rm__restart_reg **out, size_t *n) {
  rm__dir *d;
  uint32_t rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = read_all(d, out, n);
  rm__os_store_close(d);
  if (rc == RM_OK) prune(*out, n, NULL);
  return rc;
}

/* A fingerprint of the registrations file as it reads now (FNV-1a over
 * its bytes and length; 0 when there is none): the list kept for a
 * two-call loop is reused only while it does not change (list_keep.c). */
uint32_t rm__restarts_fingerprint(uint64_t *out) {
  rm__dir *d;
  char *data = NULL;
  size_t len = 0, i;
  uint64_t h = 14695981039346656037ull;
  uint32_t rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = rm__os_store_read(d, RESTARTS_FILE, &data, &len);
  rm__os_store_close(d);
  *out = 0;
  if (rc == RM_ERROR_FILE_NOT_FOUND) return RM_OK;
  if (rc != RM_OK) return rc;
  for (i = 0; i < len; i++) h = (h ^ (unsigned char)data[i]) * 1099511628211ull;
  *out = (h ^ len) | 1;
  free(data);
  return RM_OK;
}

/* }=====
 * {===== Entry points */

/* Replaces (or, argv NULL, removes) p's registration, in one write. */
static uint32_t store_registration(const rm_unique_process *p,
                                   const char *const argv[], const char *cwd,
                                   uint32_t flags) {
  rm__restart_reg *v = NULL, *grown;
  size_t n = 0, len;
  char *data;
  rm__dir *d;
  uint32_t rc = rm__store_open_locked(&d);
  if (rc != RM_OK) return rc;
  rc = read_all(d, &v, &n);
  if (rc == RM_OK) prune(v, &n, p);
  if (rc == RM_OK && argv) {
    grown = realloc(v, (n + 1) * sizeof *v);
    if (!grown) {
      rc = RM_ERROR_OUTOFMEMORY;
    } else {
      v = grown;
      memset(&v[n], 0, sizeof v[n]);
      v[n].process = *p;
      v[n].flags = flags;
      v[n].argv = rm__argv_dup((char *const *)(uintptr_t)argv);
      v[n].cwd = cwd ? rm__strdup(cwd) : NULL;
      n++;
      if (!v[n - 1].argv || (cwd && !v[n - 1].cwd)) rc = RM_ERROR_OUTOFMEMORY;
    }
  }
  if (rc == RM_OK && n == 0) {
    rc = rm__os_store_remove(d, RESTARTS_FILE);
  } else if (rc == RM_OK) {
    rc = format(v, n, &data, &len);
    if (rc == RM_OK) {
      rc = rm__os_store_write(d, RESTARTS_FILE, data, len);
      free(data);
    }
  }
  rm__restarts_free(v, n);
  rm__os_store_unlock(d);
  rm__os_store_close(d);
  return rc;
}

uint32_t rm_register_process_restart(const rm_unique_process *process,
                                     const char *const argv[],
                                     const char *cwd, uint32_t flags) {
  rm_unique_process self;
  uint32_t rc;
  if (!process) {
    rm__os_self(&self);
    process = &self;
  }
  if (argv) {
    rc = validate(argv, cwd, flags);
    if (rc != RM_OK) return rc;
  }
  rc = rm__os_may_register(process);
  if (rc != RM_OK) return rc;
  return store_registration(process, argv, cwd, flags);
}

uint32_t rm_register_application_restart(const char *const argv[],
                                         uint32_t flags) {
  return rm_register_process_restart(NULL, argv, NULL, flags);
}

uint32_t rm_get_application_restart(uint32_t pid,
                                    rm_restart_registration **out) {
  rm_unique_process p;
  rm__restart_reg *v = NULL;
  const rm__restart_reg *found;
  rm_restart_registration *r;
  size_t n = 0;
  uint32_t rc;
  if (!out) return RM_ERROR_BAD_ARGUMENTS;
  rc = rm__os_identity(pid, &p);
  if (rc != RM_OK) return rc == RM_ERROR_ACCESS_DENIED ? RM_ERROR_FILE_NOT_FOUND
                                                       : rc;
  rc = rm__restarts_load(&v, &n);
  if (rc != RM_OK) return rc;
  found = rm__restart_find(v, n, &p);
  if (!found) {
    rm__restarts_free(v, n);
    return RM_ERROR_FILE_NOT_FOUND;
  }
  r = calloc(1, sizeof *r);
  if (r) {
    r->process = found->process;
    r->flags = found->flags;
    r->argv = rm__argv_dup(found->argv);
    r->cwd = found->cwd ? rm__strdup(found->cwd) : NULL;
  }
  if (r && found->cwd && !r->cwd) {
    rm__argv_free(r->argv);
    r->argv = NULL;
  }
  rm__restarts_free(v, n);
  if (!r || !r->argv) {
    rm_free_application_restart(r);
    return RM_ERROR_OUTOFMEMORY;
  }
  *out = r;
  return RM_OK;
}

void rm_free_application_restart(rm_restart_registration *r) {
  if (!r) return;
  rm__argv_free(r->argv);
  free(r->cwd);
  free(r);
}

/* }===== */
