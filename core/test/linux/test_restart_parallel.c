/* SPDX-License-Identifier: MIT */
/*
 * test_restart_parallel.c: rm_restart launches every application of a
 * kind before waiting, so they settle together (docs/performance.md,
 * Restart); progress stays strictly increasing from 0 to 100, and a
 * cancel still stops what was not launched yet; a batch big enough for
 * several launchers (linux/relaunch_all.c: one per 8 apps, at most one
 * per CPU) brings every app back, none of them the caller's child, and
 * leaves the caller no child either.  Real rm_app processes holding a
 * real file, stopped by a real shutdown.
 */
#define _GNU_SOURCE
#include "test_shutdown_common.h"

#include <stdio.h>
#include <sys/syscall.h>

#define N_APPS 5

static void kill_relaunched(void *unused) {
  (void)unused;
  foreign_kill_all();
}

static uint32_t stopped_apps(rmt_child *c, rm_unique_process *id) {
  const char *file = temp_file("held");
  uint32_t h;
  int i;
  rmt_at_cleanup(kill_relaunched, NULL);
  for (i = 0; i < N_APPS; i++) APP(&c[i], &id[i], "--hold", file);
  h = session_with_file(file, 5000, 5000);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  for (i = 0; i < N_APPS; i++) ASSERT_EQ(SIGTERM, reap_child(&c[i], 5000));
  return h;
}

/* How many entries have exactly these statuses; relaunched ones are
 * tracked for cleanup and their start times' spread returned. */
static int count_status(uint32_t h, uint32_t status, uint64_t *spread) {
  listing l;
  uint64_t lo = ~0ull, hi = 0;
  unsigned i;
  int n = 0;
  list_now(h, &l);
  ASSERT_EQ(N_APPS, l.n);
  for (i = 0; i < l.n; i++) {
    if (l.v[i].app_status & RM_STATUS_RESTARTED) {
      foreign_track(&l.v[i].process);
      if (l.v[i].process.start_time < lo) lo = l.v[i].process.start_time;
      if (l.v[i].process.start_time > hi) hi = l.v[i].process.start_time;
    }
    if (l.v[i].app_status == status) n++;
  }
  if (spread) *spread = hi >= lo ? hi - lo : 0;
  return n;
}

/* With a 2 s settle time, all five were started before the first one
 * had settled: their start times lie within one settle time. */
static void apps_are_launched_before_any_settles(void) {
  rmt_child c[N_APPS];
  rm_unique_process id[N_APPS];
  progress_log p;
  uint64_t spread;
  uint32_t h;
  rmt_fresh_store();
  rmt_setenv("RESTARTMGR_RESTART_SETTLE_MS", "2000");
  h = stopped_apps(c, id);
  memset(&p, 0, sizeof p);
  ASSERT_OK(rm_restart(h, 0, progress_record, &p));
  assert_progress_complete(&p);
  ASSERT_EQ(N_APPS + 1, p.n);           /* 0, one step per app */
  ASSERT_EQ(N_APPS, count_status(h, RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                                        RM_STATUS_RUNNING, &spread));
  ASSERT(spread < 2000ull * 10000);     /* start_time is in 100 ns units */
  foreign_kill_all();
  rmt_setenv("RESTARTMGR_RESTART_SETTLE_MS", NULL);
  ASSERT_OK(rm_end_session(h));
}

/* Two at a time (RESTARTMGR_RESTART_BATCH): a cancel while the first two
 * settle lets them finish and launches nothing more; the next restart
 * brings back the other three. */
static void cancel_mid_way_launches_nothing_more(void) {
  rmt_child c[N_APPS];
  rm_unique_process id[N_APPS];
  cancel_ctx x;
  progress_log p;
  uint32_t h;
  rmt_fresh_store();
  rmt_setenv("RESTARTMGR_RESTART_BATCH", "2");
  h = stopped_apps(c, id);
  memset(&x, 0, sizeof x);
  x.h = h;
  ASSERT_EQ(RM_ERROR_CANCELLED, rm_restart(h, 0, cancel_after_first_step, &x));
  ASSERT_EQ(3, x.log.n);
  ASSERT_EQ(0, x.log.v[0]);
  ASSERT_EQ(20, x.log.v[1]);
  ASSERT_EQ(40, x.log.v[2]);
  ASSERT_EQ(2, count_status(h, RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                                   RM_STATUS_RUNNING, NULL));
  ASSERT_EQ(3, count_status(h, RM_STATUS_STOPPED, NULL));
  memset(&p, 0, sizeof p);
  ASSERT_OK(rm_restart(h, 0, progress_record, &p));
  assert_progress_complete(&p);
  ASSERT_EQ(4, p.n);                    /* 0, 33, 66, 100 */
  ASSERT_EQ(N_APPS, count_status(h, RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                                        RM_STATUS_RUNNING, NULL));
  foreign_kill_all();
  rmt_setenv("RESTARTMGR_RESTART_BATCH", NULL);
  ASSERT_OK(rm_end_session(h));
}

/* The number of children of this thread (the one that called
 * rm_restart): launchers and intermediates must all be reaped. */
static int own_children(void) {
  char path[64], buf[256];
  FILE *f;
  int n = 0;
  char *p = buf;
  snprintf(path, sizeof path, "/proc/self/task/%ld/children",
           (long)syscall(SYS_gettid));
  f = fopen(path, "r");
  ASSERT(f != NULL);
  buf[0] = 0;
  if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
  fclose(f);
  while (*p) {
    while (*p == ' ' || *p == '\n') p++;
    if (!*p) break;
    n++;
    while (*p && *p != ' ') p++;
  }
  return n;
}

/* 24 apps: with two CPUs or more, two launchers or more start them. */
static void many_apps_through_several_launchers(void) {
  enum { MANY = 24 };
  rmt_child c[MANY];
  rm_unique_process id[MANY];
  const char *file;
  listing l;
  uint32_t h;
  unsigned i;
  int k;
  rmt_fresh_store();
  rmt_at_cleanup(kill_relaunched, NULL);
  file = temp_file("many");
  for (k = 0; k < MANY; k++) APP(&c[k], &id[k], "--hold", file);
  h = session_with_file(file, 5000, 5000);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  for (k = 0; k < MANY; k++) ASSERT_EQ(SIGTERM, reap_child(&c[k], 5000));
  ASSERT_EQ(0, own_children());
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_EQ(0, own_children());
  list_now(h, &l);
  for (i = 0; i < l.n; i++) foreign_track(&l.v[i].process);
  ASSERT_EQ(MANY, l.n);
  for (i = 0; i < l.n; i++) {
    rm__pstat st;
    ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
              l.v[i].app_status);
    ASSERT(rm__os_alive(&l.v[i].process));
    ASSERT_EQ(0, rm__linux_read_stat(-1, l.v[i].process.pid, &st));
    ASSERT(st.ppid != (long)getpid());
    for (k = 0; k < MANY; k++) ASSERT(l.v[i].process.pid != id[k].pid ||
                                      l.v[i].process.start_time !=
                                          id[k].start_time);
  }
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(apps_are_launched_before_any_settles);
  RUN(cancel_mid_way_launches_nothing_more);
  RUN(many_apps_through_several_launchers);
  return rmt_finish();
}
