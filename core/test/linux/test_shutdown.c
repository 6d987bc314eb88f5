/* SPDX-License-Identifier: MIT */
/*
 * test_shutdown.c: rm_shutdown on Linux with real processes holding real
 * files: who is stopped, with which signal, in which order, what the
 * session records, when nothing may be stopped, filters, progress, and
 * 20 apps at once.  Cancellation and recycled pids: test_shutdown_cancel.c.
 */
#define _GNU_SOURCE
#include "test_shutdown_common.h"

#include <fcntl.h>

#define ALL_STOP_BITS                                                     \
  (RM_STATUS_RUNNING | RM_STATUS_STOPPED | RM_STATUS_STOPPED_OTHER |       \
   RM_STATUS_ERROR_ON_STOP | RM_STATUS_SHUTDOWN_MASKED |                   \
   RM_STATUS_RESTART_MASKED)

/* {===== Arguments and roles */

static void bad_flags_roles_and_handles(void) {
  uint32_t h, secondary, ended;
  char key[33];
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_join_session(&secondary, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_shutdown(h, 0x2, NULL, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_shutdown(h, 0x100, NULL, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_shutdown(h, 0x20000u | RM_SHUTDOWN_SERVICES_IN_PLACE, NULL,
                        NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_shutdown(secondary, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_restart(secondary, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_cancel_current_task(secondary));
  /* Before any shutdown, and reserved restart flags. */
  ASSERT_EQ(RM_ERROR_REQUEST_OUT_OF_SEQUENCE, rm_restart(h, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_restart(h, 1, NULL, NULL));
  /* Nothing registered: a successful no-op; restart is then in sequence. */
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN | RM_SHUTDOWN_ONLY_REGISTERED,
                        NULL, NULL));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_OK(rm_start_session(&ended, 0, key));
  ASSERT_OK(rm_end_session(ended));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_shutdown(ended, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_restart(ended, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_cancel_current_task(ended));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_shutdown(12345, 0, NULL, NULL));
  ASSERT_OK(rm_end_session(secondary));
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Cooperative apps */

static void cooperative_apps_are_stopped_and_remembered(void) {
  const char *file;
  rmt_child c[3];
  rm_unique_process id[3];
  listing l;
  progress_log p;
  uint32_t h;
  int i;
  rmt_fresh_store();
  file = temp_file("held");
  for (i = 0; i < 3; i++) APP(&c[i], &id[i], "--hold", file);
  h = session_with_file(file, 10000, 10000);
  list_now(h, &l);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(0, l.reasons);
  for (i = 0; i < 3; i++) {
    const rm_process_info *e = entry_of(&l, c[i].pid);
    ASSERT(e != NULL);
    ASSERT_EQ(RM_APP_UNKNOWN, e->app_type);
    ASSERT_EQ(RM_STATUS_RUNNING, e->app_status);
    ASSERT_EQ(1, e->restartable);
  }
  memset(&p, 0, sizeof p);
  ASSERT_OK(rm_shutdown(h, 0, progress_record, &p));
  for (i = 0; i < 3; i++) ASSERT_EQ(SIGTERM, reap_child(&c[i], 5000));
  assert_progress_complete(&p);
  ASSERT_EQ(4, p.n);                 /* 0, 33, 66, 100 */
  ASSERT_EQ(33, p.v[1]);
  ASSERT_EQ(66, p.v[2]);
  /* The processes are gone; the list still shows them, with history. */
  list_now(h, &l);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(0, l.reasons);
  for (i = 0; i < 3; i++) {
    const rm_process_info *e = entry_of(&l, (long)id[i].pid);
    ASSERT(e != NULL);
    ASSERT_EQ(id[i].start_time, e->process.start_time);
    ASSERT_EQ(RM_STATUS_STOPPED, e->app_status);
    ASSERT_STR_EQ("rm_app", e->app_name);
  }
  /* A second shutdown finds nothing left to stop. */
  memset(&p, 0, sizeof p);
  ASSERT_OK(rm_shutdown(h, 0, progress_record, &p));
  ASSERT_EQ(2, p.n);
  ASSERT_EQ(0, p.v[0]);
  ASSERT_EQ(100, p.v[1]);
  ASSERT_OK(rm_end_session(h));
}

static void nothing_affected_reports_0_then_100(void) {
  progress_log p;
  uint32_t h;
  listing l;
  rmt_fresh_store();
  h = session_with_file(temp_file("unused"), 1000, 1000);
  memset(&p, 0, sizeof p);
  ASSERT_OK(rm_shutdown(h, 0, progress_record, &p));
  ASSERT_EQ(2, p.n);
  ASSERT_EQ(0, p.v[0]);
  ASSERT_EQ(100, p.v[1]);
  list_now(h, &l);
  ASSERT_EQ(0, l.n);
  ASSERT_OK(rm_end_session(h));
}

/* Console apps get SIGINT, then SIGTERM; other apps SIGTERM. */
static void signals_follow_the_app_type(void) {
  const char *file;
  rmt_child plain, console, deaf;
  rm_unique_process a, b, c;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&plain, &a, "--hold", file);
  APP(&console, &b, "--ctty", "--hold", file);
  APP(&deaf, &c, "--ctty", "--ignore-int", "--hold", file);
  h = session_with_file(file, 4000, 4000);
  list_now(h, &l);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(RM_APP_UNKNOWN, entry_of(&l, plain.pid)->app_type);
  ASSERT_EQ(RM_APP_CONSOLE, entry_of(&l, console.pid)->app_type);
  ASSERT_EQ(0, entry_of(&l, console.pid)->restartable);
  ASSERT_EQ(RM_APP_CONSOLE, entry_of(&l, deaf.pid)->app_type);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&plain, 5000));
  ASSERT_EQ(SIGINT, reap_child(&console, 5000));
  ASSERT_EQ(SIGTERM, reap_child(&deaf, 5000));
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)b.pid)->app_status);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)c.pid)->app_status);
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Apps that do not cooperate */

static void app_ignoring_sigterm_stays_without_force(void) {
  const char *file;
  rmt_child good, stubborn;
  rm_unique_process a, b;
  listing l;
  uint64_t t0;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&good, &a, "--hold", file);
  APP(&stubborn, &b, "--ignore-term", "--hold", file);
  h = session_with_file(file, 1500, 1500);
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN, rm_shutdown(h, 0, NULL, NULL));
  ASSERT(rm__os_now_ms() - t0 >= 1400);
  ASSERT(rm__os_now_ms() - t0 < 10000);
  ASSERT_EQ(SIGTERM, reap_child(&good, 5000));
  ASSERT(child_running(&stubborn));
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)a.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_ERROR_ON_STOP,
            entry_of(&l, stubborn.pid)->app_status);
  ASSERT_OK(rm_end_session(h));
}

static void app_ignoring_sigterm_is_killed_with_force(void) {
  const char *file;
  rmt_child stubborn;
  rm_unique_process b;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&stubborn, &b, "--ignore-term", "--hold", file);
  h = session_with_file(file, 1500, 1500);
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT_EQ(SIGKILL, reap_child(&stubborn, 5000));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[0].app_status);
  ASSERT_OK(rm_end_session(h));
}

/* The timeout comes from RESTARTMGR_APP_TIMEOUT_MS when the session sets
 * none (else it would be 30 s). */
static void timeout_comes_from_the_environment(void) {
  const char *file;
  rmt_child stubborn;
  rm_unique_process b;
  uint64_t t0;
  uint32_t h;
  char key[33];
  const char *files[1];
  rmt_fresh_store();
  file = temp_file("held");
  APP(&stubborn, &b, "--ignore-term", "--hold", file);
  ASSERT_OK(rm_start_session(&h, 0, key));
  files[0] = file;
  ASSERT_OK(rm_register_resources(h, 1, files, 0, NULL, 0, NULL));
  rmt_setenv("RESTARTMGR_APP_TIMEOUT_MS", "800");
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN, rm_shutdown(h, 0, NULL, NULL));
  rmt_setenv("RESTARTMGR_APP_TIMEOUT_MS", NULL);
  ASSERT(rm__os_now_ms() - t0 < 10000);
  ASSERT(child_running(&stubborn));
  ASSERT_OK(rm_end_session(h));
}

/* A console app that exits by itself (after 2.5 s) while the
 * windowed/unknown group is being stopped (a stubborn app holds that
 * group up for 6 s) is gone when its turn comes: STOPPED_OTHER, and it is
 * not restarted. */
static void app_exiting_by_itself_is_stopped_other(void) {
  const char *file;
  rmt_child stubborn, leaver;
  rm_unique_process a, b;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&stubborn, &a, "--ignore-term", "--hold", file);
  h = session_with_file(file, 6000, 6000);
  APP(&leaver, &b, "--ctty", "--exit-after", "2500", "--hold", file);
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT_EQ(SIGKILL, reap_child(&stubborn, 5000));
  ASSERT_EQ(1000, reap_child(&leaver, 5000));      /* exit(0), no signal */
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)a.pid)->app_status);
  ASSERT_EQ(RM_STATUS_STOPPED_OTHER, entry_of(&l, (long)b.pid)->app_status);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(RM_STATUS_STOPPED_OTHER, entry_of(&l, (long)b.pid)->app_status);
  {
    unsigned i, restarted = 0;
    for (i = 0; i < l.n; i++)
      if (l.v[i].app_status & RM_STATUS_RESTARTED) {
        restarted++;
        foreign_track(&l.v[i].process);
        ASSERT(l.v[i].process.pid != a.pid ||
               l.v[i].process.start_time != a.start_time);
      }
    ASSERT_EQ(1, restarted);
  }
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Nothing may be stopped */

/* The caller holds the file itself: DETECTED_SELF, so nothing stops. */
static void reboot_reason_stops_nothing(void) {
  const char *file;
  rmt_child other;
  rm_unique_process a;
  listing l;
  progress_log p;
  uint32_t h;
  int fd;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&other, &a, "--hold", file);
  fd = open(file, O_RDONLY | O_CLOEXEC);
  ASSERT(fd >= 0);
  h = session_with_file(file, 1500, 1500);
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(RM_REBOOT_REASON_DETECTED_SELF, l.reasons);
  ASSERT_EQ(RM_APP_CRITICAL, entry_of(&l, rmt_self_pid())->app_type);
  memset(&p, 0, sizeof p);
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT,
            rm_shutdown(h, RM_FORCE_SHUTDOWN, progress_record, &p));
  ASSERT_EQ(0, p.n);
  ASSERT(child_running(&other));
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_RUNNING, entry_of(&l, other.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING, entry_of(&l, rmt_self_pid())->app_status);
  /* It counts as a shutdown for rm_restart, which has nothing to do. */
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  close(fd);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&other, 5000));
  ASSERT_OK(rm_end_session(h));
}

/* ONLY_REGISTERED with an affected console app (not restartable): nothing
 * stops; masking the console app with RM_NO_SHUTDOWN lifts that. */
static void only_registered_with_a_console_app(void) {
  const char *file;
  rmt_child plain, console;
  rm_unique_process a, b;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&plain, &a, "--hold", file);
  APP(&console, &b, "--ctty", "--hold", file);
  h = session_with_file(file, 2000, 2000);
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN,
            rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT(child_running(&plain));
  ASSERT(child_running(&console));
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING, entry_of(&l, plain.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING, entry_of(&l, console.pid)->app_status);
  ASSERT_OK(rm_add_filter(h, NULL, &b, NULL, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&plain, 5000));
  ASSERT(child_running(&console));
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)a.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_SHUTDOWN_MASKED,
            entry_of(&l, console.pid)->app_status);
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Filters */

/* RM_NO_SHUTDOWN by executable file and by process: left running and
 * SHUTDOWN_MASKED, not a failure; RM_NO_RESTART: stopped, RESTART_MASKED. */
static void filters_mask_files_and_processes(void) {
  const char *file;
  char exe[700];
  rmt_child by_file, by_proc, no_restart, plain;
  rm_unique_process a, b, c, d;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  snprintf(exe, sizeof exe, "%s/own-app", rmt_tempdir());
  copy_app(exe);
  APP_EXE(&by_file, &a, exe, "--hold", file);
  APP(&by_proc, &b, "--hold", file);
  APP(&no_restart, &c, "--hold", file);
  APP(&plain, &d, "--hold", file);
  h = session_with_file(file, 2000, 2000);
  ASSERT_OK(rm_add_filter(h, exe, NULL, NULL, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_add_filter(h, NULL, &b, NULL, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_add_filter(h, NULL, &c, NULL, RM_NO_RESTART));
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT(child_running(&by_file));
  ASSERT(child_running(&by_proc));
  ASSERT_EQ(SIGTERM, reap_child(&no_restart, 5000));
  ASSERT_EQ(SIGTERM, reap_child(&plain, 5000));
  list_now(h, &l);
  ASSERT_EQ(4, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_SHUTDOWN_MASKED,
            entry_of(&l, by_file.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_SHUTDOWN_MASKED,
            entry_of(&l, by_proc.pid)->app_status);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTART_MASKED,
            entry_of(&l, (long)c.pid)->app_status);
  ASSERT_EQ(RM_STATUS_STOPPED, entry_of(&l, (long)d.pid)->app_status);
  /* Restart brings back only the unfiltered one. */
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTART_MASKED,
            entry_of(&l, (long)c.pid)->app_status);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_SHUTDOWN_MASKED,
            entry_of(&l, by_proc.pid)->app_status);
  {
    unsigned i, restarted = 0;
    for (i = 0; i < l.n; i++)
      if (l.v[i].app_status & RM_STATUS_RESTARTED) {
        restarted++;
        ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_STOPPED | RM_STATUS_RESTARTED,
                  l.v[i].app_status);
        foreign_track(&l.v[i].process);
      }
    ASSERT_EQ(1, restarted);
  }
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Many at once */

/* 20 apps ignoring SIGTERM, timeout 1.5 s, forced: about one timeout in
 * all (one by one it would be 30 s). */
static void twenty_apps_stop_concurrently(void) {
  const char *file;
  rmt_child c[20];
  rm_unique_process id[20];
  listing l;
  progress_log p;
  uint64_t t0, elapsed;
  uint32_t h;
  int i;
  rmt_fresh_store();
  file = temp_file("held");
  for (i = 0; i < 20; i++) APP(&c[i], &id[i], "--ignore-term", "--hold", file);
  h = session_with_file(file, 1500, 1500);
  memset(&p, 0, sizeof p);
  t0 = rm__os_now_ms();
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, progress_record, &p));
  elapsed = rm__os_now_ms() - t0;
  printf("20 stubborn apps, 1.5 s timeout, forced: %llu ms\n",
         (unsigned long long)elapsed);
  ASSERT(elapsed >= 1400);
  ASSERT(elapsed < 10000);
  for (i = 0; i < 20; i++) ASSERT_EQ(SIGKILL, reap_child(&c[i], 5000));
  assert_progress_complete(&p);
  ASSERT_EQ(21, p.n);                /* 0, then 5, 10, ... 100 */
  list_now(h, &l);
  ASSERT_EQ(20, l.n);
  for (i = 0; i < 20; i++) ASSERT_EQ(RM_STATUS_STOPPED, l.v[i].app_status);
  ASSERT_OK(rm_end_session(h));
}

static void twenty_cooperative_apps_take_about_one_exit(void) {
  const char *file;
  rmt_child c[20];
  rm_unique_process id[20];
  uint64_t t0, elapsed;
  uint32_t h;
  int i;
  rmt_fresh_store();
  file = temp_file("held");
  for (i = 0; i < 20; i++) APP(&c[i], &id[i], "--hold", file);
  h = session_with_file(file, 30000, 30000);
  t0 = rm__os_now_ms();
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  elapsed = rm__os_now_ms() - t0;
  printf("20 cooperative apps: %llu ms\n", (unsigned long long)elapsed);
  ASSERT(elapsed < 5000);
  for (i = 0; i < 20; i++) ASSERT_EQ(SIGTERM, reap_child(&c[i], 5000));
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  /* Apps inherit this environment: no display, so no MAIN_WINDOW. */
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  rmt_setenv("RESTARTMGR_APP_TIMEOUT_MS", NULL);
  rmt_setenv("RESTARTMGR_SERVICE_TIMEOUT_MS", NULL);
  atexit(foreign_kill_all);
  RUN(bad_flags_roles_and_handles);
  RUN(cooperative_apps_are_stopped_and_remembered);
  RUN(nothing_affected_reports_0_then_100);
  RUN(signals_follow_the_app_type);
  RUN(app_ignoring_sigterm_stays_without_force);
  RUN(app_ignoring_sigterm_is_killed_with_force);
  RUN(timeout_comes_from_the_environment);
  RUN(app_exiting_by_itself_is_stopped_other);
  RUN(reboot_reason_stops_nothing);
  RUN(only_registered_with_a_console_app);
  RUN(filters_mask_files_and_processes);
  RUN(twenty_apps_stop_concurrently);
  RUN(twenty_cooperative_apps_take_about_one_exit);
  return rmt_finish();
}
