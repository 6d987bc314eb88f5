/* SPDX-License-Identifier: MIT */
/*
 * test_systemd.c: services through a real systemd.  Runs inside the
 * container run-in-systemd.sh boots (systemd 252 as PID 1, this program
 * in a scope unit of its own), once per cgroup layout.  Each case writes
 * its units to /etc/systemd/system (a directory of the container), runs
 * them with rm_unitd (copied to /run so sandboxed units reach it),
 * checks every outcome in the unit's own properties (ActiveState,
 * SubState, MainPID from `systemctl show`) and in the process table, and
 * stops and removes its units at the end; whatever a failed case leaves
 * goes with the container.  This file: main, the unit rule, stop and
 * start; the helpers and the other cases: sd_test.h.
 */
#define _GNU_SOURCE
#include "sd_test.h"

#include <pthread.h>
#include <sys/stat.h>

/* {===== Unit of a process */

/* The rule on each layout's /proc/PID/cgroup text. */
static void unit_from_each_cgroup_layout(void) {
  char name[RM_MAX_SVC_NAME + 1];
  /* Pure cgroup2 (Debian 12, Ubuntu). */
  ASSERT_EQ(1, rm__linux_unit_of_cgroup_text(
                   "0::/system.slice/nginx.service\n", name, sizeof name));
  ASSERT_STR_EQ("nginx", name);
  /* Hybrid: both lines name it. */
  ASSERT_EQ(1, rm__linux_unit_of_cgroup_text(
                   "9:name=systemd:/system.slice/cron.service\n8:pids:/\n"
                   "0::/system.slice/cron.service\n", name, sizeof name));
  ASSERT_STR_EQ("cron", name);
  /* Legacy: the 0:: line is a bare root. */
  ASSERT_EQ(1, rm__linux_unit_of_cgroup_text(
                   "12:cpu,cpuacct:/system.slice\n"
                   "1:name=systemd:/system.slice/ssh.service\n0::/\n",
                   name, sizeof name));
  ASSERT_STR_EQ("ssh", name);
  /* Pure cgroup2 inside a hybrid host: the kernel's stale name=systemd
   * line comes first and names nothing. */
  ASSERT_EQ(1, rm__linux_unit_of_cgroup_text(
                   "9:name=systemd:/\n4:memory:/x\n"
                   "0::/system.slice/u.service\n", name, sizeof name));
  ASSERT_STR_EQ("u", name);
  ASSERT_EQ(1, rm__linux_unit_of_cgroup_text(
                   "9:name=systemd:/../..\n0::/system.slice/u.service\n",
                   name, sizeof name));
  ASSERT_STR_EQ("u", name);
  /* Scopes, the user manager, a container seen from the host. */
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text(
                   "0::/user.slice/user-0.slice/session-1.scope\n", name,
                   sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text(
                   "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                   "a.service\n", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text(
                   "1:name=systemd:/rmt-hybrid-1/payload/system.slice/"
                   "u.service\n0::/rmt-hybrid-1/payload/system.slice/u.service\n",
                   name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text("0::/\n", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text("", name, sizeof name));
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text("garbage\n::\n", name,
                                             sizeof name));
  /* Seen from the user manager of uid 1000: its own units only. */
  ASSERT_EQ(1, rm__linux_user_unit_of_cgroup_text(
                   "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                   "a.service\n", 1000, name, sizeof name));
  ASSERT_STR_EQ("a", name);
  ASSERT_EQ(1, rm__linux_user_unit_of_cgroup_text(
                   "1:name=systemd:/user.slice/user-1000.slice/"
                   "user@1000.service/b.service\n0::/\n", 1000, name,
                   sizeof name));
  ASSERT_STR_EQ("b", name);
  ASSERT_EQ(0, rm__linux_user_unit_of_cgroup_text(
                   "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                   "a.service\n", 1001, name, sizeof name));
  ASSERT_EQ(0, rm__linux_user_unit_of_cgroup_text(
                   "0::/user.slice/user-1000.slice/user@1000.service/"
                   "init.scope\n", 1000, name, sizeof name));
  ASSERT_EQ(0, rm__linux_user_unit_of_cgroup_text(
                   "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                   "app-x-1.scope\n", 1000, name, sizeof name));
  ASSERT_EQ(0, rm__linux_user_unit_of_cgroup_text(
                   "0::/system.slice/cron.service\n", 1000, name,
                   sizeof name));
  /* A v1 line whose controller list only contains "name=systemd". */
  ASSERT_EQ(0, rm__linux_unit_of_cgroup_text(
                   "3:xname=systemd:/system.slice/u.service\n", name,
                   sizeof name));
}

/* Registered and filtered names against listed ones. */
static void service_names_compare(void) {
  ASSERT_EQ(1, rm__service_name_eq("nginx.service", "nginx"));
  ASSERT_EQ(1, rm__service_name_eq("NGINX", "nginx.service"));
  ASSERT_EQ(1, rm__service_name_eq("a.Service", "A.service"));
  ASSERT_EQ(1, rm__service_name_eq("getty@tty1", "getty@tty1"));
  ASSERT_EQ(0, rm__service_name_eq("nginx", "nginx2"));
  ASSERT_EQ(0, rm__service_name_eq("x.socket", "x"));
  ASSERT_EQ(0, rm__service_name_eq(".service", ""));
  ASSERT_EQ(0, rm__service_name_eq("x.service.service", "x"));
}

/* On this machine's real processes: this test sits in a scope, a unit's
 * process is its unit's (whichever line the layout makes right). */
static void unit_of_real_processes(void) {
  char name[RM_MAX_SVC_NAME + 1];
  uint32_t pid, got = 0;
  ASSERT_EQ(0, rm__linux_service_of((uint32_t)rmt_self_pid(), name,
                                    sizeof name));
  write_unit("rmt-plain", "[Service]\nType=notify\nExecStart=%s\n", unitd);
  pid = start_unit("rmt-plain", 1);
  ASSERT_EQ(1, rm__linux_service_of(pid, name, sizeof name));
  ASSERT_STR_EQ("rmt-plain", name);
  ASSERT_EQ(1, rm__linux_service_pid("rmt-plain", &got));
  ASSERT_EQ(pid, got);
  ASSERT_EQ(1, rm__linux_service_pid("rmt-plain.service", &got));
  ASSERT_EQ(pid, got);
  ASSERT_EQ(0, rm__linux_service_pid("rmt-no-such-unit", &got));
  /* A glob is not a unit name: systemctl would match it against every
   * unit, so it names nothing and stops nothing. */
  ASSERT_EQ(0, rm__linux_service_pid("rmt-pl*", &got));
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN,
            rm__os_service_stop("rmt-pl*", 1000, 1, NULL));
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN,
            rm__os_service_stop("rmt-pl?in", 1000, 1, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-plain"));
  ASSERT_EQ(pid, main_pid("rmt-plain"));
  /* PID 1 is in init.scope: no service. */
  ASSERT_EQ(0, rm__linux_service_of(1, name, sizeof name));
  remove_unit("rmt-plain");
}

/* }=====
 * {===== Stop and start */

static void simple_unit_holding_a_file(void) {
  const char *file = held_file("simple");
  uint32_t h, pid;
  fresh_store();
  write_unit("rmt-simple", "[Service]\nType=notify\nExecStart=%s --hold %s\n",
             unitd, file);
  pid = start_unit("rmt-simple", 1);
  h = session_with_file(file, 5000, 10000);
  one_service_entry(h, "rmt-simple", pid, RM_STATUS_RUNNING);
  shutdown_and_restart(h, "rmt-simple", pid);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-simple");
}

/* Stopped through systemd, not killed: Restart=always does not bring it
 * back until rm_restart starts it. */
static void restart_always_stays_stopped(void) {
  const char *file = held_file("always");
  uint32_t h, pid;
  fresh_store();
  write_unit("rmt-always",
             "[Service]\nType=notify\nRestart=always\nRestartSec=100ms\n"
             "ExecStart=%s --hold %s\n", unitd, file);
  pid = start_unit("rmt-always", 1);
  h = session_with_file(file, 5000, 10000);
  one_service_entry(h, "rmt-always", pid, RM_STATUS_RUNNING);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  rmt_sleep_ms(1000);                  /* ten RestartSec= later */
  ASSERT_STR_EQ("inactive/dead", state("rmt-always"));
  ASSERT_EQ(0, main_pid("rmt-always"));
  ASSERT_EQ(0, rm__linux_pid_alive(pid));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-always"));
  ASSERT(main_pid("rmt-always") != pid);
  one_service_entry(h, "rmt-always", main_pid("rmt-always"),
                    RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                        RM_STATUS_RUNNING);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-always");
}

/* A traditional double-forking daemon with a PID file. */
static void forking_daemon_with_pid_file(void) {
  const char *file = held_file("forking");
  uint32_t h, pid;
  fresh_store();
  write_unit("rmt-forking",
             "[Service]\nType=forking\nPIDFile=/run/rmt-forking.pid\n"
             "ExecStart=%s --daemon /run/rmt-forking.pid --hold %s\n",
             unitd, file);
  pid = start_unit("rmt-forking", 1);
  {
    uint32_t pids[8];
    ASSERT_EQ(1, unit_pids("rmt-forking", pids, 8));   /* only the daemon */
    ASSERT_EQ(pid, pids[0]);
  }
  h = session_with_file(file, 5000, 10000);
  one_service_entry(h, "rmt-forking", pid, RM_STATUS_RUNNING);
  shutdown_and_restart(h, "rmt-forking", pid);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-forking");
}

/* Type=forking without a PID file and GuessMainPID=no: no MainPID, the
 * first process of the unit's cgroup stands for it (cgroup.procs read
 * where this layout keeps it). */
static void forking_without_main_pid(void) {
  uint32_t h, pid, pids[8], pid2;
  listing l;
  fresh_store();
  write_unit("rmt-nomain",
             "[Service]\nType=forking\nGuessMainPID=no\n"
             "ExecStart=%s --daemon -\n", unitd);
  ASSERT_EQ(0, start_unit("rmt-nomain", 0));
  ASSERT_EQ(1, unit_pids("rmt-nomain", pids, 8));
  pid = pids[0];
  ASSERT(rm__linux_pid_alive(pid));
  h = session_by_name("rmt-nomain", 10000);
  one_service_entry(h, "rmt-nomain", pid, RM_STATUS_RUNNING);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("inactive/dead", state("rmt-nomain"));
  ASSERT(gone_within(pid, 2000));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-nomain"));
  ASSERT_EQ(1, unit_pids("rmt-nomain", pids, 8));
  pid2 = pids[0];
  ASSERT(pid2 != pid);
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(pid2, l.v[0].process.pid);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            l.v[0].app_status);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-nomain");
}

/* A master and three workers all holding the file: one entry (the main
 * process), stopped and started once. */
static void unit_with_workers(void) {
  const char *file = held_file("workers");
  uint32_t h, pid, pids[8];
  size_t n, i;
  fresh_store();
  write_unit("rmt-workers",
             "[Service]\nType=notify\nExecStart=%s --hold %s --workers 3\n",
             unitd, file);
  pid = start_unit("rmt-workers", 1);
  n = unit_pids("rmt-workers", pids, 8);
  ASSERT_EQ(4, n);
  h = session_with_file(file, 5000, 10000);
  one_service_entry(h, "rmt-workers", pid, RM_STATUS_RUNNING);
  {
    /* The entry holds the file once. */
    rm_app_info *apps = NULL;
    unsigned count = 0;
    uint32_t reasons;
    ASSERT_OK(rm_get_list_alloc(h, &apps, &count, &reasons));
    ASSERT_EQ(1, count);
    ASSERT_EQ(pid, apps[0].info.process.pid);
    ASSERT_EQ(1, apps[0].n_files);
    ASSERT_STR_EQ(file, apps[0].files[0].file);
    ASSERT_EQ(RM_USE_OPEN_FILE, apps[0].files[0].how);
    rm_free_list(apps, count);
  }
  shutdown_and_restart(h, "rmt-workers", pid);
  for (i = 0; i < n; i++) ASSERT(gone_within(pids[i], 2000));
  ASSERT_EQ(4, unit_pids("rmt-workers", pids, 8));
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-workers");
}

/* KillMode=process: systemd's stop ends only the main process and leaves
 * the workers in the unit's cgroup, holding the file.  They are the
 * service's too: ended by systemd's kill, so the file is free. */
static void kill_mode_process_leftovers(void) {
  const char *file = held_file("leftovers");
  uint32_t h, pid, pids[8];
  size_t n, i;
  fresh_store();
  write_unit("rmt-leftovers",
             "[Service]\nType=notify\nKillMode=process\n"
             "ExecStart=%s --hold %s --workers 2\n", unitd, file);
  pid = start_unit("rmt-leftovers", 1);
  n = unit_pids("rmt-leftovers", pids, 8);
  ASSERT_EQ(3, n);
  h = session_with_file(file, 5000, 10000);
  one_service_entry(h, "rmt-leftovers", pid, RM_STATUS_RUNNING);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("inactive/dead", state("rmt-leftovers"));
  for (i = 0; i < n; i++) ASSERT(gone_within(pids[i], 2000));
  ASSERT_EQ(0, unit_pids("rmt-leftovers", pids, 8));
  one_service_entry(h, "rmt-leftovers", pid, RM_STATUS_STOPPED);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-leftovers"));
  ASSERT_EQ(3, unit_pids("rmt-leftovers", pids, 8));
  one_service_entry(h, "rmt-leftovers", main_pid("rmt-leftovers"),
                    RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                        RM_STATUS_RUNNING);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-leftovers");
}

/* A unit that ignores SIGTERM, with a TimeoutStopSec= far beyond the
 * test: without force the stop times out (ERROR_ON_STOP, the process
 * untouched while systemd's own stop is pending, a start queued behind
 * it); with force systemd's kill ends it and it restarts. */
static void stubborn_unit_without_and_with_force(void) {
  const char *file = held_file("stubborn");
  uint32_t h, pid, pid2;
  uint64_t t0;
  listing l;
  fresh_store();
  write_unit("rmt-stubborn",
             "[Service]\nType=notify\nTimeoutStopSec=300\n"
             "ExecStart=%s --ignore-term --hold %s\n", unitd, file);
  pid = start_unit("rmt-stubborn", 1);
  h = session_with_file(file, 1500, 1500);
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN, rm_shutdown(h, 0, NULL, NULL));
  ASSERT(rm__os_now_ms() - t0 < 10000);
  ASSERT(rm__linux_pid_alive(pid));
  ASSERT_EQ(pid, main_pid("rmt-stubborn"));
  ASSERT_STR_EQ("deactivating/stop-sigterm", state("rmt-stubborn"));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_APP_SERVICE, l.v[0].app_type);
  ASSERT_EQ(RM_STATUS_RUNNING | RM_STATUS_ERROR_ON_STOP, l.v[0].app_status);
  /* Nothing was stopped, so restart has nothing to do. */
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_EQ(pid, main_pid("rmt-stubborn"));

  t0 = rm__os_now_ms();
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT(rm__os_now_ms() - t0 < 10000);
  ASSERT(gone_within(pid, 2000));
  ASSERT_EQ(0, main_pid("rmt-stubborn"));
  ASSERT(strncmp(state("rmt-stubborn"), "active", 6) != 0);
  list_now(h, &l);
  ASSERT_EQ(RM_STATUS_STOPPED, l.v[0].app_status);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-stubborn"));
  pid2 = main_pid("rmt-stubborn");
  ASSERT(pid2 != 0 && pid2 != pid);
  one_service_entry(h, "rmt-stubborn", pid2,
                    RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                        RM_STATUS_RUNNING);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-stubborn");
}

/* A cancel while systemd stops a unit: seen within a poll, not at the
 * service timeout; the unit's process is still there and a start is
 * queued behind the stop systemd cannot withdraw. */
static void cancel_while_stopping_a_unit(void) {
  const char *file = held_file("cancel");
  delayed_cancel c;
  pthread_t t;
  uint32_t h, pid;
  uint64_t t0;
  listing l;
  fresh_store();
  write_unit("rmt-cancel",
             "[Service]\nType=notify\nTimeoutStopSec=300\n"
             "ExecStart=%s --ignore-term --hold %s\n", unitd, file);
  pid = start_unit("rmt-cancel", 1);
  h = session_with_file(file, 20000, 20000);
  c.h = h;
  c.rc = 99;
  ASSERT_EQ(0, pthread_create(&t, NULL, cancel_soon, &c));
  t0 = rm__os_now_ms();
  ASSERT_EQ(RM_ERROR_CANCELLED, rm_shutdown(h, 0, NULL, NULL));
  ASSERT(rm__os_now_ms() - t0 < 8000);
  ASSERT_EQ(0, pthread_join(t, NULL));
  ASSERT_OK(c.rc);
  ASSERT(rm__linux_pid_alive(pid));
  ASSERT_EQ(pid, main_pid("rmt-cancel"));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_STATUS_RUNNING, l.v[0].app_status);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-cancel");
}

/* Registered as "x" and as "x.service": the same one entry, listed as
 * "x" (what one types to systemctl); either spelling stops and starts it. */
static void registered_by_name_both_spellings(void) {
  const char *file = held_file("named");
  const char *both[2];
  uint32_t h, pid;
  fresh_store();
  write_unit("rmt-named", "[Service]\nType=notify\nExecStart=%s --hold %s\n",
             unitd, file);
  pid = start_unit("rmt-named", 1);
  h = session_by_name("rmt-named", 10000);
  one_service_entry(h, "rmt-named", pid, RM_STATUS_RUNNING);
  ASSERT_OK(rm_end_session(h));

  fresh_store();
  h = session_by_name("rmt-named.service", 10000);
  one_service_entry(h, "rmt-named", pid, RM_STATUS_RUNNING);
  ASSERT_OK(rm_end_session(h));

  /* Both spellings and the file it holds: still one entry. */
  fresh_store();
  h = session_with_file(file, 5000, 10000);
  both[0] = "rmt-named.service";
  both[1] = "rmt-named";
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 2, both));
  one_service_entry(h, "rmt-named", pid, RM_STATUS_RUNNING);
  shutdown_and_restart(h, "rmt-named", pid);
  ASSERT_OK(rm_end_session(h));

  /* Registered as "x.service": a second shutdown after the restart
   * stops it again, and a filter spelled either way masks it. */
  fresh_store();
  h = session_by_name("rmt-named.service", 10000);
  pid = main_pid("rmt-named");
  shutdown_and_restart(h, "rmt-named", pid);
  pid = main_pid("rmt-named");
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("inactive/dead", state("rmt-named"));
  ASSERT(gone_within(pid, 2000));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-named"));
  ASSERT_OK(rm_end_session(h));

  fresh_store();
  h = session_by_name("rmt-named", 10000);
  ASSERT_OK(rm_add_filter(h, NULL, NULL, "RMT-named.service", RM_NO_SHUTDOWN));
  pid = main_pid("rmt-named");
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-named"));
  ASSERT_EQ(pid, main_pid("rmt-named"));
  one_service_entry(h, "rmt-named", pid,
                    RM_STATUS_RUNNING | RM_STATUS_SHUTDOWN_MASKED);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-named");
}

/* systemd's sandboxing gives the unit its own mount namespace: still a
 * service of this manager, stopped and started through it. */
static void sandboxed_unit_is_a_service(void) {
  const char *file = held_file("sandboxed");
  uint32_t h, pid;
  fresh_store();
  write_unit("rmt-sandboxed",
             "[Service]\nType=notify\nProtectSystem=full\nPrivateTmp=yes\n"
             "ExecStart=%s --hold %s\n", unitd, file);
  pid = start_unit("rmt-sandboxed", 1);
  ASSERT_EQ(1, own_mount_ns(pid));              /* the premise */
  h = session_with_file(file, 5000, 10000);
  one_service_entry(h, "rmt-sandboxed", pid, RM_STATUS_RUNNING);
  shutdown_and_restart(h, "rmt-sandboxed", pid);
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-sandboxed");
}

/* A process under machine.slice (where libvirt's and machined's virtual
 * machines and containers sit) is a machine, not ours: SESSION_MISMATCH
 * even in our own pid and mount namespaces. */
static void machine_slice_is_a_container(void) {
  const char *file = held_file("machine");
  char *argv[10];
  rmt_child vm;
  listing l;
  unsigned waited = 0;
  uint32_t h;
  argv[0] = (char *)(uintptr_t)"/usr/bin/systemd-run";
  argv[1] = (char *)(uintptr_t)"--scope";
  argv[2] = (char *)(uintptr_t)"--quiet";
  argv[3] = (char *)(uintptr_t)"--slice=machine.slice";
  argv[4] = (char *)(uintptr_t)"--unit=rmt-machine";
  argv[5] = (char *)(uintptr_t)"--";
  argv[6] = unitd;
  argv[7] = (char *)(uintptr_t)"--hold";
  argv[8] = (char *)(uintptr_t)file;
  argv[9] = NULL;
  fresh_store();
  ASSERT_EQ(0, rmt_spawn(&vm, argv));     /* the scope execs it in place */
  h = session_with_file(file, 2000, 2000);
  for (;;) {
    list_now(h, &l);
    if (l.n == 1 || waited >= 10000) break;
    rmt_sleep_ms(50);
    waited += 50;
  }
  ASSERT_EQ(1, l.n);
  ASSERT_EQ((uint32_t)vm.pid, l.v[0].process.pid);
  ASSERT_STR_EQ("active/running", state("rmt-machine.scope"));
  ASSERT_EQ(RM_APP_CRITICAL, l.v[0].app_type);
  ASSERT_STR_EQ("", l.v[0].service_short_name);
  ASSERT_EQ(RM_REBOOT_REASON_SESSION_MISMATCH, l.reasons);
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT, rm_shutdown(h, 0, NULL, NULL));
  ASSERT(rm__linux_pid_alive((uint32_t)vm.pid));
  ASSERT_OK(rm_end_session(h));
  rmt_kill(&vm);
}

/* }===== */

/* This runs under a real systemd, as PID 1 of the container. */
static void require_systemd(void) {
  char comm[32] = "";
  FILE *f = fopen("/proc/1/comm", "r");
  ASSERT(f != NULL);
  ASSERT(fgets(comm, sizeof comm, f) != NULL);
  fclose(f);
  ASSERT_STR_EQ("systemd\n", comm);
  ASSERT_EQ(0, access("/run/systemd/system", F_OK));
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args && rmt_child_args[0] &&
      strcmp(rmt_child_args[0], "host-view") == 0)
    return host_view_main();
  if (rmt_child_args && rmt_child_args[0] &&
      strcmp(rmt_child_args[0], "user-units") == 0 && rmt_child_args[1] &&
      rmt_child_args[2]) {
    /* The parent's rm_unitd copy, in its base dir (see below). */
    snprintf(unitd, sizeof unitd, "/run/rmt-systemd-%ld/rm_unitd",
             (long)getppid());
    return user_child(rmt_child_args[1], rmt_child_args[2]);
  }
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  rmt_setenv("RESTARTMGR_CRITICAL_SERVICES", NULL);
  RUN(require_systemd);
  /* Not an rmt_tempdir (those go after each case): the units' files and
   * rm_unitd live here for the whole run, in the container's /run, which
   * goes with the container. */
  snprintf(base, sizeof base, "/run/rmt-systemd-%ld", rmt_self_pid());
  ASSERT_EQ(0, mkdir(base, 0755));
  snprintf(unitd, sizeof unitd, "%s/rm_unitd", base);
  rmt_copy_exe(rmt_helper("rm_unitd"), unitd);
  RUN(unit_from_each_cgroup_layout);
  RUN(service_names_compare);
  RUN(unit_of_real_processes);
  RUN(simple_unit_holding_a_file);
  RUN(restart_always_stays_stopped);
  RUN(forking_daemon_with_pid_file);
  RUN(forking_without_main_pid);
  RUN(unit_with_workers);
  RUN(kill_mode_process_leftovers);
  RUN(stubborn_unit_without_and_with_force);
  RUN(cancel_while_stopping_a_unit);
  RUN(socket_activated_unit_stops_by_its_process);
  RUN(restart_in_place_in_dependency_order);
  RUN(restart_in_place_of_a_unit_failing_its_stop);
  RUN(registered_by_name_both_spellings);
  RUN(sandboxed_unit_is_a_service);
  RUN(machine_slice_is_a_container);
  RUN(user_unit_of_a_non_root_caller);
  RUN(refuse_manual_stop_is_critical);
  RUN(known_critical_units);
  RUN(debian_nginx);
  RUN(users_runsv_named_like_a_unit);
  RUN(user_program_relaunched_into_its_scope);
  return rmt_finish();
}

