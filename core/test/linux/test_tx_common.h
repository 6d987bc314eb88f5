/* SPDX-License-Identifier: MIT */
/*
 * test_tx_common.h: what the transaction tests share: the demo
 * application (rm_txapp) installed in a temp dir with its old version,
 * a release dir with the new one, and checks that the files are all old
 * or all new, that no temporary is left and no journal.
 */
#ifndef RM_TEST_TX_COMMON_H
#define RM_TEST_TX_COMMON_H

#include "test_restart_common.h"

#include <dirent.h>
#include <fcntl.h>

typedef struct demo {
  char root[512];             /* temp dir */
  char app[600];              /* root/app: the installed version */
  char rel[600];              /* root/release: the new version */
  char report[600];           /* what the running app writes */
  char exe[700];              /* app/bin/app */
} demo;

/* The files of each version, relative to app/ (and release/). */
static const char *const demo_files[] = {
  "bin/app", "bin/tool", "share/version", "share/data", "lib/libdemo",
  "share/old", "share/new", "share/current"
};
#define DEMO_N_FILES 8

static inline void put_file(const char *dir, const char *rel,
                            const char *text) {
  char p[800];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  ASSERT_EQ(0, rmt_write_file(p, text));
}

static inline void mkdirs(const char *dir) {
  char p[800];
  snprintf(p, sizeof p, "%s/bin", dir);
  ASSERT_EQ(0, mkdir(dir, 0755));
  ASSERT_EQ(0, mkdir(p, 0755));
  snprintf(p, sizeof p, "%s/share", dir);
  ASSERT_EQ(0, mkdir(p, 0755));
  snprintf(p, sizeof p, "%s/lib", dir);
  ASSERT_EQ(0, mkdir(p, 0755));
}

/* The program with an 8-byte trailer naming its version. */
static inline void put_exe(const char *dir, const char *trailer) {
  char p[800];
  FILE *f;
  snprintf(p, sizeof p, "%s/bin/app", dir);
  rmt_copy_exe(rmt_helper("rm_txapp"), p);
  f = fopen(p, "ab");
  ASSERT(f != NULL);
  fputs(trailer, f);
  ASSERT_EQ(0, fclose(f));
}

/* Version 1 installed in app/, version 2 in release/ (which adds
 * share/new and the link share/current, and drops share/old). */
static inline void demo_make(demo *d, const char *root) {
  snprintf(d->root, sizeof d->root, "%s", root);
  snprintf(d->app, sizeof d->app, "%s/app", root);
  snprintf(d->rel, sizeof d->rel, "%s/release", root);
  snprintf(d->report, sizeof d->report, "%s/report", root);
  snprintf(d->exe, sizeof d->exe, "%s/bin/app", d->app);
  mkdirs(d->app);
  put_exe(d->app, "version1");
  put_file(d->app, "bin/tool", "tool-1");
  put_file(d->app, "share/version", "1\n");
  put_file(d->app, "share/data", "data-1");
  put_file(d->app, "lib/libdemo", "lib-1");
  put_file(d->app, "share/old", "old-1");
  mkdirs(d->rel);
  put_exe(d->rel, "version2");
  put_file(d->rel, "bin/tool", "tool-2");
  put_file(d->rel, "share/version", "2\n");
  put_file(d->rel, "share/data", "data-2");
  put_file(d->rel, "lib/libdemo", "lib-2");
  put_file(d->rel, "share/new", "new-2");
  {
    char p[800];
    snprintf(p, sizeof p, "%s/share/current", d->rel);
    ASSERT_EQ(0, symlink("version", p));
  }
}

/* The file's content (link text for a link), "" when missing. */
static inline void read_at(const char *dir, const char *rel, char *buf,
                           size_t cap) {
  char p[800];
  struct stat st;
  FILE *f;
  size_t n;
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  buf[0] = 0;
  if (lstat(p, &st) != 0) return;
  if (S_ISLNK(st.st_mode)) {
    ssize_t k = readlink(p, buf, cap - 1);
    buf[k > 0 ? k : 0] = 0;
    return;
  }
  f = fopen(p, "rb");
  if (!f) return;
  /* The program: its trailer only. */
  if (strcmp(rel, "bin/app") == 0) fseek(f, -8, SEEK_END);
  n = fread(buf, 1, cap - 1, f);
  buf[n] = 0;
  fclose(f);
}

/* 1: every file is version 1's; 2: version 2's; 0: a mix. */
static inline int demo_version(const demo *d) {
  int old = 1, new_ = 1;
  size_t i;
  for (i = 0; i < DEMO_N_FILES; i++) {
    char a[256], want_old[256], want_new[256];
    read_at(d->app, demo_files[i], a, sizeof a);
    want_old[0] = want_new[0] = 0;
    if (strcmp(demo_files[i], "bin/app") == 0) {
      strcpy(want_old, "version1");
      strcpy(want_new, "version2");
    } else {
      static const char *const v1[DEMO_N_FILES] = {
        "", "tool-1", "1\n", "data-1", "lib-1", "old-1", "", ""
      };
      strcpy(want_old, v1[i]);
      read_at(d->rel, demo_files[i], want_new, sizeof want_new);
    }
    if (strcmp(a, want_old) != 0) old = 0;
    if (strcmp(a, want_new) != 0) new_ = 0;
  }
  return old ? 1 : new_ ? 2 : 0;
}

/* Names containing ".rmtx-" anywhere under dir. */
static inline int count_temps(const char *dir) {
  DIR *dd = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!dd) return 0;
  while ((e = readdir(dd)) != NULL) {
    char p[2048];
    struct stat st;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (strstr(e->d_name, ".rmtx-")) n++;
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) n += count_temps(p);
  }
  closedir(dd);
  return n;
}

/* Journals ("tx.NN") in the store. */
static inline int count_journals(void) {
  const char *store = getenv("RESTARTMGR_STATE_DIR");
  DIR *dd = store ? opendir(store) : NULL;
  struct dirent *e;
  int n = 0;
  if (!dd) return 0;
  while ((e = readdir(dd)) != NULL)
    if (strncmp(e->d_name, "tx.", 3) == 0) n++;
  closedir(dd);
  return n;
}

/* The running app's report: pid and version ("" when none yet). */
static inline long demo_report(const demo *d, char *version, size_t cap) {
  FILE *f = fopen(d->report, "r");
  long pid = 0;
  char v[64] = "", t[64] = "";
  version[0] = 0;
  if (!f) return 0;
  if (fscanf(f, "%ld %63s %63s", &pid, v, t) != 3) pid = 0;
  fclose(f);
  snprintf(version, cap, "%s/%s", v, t);
  return pid;
}

/* Processes whose executable is path (or its deleted older copy). */
static inline int count_running(const char *path, long *pids, int cap) {
  DIR *dd = opendir("/proc");
  struct dirent *e;
  int n = 0;
  size_t len = strlen(path);
  if (!dd) return 0;
  while ((e = readdir(dd)) != NULL) {
    char p[300], target[1024];
    ssize_t k;
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    snprintf(p, sizeof p, "/proc/%s/exe", e->d_name);
    k = readlink(p, target, sizeof target - 1);
    if (k < 0) continue;
    target[k] = 0;
    if (strncmp(target, path, len) == 0 &&
        (target[len] == 0 || strcmp(target + len, " (deleted)") == 0)) {
      rm_unique_process id;
      if (rm_get_process_identity((uint32_t)atol(e->d_name), &id) != RM_OK ||
          !rm__os_alive(&id))
        continue;
      if (n < cap) pids[n] = atol(e->d_name);
      n++;
    }
  }
  closedir(dd);
  return n;
}

/* Kills every process running path, waiting until they are gone. */
static inline void kill_running(const char *path) {
  long pids[64];
  int n = count_running(path, pids, 64), i, waited = 0;
  for (i = 0; i < n && i < 64; i++) kill((pid_t)pids[i], SIGKILL);
  while (count_running(path, pids, 64) && waited < 5000) {
    rmt_sleep_ms(10);
    waited += 10;
  }
}

static void kill_running_cb(void *arg) { kill_running(arg); }

/* Starts the installed app (our child) and waits for its report. */
static inline void demo_start(const demo *d, rmt_child *c,
                              rm_unique_process *id, const char *extra) {
  char v[64];
  unlink(d->report);
  if (extra) APP_EXE(c, id, d->exe, d->app, d->report, extra, "2");
  else APP_EXE(c, id, d->exe, d->app, d->report);
  ASSERT_EQ(c->pid, demo_report(d, v, sizeof v));
  ASSERT_STR_EQ("1/version1", v);
}

/* Waits until the report names a process other than old_pid. */
static inline long demo_wait_new(const demo *d, long old_pid, char *v,
                                 size_t cap) {
  int waited = 0;
  long pid;
  while ((pid = demo_report(d, v, cap)) == old_pid && waited < 5000) {
    rmt_sleep_ms(10);
    waited += 10;
  }
  return pid;
}

#endif
