/* SPDX-License-Identifier: MIT */
/*
 * test_services.c: services through a real runit.  Each case creates a
 * service directory in a root temp dir, runs /usr/bin/runsvdir on it as
 * root re-parented to init (the system's runsvdir: docs/security.md,
 * "Services"), keeps the service up over a second before acting (runsv
 * holds back a restart for a second), checks every outcome in
 * supervise/pid and supervise/stat, and tears down with `sv -w 5
 * force-shutdown`.  runit and root are required: without them the cases
 * fail.
 */
#define _GNU_SOURCE
#include "test_shutdown_common.h"
#include "linux/services.h"

#include <grp.h>
#include <pthread.h>

static unsigned name_counter;

/* A service name unique to this test process. */
static const char *svc_name(void) {
  static char name[64];
  snprintf(name, sizeof name, "rmt-svc-%ld-%u", rmt_self_pid(), name_counter++);
  return name;
}

static void stat_is(const svc *s, const char *want) {
  char stat[64];
  svc_read(s, "stat", stat, sizeof stat);
  ASSERT_STR_EQ(want, stat);
}

/* Up and wanted up: "run", maybe with ", got TERM" after a withdrawn
 * stop, never with ", want down". */
static void runs_and_wants_up(const svc *s) {
  char stat[64];
  svc_read(s, "stat", stat, sizeof stat);
  ASSERT(strncmp(stat, "run", 3) == 0);
  ASSERT(strstr(stat, "want down") == NULL);
}

/* {===== Mapping */

static void runit_maps_pids_and_names(void) {
  svc s;
  rmt_child app;
  rm_unique_process a;
  char name[RM_MAX_SVC_NAME + 1];
  uint32_t pid = 0, got = 0;
  require_runit();
  rmt_fresh_store();
  svc_create(&s, svc_name(), "");
  pid = svc_start(&s);
  ASSERT_EQ(1, rm__linux_service_of(pid, name, sizeof name));
  ASSERT_STR_EQ(s.name, name);
  ASSERT_EQ(1, rm__linux_service_pid(s.name, &got));
  ASSERT_EQ(pid, got);
  /* runsv itself, and an app that is nobody's service, are not. */
  ASSERT_EQ(0, rm__linux_service_of((uint32_t)s.runsv.pid, name, sizeof name));
  APP(&app, &a, "--keep-session");
  ASSERT_EQ(0, rm__linux_service_of(a.pid, name, sizeof name));
  ASSERT_EQ(0, rm__linux_service_pid("rmt-no-such-service", &got));
  ASSERT_EQ(0, rm__linux_service_critical(s.name));
  /* Found by name also without $SVDIR, through its runsv. */
  rmt_setenv("SVDIR", NULL);
  ASSERT_EQ(1, rm__linux_service_pid(s.name, &got));
  ASSERT_EQ(pid, got);
  rmt_setenv("SVDIR", s.base);
  svc_teardown(&s);
  ASSERT_EQ(0, rm__linux_service_pid(s.name, &got));
}

/* systemd's cgroup → unit rule on the paths systemd makes (the host has
 * no systemd; systemd/test_systemd.c checks it on real units under one). */
static void systemd_unit_from_cgroup(void) {
  char name[RM_MAX_SVC_NAME + 1];
  ASSERT_EQ(1, rm__linux_unit_of_cgroup("/system.slice/ssh.service", name,
                                        sizeof name));
  ASSERT_STR_EQ("ssh", name);
  ASSERT_EQ(1, rm__linux_unit_of_cgroup(
                   "/system.slice/system-getty.slice/getty@tty1.service",
                   name, sizeof name));
  ASSERT_STR_EQ("getty@tty1", name);
  ASSERT_EQ(1, rm__linux_unit_of_cgroup(
                   "/system.slice/docker.service/some/sub/group", name,
                   sizeof name));
  ASSERT_STR_EQ("docker", name);
  ASSERT_EQ(1, rm__linux_unit_of_cgroup("/cron.service", name, sizeof name));
  ASSERT_STR_EQ("cron", name);
  ASSERT_EQ(0, rm__linux_unit_of_cgroup(
                   "/user.slice/user-1000.slice/session-3.scope", name,
                   sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup(
                   "/user.slice/user-1000.slice/user@1000.service/app.slice/"
                   "app-firefox-1.scope", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup(
                   "/user.slice/user-1000.slice/user@1000.service/app.slice/"
                   "foo.service", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup("/init.scope", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup("/", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup("", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup("/machine.slice/machine-qemu.scope",
                                        name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup("/system.slice/.service", name,
                                        sizeof name));
  /* Nothing under a user's slice is a system unit, whatever it is called
   * (docs/security.md, "Services"). */
  ASSERT_EQ(0, rm__linux_unit_of_cgroup(
                   "/user.slice/user-1000.slice/nginx.service", name,
                   sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup("/user-1000.slice/ssh.service", name,
                                        sizeof name));
  ASSERT_EQ(1, rm__linux_unit_of_cgroup("/user.slice/user-x.slice/a.service",
                                        name, sizeof name));
  ASSERT_STR_EQ("a", name);
  /* A user's own v1 "name=systemd" hierarchy (mountable in a user
   * namespace on a pure cgroup2 host) never outvotes the unified line
   * that places the process in their session. */
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text(
                   "9:name=systemd:/system.slice/nginx.service\n"
                   "0::/user.slice/user-1000.slice/session-2.scope\n",
                   name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text(
                   "0::/user.slice/user-1000.slice/session-2.scope\n"
                   "10:name=systemd:/system.slice/nginx.service\n",
                   name, sizeof name));
  /* Legacy: the unified line is a bare root, the v1 line decides. */
  ASSERT_EQ(1, rm__linux_unit_of_cgroup_text(
                   "1:name=systemd:/system.slice/ssh.service\n0::/\n", name,
                   sizeof name));
  ASSERT_STR_EQ("ssh", name);
}

/* }=====
 * {===== Stop and start */

static void service_by_name_stops_and_starts_with_a_new_pid(void) {
  svc s;
  listing l;
  const char *names[1];
  uint32_t h, pid, pid2;
  rm_unique_process old_id;
  require_runit();
  rmt_fresh_store();
  svc_create(&s, svc_name(), "");
  pid = svc_start(&s);
  ASSERT_OK(rm_get_process_identity(pid, &old_id));
  h = session_with_file(NULL, 5000, 5000);
  names[0] = s.name;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, names));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(pid, l.v[0].process.pid);
  ASSERT_EQ(RM_APP_SERVICE, l.v[0].app_type);
  ASSERT_STR_EQ(s.name, l.v[0].service_short_name);
  ASSERT_EQ(1, l.v[0].restartable);
  ASSERT_EQ(RM_STATUS_RUNNING, l.v[0].app_status);

  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  stat_is(&s, "down");
  ASSERT_EQ(0, svc_pid(&s));
  ASSERT(!rm__os_alive(&old_id));
  ASSERT(child_running(&s.runsv));          /* runsv was asked, not killed */
  rmt_sleep_ms(1500);                        /* and it did not respawn it */
  stat_is(&s, "down");
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[0].app_status);

  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  pid2 = svc_wait_up(&s, 5000);
  ASSERT(pid2 != 0);
  ASSERT(pid2 != pid);
  stat_is(&s, "run");
  list_now(h, &l);
  ASSERT_EQ(1, l.n);                        /* one entry, new identity */
  ASSERT_EQ(pid2, l.v[0].process.pid);
  ASSERT_EQ(RM_APP_SERVICE, l.v[0].app_type);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            l.v[0].app_status);
  ASSERT_OK(rm_end_session(h));
  rmt_sleep_ms(1100);
  svc_teardown(&s);
}

/* A service found through a file it holds is stopped after the apps that
 * hold it and started before them. */
static void service_through_a_file_after_apps_and_before_them(void) {
  svc s;
  const char *file;
  char log[700], args[2048], text[256];
  rmt_child app;
  rm_unique_process a;
  listing l;
  uint32_t h, pid;
  unsigned i;
  require_runit();
  rmt_fresh_store();
  file = temp_file("held");
  snprintf(log, sizeof log, "%s/order.log", rmt_tempdir());
  snprintf(args, sizeof args, "--hold '%s' --log '%s' svc", file, log);
  svc_create(&s, svc_name(), args);
  /* Ready once it has logged its start (runit's ./check convention), so
   * the order of the log lines is the order of the starts. */
  {
    char check[700], script[1024];
    snprintf(check, sizeof check, "%s/check", s.dir);
    snprintf(script, sizeof script,
             "#!/bin/sh\nexec grep -q 'start svc' '%s'\n", log);
    ASSERT_EQ(0, rmt_write_file(check, script));
    ASSERT_EQ(0, chmod(check, 0755));
  }
  pid = svc_start(&s);
  APP(&app, &a, "--hold", file, "--log", log, "app");
  h = session_with_file(file, 5000, 5000);
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  {
    const rm_process_info *e = entry_of(&l, pid);
    ASSERT(e != NULL);
    ASSERT_EQ(RM_APP_SERVICE, e->app_type);
    ASSERT(strcmp(s.name, e->service_short_name) == 0);
  }
  ASSERT_EQ(RM_APP_UNKNOWN, entry_of(&l, app.pid)->app_type);
  ASSERT_EQ(0, rmt_write_file(log, ""));
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&app, 5000));
  stat_is(&s, "down");
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT(svc_wait_up(&s, 5000) != 0);
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  for (i = 0; i < l.n; i++) {
    ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
              l.v[i].app_status);
    if (l.v[i].app_type != RM_APP_SERVICE) foreign_track(&l.v[i].process);
  }
  rmt_sleep_ms(300);
  {
    FILE *f = fopen(log, "r");
    size_t n;
    ASSERT(f != NULL);
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
  }
  ASSERT_STR_EQ("term app\nterm svc\nstart svc\nstart app\n", text);
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
  rmt_sleep_ms(1100);
  svc_teardown(&s);
}

/* A service that ignores SIGTERM: left up without force (its stop is
 * withdrawn: the status is plain "run" again), killed by runsv with it. */
static void stubborn_service_with_and_without_force(void) {
  svc s;
  listing l;
  const char *names[1];
  uint32_t h, pid;
  uint64_t t0;
  require_runit();
  rmt_fresh_store();
  svc_create(&s, svc_name(), "--ignore-term");
  pid = svc_start(&s);
  h = session_with_file(NULL, 1500, 1500);
  names[0] = s.name;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, names));
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN, rm_shutdown(h, 0, NULL, NULL));
  ASSERT(rm__os_now_ms() - t0 < 10000);
  ASSERT_EQ(pid, svc_pid(&s));
  runs_and_wants_up(&s);
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_ERROR_ON_STOP, l.v[0].app_status);
  /* Nothing was stopped, so restart has nothing to do. */
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_EQ(pid, svc_pid(&s));
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  stat_is(&s, "down");
  ASSERT_EQ(0, svc_pid(&s));
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[0].app_status);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT(svc_wait_up(&s, 5000) != 0);
  ASSERT(svc_pid(&s) != pid);
  ASSERT_OK(rm_end_session(h));
  rmt_sleep_ms(1100);
  svc_teardown(&s);
}

/* A runit service in a mount namespace of its own (sandboxing, like
 * systemd's ProtectSystem=): still runsv's service, stopped and started
 * through sv, not a container. */
static void sandboxed_runit_service_is_a_service(void) {
  svc s;
  const char *file;
  char run[700], script[2048];
  uint32_t h, pid, pid2;
  require_runit();
  if (geteuid() != 0) {
    printf("skip: this case needs root (unshare --mount); running as uid %u\n",
           (unsigned)geteuid());
    return;
  }
  rmt_fresh_store();
  file = temp_file("held");
  svc_create(&s, svc_name(), "");
  snprintf(run, sizeof run, "%s/run", s.dir);
  snprintf(script, sizeof script,
           "#!/bin/sh\nexec 2>&1\nexec /usr/bin/unshare --mount "
           "--propagation private %s --pdeathsig --hold '%s'\n",
           rmt_helper("rm_app"), file);
  ASSERT_EQ(0, rmt_write_file(run, script));
  pid = svc_start(&s);
  ASSERT_EQ(1, own_mount_ns(pid));              /* the premise */
  h = session_with_file(file, 5000, 5000);
  {
    listing l;
    list_now(h, &l);
    ASSERT_EQ(1, l.n);
    ASSERT_EQ(0, l.reasons);
    ASSERT_EQ(pid, l.v[0].process.pid);
    ASSERT_EQ(RM_APP_SERVICE, l.v[0].app_type);
    ASSERT_STR_EQ(s.name, l.v[0].service_short_name);
    ASSERT_EQ(1, l.v[0].restartable);
  }
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  stat_is(&s, "down");
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  pid2 = svc_wait_up(&s, 5000);
  ASSERT(pid2 != 0 && pid2 != pid);
  ASSERT_OK(rm_end_session(h));
  rmt_sleep_ms(1100);
  svc_teardown(&s);
}

/* }=====
 * {===== Filters, critical services, cancel */

static void service_filters_mask_stop_and_restart(void) {
  svc s1, s2;
  listing l;
  const char *names[2];
  char upper[64];
  uint32_t h, pid1, pid2;
  size_t i;
  require_runit();
  rmt_fresh_store();
  svc_create(&s1, svc_name(), "");
  pid1 = svc_start(&s1);
  svc_create(&s2, svc_name(), "");
  pid2 = svc_start(&s2);
  h = session_with_file(NULL, 5000, 5000);
  names[0] = s1.name;
  names[1] = s2.name;
  setenv("SVDIR", s1.base, 1);
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 2, names));
  /* Service filters compare names without ASCII case. */
  snprintf(upper, sizeof upper, "%s", s1.name);
  for (i = 0; upper[i]; i++)
    if (upper[i] >= 'a' && upper[i] <= 'z') upper[i] = (char)(upper[i] - 32);
  ASSERT_OK(rm_add_filter(h, NULL, NULL, upper, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_add_filter(h, NULL, NULL, s2.name, RM_NO_RESTART));
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(pid1, svc_pid(&s1));
  stat_is(&s1, "run");
  stat_is(&s2, "down");
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  rmt_sleep_ms(1500);
  stat_is(&s2, "down");
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_SHUTDOWN_MASKED,
            entry_of(&l, pid1)->app_status);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTART_MASKED,
            entry_of(&l, pid2)->app_status);
  ASSERT_OK(rm_end_session(h));
  svc_teardown(&s1);
  svc_teardown(&s2);
}

static void critical_service_is_never_stopped(void) {
  svc s;
  listing l;
  const char *names[1];
  uint32_t h, pid;
  require_runit();
  rmt_fresh_store();
  svc_create(&s, svc_name(), "");
  pid = svc_start(&s);
  rmt_setenv("RESTARTMGR_CRITICAL_SERVICES", "something-else rmt-svc-*");
  ASSERT_EQ(1, rm__linux_service_critical(s.name));
  h = session_with_file(NULL, 2000, 2000);
  names[0] = s.name;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, names));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_APP_CRITICAL, l.v[0].app_type);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_SERVICE, l.reasons);
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT,
            rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  /* Not even the backend stops it when asked directly. */
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN, rm__os_service_stop(s.name, 1000, 1, NULL));
  ASSERT_EQ(pid, svc_pid(&s));
  stat_is(&s, "run");
  rmt_setenv("RESTARTMGR_CRITICAL_SERVICES", NULL);
  ASSERT_OK(rm_end_session(h));
  svc_teardown(&s);
}

/* A cancel while a service is being stopped: prompt, and the stop is
 * withdrawn so the service stays up as it was. */
static void cancel_while_stopping_a_service(void) {
  svc s;
  listing l;
  const char *names[1];
  delayed_cancel c;
  pthread_t t;
  uint32_t h, pid;
  uint64_t t0;
  require_runit();
  rmt_fresh_store();
  svc_create(&s, svc_name(), "--ignore-term");
  pid = svc_start(&s);
  h = session_with_file(NULL, 20000, 20000);
  names[0] = s.name;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, names));
  c.h = h;
  c.rc = 99;
  ASSERT_EQ(0, pthread_create(&t, NULL, cancel_soon, &c));
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_CANCELLED, rm_shutdown(h, 0, NULL, NULL));
  ASSERT(rm__os_now_ms() - t0 < 8000);
  ASSERT_EQ(0, pthread_join(t, NULL));
  ASSERT_OK(c.rc);
  ASSERT_EQ(pid, svc_pid(&s));
  runs_and_wants_up(&s);
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING, l.v[0].app_status);
  ASSERT_OK(rm_end_session(h));
  svc_teardown(&s);
}

/* }===== */

/* {===== An unprivileged caller */

#define LISTER_UID 65533

/* Child side: as uid, registers file, lists, prints one line per entry
 * "pid type restartable n_files service" ("-" for none), then
 * "reasons R". */
static int child_list_as(const char *uid_text, const char *file) {
  uid_t uid = (uid_t)strtoul(uid_text, NULL, 10);
  const char *files[1];
  char key[RM_SESSION_KEY_CHARS + 1];
  rm_app_info *apps;
  unsigned n, i;
  uint32_t h, reasons;
  if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
      setresuid(uid, uid, uid) != 0)
    return 4;
  files[0] = file;
  if (rm_start_session(&h, 0, key) != RM_OK) return 5;
  if (rm_register_resources(h, 1, files, 0, NULL, 0, NULL) != RM_OK) return 6;
  if (rm_get_list_alloc(h, &apps, &n, &reasons) != RM_OK) return 7;
  for (i = 0; i < n; i++)
    printf("%u %d %d %u %s\n", (unsigned)apps[i].info.process.pid,
           (int)apps[i].info.app_type, apps[i].info.restartable,
           apps[i].n_files,
           apps[i].info.service_short_name[0]
               ? apps[i].info.service_short_name : "-");
  printf("reasons %u\n", (unsigned)reasons);
  rm_free_list(apps, n);
  rm_end_session(h);
  return 0;
}

/* Run as an unprivileged user, the scan cannot read a root service's
 * fds: it might hold the file, and that user can neither signal it nor
 * stop it through runit (supervise/ is root's), so it is CRITICAL with
 * PERMISSION_DENIED, not a restartable SERVICE without files.  Nor can
 * it check that runsv is the system's (runsv's executable is root's to
 * read), so it shows no service name (docs/security.md, "Services"). */
static void root_service_seen_by_an_unprivileged_caller(void) {
  svc s;
  const char *dir, *file;
  char args[1024], store[600], uid[16], line[600], held[600];
  rmt_child lister;
  uint32_t pid;
  unsigned reasons = 0;
  int found = 0;
  require_runit();
  if (geteuid() != 0) {
    printf("skip: needs root (a root service, a lister as uid %u)\n",
           (unsigned)LISTER_UID);
    return;
  }
  dir = rmt_tempdir();                      /* the lister reaches it */
  ASSERT_EQ(0, chmod(dir, 0755));
  snprintf(held, sizeof held, "%s/held", dir);
  file = held;
  ASSERT_EQ(0, rmt_write_file(file, "data\n"));
  ASSERT_EQ(0, chmod(file, 0644));
  snprintf(args, sizeof args, "--hold '%s' svc", file);
  svc_create(&s, svc_name(), args);
  pid = svc_start(&s);
  snprintf(store, sizeof store, "%s/store", dir);
  ASSERT_EQ(0, mkdir(store, 0700));
  ASSERT_EQ(0, chown(store, LISTER_UID, LISTER_UID));
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  snprintf(uid, sizeof uid, "%u", (unsigned)LISTER_UID);
  ASSERT_EQ(0, rmt_spawn_self(&lister, "list-as", uid, file));
  for (;;) {
    unsigned p, n_files;
    int type, restartable;
    char service[128];
    ASSERT_EQ(0, rmt_read_line(&lister, line, sizeof line, 20000));
    if (sscanf(line, "reasons %u", &reasons) == 1) break;
    ASSERT_EQ(5, sscanf(line, "%u %d %d %u %127s", &p, &type, &restartable,
                        &n_files, service));
    if (p != pid) continue;
    found = 1;
    ASSERT_EQ(RM_APP_CRITICAL, type);
    ASSERT_EQ(0, restartable);
    ASSERT_EQ(0, n_files);                  /* unknown, not "none" */
    ASSERT_STR_EQ("-", service);
  }
  ASSERT_EQ(1, found);
  ASSERT(reasons & RM_REBOOT_REASON_PERMISSION_DENIED);
  ASSERT_EQ(0, rmt_wait(&lister, 20000));
  svc_teardown(&s);
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args && rmt_child_args[0] && rmt_child_args[1] &&
      rmt_child_args[2] && strcmp(rmt_child_args[0], "list-as") == 0)
    return child_list_as(rmt_child_args[1], rmt_child_args[2]);
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  rmt_setenv("RESTARTMGR_CRITICAL_SERVICES", NULL);
  atexit(foreign_kill_all);
  RUN(systemd_unit_from_cgroup);
  RUN(runit_maps_pids_and_names);
  RUN(service_by_name_stops_and_starts_with_a_new_pid);
  RUN(service_through_a_file_after_apps_and_before_them);
  RUN(stubborn_service_with_and_without_force);
  RUN(sandboxed_runit_service_is_a_service);
  RUN(service_filters_mask_stop_and_restart);
  RUN(critical_service_is_never_stopped);
  RUN(cancel_while_stopping_a_service);
  RUN(root_service_seen_by_an_unprivileged_caller);
  return rmt_finish();
}
