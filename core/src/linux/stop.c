/* SPDX-License-Identifier: MIT */
/*
 * stop.c: stopping applications and services on Linux.
 *
 * Applications are stopped all at once, so N apps take about as long as
 * the slowest one, not the sum.  Every signal goes through a pidfd:
 * pidfd_open(pid), then the start time is re-read and compared with the
 * recorded identity (if the pid now belongs to another process, that
 * process is never signalled), then pidfd_send_signal, then poll() on the
 * pidfds, which become readable when their process exits
 * (docs/linux.md, Process identity).  Only where pidfds are unavailable (ENOSYS,
 * or out of descriptors) does a target fall back to kill() with the
 * identity re-checked right before each signal, and to polling /proc.
 *
 * Console apps get SIGINT (Ctrl-C), then SIGTERM after a grace of half the
 * timeout (at most 5 s); other apps get SIGTERM.  At the timeout what
 * still runs is left alone (ERROR_ON_STOP), or with force gets SIGKILL.
 *
 * Services are never signalled: they go to their service manager
 * (services.c).
 */
#define _GNU_SOURCE
#include "services.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSOLE_GRACE_MAX_MS 5000u   /* SIGINT → SIGTERM for console apps */
#define KILL_WAIT_MS 5000u           /* after SIGKILL, for the exit */
#define SLICE_MS 50u                 /* how often a cancel is looked at */

/* {===== One target */

enum { PENDING, FINISHED };

typedef struct target {
  int pidfd;                /* -1: kill() fallback */
  int state;
} target;

/* The identity check: 1 when pid is the recorded process and has not
 * exited, 0 when it is gone (exited, a zombie, or the pid is another
 * process's now). */
static int still_the_same(const rm_unique_process *p) {
  rm__pstat st;
  if (rm__linux_read_stat(-1, p->pid, &st) != 0) return 0;
  if (st.state == 'Z' || st.state == 'X') return 0;
  return rm__linux_ticks_to_100ns(st.start_ticks) == p->start_time;
}

/* Opens the target: a pidfd pinned to the recorded process, verified
 * after opening.  0 when it is live (t->pidfd may be -1 for the
 * fallback), -1 when it is already gone. */
static int open_target(const rm_unique_process *p, target *t) {
  t->pidfd = rm__linux_pidfd_open(p->pid);
  if (t->pidfd < 0 && errno == ESRCH) return -1;
  if (!still_the_same(p)) {
    if (t->pidfd >= 0) close(t->pidfd);
    t->pidfd = -1;
    return -1;
  }
  return 0;
}

/* Sends sig to the target.  0 on success, else errno (ESRCH: it exited). */
static int signal_target(const rm_unique_process *p, target *t, int sig) {
  if (t->pidfd >= 0) {
    if (rm__linux_pidfd_signal(t->pidfd, sig) == 0) return 0;
    if (errno != ENOSYS) return errno;
    close(t->pidfd);
    t->pidfd = -1;
  }
  if (!still_the_same(p)) return ESRCH;
  return kill((pid_t)p->pid, sig) == 0 ? 0 : errno;
}

/* 1 when the target has exited.  A pidfd is readable once its process
 * exits; a fallback target is looked up in /proc. */
static int target_exited(const rm_unique_process *p, const target *t) {
  if (t->pidfd >= 0) {
    struct pollfd pfd;
    pfd.fd = t->pidfd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) > 0;
  }
  return !still_the_same(p);
}

/* }=====
 * {===== All of them together */

typedef struct stopper {
  rm__stop *apps;
  target *t;
  size_t n, pending;
  void (*done)(void *ctx, size_t i);
  void *ctx;
} stopper;

static void finish(stopper *s, size_t i, uint32_t result) {
  if (s->t[i].state == FINISHED) return;
  s->t[i].state = FINISHED;
  s->apps[i].result = result;
  if (s->t[i].pidfd >= 0) close(s->t[i].pidfd);
  s->t[i].pidfd = -1;
  s->pending--;
  if (s->done) s->done(s->ctx, i);
}

/* Marks as stopped every pending target that has exited. */
static void reap_exited(stopper *s) {
  size_t i;
  for (i = 0; i < s->n; i++)
    if (s->t[i].state == PENDING &&
        target_exited(&s->apps[i].process, &s->t[i]))
      finish(s, i, RM_STATUS_STOPPED);
}

/* Sleeps until a pidfd becomes readable or ms pass. */
static void wait_some(stopper *s, unsigned ms, struct pollfd *pfds) {
  size_t i, k = 0;
  for (i = 0; i < s->n; i++) {
    if (s->t[i].state != PENDING || s->t[i].pidfd < 0) continue;
    pfds[k].fd = s->t[i].pidfd;
    pfds[k].events = POLLIN;
    pfds[k].revents = 0;
    k++;
  }
  if (k == 0 || k < s->pending) {
    /* Fallback targets cannot be polled: look again soon. */
    if (ms > 20) ms = 20;
  }
  if (k > 0) {
    if (poll(pfds, (nfds_t)k, (int)ms) < 0 && errno != EINTR)
      rm__os_sleep_ms(ms);
  } else {
    rm__os_sleep_ms(ms);
  }
}

/* Sends sig to every pending target (console ones only when console_only);
 * a target that cannot be signalled finishes at once. */
static void signal_all(stopper *s, int sig, int console_only) {
  size_t i;
  for (i = 0; i < s->n; i++) {
    int err;
    if (s->t[i].state != PENDING) continue;
    if (console_only && !s->apps[i].console) continue;
    err = signal_target(&s->apps[i].process, &s->t[i], sig);
    if (err == ESRCH)
      finish(s, i, RM_STATUS_STOPPED);   /* exited after our last signal */
    else if (err != 0)
      finish(s, i, RM_STATUS_ERROR_ON_STOP);
  }
}

/* Waits until every target finished, the deadline, or a cancel.  Returns
 * 1 on a cancel. */
static int wait_until(stopper *s, uint64_t deadline, struct pollfd *pfds,
                      const volatile int *cancel) {
  for (;;) {
    uint64_t now;
    reap_exited(s);
    if (s->pending == 0) return 0;
    if (cancel && *cancel) return 1;
    now = rm__os_now_ms();
    if (now >= deadline) return 0;
    wait_some(s, deadline - now < SLICE_MS ? (unsigned)(deadline - now)
                                           : SLICE_MS, pfds);
  }
}

uint32_t rm__os_stop_apps(rm__stop *apps, size_t n, unsigned timeout_ms,
                          int force, const volatile int *cancel,
                          void (*done)(void *ctx, size_t i), void *ctx) {
  stopper s;
  struct pollfd *pfds;
  uint64_t start = rm__os_now_ms(), grace_end;
  unsigned grace = timeout_ms / 2;
  size_t i;
  int cancelled = 0, any_console = 0;

  if (n == 0) return RM_OK;
  s.t = calloc(n, sizeof *s.t);
  pfds = calloc(n, sizeof *pfds);
  if (!s.t || !pfds) {
    free(s.t);
    free(pfds);
    return RM_ERROR_OUTOFMEMORY;
  }
  s.apps = apps;
  s.n = s.pending = n;
  s.done = done;
  s.ctx = ctx;
  if (grace > CONSOLE_GRACE_MAX_MS) grace = CONSOLE_GRACE_MAX_MS;
  grace_end = start + grace;

  /* Open and verify every target first, then signal them all. */
  for (i = 0; i < n; i++) {
    s.t[i].state = PENDING;
    apps[i].result = RM_STATUS_ERROR_ON_STOP;
    if (open_target(&apps[i].process, &s.t[i]) != 0)
      finish(&s, i, RM_STATUS_STOPPED_OTHER);
    else if (apps[i].console)
      any_console = 1;
  }
  for (i = 0; i < n; i++) {
    int err;
    if (s.t[i].state != PENDING) continue;
    err = signal_target(&apps[i].process, &s.t[i],
                        apps[i].console ? SIGINT : SIGTERM);
    if (err == ESRCH)
      finish(&s, i, RM_STATUS_STOPPED_OTHER);   /* gone before the signal */
    else if (err != 0)
      finish(&s, i, RM_STATUS_ERROR_ON_STOP);   /* EPERM: not ours */
  }

  if (any_console && grace < timeout_ms) {
    cancelled = wait_until(&s, grace_end, pfds, cancel);
    if (!cancelled) signal_all(&s, SIGTERM, 1);
  }
  if (!cancelled) cancelled = wait_until(&s, start + timeout_ms, pfds, cancel);
  if (!cancelled && s.pending > 0 && force) {
    signal_all(&s, SIGKILL, 0);
    wait_until(&s, rm__os_now_ms() + KILL_WAIT_MS, pfds, NULL);
  }
  if (cancelled) reap_exited(&s);
  /* What still runs keeps RM_STATUS_ERROR_ON_STOP. */
  for (i = 0; i < n; i++)
    if (s.t[i].state == PENDING) {
      if (cancelled) {
        s.t[i].state = FINISHED;
        if (s.t[i].pidfd >= 0) close(s.t[i].pidfd);
      } else {
        finish(&s, i, RM_STATUS_ERROR_ON_STOP);
      }
    }
  free(s.t);
  free(pfds);
  return cancelled ? RM_ERROR_CANCELLED : RM_OK;
}

/* }=====
 * {===== Services */

uint32_t rm__os_service_stop(const char *name, unsigned timeout_ms, int force,
                             const volatile int *cancel) {
  return rm__linux_service_stop(name, timeout_ms, force, cancel);
}

uint32_t rm__os_service_start(const char *name, unsigned timeout_ms) {
  return rm__linux_service_start(name, timeout_ms);
}

/* One thread per service (at most SERVICE_THREADS at a time), each
 * running its manager's stop or start and waiting for it: the manager
 * runs the jobs concurrently (systemd queues them; every runit service
 * has its own runsv), so n services take about the slowest one's time. */
#define SERVICE_THREADS 32

typedef struct service_job {
  const char *name;
  unsigned timeout_ms;
  int start, force;
  const volatile int *cancel;
  uint32_t rc;
} service_job;

static void *run_job(void *arg) {
  service_job *j = arg;
  j->rc = j->start ? rm__linux_service_start(j->name, j->timeout_ms)
                   : rm__linux_service_stop(j->name, j->timeout_ms, j->force,
                                            j->cancel);
  return NULL;
}

static void run_jobs(const char *const *names, size_t n, unsigned timeout_ms,
                     int start, int force, const volatile int *cancel,
                     uint32_t *rcs) {
  service_job j[SERVICE_THREADS];
  pthread_t t[SERVICE_THREADS];
  int threaded[SERVICE_THREADS];
  size_t at, k, m;
  for (at = 0; at < n; at += m) {
    m = n - at < SERVICE_THREADS ? n - at : SERVICE_THREADS;
    for (k = 0; k < m; k++) {
      j[k].name = names[at + k];
      j[k].timeout_ms = timeout_ms;
      j[k].start = start;
      j[k].force = force;
      j[k].cancel = cancel;
      /* Without a thread, it runs here. */
      threaded[k] = m > 1 && pthread_create(&t[k], NULL, run_job, &j[k]) == 0;
      if (!threaded[k]) run_job(&j[k]);
    }
    for (k = 0; k < m; k++) {
      if (threaded[k]) pthread_join(t[k], NULL);
      rcs[at + k] = j[k].rc;
    }
  }
}

void rm__os_service_start_all(const char *const *names, size_t n,
                              unsigned timeout_ms, uint32_t *rcs) {
  static const volatile int never = 0;
  run_jobs(names, n, timeout_ms, 1, 0, &never, rcs);
}

void rm__os_service_stop_all(const char *const *names, size_t n,
                             unsigned timeout_ms, int force,
                             const volatile int *cancel, uint32_t *rcs) {
  run_jobs(names, n, timeout_ms, 0, force, cancel, rcs);
}

void rm__os_services_restart(rm__svc_restart *v, size_t n,
                             unsigned timeout_ms, const volatile int *cancel) {
  rm__linux_services_restart(v, n, timeout_ms, cancel);
}

/* }===== */
