/* SPDX-License-Identifier: MIT */
/*
 * relaunch_all.c: rm__os_launch and rm__os_launch_begin_all, the
 * caller's side of starting captured applications again, many at once
 * (docs/performance.md, Restart and the whole cycle; the processes it
 * starts and the safety of each step are relaunch.c's).
 *
 * What a launch costs here is the processes it makes: forking a big,
 * many-threaded caller copies its page tables and makes every later write
 * a copy-on-write fault and a TLB flush on each CPU it runs on.  So the
 * caller prepares every application of a batch first (environment,
 * groups, home directory, one socket each), forks one launcher for the
 * batch (one per CPU for bigger batches, so that their forks run on every
 * CPU), and the launchers make the rest; the caller itself starts no
 * thread.  It then takes the applications in order: reads the pid each
 * one reports, its identity, puts it in its cgroup, and sends it the go
 * byte; meanwhile the later ones set themselves up, so the waits
 * overlap.  A cancel stops the go bytes: an application that gets none
 * exits without exec'ing anything.
 */
#define _GNU_SOURCE
#include "relaunch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SETTLE_MS 200u
/* From its go byte to its exec an application runs as its user, who may
 * stop it there (SIGSTOP) for ever: the caller waits that long at most,
 * then kills it (docs/security.md, Relaunch deadline). */
#define EXEC_BOUND_MS 10000u
#define KILLED_GRACE_MS 5000u
#define MAX_LAUNCHERS 8
#define APPS_PER_LAUNCHER 8       /* fewer: a fork more costs more */

/* One launcher per CPU that is online, for at least APPS_PER_LAUNCHER
 * apps each: its forks are serial, so more launchers make the batch's
 * forks run on every CPU. */
static size_t launcher_count(size_t apps) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t k = apps / APPS_PER_LAUNCHER;
  if (cpus < 1) cpus = 1;
  if (k > (size_t)cpus) k = (size_t)cpus;
  if (k > MAX_LAUNCHERS) k = MAX_LAUNCHERS;
  return k ? k : 1;
}

/* fd moved to 3 or above (the application's stdio goes on 0-2). */
static int above_stdio(int fd) {
  int moved;
  if (fd < 0 || fd > 2) return fd;
  moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

/* The home directory of uid into a new string, or NULL; earlier plans of
 * the batch with the same uid lend theirs (one lookup per user). */
static const char *home_of(uint32_t uid, const rm__relaunch_plan *earlier,
                           size_t n, char **owned) {
  struct passwd pw, *found = NULL;
  char buf[4096];
  size_t i;
  *owned = NULL;
  for (i = 0; i < n; i++)
    if (earlier[i].l && earlier[i].l->uid == uid) return earlier[i].home;
  if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &found) == 0 && found &&
      pw.pw_dir && pw.pw_dir[0] == '/')
    *owned = rm__strdup(pw.pw_dir);
  return *owned;
}

/* 1 when a process that dropped root may be ptraced by its new user
 * (fs.suid_dumpable 1, or unknown): then the app is forked (relaunch.c,
 * be_intermediate). */
static int user_may_trace_dropped(void) {
  char v[8];
  ssize_t got;
  int fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  got = read(fd, v, sizeof v);
  close(fd);
  return got < 1 || (v[0] != '0' && v[0] != '2');
}

/* Fills plan for l (plans[0..at) are the batch's earlier ones).  0, or
 * -1 (out of memory, or no socket). */
static int prepare(const rm__launch *l, rm__relaunch_plan *plans, size_t at,
                   int null_fd, unsigned settle_ms, int traceable,
                   char **home) {
  rm__relaunch_plan *pl = &plans[at];
  size_t i, n = 0, kept = 0;
  int sv[2];
  memset(pl, 0, sizeof *pl);
  pl->app_end = pl->caller_end = -1;
  pl->as_root = geteuid() == 0;
  pl->own_memory = pl->as_root && l->uid != 0 && traceable;
  pl->notes = l->notes;
  pl->settle_ms = settle_ms;
  pl->null_fd = null_fd;
  pl->envp = l->envp;
  pl->home = home_of(l->uid, plans, at, home);
  pl->l = l;
  if (pl->as_root && l->uid == 0) {
    while (l->envp[n]) n++;
    pl->envp = calloc(n + 1, sizeof *pl->envp);
    if (!pl->envp) return -1;
    for (i = 0; i < n; i++)
      if (!rm__linux_env_dropped(l->envp[i])) pl->envp[kept++] = l->envp[i];
    if (kept != n) pl->notes |= RM_RESTART_NOTE_ENV_SANITIZED;
  }
  pl->groups = calloc(l->n_groups + 1, sizeof *pl->groups);
  if (!pl->groups) return -1;
  for (i = 0; i < l->n_groups; i++) pl->groups[i] = (gid_t)l->groups[i];
  /* A socket, so that a go byte sent to an app that already died is
   * EPIPE, not a SIGPIPE in the caller. */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  pl->app_end = above_stdio(sv[0]);
  pl->caller_end = sv[1];
  return pl->app_end < 0 ? -1 : 0;
}

static void release(rm__relaunch_plan *pl, char *home) {
  if (pl->l && pl->envp != pl->l->envp) free(pl->envp);
  free(pl->groups);
  free(home);
  if (pl->app_end >= 0) close(pl->app_end);
  if (pl->caller_end >= 0) close(pl->caller_end);
  pl->app_end = pl->caller_end = -1;
}

static int by_value(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

static ssize_t read_full(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return got ? (ssize_t)got : r;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* What cannot be launched at all: RM_OK, or the failure in *outcome. */
static uint32_t refused(const rm__launch *l, rm_restart_outcome *outcome) {
  memset(outcome, 0, sizeof *outcome);
  outcome->notes = l->notes;
  if (!l->argv || !l->argv[0] || !l->cwd || !l->envp || !l->exe ||
      l->exe[0] != '/') {
    outcome->failure = RM_RESTART_FAILED_NO_EXECUTABLE;
    outcome->error = ENOENT;
  } else if (geteuid() != 0 &&
             !rm__linux_is_caller(l->uid, l->gid, l->groups, l->n_groups)) {
    outcome->failure = RM_RESTART_FAILED_CREDENTIALS;
    outcome->error = EPERM;
  } else if (!l->ctx.captured) {
    outcome->failure = RM_RESTART_FAILED_CONTEXT;
    outcome->error = ENODATA;
  }
  return outcome->failure ? RM_ERROR_FAIL_RESTART : RM_OK;
}

/* The application of pl reports its pid: read its identity, place it,
 * release it.  The run keeps the socket for rm__os_launch_end. */
static void release_app(const rm__relaunch_plan *pl, rm__launching *run,
                        rm_restart_outcome *outcome) {
  const rm__launch *l = pl->l;
  rm__relaunch_msg m;
  rm_unique_process app = { 0, 0 };
  outcome->notes = pl->notes;
  if (read_full(pl->caller_end, &m, sizeof m) != (ssize_t)sizeof m ||
      m.kind != RM__MSG_PID || m.value <= 0 ||
      rm__os_identity((uint32_t)m.value, &app) != RM_OK) {
    /* The application waits for the go byte (or died already trying to
     * set itself up, which its reports say), so an identity that cannot
     * be read means no application. */
    outcome->failure = RM_RESTART_FAILED_LAUNCH;
    outcome->error = EAGAIN;
  } else if (rm__linux_place(&l->ctx, l->uid, app.pid) != 0 &&
             geteuid() == 0 && l->ctx.cgroup) {
    /* Root never leaves a program in its own cgroup (placement.c). */
    outcome->failure = RM_RESTART_FAILED_CONTEXT;
    outcome->error = ESRCH;
  } else if (send(pl->caller_end, "g", 1, MSG_NOSIGNAL) != 1) {
    /* It died before the go byte: its report says why. */
    outcome->failure = RM_RESTART_FAILED_LAUNCH;
    outcome->error = errno;
  }
  /* Without the go byte it exits; shutting our side down tells it now. */
  if (outcome->failure) shutdown(pl->caller_end, SHUT_WR);
  run->app = app;
  run->info_fd = pl->caller_end;
  run->deadline_ms = rm__os_now_ms() + pl->settle_ms +
                     rm__env_ms("RESTARTMGR_RELAUNCH_EXEC_BOUND_MS",
                                EXEC_BOUND_MS);
}

/* Waits until fd is readable or deadline_ms passes: 1 readable, 0 not. */
static int readable_by(int fd, uint64_t deadline_ms) {
  for (;;) {
    struct pollfd pfd;
    uint64_t now = rm__os_now_ms();
    int r;
    if (now >= deadline_ms) return 0;
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    r = poll(&pfd, 1, (int)(deadline_ms - now > 60000 ? 60000
                                                      : deadline_ms - now));
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return 1;    /* let read() report it */
  }
}

/* The application, still not exec'd past its deadline: killed, by a
 * pidfd checked against its identity (it is its intermediate's unreaped
 * child until then, so the pid is still its own). */
static void kill_app(const rm_unique_process *app) {
  rm_unique_process now;
  int pidfd = rm__linux_pidfd_open(app->pid);
  if (pidfd < 0) return;
  if (rm__os_identity(app->pid, &now) == RM_OK &&
      now.start_time == app->start_time)
    rm__linux_pidfd_signal(pidfd, SIGKILL);
  close(pidfd);
}

void rm__os_launch_begin_all(const rm__launch *const *l, size_t n,
                             rm__launching *runs,
                             rm_restart_outcome *const *outcomes,
                             uint32_t *rcs, int *begun,
                             const volatile int *cancel) {
  rm__relaunch_plan *plans = calloc(n + 1, sizeof *plans);
  char **homes = calloc(n + 1, sizeof *homes);
  int *keep = calloc(n + 2, sizeof *keep);
  unsigned settle = rm__env_ms("RESTARTMGR_RESTART_SETTLE_MS", SETTLE_MS);
  size_t i, j, n_apps = 0, n_launchers = 0, last[MAX_LAUNCHERS];
  int null_fd = -1, err = 0, traceable = user_may_trace_dropped();
  pid_t launchers[MAX_LAUNCHERS];
  int failed[MAX_LAUNCHERS];
  sigset_t all, was;

  for (i = 0; i < n; i++) {
    memset(&runs[i], 0, sizeof runs[i]);
    runs[i].waiter = runs[i].info_fd = runs[i].report_fd = -1;
    begun[i] = 0;
    if (plans) plans[i].app_end = plans[i].caller_end = -1;
  }
  if (!plans || !homes || !keep ||
      (null_fd = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC))) < 0)
    err = errno ? errno : ENOMEM;
  /* Everything the new processes need, before the fork. */
  for (i = 0; i < n && !err && !*cancel; i++) {
    begun[i] = 1;
    if ((rcs[i] = refused(l[i], outcomes[i])) != RM_OK) continue;
    if (prepare(l[i], plans, i, null_fd, settle, traceable, &homes[i]) != 0) {
      outcomes[i]->failure = RM_RESTART_FAILED_LAUNCH;
      outcomes[i]->error = errno ? errno : ENOMEM;
      rcs[i] = RM_ERROR_FAIL_RESTART;
      release(&plans[i], homes[i]);
      homes[i] = NULL;
      plans[i].l = NULL;            /* nobody borrows its home */
      continue;
    }
    n_apps++;
  }
  if (!err && n_apps > 0) n_launchers = launcher_count(n_apps);
  for (i = 0, j = 0; i < n && n_launchers; i++)
    if (plans[i].caller_end >= 0) plans[i].launcher = (int)(j++ % n_launchers);
  /* No handler of ours runs in a launcher, nor in what it starts (the
   * application resets its signals before it unblocks them). */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &was);
  for (j = 0; j < n_launchers; j++) {
    size_t n_keep = 0;
    for (i = 0; i < n; i++)
      if (plans[i].caller_end >= 0 && plans[i].launcher == (int)j)
        keep[n_keep++] = plans[i].app_end;
    keep[n_keep++] = null_fd;
    qsort(keep, n_keep, sizeof *keep, by_value);
    launchers[j] = fork();
    if (launchers[j] == 0) rm__relaunch_launcher(plans, n, (int)j, keep, n_keep);
    failed[j] = launchers[j] < 0 ? errno : 0;
    last[j] = n;
  }
  pthread_sigmask(SIG_SETMASK, &was, NULL);
  for (i = 0; i < n; i++) {
    rm__relaunch_plan *pl = plans ? &plans[i] : NULL;
    if (!pl || pl->caller_end < 0) continue;
    close(pl->app_end);
    pl->app_end = -1;
    if (failed[pl->launcher]) {
      outcomes[i]->failure = RM_RESTART_FAILED_LAUNCH;
      outcomes[i]->error = failed[pl->launcher];
      rcs[i] = RM_ERROR_FAIL_RESTART;
    } else if (*cancel) {
      begun[i] = 0;                 /* no go byte: it exits, unseen */
    } else {
      release_app(pl, &runs[i], outcomes[i]);
      rcs[i] = RM_OK;
      pl->caller_end = -1;          /* the run's now */
      last[pl->launcher] = i;
    }
  }
  /* The end of a launcher's last application reaps it (it exits once
   * every intermediate of its own has); with none begun, it is reaped
   * here. */
  for (j = 0; j < n_launchers; j++) {
    if (launchers[j] <= 0) continue;
    if (last[j] < n) runs[last[j]].waiter = launchers[j];
    else while (waitpid(launchers[j], NULL, 0) < 0 && errno == EINTR) {}
  }
  for (i = 0; plans && i < n; i++)
    if (plans[i].l) release(&plans[i], homes[i]);
  if (null_fd >= 0) close(null_fd);
  free(plans);
  free(homes);
  free(keep);
}

uint32_t rm__os_launch_begin(const rm__launch *l, rm__launching *run,
                             rm_restart_outcome *outcome) {
  static const volatile int no_cancel = 0;
  uint32_t rc = RM_ERROR_FAIL_RESTART;
  int begun = 0;
  rm__os_launch_begin_all(&l, 1, run, &outcome, &rc, &begun, &no_cancel);
  return rc;
}

uint32_t rm__os_launch_end(rm__launching *run, rm_unique_process *started,
                           rm_restart_outcome *outcome) {
  rm__relaunch_msg m;
  int32_t settled = 0, value = 0;
  int timed_out = 0, gave_up = 0;
  if (run->info_fd < 0) return outcome->failure ? RM_ERROR_FAIL_RESTART : RM_OK;
  /* The app's reports, then its intermediate's verdict (EOF: none);
   * past the deadline the app is killed and its verdict waited for a
   * little more, then given up. */
  for (;;) {
    if (!readable_by(run->info_fd, run->deadline_ms)) {
      if (timed_out) {
        gave_up = 1;
        break;
      }
      timed_out = 1;
      kill_app(&run->app);
      run->deadline_ms = rm__os_now_ms() + KILLED_GRACE_MS;
      continue;
    }
    if (read_full(run->info_fd, &m, sizeof m) != (ssize_t)sizeof m) break;
    if (m.kind == RM__MSG_REPORT) {
      outcome->notes |= m.notes;
      if (m.failure) {
        outcome->failure = m.failure;
        outcome->error = m.error;
      }
    } else if (m.kind >= RM__MSG_RUNNING) {
      settled = m.kind;
      value = m.value;
      break;
    }
  }
  close(run->info_fd);
  /* Its launcher exits once its intermediates have; one that has not
   * after the grace is left unreaped rather than waited for. */
  if (run->waiter > 0)
    while (waitpid((pid_t)run->waiter, NULL, gave_up ? WNOHANG : 0) < 0 &&
           errno == EINTR) {}
  run->waiter = run->info_fd = run->report_fd = -1;
  if (timed_out) {
    outcome->failure = RM_RESTART_FAILED_LAUNCH;
    outcome->error = ETIMEDOUT;
  }
  if (!outcome->failure) {
    if (settled == RM__MSG_RUNNING && rm__os_alive(&run->app)) {
      *started = run->app;
    } else if (settled == RM__MSG_DAEMON &&
               rm__os_identity((uint32_t)value, started) == RM_OK) {
      outcome->notes |= RM_RESTART_NOTE_DAEMONIZED;
    } else {
      outcome->failure = RM_RESTART_FAILED_EXITED;
      outcome->error = settled == RM__MSG_EXITED ? value : 0;
    }
  }
  return outcome->failure ? RM_ERROR_FAIL_RESTART : RM_OK;
}

uint32_t rm__os_launch(const rm__launch *l, rm_unique_process *started,
                       rm_restart_outcome *outcome) {
  rm__launching run;
  (void)rm__os_launch_begin(l, &run, outcome);
  return rm__os_launch_end(&run, started, outcome);
}
