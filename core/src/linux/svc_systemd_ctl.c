/* SPDX-License-Identifier: MIT */
/*
 * svc_systemd_ctl.c: stopping, starting and restarting systemd units.
 *
 * Jobs are queued with `systemctl VERB --no-block`; only the exit status
 * says "accepted", no message text is read.  What "stopped" means
 * (docs/linux.md, "Services"): the processes the unit had when it was
 * asked to stop have exited, watched by pidfd (pidwatch.c).  Whatever
 * systemd starts next does not undo that: syslog.socket starts rsyslog
 * again about 10 ms after its stop, Restart= and timers do the same.
 * Waiting for ActiveState=inactive instead would wait out the whole
 * timeout for those units and call them "not stopped".  A unit whose
 * processes cannot be read (no cgroup, nothing in it) falls back to its
 * state: stopped when inactive.
 *
 * A stop that does not finish in time cannot be withdrawn in systemd
 * (the unit stays "deactivating" until its own TimeoutStopSec); without
 * force a start job is queued behind it so the unit comes back up and
 * the entry is ERROR_ON_STOP; with force `systemctl kill
 * --signal=SIGKILL` ends every process of the unit.  What an inactive
 * unit leaves in its cgroup (KillMode=process or none) is the service's
 * too and is ended by systemd's kill, SIGTERM then with force SIGKILL;
 * left running, it fails the stop.
 *
 * Restart in place (rm__sd_restart): where the files are already
 * replaced (an upgrade, `restartmgr stale --restart`) nothing has to
 * happen between a unit's stop and its start, so every unit gets one
 * `systemctl restart --no-block` in a single call.  systemd runs the
 * queued jobs in its own After=/Before= order, so a unit's downtime is
 * its own restart time and the whole call takes about the slowest unit.
 * Each is done when its old processes have exited and it is active again
 * with a main process that is not one of them.
 */
#define _GNU_SOURCE
#include "svc_systemd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KILL_WAIT_MS 5000u
#define POLL_MS 100u             /* state polls */
#define WATCH_MS 50u             /* pidfd waits between state polls */

/* systemctl --system|--user VERB [--no-block | extra extra2] UNIT...; 0
 * when it accepted all of them, 1 when it ran and refused one, -1 when it
 * could not run. */
static int ctl_many(int user, const char *verb, const char *const *names,
                    size_t n, const char *extra, const char *extra2) {
  char prog[RM_PATH_MAX], (*units)[RM_SD_UNIT_MAX] = malloc(n * sizeof *units);
  char **argv = malloc((n + 8) * sizeof *argv);
  size_t i, k = 0;
  int rc = -1;
  if (!units || !argv ||
      rm__linux_find_program("systemctl", prog, sizeof prog) != 0)
    goto end;
  argv[k++] = prog;
  argv[k++] = rm__sd_scope_flag(user);
  argv[k++] = (char *)(uintptr_t)verb;
  argv[k++] = (char *)(uintptr_t)(extra ? extra : "--no-block");
  if (extra2) argv[k++] = (char *)(uintptr_t)extra2;
  argv[k++] = (char *)(uintptr_t)"--";
  for (i = 0; i < n; i++) {
    if (rm__sd_unit_of(names[i], units[i], sizeof units[i]) != 0) goto end;
    argv[k++] = units[i];
  }
  argv[k] = NULL;
  rc = rm__linux_run(NULL, argv, NULL, 0, RM_SD_CTL_TIMEOUT_MS);
  rc = rc == 0 ? 0 : rc > 0 ? 1 : -1;
end:
  free(units);
  free(argv);
  return rc;
}

static int ctl2(int user, const char *verb, const char *name,
                const char *extra, const char *extra2) {
  return ctl_many(user, verb, &name, 1, extra, extra2) == 0 ? 0 : -1;
}

static int ctl(int user, const char *verb, const char *name,
               const char *extra) {
  return ctl2(user, verb, name, extra, NULL);
}

static int is_inactive(const rm__unit_props *u) {
  return strcmp(u->active, "inactive") == 0 || strcmp(u->active, "failed") == 0;
}

static int is_active(const rm__unit_props *u) {
  return strcmp(u->active, "active") == 0;
}

/* Inactive, and nothing left in its cgroup. */
static int is_empty(const rm__unit_props *u) {
  return is_inactive(u) &&
         (!u->cgroup[0] || rm__linux_first_cgroup_pid(u->cgroup) == 0);
}

/* Polls the unit until want holds, the deadline or a cancel.  1 when it
 * holds, 0 otherwise; a unit that failed while starting ends the wait. */
static int wait_unit(int user, const char *name,
                     int (*want)(const rm__unit_props *), uint64_t deadline,
                     const volatile int *cancel) {
  rm__unit_props u;
  for (;;) {
    if (rm__sd_show(user, name, &u) == 0) {
      if (want(&u)) return 1;
      if (want == is_active && strcmp(u.active, "failed") == 0) return 0;
    }
    if ((cancel && *cancel) || rm__os_now_ms() >= deadline) return 0;
    rm__os_sleep_ms(POLL_MS);
  }
}

/* The unit's processes now (its cgroup, and its main pid), to watch. */
static int take_processes(const rm__unit_props *u, rm__pidwatch *w) {
  rm__pidwatch_init(w);
  if (u->cgroup[0] && rm__pidwatch_add_cgroup(w, u->cgroup) != 0) return -1;
  return rm__pidwatch_add(w, u->main_pid);
}

/* Waits until every watched process has exited: 1, or 0 at the deadline
 * or a cancel.  A unit that went inactive with processes left in its
 * cgroup (KillMode=process or none) gets systemd's kill once: they are
 * the service's too, ended by its manager, never by a signal of ours. */
static int wait_exited(int user, const char *name, rm__pidwatch *w,
                       uint64_t deadline, const volatile int *cancel) {
  uint64_t next_show = rm__os_now_ms() + POLL_MS;
  int killed = 0;
  for (;;) {
    uint64_t now;
    if (rm__pidwatch_alive(w) == 0) return 1;
    if (cancel && *cancel) return 0;
    now = rm__os_now_ms();
    if (now >= deadline) return 0;
    if (!killed && now >= next_show) {
      rm__unit_props u;
      if (rm__sd_show(user, name, &u) == 0 && is_inactive(&u)) {
        ctl(user, "kill", name, "--kill-who=all");
        killed = 1;
      }
      next_show = now + POLL_MS;
    }
    rm__pidwatch_wait(&w, 1, deadline - now < WATCH_MS
                                 ? (unsigned)(deadline - now) : WATCH_MS);
  }
}

/* The state-based stop, for a unit whose processes could not be taken:
 * inactive, then nothing left in its cgroup. */
static int stop_by_state(int user, const char *name, uint64_t deadline,
                              int force, const volatile int *cancel) {
  if (!wait_unit(user, name, is_inactive, deadline, cancel)) return 0;
  if (wait_unit(user, name, is_empty, rm__os_now_ms(), NULL)) return 1;
  if (ctl(user, "kill", name, "--kill-who=all") != 0) return 0;
  if (wait_unit(user, name, is_empty, deadline, cancel)) return 1;
  return force &&
         ctl2(user, "kill", name, "--kill-who=all", "--signal=SIGKILL") == 0 &&
         wait_unit(user, name, is_empty, rm__os_now_ms() + KILL_WAIT_MS, NULL);
}

uint32_t rm__sd_stop(int user, const char *name, unsigned timeout_ms,
                     int force, const volatile int *cancel) {
  rm__unit_props u;
  rm__pidwatch old;
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  int stopped;
  uint32_t rc;
  if (rm__sd_show(user, name, &u) != 0 || u.refuse_stop)
    return RM_ERROR_FAIL_SHUTDOWN;
  if (take_processes(&u, &old) != 0) {
    rm__pidwatch_free(&old);
    return RM_ERROR_OUTOFMEMORY;
  }
  if (is_inactive(&u) && old.n == 0) {
    rm__pidwatch_free(&old);
    return RM_OK;
  }
  if (!is_inactive(&u) && ctl(user, "stop", name, NULL) != 0) {
    rm__pidwatch_free(&old);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  stopped = old.n ? wait_exited(user, name, &old, deadline, cancel)
                  : stop_by_state(user, name, deadline, force, cancel);
  if (stopped) {
    rc = RM_OK;
  } else if (cancel && *cancel) {
    ctl(user, "start", name, NULL);    /* replaces the pending stop job */
    rc = RM_ERROR_CANCELLED;
  } else if (!force) {
    ctl(user, "start", name, NULL);
    rc = RM_ERROR_FAIL_SHUTDOWN;
  } else if (ctl2(user, "kill", name, "--kill-who=all", "--signal=SIGKILL") !=
             0) {
    rc = RM_ERROR_FAIL_SHUTDOWN;
  } else {
    rc = wait_exited(user, name, &old, rm__os_now_ms() + KILL_WAIT_MS, NULL)
             ? RM_OK : RM_ERROR_FAIL_SHUTDOWN;
  }
  rm__pidwatch_free(&old);
  return rc;
}

uint32_t rm__sd_start(int user, const char *name, unsigned timeout_ms) {
  rm__unit_props u;
  if (rm__sd_show(user, name, &u) != 0) return RM_ERROR_FAIL_RESTART;
  if (is_active(&u)) return RM_OK;
  if (ctl(user, "start", name, NULL) != 0) return RM_ERROR_FAIL_RESTART;
  return wait_unit(user, name, is_active, rm__os_now_ms() + timeout_ms, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_RESTART;
}

/* {===== Restart in place */

typedef struct restarting {
  rm__pidwatch old;
  int exited;                  /* the old processes are gone */
  int done;
  uint64_t failed_since;       /* seen "failed" since (0: not) */
} restarting;

/* A restart job passes through "failed" when the old process exited with
 * an error (some daemons exit 1 or 143 on SIGTERM) and then starts the
 * unit; only a unit that stays failed this long failed to come back. */
#define FAILED_FOR_MS 1000u

/* The identity of pid now, into p (pid 0 when it is gone). */
static void identity_of(uint32_t pid, rm_unique_process *p) {
  rm__pstat st;
  p->pid = 0;
  p->start_time = 0;
  if (pid && rm__linux_read_stat(-1, pid, &st) == 0 && st.state != 'Z') {
    p->pid = pid;
    p->start_time = rm__linux_ticks_to_100ns(st.start_ticks);
  }
}

/* Reads the state of the units whose old processes have exited and
 * finishes those that run again (or failed). */
static void check_back(int user, rm__svc_restart *v, restarting *r, size_t n,
                       const char **names, rm__unit_props *props) {
  size_t i, k = 0, *index = malloc((n + 1) * sizeof *index);
  if (!index) return;
  for (i = 0; i < n; i++)
    if (!r[i].done && r[i].exited) {
      names[k] = v[i].name;
      index[k++] = i;
    }
  if (k > 0 && rm__sd_show_many(user, names, k, props) == 0) {
    for (i = 0; i < k; i++) {
      const rm__unit_props *u = &props[i];
      size_t j = index[i];
      uint32_t pid = u->main_pid ? u->main_pid
                                 : rm__linux_first_cgroup_pid(u->cgroup);
      if (strcmp(u->active, "failed") == 0) {
        uint64_t now = rm__os_now_ms();
        if (!r[j].failed_since) r[j].failed_since = now;
        if (now - r[j].failed_since >= FAILED_FOR_MS) {
          v[j].result = RM_ERROR_FAIL_RESTART;
          r[j].done = 1;
        }
        continue;
      }
      r[j].failed_since = 0;
      if (is_active(u) && !rm__pidwatch_has(&r[j].old, pid)) {
        identity_of(pid, &v[j].now);
        v[j].result = RM_OK;
        r[j].done = 1;
      }
    }
  }
  free(index);
}

void rm__sd_restart(int user, rm__svc_restart *v, size_t n,
                    unsigned timeout_ms, const volatile int *cancel) {
  uint64_t deadline = rm__os_now_ms() + timeout_ms, next_show = 0;
  restarting *r = calloc(n + 1, sizeof *r);
  rm__unit_props *props = calloc(n + 1, sizeof *props);
  const char **names = malloc((n + 1) * sizeof *names);
  rm__pidwatch **watching = malloc((n + 1) * sizeof *watching);
  size_t i, pending = n;
  for (i = 0; i < n; i++) {
    v[i].result = RM_ERROR_FAIL_SHUTDOWN;
    v[i].now.pid = 0;
    v[i].now.start_time = 0;
  }
  if (!r || !props || !names || !watching) goto end;
  for (i = 0; i < n; i++) {
    names[i] = v[i].name;
    rm__pidwatch_init(&r[i].old);
  }
  /* The processes each unit has now, then one call for all of them. */
  if (rm__sd_show_many(user, names, n, props) != 0) goto end;
  for (i = 0; i < n; i++)
    if (props[i].refuse_stop || take_processes(&props[i], &r[i].old) != 0) {
      r[i].done = 1;
      pending--;
    }
  {
    size_t k = 0;
    for (i = 0; i < n; i++)
      if (!r[i].done) names[k++] = v[i].name;
    if (k > 0 && ctl_many(user, "restart", names, k, NULL, NULL) < 0) goto end;
  }
  while (pending > 0) {
    size_t k = 0;
    uint64_t now;
    for (i = 0; i < n; i++)
      if (!r[i].done && !r[i].exited && rm__pidwatch_alive(&r[i].old) == 0)
        r[i].exited = 1;
    now = rm__os_now_ms();
    if (now >= next_show) {
      check_back(user, v, r, n, names, props);
      next_show = now + POLL_MS;
    }
    pending = 0;
    for (i = 0; i < n; i++)
      if (!r[i].done) {
        pending++;
        if (!r[i].exited) watching[k++] = &r[i].old;
      }
    if (pending == 0) break;
    if (cancel && *cancel) {
      for (i = 0; i < n; i++)
        if (!r[i].done) v[i].result = RM_ERROR_CANCELLED;
      break;
    }
    if (now >= deadline) {
      /* Gone but not back: the start failed; still there: the stop. */
      for (i = 0; i < n; i++)
        if (!r[i].done)
          v[i].result = r[i].exited ? RM_ERROR_FAIL_RESTART
                                    : RM_ERROR_FAIL_SHUTDOWN;
      break;
    }
    /* Wake on an exit; while only starts are awaited, at the next poll. */
    rm__pidwatch_wait(watching, k, deadline - now < WATCH_MS
                                       ? (unsigned)(deadline - now)
                                       : WATCH_MS);
  }
end:
  if (r)
    for (i = 0; i < n; i++) rm__pidwatch_free(&r[i].old);
  free(r);
  free(props);
  free(names);
  free(watching);
}

/* }===== */
