/* SPDX-License-Identifier: MIT */
/*
 * restartable.c: whether the library can start a found process again,
 * decided when it is listed, so that rm_get_list tells the truth and
 * RM_SHUTDOWN_ONLY_REGISTERED refuses before anything is stopped.
 *
 * The rule (docs/linux.md, The restartable rule).  An app that is not a service and has no
 * terminal is restartable when all of these hold:
 *
 *  1. Its credentials are uniform: real, effective, saved and filesystem
 *     uid are one value, and likewise the gids.  A process that changed
 *     only some of them (a setuid program, a half-dropped daemon) cannot
 *     be reproduced without guessing which ones matter.
 *  2. The caller can take those credentials on exactly: it is root, or it
 *     has the same uid, gid and supplementary groups itself.
 *  3. Either it has a restart registration (registration.c) without
 *     RM_RESTART_NO_PATCH whose program is a plain executable its user
 *     can reach and run, or:
 *     a. its executable is known by identity (the /proc/PID/exe inode),
 *        is a plain executable (not setuid, not setgid, no file
 *        capabilities), and a plain executable its user can reach and
 *        run (mode bits) still exists at the path it was started from:
 *        the same file, or the file that replaced it there (an upgrade);
 *     b. argv[0] resolves to that executable: as a path, relative to the
 *        process's cwd, or without a slash through the PATH of its
 *        environment, it names the running inode or the file now at the
 *        executable's path.  A daemon that rewrites its command line
 *        ("nginx: master process ...") fails this, and so does a spoofed
 *        argv[0];
 *     c. for an interpreter (sh, bash, python, perl, lua, ruby, node, php,
 *        tclsh and their versioned names), a script argument (argv[1]
 *        when it is not an option) still exists as a regular file.
 *
 *  4. Its confinement can be reproduced (context.c): no seccomp filter,
 *     no LSM label other than "unconfined".  Else it is not restartable
 *     and says why (RM_NOT_RESTARTABLE_*).
 *
 * Workers: an app that fails the rule, whose parent is a listed,
 * restartable app running the same executable (nginx's workers under
 * their master), is restartable through it: stopped with it, never
 * relaunched on its own.
 *
 * What is checked here is re-checked when the program is started
 * (launch.c), as its user, on the file actually executed.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH \
  "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

/* {===== The list-time rule */

/* The value of PATH in the process's initial environment, copied into
 * out[cap]; DEFAULT_PATH when absent or too long. */
static void env_path(const rm__environ *env, char *out, size_t cap) {
  size_t len = 0;
  const char *v = rm__environ_value(env, "PATH", &len);
  if (v && len < cap) {
    memcpy(out, v, len);
    out[len] = 0;
  } else {
    snprintf(out, cap, "%s", DEFAULT_PATH);
  }
}

/* The process's cwd as an O_PATH fd, opened when first needed (*cwdfd
 * starts at -2); -1 when it cannot be opened. */
static int cwd_of(int dirfd, int *cwdfd) {
  if (*cwdfd == -2)
    *cwdfd = openat(dirfd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return *cwdfd;
}

/* fstatat relative to the process's cwd (an absolute name needs none). */
static int stat_at_cwd(int dirfd, int *cwdfd, const char *name,
                       struct stat *st) {
  if (name[0] == '/') return stat(name, st);
  if (cwd_of(dirfd, cwdfd) < 0) return -1;
  return fstatat(*cwdfd, name, st, 0);
}

/* Resolves name as the process would have: relative to its cwd when it
 * has a slash, else through the PATH of env.  0 and fills *st. */
static int resolve(int dirfd, int *cwdfd, const rm__environ *env,
                   const char *name, struct stat *st) {
  char path[8192];
  const char *p;
  if (strchr(name, '/')) return stat_at_cwd(dirfd, cwdfd, name, st);
  env_path(env, path, sizeof path);
  for (p = path; ; ) {
    size_t n = strcspn(p, ":");
    char full[8192];
    if (n == 0) {
      if (stat_at_cwd(dirfd, cwdfd, name, st) == 0 && S_ISREG(st->st_mode))
        return 0;
    } else if ((size_t)snprintf(full, sizeof full, "%.*s/%s", (int)n, p,
                                name) < sizeof full) {
      if (stat_at_cwd(dirfd, cwdfd, full, st) == 0 && S_ISREG(st->st_mode) &&
          (st->st_mode & 0111))
        return 0;
    }
    p += n;
    if (!*p) break;
    p++;
  }
  return -1;
}

/* 1 when the basename names a script interpreter. */
static int is_interpreter(const char *exe) {
  static const char *const names[] = {
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "python", "perl", "lua",
    "ruby", "node", "nodejs", "php", "tclsh", NULL
  };
  const char *base = strrchr(exe, '/');
  size_t i;
  base = base ? base + 1 : exe;
  for (i = 0; names[i]; i++) {
    size_t n = strlen(names[i]);
    const char *rest = base + n;
    if (strncmp(base, names[i], n) != 0) continue;
    while (*rest == '.' || (*rest >= '0' && *rest <= '9')) rest++;
    if (*rest == 0) return 1;
  }
  return 0;
}

/* 1 when st's mode grants execute (search) to these credentials. */
static int may_execute(const struct stat *st, const rm__creds *c) {
  size_t i;
  int in_group = st->st_gid == c->gid[0];
  if (c->uid[0] == 0) return (st->st_mode & 0111) != 0;
  if (st->st_uid == c->uid[0]) return (st->st_mode & S_IXUSR) != 0;
  for (i = 0; i < c->n_groups && !in_group; i++)
    in_group = st->st_gid == c->groups[i];
  return (st->st_mode & (in_group ? S_IXGRP : S_IXOTH)) != 0;
}

/* 1 when a process with credentials c can reach and execute path: every
 * directory on the way searchable, the file executable (mode bits; ACLs
 * are not read).  The relaunch re-checks for real, as that user. */
static int reachable_as(const char *path, const rm__creds *c) {
  char prefix[RM_PATH_MAX + 1];
  struct stat st;
  size_t i, n = strlen(path);
  if (n > RM_PATH_MAX || path[0] != '/') return 0;
  for (i = 1; i < n; i++) {
    if (path[i] != '/') continue;
    memcpy(prefix, path, i);
    prefix[i] = 0;
    if (stat(prefix, &st) != 0 || !S_ISDIR(st.st_mode) || !may_execute(&st, c))
      return 0;
  }
  return stat(path, &st) == 0 && may_execute(&st, c);
}

static int same_file(const struct stat *a, uint64_t dev, uint64_t ino) {
  return (uint64_t)a->st_dev == dev && (uint64_t)a->st_ino == ino;
}

/* Rule 3 for a registered command: its program is a plain executable
 * the process's user can run. */
static int registered_ok(const rm__restart_reg *reg, const rm__creds *c) {
  struct stat st;
  if (reg->flags & RM_RESTART_NO_PATCH) return 0;
  return stat(reg->argv[0], &st) == 0 &&
         rm__linux_plain_executable(&st, reg->argv[0]) == 0 &&
         reachable_as(reg->argv[0], c);
}

/* The cached verdict on (running inode, link text, credentials), or
 * NULL. */
static rm__exe_verdict *verdict_of(rm__exe_cache *cache,
                                   const struct stat *running,
                                   const char *link, const rm__creds *c) {
  size_t i;
  if (!cache) return NULL;
  for (i = 0; i < sizeof cache->v / sizeof cache->v[0]; i++) {
    rm__exe_verdict *v = &cache->v[i];
    if (v->used && same_file(running, v->run_dev, v->run_ino) &&
        v->uid == c->uid[0] && v->gid == c->gid[0] &&
        v->n_groups == c->n_groups &&
        memcmp(v->groups, c->groups, c->n_groups * sizeof *c->groups) == 0 &&
        strcmp(v->link, link) == 0)
      return v;
  }
  return NULL;
}

static void remember(rm__exe_cache *cache, const struct stat *running,
                     const char *link, const rm__creds *c, int ok,
                     const struct stat *present) {
  rm__exe_verdict *v;
  if (!cache || strlen(link) >= sizeof cache->v[0].link ||
      c->n_groups > sizeof cache->v[0].groups / sizeof cache->v[0].groups[0])
    return;
  v = &cache->v[cache->next++ % (sizeof cache->v / sizeof cache->v[0])];
  memset(v, 0, sizeof *v);
  v->used = 1;
  v->ok = ok;
  v->run_dev = (uint64_t)running->st_dev;
  v->run_ino = (uint64_t)running->st_ino;
  memcpy(v->link, link, strlen(link) + 1);
  v->uid = c->uid[0];
  v->gid = c->gid[0];
  v->n_groups = c->n_groups;
  memcpy(v->groups, c->groups, c->n_groups * sizeof *c->groups);
  if (ok) {
    v->present_dev = (uint64_t)present->st_dev;
    v->present_ino = (uint64_t)present->st_ino;
  }
}

/* Rule 3a on the files: the running executable is a plain one, and a
 * plain executable these credentials can reach is at its path (*present). */
static int executable_ok(const rm__found *f, const struct stat *running,
                         const char *link, const rm__creds *c,
                         struct stat *present) {
  char exe_xattr[64];
  snprintf(exe_xattr, sizeof exe_xattr, "/proc/%u/exe",
           (unsigned)f->info.process.pid);
  return rm__linux_plain_executable(running, exe_xattr) == 0 &&
         link[0] == '/' && stat(link, present) == 0 &&
         rm__linux_plain_executable(present, link) == 0 &&
         reachable_as(link, c);
}

/* Rules 3a-3c.  What 3a checks of the files is the same for every
 * process of one program and user, and is taken from the cache.  The
 * running inode's mode comes from the detection's statx of exe and its
 * link text from classification (x), each read once per process. */
static int program_ok(int dirfd, const rm__found *f, rm__exe_seen *x,
                      const rm__environ *env, const rm__creds *c,
                      rm__exe_cache *cache) {
  char link[RM_PATH_MAX + 16], cmd[RM_PATH_MAX * 2 + 2];
  struct stat running, present, argv0;
  const rm__exe_verdict *v;
  const char *arg1, *raw;
  ssize_t len;
  int cwdfd = -2, ok = 0;

  if (!f->has_exe) return 0;
  if (x->mode) {
    memset(&running, 0, sizeof running);
    running.st_dev = (dev_t)f->exe.dev;
    running.st_ino = (ino_t)f->exe.ino;
    running.st_mode = (mode_t)x->mode;
  } else if (fstatat(dirfd, "exe", &running, 0) != 0 ||
             !same_file(&running, f->exe.dev, f->exe.ino)) {
    return 0;
  }
  if (!(raw = rm__exe_link(dirfd, x)) || strlen(raw) >= sizeof link)
    return 0;
  memcpy(link, raw, strlen(raw) + 1);
  rm__linux_strip_deleted(link);
  v = verdict_of(cache, &running, link, c);
  if (v) {
    if (!v->ok) return 0;
    memset(&present, 0, sizeof present);
    present.st_dev = (dev_t)v->present_dev;
    present.st_ino = (ino_t)v->present_ino;
  } else {
    int good = executable_ok(f, &running, link, c, &present);
    remember(cache, &running, link, c, good, &present);
    if (!good) return 0;
  }

  len = rm__linux_read_once(dirfd, "cmdline", cmd, sizeof cmd);
  if (len <= 0 || cmd[0] == 0 || strlen(cmd) > RM_PATH_MAX) return 0;
  /* argv[0] is the executable's own path, just checked (or checked for
   * this program earlier in this scan): it names the file at that path. */
  if (strcmp(cmd, link) == 0)
    ok = 1;
  else if (resolve(dirfd, &cwdfd, env, cmd, &argv0) == 0 &&
           (same_file(&argv0, f->exe.dev, f->exe.ino) ||
            same_file(&argv0, (uint64_t)present.st_dev,
                      (uint64_t)present.st_ino)))
    ok = 1;
  arg1 = cmd + strlen(cmd) + 1;
  if (ok && is_interpreter(link) && arg1 < cmd + len && arg1[0] &&
      arg1[0] != '-') {
    struct stat script;
    ok = stat_at_cwd(dirfd, &cwdfd, arg1, &script) == 0 &&
         S_ISREG(script.st_mode);
  }
  /* The relaunch needs the cwd readable (launch.c captures it): checked
   * here when resolving argv[0] did not already open it. */
  if (ok && cwdfd == -2 && faccessat(dirfd, "cwd", F_OK, 0) != 0) ok = 0;
  if (cwdfd == -1) ok = 0;
  if (cwdfd >= 0) close(cwdfd);
  return ok;
}

int rm__relaunch_probe(const rm__self *self, int dirfd, const rm__found *f,
                       rm__exe_seen *x, const rm__environ *env,
                       rm__exe_cache *cache, uint32_t *why) {
  char status[8192];
  rm__creds c;
  const rm__restart_reg *reg;
  if (rm__linux_read_once(dirfd, "status", status, sizeof status) <= 0 ||
      rm__linux_parse_creds(status, &c) != 0 || !rm__linux_creds_uniform(&c) ||
      !rm__linux_can_become(&c))
    return 0;
  /* Rule 4: a confinement it cannot be started again with. */
  *why = rm__linux_unreproducible(dirfd, status);
  if (*why) return 0;
  reg = rm__restart_find(self->restarts, self->n_restarts, &f->info.process);
  if (reg) return registered_ok(reg, &c);
  return program_ok(dirfd, f, x, env, &c, cache);
}

void rm__mark_workers(rm__item *items, size_t n) {
  size_t i, k;
  for (i = 0; i < n; i++) {
    rm__found *w = &items[i].found;
    if (w->info.restartable || w->reasons || w->info.service_short_name[0] ||
        items[i].facts.console || !w->has_exe || !items[i].facts.ppid)
      continue;
    for (k = 0; k < n; k++) {
      const rm__found *m = &items[k].found;
      if (k == i || m->info.process.pid != items[i].facts.ppid ||
          !m->info.restartable || m->through.pid ||
          m->info.service_short_name[0] || !m->has_exe ||
          m->exe.dev != w->exe.dev || m->exe.ino != w->exe.ino)
        continue;
      w->info.restartable = 1;
      w->not_restartable = 0;            /* its master sets it up again */
      w->through = m->info.process;
      break;
    }
  }
}

/* }===== */
