/* SPDX-License-Identifier: MIT */
/*
 * test_shutdown_cancel.c: rm_cancel_current_task from another thread and
 * from the progress callback, one operation at a time per session, no
 * pending cancel left behind, and a pid that now belongs to another
 * process is never signalled (the identity is re-checked through a
 * pidfd before any signal).
 */
#define _GNU_SOURCE
#include "test_shutdown_common.h"

#include <fcntl.h>
#include <pthread.h>

/* {===== Cancel */

typedef struct canceller {
  uint32_t h;
  unsigned delay_ms;
  uint32_t rc, second_rc;
} canceller;

/* After a delay: tries a second shutdown (one at a time per session),
 * then cancels the running one. */
static void *cancel_later(void *arg) {
  canceller *c = arg;
  rmt_sleep_ms(c->delay_ms);
  c->second_rc = rm_shutdown(c->h, 0, NULL, NULL);
  c->rc = rm_cancel_current_task(c->h);
  return NULL;
}

static void cancel_from_another_thread(void) {
  const char *file;
  rmt_child good, stubborn[2];
  rm_unique_process a, b[2];
  canceller c;
  pthread_t t;
  listing l;
  progress_log p;
  uint64_t t0, elapsed;
  uint32_t h;
  int i;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&good, &a, "--hold", file);
  for (i = 0; i < 2; i++)
    APP(&stubborn[i], &b[i], "--ignore-term", "--hold", file);
  h = session_with_file(file, 20000, 20000);
  c.h = h;
  c.delay_ms = 700;
  c.rc = c.second_rc = 99;
  memset(&p, 0, sizeof p);
  ASSERT_EQ(0, pthread_create(&t, NULL, cancel_later, &c));
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_CANCELLED, rm_shutdown(h, 0, progress_record, &p));
  elapsed = rm__os_now_ms() - t0;
  ASSERT_EQ(0, pthread_join(t, NULL));
  printf("cancelled after %llu ms (requested at 700 ms)\n",
         (unsigned long long)elapsed);
  ASSERT(elapsed < 5000);                         /* not the 20 s timeout */
  ASSERT_EQ(RM_OK, c.rc);
  ASSERT_EQ(RM_ERROR_REQUEST_OUT_OF_SEQUENCE, c.second_rc);
  ASSERT_EQ(2, p.n);                              /* 0, the good one */
  ASSERT_EQ(0, p.v[0]);
  ASSERT_EQ(33, p.v[1]);
  ASSERT_EQ(SIGTERM, reap_child(&good, 5000));
  ASSERT(child_running(&stubborn[0]));
  ASSERT(child_running(&stubborn[1]));
  /* What happened is recorded. */
  list_now(h, &l);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)a.pid)->app_status);
  for (i = 0; i < 2; i++)
    ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_ERROR_ON_STOP,
              entry_of(&l, stubborn[i].pid)->app_status);
  /* The next call is not cancelled. */
  ASSERT_OK(rm_set_timeouts(h, 1000, 1000));
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  for (i = 0; i < 2; i++) ASSERT_EQ(SIGKILL, reap_child(&stubborn[i], 5000));
  list_now(h, &l);
  for (i = 0; i < 2; i++)
    ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)b[i].pid)->app_status);
  /* Restart after the cancelled and the forced shutdown: all three. */
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  list_now(h, &l);
  ASSERT_EQ(3, l.n);
  for (i = 0; i < 3; i++) {
    ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
              l.v[i].app_status);
    foreign_track(&l.v[i].process);
  }
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* Cancels at once, when called with 0. */
static void cancel_at_zero(unsigned percent, void *arg) {
  cancel_ctx *c = arg;
  progress_record(percent, &c->log);
  ASSERT_OK(rm_cancel_current_task(c->h));
}

static void cancel_from_the_progress_callback(void) {
  const char *file;
  rmt_child good, stubborn;
  rm_unique_process a, b;
  cancel_ctx c;
  listing l;
  uint64_t t0;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&good, &a, "--hold", file);
  APP(&stubborn, &b, "--ignore-term", "--hold", file);
  h = session_with_file(file, 20000, 20000);
  memset(&c, 0, sizeof c);
  c.h = h;
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_CANCELLED, rm_shutdown(h, 0, cancel_after_first_step, &c));
  ASSERT(rm__os_now_ms() - t0 < 5000);
  ASSERT_EQ(2, c.log.n);
  ASSERT_EQ(0, c.log.v[0]);
  ASSERT_EQ(50, c.log.v[1]);
  ASSERT_EQ(SIGTERM, reap_child(&good, 5000));
  ASSERT(child_running(&stubborn));
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)a.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_ERROR_ON_STOP,
            entry_of(&l, stubborn.pid)->app_status);
  ASSERT_OK(rm_end_session(h));
}

/* The callback is called with 0 before the first stop: cancelling there
 * stops nothing, and a restart cancelled at 0 restarts nothing. */
static void cancel_at_zero_stops_nothing(void) {
  const char *file;
  rmt_child a1, a2;
  rm_unique_process a, b;
  cancel_ctx c;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&a1, &a, "--hold", file);
  APP(&a2, &b, "--hold", file);
  h = session_with_file(file, 5000, 5000);
  memset(&c, 0, sizeof c);
  c.h = h;
  ASSERT_EQ(RM_ERROR_CANCELLED, rm_shutdown(h, 0, cancel_at_zero, &c));
  ASSERT_EQ(1, c.log.n);
  ASSERT_EQ(0, c.log.v[0]);
  ASSERT(child_running(&a1));
  ASSERT(child_running(&a2));
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING, entry_of(&l, a1.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING, entry_of(&l, a2.pid)->app_status);
  /* Stop one for real, then cancel the restart at 0: it stays stopped. */
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&a1, 5000));
  ASSERT_EQ(SIGTERM, reap_child(&a2, 5000));
  memset(&c.log, 0, sizeof c.log);
  ASSERT_EQ(RM_ERROR_CANCELLED, rm_restart(h, 0, cancel_at_zero, &c));
  ASSERT_EQ(1, c.log.n);
  ASSERT_EQ(0, c.log.v[0]);
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[0].app_status);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[1].app_status);
  ASSERT_OK(rm_end_session(h));
}

/* With nothing running, a cancel is accepted and forgotten. */
static void cancel_with_nothing_running_is_not_kept(void) {
  const char *file;
  rmt_child good;
  rm_unique_process a;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&good, &a, "--hold", file);
  h = session_with_file(file, 5000, 5000);
  ASSERT_OK(rm_cancel_current_task(h));
  ASSERT_OK(rm_cancel_current_task(h));
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&good, 5000));
  ASSERT_OK(rm_cancel_current_task(h));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  {
    listing l;
    list_now(h, &l);
    ASSERT_EQ(1, l.n);
    ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
              l.v[0].app_status);
    foreign_track(&l.v[0].process);
  }
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Identity */

/* A stale identity (right pid, another start time) is never signalled,
 * even with force, through the backend and through the public API. */
static void stale_identity_is_never_signalled(void) {
  const char *file;
  rmt_child app;
  rm_unique_process a, stale;
  rm__stop s;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&app, &a, "--hold", file);
  stale = a;
  stale.start_time += 1;
  memset(&s, 0, sizeof s);
  s.process = stale;
  ASSERT_OK(rm__os_stop_apps(&s, 1, 500, 1, NULL, NULL, NULL));
  ASSERT_EQ(RM_STATUS_STOPPED_OTHER, s.result);
  s.console = 1;
  ASSERT_OK(rm__os_stop_apps(&s, 1, 500, 1, NULL, NULL, NULL));
  ASSERT_EQ(RM_STATUS_STOPPED_OTHER, s.result);
  rmt_sleep_ms(100);
  ASSERT(child_running(&app));
  /* Registered under the stale identity: it is not affected at all. */
  h = session_with_file(NULL, 500, 500);
  ASSERT_OK(rm_register_resources(h, 0, NULL, 1, &stale, 0, NULL));
  list_now(h, &l);
  ASSERT_EQ(0, l.n);
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT(child_running(&app));
  /* The right identity is. */
  ASSERT_OK(rm_register_resources(h, 0, NULL, 1, &a, 0, NULL));
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&app, 5000));
  ASSERT_OK(rm_end_session(h));
}

/* Makes the next fork get pid `want` (root: /proc/sys/kernel/ns_last_pid).
 * 0 on success. */
static int aim_next_pid(uint32_t want) {
  char buf[32];
  int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC), ok;
  if (fd < 0) return -1;
  snprintf(buf, sizeof buf, "%u", (unsigned)(want - 1));
  ok = write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf);
  close(fd);
  return ok ? 0 : -1;
}

/* A real recycled pid: the recorded process exits and a new process gets
 * its pid.  The new one must survive a forced stop of the old identity,
 * and an old stop record must not be used on it. */
static void recycled_pid_is_never_signalled(void) {
  const char *file;
  rmt_child old_app, new_app;
  rm_unique_process old_id, new_id;
  rm__stop s;
  int tries;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&old_app, &old_id, "--hold", file);
  rmt_kill(&old_app);
  /* Start times count clock ticks (10 ms): a pid reused within the same
   * tick would be the same identity, which real pid wrap-around never
   * does in practice.  Let a few ticks pass. */
  rmt_sleep_ms(50);
  memset(&new_id, 0, sizeof new_id);
  for (tries = 0; tries < 50; tries++) {
    if (aim_next_pid(old_id.pid) != 0) break;
    APP(&new_app, &new_id, "--hold", file);
    if (new_id.pid == old_id.pid) break;
    rmt_kill(&new_app);
    new_id.pid = 0;
  }
  if (new_id.pid != old_id.pid) {
    /* Not root or no writable ns_last_pid: the stale identity case above
     * covers the check; say so rather than pass silently. */
    printf("note: could not recycle pid %u here (ns_last_pid)\n",
           (unsigned)old_id.pid);
    return;
  }
  printf("pid %u recycled after %d tries\n", (unsigned)old_id.pid, tries + 1);
  ASSERT(new_id.start_time != old_id.start_time);
  memset(&s, 0, sizeof s);
  s.process = old_id;
  ASSERT_OK(rm__os_stop_apps(&s, 1, 500, 1, NULL, NULL, NULL));
  ASSERT_EQ(RM_STATUS_STOPPED_OTHER, s.result);
  rmt_sleep_ms(100);
  ASSERT(child_running(&new_app));
  /* And the new process's own identity does stop it. */
  s.process = new_id;
  ASSERT_OK(rm__os_stop_apps(&s, 1, 2000, 0, NULL, NULL, NULL));
  ASSERT_EQ(RM_STATUS_STOPPED, s.result);
  ASSERT_EQ(SIGTERM, reap_child(&new_app, 5000));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  atexit(foreign_kill_all);
  RUN(cancel_from_another_thread);
  RUN(cancel_from_the_progress_callback);
  RUN(cancel_at_zero_stops_nothing);
  RUN(cancel_with_nothing_running_is_not_kept);
  RUN(stale_identity_is_never_signalled);
  RUN(recycled_pid_is_never_signalled);
  return rmt_finish();
}
