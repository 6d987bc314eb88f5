/* SPDX-License-Identifier: MIT */
/*
 * sd_in_place.c: what "stopped" means for a unit, and restart in place
 * (docs/linux.md, "What "stopped" means for a unit", "Restart in place").
 */
#define _GNU_SOURCE
#include "sd_test.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_PATH "/run/rmt-sock.sock"

/* Waits until the unit is active/running with a main pid other than
 * old; that pid, or 0 after timeout_ms. */
static uint32_t back_within(const char *unit, uint32_t old,
                            unsigned timeout_ms) {
  unsigned waited;
  for (waited = 0; waited < timeout_ms; waited += 50) {
    uint32_t pid = main_pid(unit);
    if (strcmp(state(unit), "active/running") == 0 && pid && pid != old)
      return pid;
    rmt_sleep_ms(50);
  }
  return 0;
}

/* Socket activation starts a unit again right after its stop, as
 * syslog.socket does rsyslog: a connection nobody accepted is waiting on
 * the socket, so systemd starts the service as soon as it is down.  The
 * unit is never seen inactive; it is stopped because its old process
 * exited: the shutdown returns at once with RM_OK (before, it waited out
 * the service timeout and reported ERROR_ON_STOP). */
void socket_activated_unit_stops_by_its_process(void) {
  char path[300];
  struct sockaddr_un a;
  uint32_t h, pid, again;
  uint64_t t0;
  int client;
  fresh_store();
  snprintf(path, sizeof path, UNIT_DIR "/rmt-sock.socket");
  ASSERT_EQ(0, rmt_write_file(path, "[Socket]\nListenStream=" SOCKET_PATH
                                    "\n"));
  write_unit("rmt-sock", "[Service]\nType=notify\nExecStart=%s\n", unitd);
  ASSERT_EQ(0, ctl("start", "rmt-sock.socket", NULL));
  pid = start_unit("rmt-sock", 1);
  client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT(client >= 0);
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, SOCKET_PATH, sizeof SOCKET_PATH);
  ASSERT_EQ(0, connect(client, (struct sockaddr *)&a, sizeof a));

  h = session_by_name("rmt-sock", 10000);
  t0 = rm__os_now_ms();
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT(rm__os_now_ms() - t0 < 5000);
  ASSERT(gone_within(pid, 100));
  again = back_within("rmt-sock", pid, 5000);   /* its socket started it */
  ASSERT(again != 0);
  /* rm_restart finds it running: nothing to start, no error. */
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_EQ(again, main_pid("rmt-sock"));
  ASSERT_OK(rm_end_session(h));
  close(client);
  ASSERT_EQ(0, ctl("stop", "rmt-sock.socket", NULL));
  remove_unit("rmt-sock");
  unlink(path);
  ASSERT_EQ(0, ctl("daemon-reload", NULL, NULL));
}

/* The entry of service name in h's list (exactly two entries). */
static rm_process_info service_entry(uint32_t h, const char *name) {
  rm_process_info v[4], none;
  unsigned needed = 0, n = 4, i;
  uint32_t reasons = 0;
  ASSERT_OK(rm_get_list(h, &needed, &n, v, &reasons));
  ASSERT_EQ(2u, n);
  ASSERT_EQ(RM_REBOOT_REASON_NONE, reasons);
  for (i = 0; i < n; i++)
    if (strcmp(v[i].service_short_name, name) == 0) return v[i];
  ASSERT(0);
  memset(&none, 0, sizeof none);
  return none;
}

/* RM_SHUTDOWN_SERVICES_IN_PLACE: both units restarted by one systemctl
 * call, B after A (After=A, and A takes 300 ms to start), each with a
 * new main process, the old ones gone; the entries are STOPPED |
 * RESTARTED with the new identities, and rm_restart has nothing to do. */
void restart_in_place_in_dependency_order(void) {
  const char *file = held_file("inplace");
  const char *names[2] = { "rmt-place-a", "rmt-place-b" };
  rm_process_info ea, eb;
  uint32_t h, a, b, a2, b2;
  fresh_store();
  write_unit("rmt-place-a", "[Service]\nType=notify\n"
             "ExecStartPre=/bin/sleep 0.3\nExecStart=%s --hold %s\n",
             unitd, file);
  write_unit("rmt-place-b", "[Unit]\nAfter=rmt-place-a.service\n"
             "[Service]\nType=notify\nExecStart=%s --hold %s\n", unitd, file);
  a = start_unit("rmt-place-a", 1);
  b = start_unit("rmt-place-b", 1);
  h = session_by_name(names[0], 20000);
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, &names[1]));

  ASSERT_OK(rm_shutdown(h, RM_SHUTDOWN_SERVICES_IN_PLACE, NULL, NULL));
  ASSERT(gone_within(a, 100));
  ASSERT(gone_within(b, 100));
  ASSERT_STR_EQ("active/running", state("rmt-place-a"));
  ASSERT_STR_EQ("active/running", state("rmt-place-b"));
  a2 = main_pid("rmt-place-a");
  b2 = main_pid("rmt-place-b");
  ASSERT(a2 && a2 != a && b2 && b2 != b);
  ea = service_entry(h, "rmt-place-a");
  eb = service_entry(h, "rmt-place-b");
  ASSERT_EQ(a2, ea.process.pid);
  ASSERT_EQ(b2, eb.process.pid);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            ea.app_status);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            eb.app_status);
  /* B started after A was up (its process is younger). */
  ASSERT(eb.process.start_time >= ea.process.start_time);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_EQ(a2, main_pid("rmt-place-a"));
  ASSERT_EQ(b2, main_pid("rmt-place-b"));
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-place-b");
  remove_unit("rmt-place-a");
}

/* A daemon that exits 1 on SIGTERM: its restart job passes through
 * "failed" before it starts the unit again.  Restarted in place, it is
 * back (RM_OK), not a failed restart. */
void restart_in_place_of_a_unit_failing_its_stop(void) {
  uint32_t h, pid, pid2;
  rm_process_info v[2];
  unsigned needed = 0, n = 2;
  uint32_t reasons = 0;
  fresh_store();
  write_unit("rmt-place-fail", "[Service]\nType=simple\n"
             "ExecStart=/bin/sh -c 'trap \"exit 1\" TERM; "
             "while :; do sleep 0.1; done'\n");
  pid = start_unit("rmt-place-fail", 1);
  h = session_by_name("rmt-place-fail", 10000);
  ASSERT_OK(rm_shutdown(h, RM_SHUTDOWN_SERVICES_IN_PLACE, NULL, NULL));
  ASSERT(gone_within(pid, 100));
  ASSERT_STR_EQ("active/running", state("rmt-place-fail"));
  pid2 = main_pid("rmt-place-fail");
  ASSERT(pid2 && pid2 != pid);
  ASSERT_OK(rm_get_list(h, &needed, &n, v, &reasons));
  ASSERT_EQ(1u, n);
  ASSERT_EQ(pid2, v[0].process.pid);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            v[0].app_status);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_OK(rm_end_session(h));
  remove_unit("rmt-place-fail");
}
