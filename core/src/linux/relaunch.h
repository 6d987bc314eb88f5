/* SPDX-License-Identifier: MIT */
/*
 * relaunch.h: what the caller's side of a relaunch (relaunch_all.c)
 * shares with the processes it starts (relaunch.c).
 */
#ifndef RM_LINUX_RELAUNCH_H
#define RM_LINUX_RELAUNCH_H

#include "linux.h"

#include <sys/types.h>

/* Everything the new processes of one application need, prepared by the
 * caller before the launcher is forked (after that, only
 * async-signal-safe calls). */
typedef struct rm__relaunch_plan {
  const rm__launch *l;
  char **envp;                /* l->envp, or a filtered copy of pointers */
  const char *home;           /* the user's home, or NULL */
  gid_t *groups;
  int as_root;                /* the caller is root: set credentials */
  int own_memory;             /* fork the app instead of sharing memory
                                 (relaunch.c, be_intermediate) */
  int null_fd;                /* /dev/null, shared by the batch */
  unsigned settle_ms;
  uint32_t notes;
  int app_end;                /* the socket end of the app and its
                                 intermediate, -1: not started */
  int caller_end;             /* the caller's end */
  int launcher;               /* which launcher of the batch starts it */
} rm__relaunch_plan;

/* What travels on an application's socket, to the caller: first the
 * app's pid, then its setup reports, then the intermediate's verdict
 * after the settle time. */
enum {
  RM__MSG_PID = 1,            /* value: the app's pid */
  RM__MSG_REPORT = 2,         /* failure, error, notes */
  RM__MSG_RUNNING = 3,        /* settled: still running */
  RM__MSG_EXITED = 4,         /* settled: value = exit status or -signal */
  RM__MSG_DAEMON = 5          /* settled: value = the daemon's pid */
};
typedef struct rm__relaunch_msg {
  int32_t kind;
  uint32_t failure;           /* RM_RESTART_FAILED_*, 0: only notes */
  int32_t error;
  uint32_t notes;
  int32_t value;
} rm__relaunch_msg;

/* A launcher: forked by the caller (one per CPU at most), it forks one
 * intermediate per plan of plans[0..n) with app_end >= 0 and launcher
 * which, waits for them and exits.  keep[0..n_keep) are the only descriptors it keeps open
 * besides 0, 1 and 2, sorted.  Never returns. */
void rm__relaunch_launcher(rm__relaunch_plan *plans, size_t n, int which,
                           const int *keep, size_t n_keep);

#endif
