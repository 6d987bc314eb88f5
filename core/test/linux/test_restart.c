/* SPDX-License-Identifier: MIT */
/*
 * test_restart.c: rm_restart on Linux: relaunched apps get their original
 * argv, cwd and environment, detached (a new session, no terminal, stdio
 * on /dev/null, not the caller's child); partial failures; what is not
 * restarted; progress; a second shutdown/restart cycle on relaunched apps.
 */
#define _GNU_SOURCE
#include "test_shutdown_common.h"

/* {===== rm_app --report files */

typedef struct report {
  long pid, ppid, sid, pgid, tty;
  char fd[3][256], cwd[512];
  char *args[32], *envs[256];
  int n_args, n_envs;
} report;

static void report_free(report *r) {
  int i;
  for (i = 0; i < r->n_args; i++) free(r->args[i]);
  for (i = 0; i < r->n_envs; i++) free(r->envs[i]);
  memset(r, 0, sizeof *r);
}

/* Reads a report; 0 when it exists and is complete. */
static int report_read(const char *path, report *r) {
  char line[8192];
  FILE *f = fopen(path, "r");
  memset(r, 0, sizeof *r);
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[--n] = 0;
    if (sscanf(line, "pid %ld", &r->pid) == 1) continue;
    if (sscanf(line, "ppid %ld", &r->ppid) == 1) continue;
    if (sscanf(line, "sid %ld", &r->sid) == 1) continue;
    if (sscanf(line, "pgid %ld", &r->pgid) == 1) continue;
    if (sscanf(line, "tty %ld", &r->tty) == 1) continue;
    if (strncmp(line, "fd", 2) == 0 && line[2] >= '0' && line[2] <= '2')
      snprintf(r->fd[line[2] - '0'], sizeof r->fd[0], "%.255s", line + 4);
    else if (strncmp(line, "cwd ", 4) == 0)
      snprintf(r->cwd, sizeof r->cwd, "%.511s", line + 4);
    else if (strncmp(line, "arg ", 4) == 0 && r->n_args < 32)
      r->args[r->n_args++] = strdup(line + 4);
    else if (strncmp(line, "env ", 4) == 0 && r->n_envs < 256)
      r->envs[r->n_envs++] = strdup(line + 4);
  }
  fclose(f);
  return r->pid ? 0 : -1;
}

/* Waits until the report at path comes from process pid. */
static void report_wait(const char *path, long pid, report *r) {
  unsigned waited = 0;
  for (;;) {
    if (report_read(path, r) == 0 && r->pid == pid) return;
    report_free(r);
    ASSERT(waited < 10000);
    rmt_sleep_ms(20);
    waited += 20;
  }
}

/* }=====
 * {===== Relaunch */

static const rm_process_info *only_restarted(const listing *l) {
  const rm_process_info *found = NULL;
  unsigned i, n = 0;
  for (i = 0; i < l->n; i++)
    if (l->v[i].app_status & RM_STATUS_RESTARTED) {
      found = &l->v[i];
      n++;
    }
  ASSERT_EQ(1, n);
  return found;
}

static void relaunch_is_detached_with_original_argv_cwd_env(void) {
  const char *file;
  char work[600], path[700], old_cwd[4096];
  static rmt_child app;
  rm_unique_process a;
  report before, after;
  listing l;
  progress_log p;
  const rm_process_info *e;
  uint32_t h;
  int i;
  rmt_fresh_store();
  file = temp_file("held");
  snprintf(work, sizeof work, "%s/work dir", rmt_tempdir());
  ASSERT_EQ(0, mkdir(work, 0755));
  snprintf(path, sizeof path, "%s/report", work);
  ASSERT(getcwd(old_cwd, sizeof old_cwd) != NULL);
  ASSERT_EQ(0, chdir(work));
  rmt_setenv("RM_TEST_MARK", "a value = with spaces");
  APP(&app, &a, "--report", path, "--hold", file, "arg with space",
      "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9", "");
  rmt_setenv("RM_TEST_MARK", NULL);
  ASSERT_EQ(0, chdir(old_cwd));
  ASSERT_EQ(0, report_read(path, &before));
  ASSERT_EQ(app.pid, before.pid);
  ASSERT(strcmp(work, before.cwd) == 0);

  h = session_with_file(file, 5000, 5000);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&app, 5000));
  memset(&p, 0, sizeof p);
  ASSERT_OK(rm_restart(h, 0, progress_record, &p));
  assert_progress_complete(&p);
  ASSERT_EQ(2, p.n);                    /* 0, 100 */
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  e = only_restarted(&l);
  foreign_track(&e->process);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            e->app_status);
  ASSERT(e->process.pid != a.pid);
  ASSERT_EQ(RM_APP_UNKNOWN, e->app_type);
  ASSERT_EQ(1, e->restartable);

  report_wait(path, (long)e->process.pid, &after);
  /* Detached: leads its own session, no terminal, not our child. */
  ASSERT_EQ(after.pid, after.sid);
  ASSERT_EQ(after.pid, after.pgid);
  ASSERT_EQ(0, after.tty);
  ASSERT(after.ppid != rmt_self_pid());
  for (i = 0; i < 3; i++) ASSERT(strcmp("/dev/null", after.fd[i]) == 0);
  /* The original command line, directory and environment. */
  ASSERT(strcmp(before.cwd, after.cwd) == 0);
  ASSERT_EQ(before.n_args, after.n_args);
  for (i = 0; i < before.n_args; i++)
    ASSERT_STR_EQ(before.args[i], after.args[i]);
  ASSERT_EQ(before.n_envs, after.n_envs);
  for (i = 0; i < before.n_envs; i++)
    ASSERT_STR_EQ(before.envs[i], after.envs[i]);
  {
    int marked = 0;
    for (i = 0; i < after.n_envs; i++)
      marked |=
          strcmp(after.envs[i], "RM_TEST_MARK=a value = with spaces") == 0;
    ASSERT(marked);
  }
  report_free(&before);
  report_free(&after);
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* One app stops, one will not stop, one cannot start again (its program
 * is gone): FAIL_SHUTDOWN, then FAIL_RESTART with each status exact. */
static void restart_after_partial_failure(void) {
  const char *file;
  char exe[700];
  static rmt_child good, stubborn, vanishing;
  rm_unique_process a, b, c;
  listing l;
  progress_log p;
  uint32_t h;
  unsigned i;
  rmt_fresh_store();
  file = temp_file("held");
  snprintf(exe, sizeof exe, "%s/vanishing-app", rmt_tempdir());
  copy_app(exe);
  APP(&good, &a, "--hold", file);
  APP(&stubborn, &b, "--ignore-term", "--hold", file);
  APP_EXE(&vanishing, &c, exe, "--hold", file);
  h = session_with_file(file, 1500, 1500);
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN, rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&good, 5000));
  ASSERT_EQ(SIGTERM, reap_child(&vanishing, 5000));
  ASSERT(child_running(&stubborn));
  ASSERT_EQ(0, unlink(exe));
  memset(&p, 0, sizeof p);
  ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm_restart(h, 0, progress_record, &p));
  assert_progress_complete(&p);
  ASSERT_EQ(3, p.n);                    /* 0, 50, 100: two were stopped */
  list_now(h, &l);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_ERROR_ON_STOP,
            entry_of(&l, stubborn.pid)->app_status);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_ERROR_ON_RESTART,
            entry_of(&l, (long)c.pid)->app_status);
  {
    rm_app_info *apps;
    unsigned n, k, seen = 0;
    uint32_t reasons;
    ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
    for (k = 0; k < n; k++)
      if (apps[k].info.process.pid == c.pid) {
        ASSERT_EQ(RM_RESTART_FAILED_NO_EXECUTABLE, apps[k].restart.failure);
        ASSERT_EQ(ENOENT, apps[k].restart.error);
        seen++;
      } else if (apps[k].info.process.pid == (uint32_t)stubborn.pid) {
        ASSERT_EQ(0, apps[k].restart.failure);  /* never tried */
      }
    ASSERT_EQ(1, seen);
    rm_free_list(apps, n);
  }
  for (i = 0; i < l.n; i++)
    if (l.v[i].app_status & RM_STATUS_RESTARTED) {
      ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
                l.v[i].app_status);
      foreign_track(&l.v[i].process);
    }
  ASSERT_EQ(1, (unsigned)n_foreign_procs);
  /* A second restart has nothing left to do. */
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* Console apps are stopped but not restarted, and that is no failure. */
static void console_apps_are_not_restarted(void) {
  const char *file;
  static rmt_child console;
  rm_unique_process a;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&console, &a, "--ctty", "--hold", file);
  h = session_with_file(file, 3000, 3000);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGINT, reap_child(&console, 5000));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_APP_CONSOLE, l.v[0].app_type);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[0].app_status);
  ASSERT_OK(rm_end_session(h));
}

/* Relaunched apps use the file again: the next shutdown finds them (one
 * entry each, history and identity merged) and stops them, and the next
 * restart brings them back once more. */
static void second_cycle_on_relaunched_apps(void) {
  const char *file;
  static rmt_child app;
  rm_unique_process a, first;
  listing l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&app, &a, "--hold", file);
  h = session_with_file(file, 3000, 3000);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&app, 5000));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  first = l.v[0].process;
  foreign_track(&first);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            l.v[0].app_status);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT(!rm__os_alive(&first));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(first.pid, l.v[0].process.pid);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[0].app_status);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  foreign_track(&l.v[0].process);
  ASSERT(l.v[0].process.pid != first.pid);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            l.v[0].app_status);
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* Backend: a launch of a program that does not exist fails cleanly, with
 * its reason; a relative or missing executable path is never looked up. */
static void launch_of_a_missing_program_fails(void) {
  rm__launch l;
  rm_unique_process got;
  rm_restart_outcome why;
  char *argv[2], *envp[1];
  memset(&l, 0, sizeof l);
  argv[0] = (char *)(uintptr_t)"/nonexistent/program";
  argv[1] = NULL;
  envp[0] = NULL;
  l.argv = argv;
  l.envp = envp;
  l.exe = argv[0];
  l.cwd = (char *)(uintptr_t)"/";
  l.uid = (uint32_t)getuid();
  l.gid = (uint32_t)getgid();
  {
    gid_t groups[256];
    int n = getgroups(256, groups), i;
    uint32_t mine[256];
    for (i = 0; i < n; i++) mine[i] = (uint32_t)groups[i];
    l.groups = mine;
    l.n_groups = n > 0 ? (size_t)n : 0;
    /* No context captured: never started (it would get the caller's). */
    ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm__os_launch(&l, &got, &why));
    ASSERT_EQ(RM_RESTART_FAILED_CONTEXT, why.failure);
    /* A context that changes nothing of ours. */
    l.ctx.captured = 1;
    l.ctx.nice = 0;
    l.ctx.umask = 022;
    l.ctx.oom_score_adj = 0;
    l.ctx.personality = RM_LAUNCH_NO_PERSONALITY;
    l.ctx.cap_bounding = ~0ull;
    ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm__os_launch(&l, &got, &why));
    ASSERT_EQ(RM_RESTART_FAILED_NO_EXECUTABLE, why.failure);
    ASSERT_EQ(ENOENT, why.error);
    argv[0] = (char *)(uintptr_t)"sleep";       /* never a PATH lookup */
    l.exe = argv[0];
    ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm__os_launch(&l, &got, &why));
    ASSERT_EQ(RM_RESTART_FAILED_NO_EXECUTABLE, why.failure);
    l.exe = NULL;
    ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm__os_launch(&l, &got, &why));
    ASSERT_EQ(RM_RESTART_FAILED_NO_EXECUTABLE, why.failure);
    /* An executable the kernel cannot run: exec failed, with its errno. */
    {
      char junk[700];
      snprintf(junk, sizeof junk, "%s/junk", rmt_tempdir());
      ASSERT_EQ(0, rmt_write_file(junk, "\x01\x02 not a program\n"));
      ASSERT_EQ(0, chmod(junk, 0755));
      argv[0] = junk;
      l.exe = junk;
      ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm__os_launch(&l, &got, &why));
      ASSERT_EQ(RM_RESTART_FAILED_EXEC, why.failure);
      ASSERT_EQ(ENOEXEC, why.error);
    }
    /* Exits at once: did not stay up for the settle time. */
    argv[0] = (char *)(uintptr_t)"/bin/false";
    l.exe = argv[0];
    ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm__os_launch(&l, &got, &why));
    ASSERT_EQ(RM_RESTART_FAILED_EXITED, why.failure);
    ASSERT_EQ(1, why.error);
  }
}

/* Backend: capture of a process that is gone or not the recorded one. */
static void capture_needs_the_recorded_process(void) {
  static rmt_child app;
  rm_unique_process a, stale;
  rm__launch l;
  rmt_fresh_store();
  APP(&app, &a, "--keep-session", "x y");
  memset(&l, 0, sizeof l);
  ASSERT_OK(rm__os_capture(&a, NULL, &l));
  ASSERT_STR_EQ(rmt_helper("rm_app"), l.argv[0]);
  ASSERT_STR_EQ("--keep-session", l.argv[1]);
  ASSERT_STR_EQ("x y", l.argv[2]);
  ASSERT(l.argv[3] == NULL);
  ASSERT_EQ(getuid(), l.uid);
  ASSERT_EQ(getgid(), l.gid);
  ASSERT_STR_EQ(rmt_helper("rm_app"), l.exe);
  ASSERT_EQ(0, l.notes);
  rm__launch_free(&l);
  stale = a;
  stale.start_time += 1;
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm__os_capture(&stale, NULL, &l));
  rmt_kill(&app);
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm__os_capture(&a, NULL, &l));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  /* Root relaunching root drops the loader's and interpreters' variables
   * (TMPDIR among them); the environment check below wants an
   * environment kept whole. */
  drop_relaunch_dropped_env();
  atexit(foreign_kill_all);
  RUN(relaunch_is_detached_with_original_argv_cwd_env);
  RUN(restart_after_partial_failure);
  RUN(console_apps_are_not_restarted);
  RUN(second_cycle_on_relaunched_apps);
  RUN(launch_of_a_missing_program_fails);
  RUN(capture_needs_the_recorded_process);
  return rmt_finish();
}
