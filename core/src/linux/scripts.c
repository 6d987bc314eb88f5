/* SPDX-License-Identifier: MIT */
/*
 * scripts.c: interpreter processes whose script was replaced or changed
 * after they started (docs/linux.md, Replaced scripts).  An upgrade that
 * replaces /usr/bin/foo.pl leaves the perl running it on the old code,
 * but nothing in its maps is deleted: only the script's path says so.
 *
 * Nothing is ever run.  Per process:
 *  1. the interpreter is recognised by the name of its executable file
 *     as the kernel shows it (/proc/PID/exe), not by argv[0] or comm;
 *  2. the script is the first argument after the interpreter's own
 *     options (the families below say which options take a value and
 *     which mean there is no script file: -e, -c, -m, stdin);
 *  3. that path is looked up in the process's own view, trusting only
 *     what root or the process's user controls (view_path.c);
 *  4. it is stale when the file found there changed (ctime, which a
 *     rename, a write or dpkg's unpack all set, and no one can set
 *     back) after the process started, or when it is gone and the
 *     process still holds it open, deleted (a shell reading its script).
 * The identity (pid, start time) is read before and checked after, so
 * a verdict never passes to a process that reused the pid.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Longest command line looked at: the script comes before the
 * program's own arguments. */
#define CMDLINE_MAX 65536
#define MAX_ARGS 256

/* {===== Interpreters and their options */

/* How one interpreter family reads its command line. */
typedef struct family {
  const char *label;              /* shown as rm_stale_script.interpreter */
  const char *names[7];           /* executable names, NULL-terminated */
  const char *arg_next;           /* letters taking a value: the rest of
                                     the cluster, else the next element */
  const char *arg_rest;           /* letters taking the rest of the
                                     cluster only (optional values) */
  const char *no_script;          /* letters meaning no script file
                                     (code, module, stdin, PATH search,
                                     chdir): nothing is decided */
  const char *const *long_next;   /* --options taking the next element */
  const char *const *long_none;   /* --options meaning no script file */
  int clusters;                   /* -wl is -w -l */
  int value_next_only;            /* arg_next letters take the next
                                     element even inside a cluster
                                     (shells: -euo pipefail) */
  int dash_is_stdin;              /* "-" alone: the script is stdin
                                     (else it ends the options) */
} family;

static const char *const ruby_long[] = {
  "--enable", "--disable", "--encoding", "--external-encoding",
  "--internal-encoding", "--dump", NULL };
static const char *const python_long[] = { "--check-hash-based-pycs", NULL };
static const char *const node_long[] = {
  "--require", "--import", "--loader", "--experimental-loader", "--title",
  "--conditions", "--env-file", "--input-type", "--inspect-port",
  "--redirect-warnings", "--icu-data-dir", "--openssl-config", NULL };
static const char *const node_none[] = { "--eval", "--print", "--interactive",
                                         NULL };
static const char *const shell_long[] = { "--rcfile", "--init-file", NULL };
static const char *const none[] = { NULL };

static const family families[] = {
  { "perl", { "perl", NULL }, "eEI", "0CdDFilmMVx", "eES", none, none,
    1, 0, 1 },
  { "python", { "python", "pypy", NULL }, "cmWXQ", "", "cm", python_long,
    none, 1, 0, 1 },
  { "ruby", { "ruby", NULL }, "eIrEC", "0FKTWx", "eCS", ruby_long, none,
    1, 0, 1 },
  { "node", { "node", "nodejs", NULL }, "erpC", "", "ep", node_long,
    node_none, 1, 0, 1 },
  { "lua", { "lua", "luajit", NULL }, "el", "", "", none, none, 0, 0, 1 },
  { "shell", { "sh", "dash", "bash", "zsh", "ksh", "mksh", NULL }, "oO", "",
    "cis", shell_long, none, 1, 1, 0 },
};

/* name is base or base followed by a version ("python3.11", "perl5.36.0",
 * "lua5.4", "luajit-2.1"). */
static int name_matches(const char *name, const char *base) {
  size_t n = strlen(base);
  const char *p;
  if (strncmp(name, base, n) != 0) return 0;
  p = name + n;
  if (!*p) return 1;
  if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-')) return 0;
  for (; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
          *p == '.' || *p == '-'))
      return 0;
  return 1;
}

/* The family of an executable, by its link text (" (deleted)" already
 * stripped), or NULL. */
static const family *family_of(const char *exe) {
  const char *base = strrchr(exe, '/');
  size_t f, k;
  base = base ? base + 1 : exe;
  for (f = 0; f < sizeof families / sizeof families[0]; f++)
    for (k = 0; families[f].names[k]; k++)
      if (name_matches(base, families[f].names[k])) return &families[f];
  return NULL;
}

static int in_list(const char *const *list, const char *a) {
  for (; *list; list++)
    if (strcmp(*list, a) == 0) return 1;
  return 0;
}

int rm__script_arg(const char *exe, const char *const *argv, int argc,
                   const char **label) {
  const family *f = family_of(exe);
  int i;
  if (!f) return -1;
  if (label) *label = f->label;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *c;
    if (a[0] == '-' && a[1] == '-') {
      if (!a[2]) return i + 1 < argc && argv[i + 1][0] ? i + 1 : -1;
      if (in_list(f->long_none, a)) return -1;
      if (!strchr(a, '=') && in_list(f->long_next, a)) i++;
      continue;
    }
    if (a[0] == '-' && !a[1]) {
      if (f->dash_is_stdin) return -1;
      return i + 1 < argc && argv[i + 1][0] ? i + 1 : -1;
    }
    if ((a[0] == '-' || (a[0] == '+' && f->value_next_only)) && a[1]) {
      for (c = a + 1; *c; c++) {
        if (strchr(f->no_script, *c)) return -1;
        if (strchr(f->arg_next, *c)) {
          if (!c[1] || f->value_next_only) i++;
          break;
        }
        if (strchr(f->arg_rest, *c) || !f->clusters) break;
      }
      continue;
    }
    return a[0] ? i : -1;
  }
  return -1;
}

/* }=====
 * {===== One process */

int64_t rm__linux_boot_wall_ns(void) {
  struct timespec rt, bt;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  return ((int64_t)rt.tv_sec - (int64_t)bt.tv_sec) * 1000000000 +
         ((int64_t)rt.tv_nsec - (int64_t)bt.tv_nsec);
}

/* Whether st changed after a process started at start_ticks.  The start
 * time is truncated to a clock tick and file times lag by up to one, so
 * a change counts only past one tick after the start: a script written
 * just before its interpreter started is never "changed". */
static int changed_after(const struct stat *st, uint64_t start_ticks,
                         int64_t boot_wall) {
  static long hz;
  int64_t tick, start, ctime_ns;
  if (!hz) {
    hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
  }
  tick = 1000000000 / hz;
  start = boot_wall + (int64_t)start_ticks * tick + tick;
  ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
  return ctime_ns > start;
}

/* Whether the process holds open a deleted file whose link reads
 * "canon (deleted)": the script it runs, removed since. */
static int holds_deleted(int proc_dir, const char *canon) {
  char link[PATH_MAX + 16];
  size_t want = strlen(canon);
  struct dirent *e;
  int found = 0, fd_dir = openat(proc_dir, "fd", O_RDONLY | O_DIRECTORY |
                                                    O_CLOEXEC);
  DIR *d = fd_dir >= 0 ? fdopendir(fd_dir) : NULL;
  if (!d) {
    if (fd_dir >= 0) close(fd_dir);
    return 0;
  }
  while (!found && (e = readdir(d)) != NULL) {
    struct statx sx;
    ssize_t n;
    if (e->d_name[0] == '.') continue;
    /* Cached attributes only: the file may be on a user's FUSE mount. */
    if (statx(dirfd(d), e->d_name, AT_STATX_DONT_SYNC,
              STATX_TYPE | STATX_NLINK, &sx) != 0 ||
        !S_ISREG(sx.stx_mode) || sx.stx_nlink != 0)
      continue;
    n = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = 0;
    found = (size_t)n == want + 10 && memcmp(link, canon, want) == 0 &&
            strcmp(link + want, " (deleted)") == 0;
  }
  closedir(d);
  return found;
}

/* Splits a NUL-separated command line into argv (complete elements
 * only).  The count. */
static int split_args(char *buf, size_t len, const char **argv, int max) {
  int argc = 0;
  size_t i = 0;
  while (i < len && argc < max) {
    size_t n = strnlen(buf + i, len - i);
    if (i + n == len) break;            /* cut short: not a whole element */
    argv[argc++] = buf + i;
    i += n + 1;
  }
  return argc;
}

int rm__script_check(int proc_dir, uint32_t pid, int64_t boot_wall,
                     rm__script_verdict *out) {
  char exe[PATH_MAX + 1], status[8192], cwd_text[PATH_MAX + 1];
  const char *argv[MAX_ARGS];
  rm__pstat st;
  rm__creds creds;
  rm__view_trust trust;
  rm__view_file file;
  rm_unique_process id;
  char *cmd = NULL;
  size_t cmd_len;
  ssize_t n;
  int argc, arg, rootfd = -1, cwdfd = -1, r, verdict = 0;

  memset(&trust, 0, sizeof trust);
  n = readlinkat(proc_dir, "exe", exe, sizeof exe - 1);
  if (n <= 0) return 0;                 /* kernel thread, zombie, denied */
  exe[n] = 0;
  rm__linux_strip_deleted(exe);
  if (!family_of(exe)) return 0;
  if (rm__linux_read_stat(proc_dir, pid, &st) != 0 || st.state == 'Z')
    return 0;
  if (rm__linux_read_whole(proc_dir, "cmdline", CMDLINE_MAX, &cmd, &cmd_len) !=
      RM_OK)
    return 0;
  argc = split_args(cmd, cmd_len, argv, MAX_ARGS);
  arg = rm__script_arg(exe, argv, argc, &out->interpreter);
  if (arg < 0) goto done;
  /* Trusted: root, and the process's user when all its uids agree. */
  trust.uids[0] = 0;
  trust.n_uids = 1;
  if (rm__linux_read_small(proc_dir, "status", status, sizeof status) <= 0 ||
      rm__linux_parse_creds(status, &creds) != 0)
    goto done;
  if (creds.uid[0] == creds.uid[1] && creds.uid[1] == creds.uid[2] &&
      creds.uid[2] == creds.uid[3] && creds.uid[0] != 0)
    trust.uids[trust.n_uids++] = creds.uid[0];
  if (rm__view_unsafe_mounts(proc_dir, &trust) != RM_OK) goto done;
  rootfd = openat(proc_dir, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) goto done;
  cwd_text[0] = 0;
  if (argv[arg][0] != '/') {
    cwdfd = openat(proc_dir, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    n = readlinkat(proc_dir, "cwd", cwd_text, sizeof cwd_text - 1);
    if (cwdfd < 0 || n <= 0 || cwd_text[0] != '/') goto done;
    cwd_text[n] = 0;
  }
  r = rm__view_resolve(&trust, rootfd, cwdfd, cwd_text, argv[arg], &file);
  if (r == 0) {
    if (changed_after(&file.st, st.start_ticks, boot_wall))
      verdict = RM_SCRIPT_CHANGED;
    close(file.fd);
  } else if (r == 1 && file.canon[0] && holds_deleted(proc_dir, file.canon)) {
    verdict = RM_SCRIPT_DELETED;
  }
  if (!verdict) goto done;
  id.pid = pid;
  id.start_time = rm__linux_ticks_to_100ns(st.start_ticks);
  if (!rm__linux_same_identity(proc_dir, &id) ||
      !(out->path = rm__strdup(file.canon))) {
    verdict = 0;
    goto done;
  }
  out->process = id;
  out->why = (uint32_t)verdict;
done:
  free(trust.unsafe);
  if (rootfd >= 0) close(rootfd);
  if (cwdfd >= 0) close(cwdfd);
  free(cmd);
  return verdict ? 1 : 0;
}

/* }=====
 * {===== Every process */

static int by_pid(const void *a, const void *b) {
  const rm__script_verdict *x = a, *y = b;
  return x->process.pid < y->process.pid ? -1 : x->process.pid > y->process.pid;
}

uint32_t rm__os_stale_scripts(rm__script_verdict **out, size_t *n_out) {
  rm__script_verdict *v = NULL, one;
  size_t n = 0, cap = 0;
  int64_t boot_wall = rm__linux_boot_wall_ns();
  struct dirent *e;
  DIR *proc = opendir("/proc");
  if (!proc) return RM_ERROR_ACCESS_DENIED;
  while ((e = readdir(proc)) != NULL) {
    char *end;
    unsigned long pid = strtoul(e->d_name, &end, 10);
    int pid_dir;
    if (*end || end == e->d_name || pid == 0 || pid > UINT32_MAX) continue;
    pid_dir = openat(dirfd(proc), e->d_name, O_RDONLY | O_DIRECTORY |
                                                 O_CLOEXEC);
    if (pid_dir < 0) continue;
    memset(&one, 0, sizeof one);
    if (rm__script_check(pid_dir, (uint32_t)pid, boot_wall, &one)) {
      if (n == cap) {
        size_t bigger = cap ? 2 * cap : 8;
        rm__script_verdict *w = realloc(v, bigger * sizeof *w);
        if (!w) {
          free(one.path);
          close(pid_dir);
          closedir(proc);
          rm__script_verdicts_free(v, n);
          return RM_ERROR_OUTOFMEMORY;
        }
        v = w;
        cap = bigger;
      }
      v[n++] = one;
    }
    close(pid_dir);
  }
  closedir(proc);
  if (n > 1) qsort(v, n, sizeof *v, by_pid);
  *out = v;
  *n_out = n;
  return RM_OK;
}

void rm__script_verdicts_free(rm__script_verdict *v, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) free(v[i].path);
  free(v);
}

/* }===== */
