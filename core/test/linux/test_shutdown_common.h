/* SPDX-License-Identifier: MIT */
/*
 * test_shutdown_common.h: what the shutdown, restart and service tests
 * share: starting rm_app helpers, listing, reaping with the signal that
 * ended a child, ending relaunched processes (which are not our children)
 * by identity, and real runit services of the system: a root runsvdir
 * started by the test and re-parented to init (docs/security.md,
 * "Services": only those are services).  Static inline so each test uses what it needs.
 */
#ifndef RM_TEST_SHUTDOWN_COMMON_H
#define RM_TEST_SHUTDOWN_COMMON_H

#include "test.h"
#include "internal.h"
#include "linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* {===== Environment */

/* Root relaunching root drops the variables that make an interpreter or
 * the loader run code (linux/relaunch_env.c); the tests that want an
 * environment kept whole run without them, whatever the machine sets
 * (PYTHONUNBUFFERED, NODE_EXTRA_CA_CERTS, ...). */
int rm__linux_env_dropped(const char *entry);
extern char **environ;
static inline void drop_relaunch_dropped_env(void) {
  size_t i = 0;
  while (environ[i]) {
    if (rm__linux_env_dropped(environ[i])) {
      char name[256];
      size_t n = strcspn(environ[i], "=");
      if (n >= sizeof name) {
        i++;
        continue;
      }
      memcpy(name, environ[i], n);
      name[n] = 0;
      unsetenv(name);
      i = 0;
    } else {
      i++;
    }
  }
}

/* }=====
 * {===== Apps */

/* Starts exe (an rm_app) with the given arguments and waits for its
 * "ready"; fills its identity. */
static inline void app_start_v(rmt_child *c, rm_unique_process *id,
                               const char *exe, va_list ap) {
  const char *args[31];
  int n = 0;
  while (n < 30 && (args[n] = va_arg(ap, const char *)) != NULL) n++;
  args[n] = NULL;
  rmt_start_ready(c, exe, args);
  ASSERT_OK(rm_get_process_identity((uint32_t)c->pid, id));
}

static inline void app_start_(rmt_child *c, rm_unique_process *id, ...) {
  va_list ap;
  va_start(ap, id);
  app_start_v(c, id, rmt_helper("rm_app"), ap);
  va_end(ap);
}

static inline void app_start_exe_(rmt_child *c, rm_unique_process *id,
                                  const char *exe, ...) {
  va_list ap;
  va_start(ap, exe);
  app_start_v(c, id, exe, ap);
  va_end(ap);
}

/* APP(&child, &identity, "--hold", path, ...): rm_app with arguments. */
#define APP(c, id, ...) app_start_((c), (id), __VA_ARGS__, (const char *)NULL)
#define APP_EXE(c, id, exe, ...) \
  app_start_exe_((c), (id), (exe), __VA_ARGS__, (const char *)NULL)

/* Copies rm_app to path (an executable of its own, for file filters and
 * for a program that disappears before the restart). */
static inline void copy_app(const char *path) {
  rmt_copy_exe(rmt_helper("rm_app"), path);
}

/* Waits for a child to end and reaps it: the signal that killed it, or
 * 1000 + its exit code; -1 if it still runs after timeout_ms (it is then
 * left to the harness). */
static inline int reap_child(rmt_child *c, unsigned timeout_ms) {
  unsigned waited = 0;
  int status;
  for (;;) {
    pid_t r = waitpid((pid_t)c->pid, &status, WNOHANG);
    if (r == (pid_t)c->pid) break;
    if (waited >= timeout_ms) return -1;
    rmt_sleep_ms(10);
    waited += 10;
  }
  c->pid = 0;                 /* the harness must not signal the pid again */
  if (c->out_fd >= 0) {
    close(c->out_fd);
    c->out_fd = -1;
  }
  rmt_forget(c);              /* nor read this rmt_child after the case */
  return WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
}

/* 1 when the child is still running (not exited, not a zombie). */
static inline int child_running(const rmt_child *c) {
  rm_unique_process p;
  return c->pid > 0 && rm_get_process_identity((uint32_t)c->pid, &p) == RM_OK &&
         rm__os_alive(&p);
}

/* Processes the library started for us (relaunched apps): not our
 * children, so they are ended by identity and waited for until gone. */
static rm_unique_process foreign_procs[64];
static int n_foreign_procs;

static inline void foreign_track(const rm_unique_process *p) {
  if (n_foreign_procs < 64) foreign_procs[n_foreign_procs++] = *p;
}

static inline void foreign_kill_all(void) {
  int i;
  for (i = 0; i < n_foreign_procs; i++) {
    unsigned waited = 0;
    if (rm__os_alive(&foreign_procs[i]))
      kill((pid_t)foreign_procs[i].pid, SIGKILL);
    while (rm__os_alive(&foreign_procs[i]) && waited < 10000) {
      rmt_sleep_ms(10);
      waited += 10;
    }
  }
  n_foreign_procs = 0;
}

/* }=====
 * {===== Sessions and lists */

typedef struct listing {
  rm_process_info v[64];
  unsigned n;
  uint32_t reasons;
} listing;

static inline void list_now(uint32_t h, listing *l) {
  unsigned need = 0;
  l->n = 64;
  ASSERT_OK(rm_get_list(h, &need, &l->n, l->v, &l->reasons));
}

static inline const rm_process_info *entry_of(const listing *l, long pid) {
  unsigned i;
  for (i = 0; i < l->n; i++)
    if (l->v[i].process.pid == (uint32_t)pid) return &l->v[i];
  return NULL;
}

/* A started session with one registered file, timeouts set. */
static inline uint32_t session_with_file(const char *file, unsigned app_ms,
                                         unsigned svc_ms) {
  uint32_t h;
  char key[33];
  const char *files[1];
  files[0] = file;
  ASSERT_OK(rm_start_session(&h, 0, key));
  if (file) ASSERT_OK(rm_register_resources(h, 1, files, 0, NULL, 0, NULL));
  ASSERT_OK(rm_set_timeouts(h, app_ms, svc_ms));
  return h;
}

/* A temp file to hold, in a fresh temp dir (static storage, 4 slots). */
static inline const char *temp_file(const char *name) {
  static char paths[4][600];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, 600, "%s/%s", rmt_tempdir(), name);
  ASSERT_EQ(0, rmt_write_file(p, "data\n"));
  return p;
}

/* Progress recorder: the values the callback saw. */
typedef struct progress_log {
  unsigned v[256];
  int n;
} progress_log;

static inline void progress_record(unsigned percent, void *ctx) {
  progress_log *p = ctx;
  if (p->n < 256) p->v[p->n++] = percent;
}

/* A progress callback that records and cancels the call on handle h at
 * the first step after 0: once something was acted on. */
typedef struct cancel_ctx {
  uint32_t h;
  progress_log log;
} cancel_ctx;

static inline void cancel_after_first_step(unsigned percent, void *arg) {
  cancel_ctx *c = arg;
  progress_record(percent, &c->log);
  if (percent > 0) ASSERT_OK(rm_cancel_current_task(c->h));
}

/* Strictly increasing, within 0..100, the first one 0 (before anything
 * was acted on), the last one 100. */
static inline void assert_progress_complete(const progress_log *p) {
  int i;
  ASSERT(p->n >= 2);
  ASSERT_EQ(0, p->v[0]);
  for (i = 0; i < p->n; i++) {
    ASSERT(p->v[i] <= 100);
    if (i > 0) ASSERT(p->v[i] > p->v[i - 1]);
  }
  ASSERT_EQ(100, p->v[p->n - 1]);
}

/* A cancel from another thread while a call runs: pthread_create with
 * cancel_soon on a delayed_cancel whose h is the session; 700 ms later it
 * calls rm_cancel_current_task and keeps its code in rc. */
typedef struct delayed_cancel {
  uint32_t h, rc;
} delayed_cancel;

static inline void *cancel_soon(void *arg) {
  delayed_cancel *c = arg;
  rmt_sleep_ms(700);
  c->rc = rm_cancel_current_task(c->h);
  return NULL;
}

/* 1 when pid has a mount namespace other than this process's (a
 * sandboxed service), 0 when it shares it, -1 when either is unreadable. */
static inline int own_mount_ns(uint32_t pid) {
  char ours[64], theirs[64], path[64];
  ssize_t n = readlink("/proc/self/ns/mnt", ours, sizeof ours - 1), m;
  snprintf(path, sizeof path, "/proc/%u/ns/mnt", (unsigned)pid);
  m = readlink(path, theirs, sizeof theirs - 1);
  if (n <= 0 || m <= 0) return -1;
  ours[n] = 0;
  theirs[m] = 0;
  return strcmp(ours, theirs) != 0;
}

/* }=====
 * {===== runit */

#define RUNSV "/usr/bin/runsv"
#define RUNSVDIR "/usr/bin/runsvdir"
#define SV "/usr/bin/sv"

typedef struct svc {
  char base[512];           /* $SVDIR for the test, runsvdir's directory */
  char dir[600];            /* the service directory */
  char name[64];
  rmt_child runsv;          /* runsvdir's runsv (not ours: pid only) */
  rm_unique_process runsvdir;
} svc;

/* runit and root are required: CI has both; elsewhere the cases fail. */
static inline void require_runit(void) {
  ASSERT(access(RUNSV, X_OK) == 0);
  ASSERT(access(RUNSVDIR, X_OK) == 0);
  ASSERT(access(SV, X_OK) == 0);
  ASSERT_EQ(0, (long)geteuid());
}

static inline void svc_read(const svc *s, const char *file, char *buf,
                            size_t cap) {
  char path[700];
  FILE *f;
  size_t n = 0;
  snprintf(path, sizeof path, "%s/supervise/%s", s->dir, file);
  f = fopen(path, "r");
  if (f) {
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
  }
  buf[n] = 0;
  while (n > 0 && buf[n - 1] == '\n') buf[--n] = 0;
}

static inline uint32_t svc_pid(const svc *s) {
  char buf[32];
  svc_read(s, "pid", buf, sizeof buf);
  return (uint32_t)strtoul(buf, NULL, 10);
}

/* Creates NAME under a fresh $SVDIR with a run script that execs rm_app
 * with the given arguments (a single string, already quoted).  The
 * directories are root's and not writable by others, as the system's. */
static inline void svc_create(svc *s, const char *name, const char *app_args) {
  char path[700], script[2048];
  memset(s, 0, sizeof *s);
  s->runsv.pid = 0;
  s->runsv.out_fd = -1;
  snprintf(s->base, sizeof s->base, "%s/service", rmt_tempdir());
  ASSERT_EQ(0, mkdir(s->base, 0755));
  snprintf(s->name, sizeof s->name, "%s", name);
  snprintf(s->dir, sizeof s->dir, "%s/%s", s->base, name);
  ASSERT_EQ(0, mkdir(s->dir, 0755));
  snprintf(path, sizeof path, "%s/run", s->dir);
  snprintf(script, sizeof script,
           "#!/bin/sh\nexec 2>&1\nexec %s --pdeathsig %s\n",
           rmt_helper("rm_app"), app_args);
  ASSERT_EQ(0, rmt_write_file(path, script));
  ASSERT_EQ(0, chmod(path, 0755));
  rmt_setenv("SVDIR", s->base);
}

/* Waits (bounded) until the service runs with a pid; returns it. */
static inline uint32_t svc_wait_up(const svc *s, unsigned timeout_ms) {
  unsigned waited = 0;
  char stat[64];
  for (;;) {
    uint32_t pid = svc_pid(s);
    svc_read(s, "stat", stat, sizeof stat);
    if (pid && strcmp(stat, "run") == 0) return pid;
    if (waited >= timeout_ms) return 0;
    rmt_sleep_ms(20);
    waited += 20;
  }
}

/* Starts `runsvdir dir` as the system would: as root, a child of init.
 * A double fork re-parents it to PID 1 (a subreaper above the test would
 * take it instead, and the check below fails).  Returns its pid. */
static inline pid_t start_system_runsvdir(const char *dir) {
  int fds[2];
  pid_t mid, pid = 0;
  rm__pstat st;
  unsigned waited;
  ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
  mid = fork();
  ASSERT(mid >= 0);
  if (mid == 0) {
    pid_t c;
    setsid();
    c = fork();
    if (c == 0) {
      int null = open("/dev/null", O_RDWR), fd;
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      for (fd = 3; fd < 1024; fd++) close(fd);
      execl(RUNSVDIR, "runsvdir", dir, (char *)NULL);
      _exit(127);
    }
    if (write(fds[1], &c, sizeof c) != (ssize_t)sizeof c) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  ASSERT_EQ((long)sizeof pid, (long)read(fds[0], &pid, sizeof pid));
  close(fds[0]);
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {}
  for (waited = 0; waited < 5000; waited += 10) {
    if (rm__linux_read_stat(-1, (uint32_t)pid, &st) == 0 && st.ppid == 1 &&
        strcmp(st.comm, "runsvdir") == 0)
      break;
    rmt_sleep_ms(10);
  }
  ASSERT(rm__linux_read_stat(-1, (uint32_t)pid, &st) == 0);
  ASSERT_EQ(1, st.ppid);
  return pid;
}

/* The pid of the runsv child of runsvdir, 0 when none (yet). */
static inline pid_t runsv_of(pid_t runsvdir) {
  char path[64], buf[256];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)runsvdir,
           (int)runsvdir);
  f = fopen(path, "r");
  if (!f) return 0;
  buf[0] = 0;
  if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
  fclose(f);
  return (pid_t)strtol(buf, NULL, 10);
}

/* Ends runsvdir (SIGTERM: it leaves its runsv running) by identity and
 * waits until it is gone. */
static inline void svc_end_runsvdir(svc *s) {
  unsigned waited = 0;
  if (!s->runsvdir.pid) return;
  if (rm__os_alive(&s->runsvdir)) kill((pid_t)s->runsvdir.pid, SIGTERM);
  while (rm__os_alive(&s->runsvdir) && waited < 10000) {
    rmt_sleep_ms(10);
    waited += 10;
  }
  ASSERT(!rm__os_alive(&s->runsvdir));
  s->runsvdir.pid = 0;
}

/* The services started and not yet torn down, ended by the case's
 * cleanup when an assertion fails half-way (runsvdir is init's child, so
 * nothing else would end it). */
static struct {
  rm_unique_process runsvdir;
  long runsv;
} live_svcs[8];

static inline void svc_end_live(void *arg) {
  int i;
  (void)arg;
  for (i = 0; i < 8; i++) {
    unsigned waited = 0;
    rm_unique_process runsv;
    int had;
    if (!live_svcs[i].runsvdir.pid) continue;
    had = live_svcs[i].runsv > 0 &&
          rm_get_process_identity((uint32_t)live_svcs[i].runsv, &runsv) ==
              RM_OK;
    if (rm__os_alive(&live_svcs[i].runsvdir))
      kill((pid_t)live_svcs[i].runsvdir.pid, SIGTERM);
    while (rm__os_alive(&live_svcs[i].runsvdir) && waited < 5000) {
      rmt_sleep_ms(10);
      waited += 10;
    }
    if (had && rm__os_alive(&runsv)) kill((pid_t)runsv.pid, SIGTERM);
    live_svcs[i].runsvdir.pid = 0;
  }
}

/* Starts the system's runsvdir on the service's $SVDIR, and lets the
 * service run for more than a second (runsv sleeps 1 s after a child that
 * ran less). */
static inline uint32_t svc_start(svc *s) {
  pid_t dir_pid = start_system_runsvdir(s->base);
  uint32_t pid;
  unsigned waited;
  int slot;
  ASSERT_OK(rm_get_process_identity((uint32_t)dir_pid, &s->runsvdir));
  for (slot = 0; slot < 8 && live_svcs[slot].runsvdir.pid; slot++) {}
  ASSERT(slot < 8);
  rmt_at_cleanup(svc_end_live, NULL);
  live_svcs[slot].runsvdir = s->runsvdir;
  for (waited = 0; !s->runsv.pid && waited < 5000; waited += 10) {
    s->runsv.pid = runsv_of(dir_pid);
    if (!s->runsv.pid) rmt_sleep_ms(10);
  }
  live_svcs[slot].runsv = s->runsv.pid;
  ASSERT(s->runsv.pid > 0);
  pid = svc_wait_up(s, 10000);
  ASSERT(pid != 0);
  rmt_sleep_ms(1200);
  ASSERT_EQ(pid, svc_pid(s));
  return pid;
}

/* Runs `sv -w 5 CMD DIR`; returns its exit code. */
static inline int run_sv(const char *cmd, const char *dir) {
  char *argv[6];
  rmt_child c;
  argv[0] = (char *)(uintptr_t)SV;
  argv[1] = (char *)(uintptr_t)"-w";
  argv[2] = (char *)(uintptr_t)"5";
  argv[3] = (char *)(uintptr_t)cmd;
  argv[4] = (char *)(uintptr_t)dir;
  argv[5] = NULL;
  if (rmt_spawn(&c, argv) != 0) return -1;
  return rmt_wait(&c, 20000);
}

/* Ends runsvdir, then the service and runsv (`sv -w 5 force-shutdown`:
 * exit, and kill a service that ignores SIGTERM after 5 s), and checks
 * both are gone.  They are init's children now: init reaps them. */
static inline void svc_teardown(svc *s) {
  uint32_t pid = svc_pid(s);
  rm_unique_process id, runsv;
  int had = pid && rm_get_process_identity(pid, &id) == RM_OK;
  int had_runsv = s->runsv.pid > 0 &&
      rm_get_process_identity((uint32_t)s->runsv.pid, &runsv) == RM_OK;
  unsigned waited = 0;
  int i;
  for (i = 0; i < 8; i++)
    if (live_svcs[i].runsvdir.pid == s->runsvdir.pid) live_svcs[i].runsvdir.pid = 0;
  svc_end_runsvdir(s);
  run_sv("force-shutdown", s->dir);
  while (((had && rm__os_alive(&id)) || (had_runsv && rm__os_alive(&runsv))) &&
         waited < 15000) {
    rmt_sleep_ms(20);
    waited += 20;
  }
  ASSERT(!had || !rm__os_alive(&id));
  ASSERT(!had_runsv || !rm__os_alive(&runsv));
}

/* }===== */

#endif
