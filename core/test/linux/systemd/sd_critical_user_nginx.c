/* SPDX-License-Identifier: MIT */
/*
 * sd_critical_user_nginx.c: systemd cases of test_systemd (sd_test.h):
 * units never stopped, a unit of a user's own manager, and Debian's
 * nginx.service, a packaged daemon nobody here wrote.
 */
#define _GNU_SOURCE
#include "sd_test.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* {===== A user's own manager */

/* The child side: as rmt-user, with its user manager running, a unit of
 * that manager is this caller's service, stopped and started through
 * `systemctl --user`.  Exits 0 when every check passed. */
int user_child(const char *uid_text, const char *store) {
  struct passwd *pw = getpwuid((uid_t)strtoul(uid_text, NULL, 10));
  char runtime[64], dir[128], name[RM_MAX_SVC_NAME + 1];
  uint32_t h, pid, pid2, got = 0;
  ASSERT(pw != NULL);
  ASSERT_EQ(0, setgroups(0, NULL));
  ASSERT_EQ(0, setgid(pw->pw_gid));
  ASSERT_EQ(0, setuid(pw->pw_uid));
  ASSERT(geteuid() != 0);
  snprintf(runtime, sizeof runtime, "/run/user/%u", (unsigned)pw->pw_uid);
  rmt_setenv("XDG_RUNTIME_DIR", runtime);
  rmt_setenv("HOME", runtime);
  rmt_setenv("DBUS_SESSION_BUS_ADDRESS", NULL);
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  as_user = 1;
  snprintf(dir, sizeof dir, "%s/systemd/user", runtime);
  mkdir(dir, 0755);
  {
    char path[200], text[1024];
    snprintf(path, sizeof path, "%s/rmt-mine.service", dir);
    snprintf(text, sizeof text, "[Service]\nType=notify\nExecStart=%s\n",
             unitd);
    ASSERT_EQ(0, rmt_write_file(path, text));
  }
  ASSERT_EQ(0, ctl("daemon-reload", NULL, NULL));
  pid = start_unit("rmt-mine", 1);
  ASSERT_EQ(1, rm__linux_service_of(pid, name, sizeof name));
  ASSERT_STR_EQ("rmt-mine", name);
  ASSERT_EQ(1, rm__linux_service_pid("rmt-mine.service", &got));
  ASSERT_EQ(pid, got);
  ASSERT_EQ(0, rm__linux_service_critical("rmt-mine"));
  h = session_by_name("rmt-mine", 10000);
  one_service_entry(h, "rmt-mine", pid, RM_STATUS_RUNNING);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("inactive/dead", state("rmt-mine"));
  ASSERT(gone_within(pid, 2000));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-mine"));
  pid2 = main_pid("rmt-mine");
  ASSERT(pid2 != 0 && pid2 != pid);
  one_service_entry(h, "rmt-mine", pid2,
                    RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                        RM_STATUS_RUNNING);
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(0, ctl("stop", "rmt-mine", NULL));
  printf("user-child ok\n");
  return 0;
}

/* Starts rmt-user's manager (user@UID.service; the harness made the user
 * and its PAM service), runs the checks as that user in a child, stops
 * the manager.  As root the same process is nobody's system service. */
void user_unit_of_a_non_root_caller(void) {
  struct passwd *pw = getpwnam("rmt-user");
  char manager[64], dropin_dir[128], dropin[200], text[256], store[700];
  char uid_text[16], line[512], socket_path[128];
  rmt_child c;
  unsigned waited = 0;
  ASSERT(pw != NULL);
  snprintf(uid_text, sizeof uid_text, "%u", (unsigned)pw->pw_uid);
  snprintf(manager, sizeof manager, "user@%s.service", uid_text);
  /* pam_systemd would set XDG_RUNTIME_DIR; there is no logind here. */
  snprintf(dropin_dir, sizeof dropin_dir, UNIT_DIR "/%s.d", manager);
  ASSERT(mkdir(dropin_dir, 0755) == 0 || errno == EEXIST);
  snprintf(dropin, sizeof dropin, "%s/rmt.conf", dropin_dir);
  snprintf(text, sizeof text,
           "[Service]\nEnvironment=XDG_RUNTIME_DIR=/run/user/%s\n", uid_text);
  ASSERT_EQ(0, rmt_write_file(dropin, text));
  ASSERT_EQ(0, ctl("daemon-reload", NULL, NULL));
  ASSERT_EQ(0, ctl("start", manager, NULL));
  snprintf(socket_path, sizeof socket_path, "/run/user/%s/systemd/private",
           uid_text);
  while (access(socket_path, F_OK) != 0 && waited < 10000) {
    rmt_sleep_ms(20);
    waited += 20;
  }
  ASSERT_EQ(0, access(socket_path, F_OK));
  snprintf(store, sizeof store, "%s/store-user", base);
  ASSERT_EQ(0, mkdir(store, 0700));
  ASSERT_EQ(0, chown(store, pw->pw_uid, pw->pw_gid));
  ASSERT_EQ(0, rmt_spawn_self(&c, "user-units", uid_text, store));
  while (rmt_read_line(&c, line, sizeof line, 60000) == 0)
    printf("  child: %s\n", line);
  ASSERT_EQ(0, rmt_wait(&c, 30000));
  ASSERT_EQ(0, ctl("stop", manager, NULL));
  unlink(dropin);
  rmdir(dropin_dir);
  ASSERT_EQ(0, ctl("daemon-reload", NULL, NULL));
}

/* }=====
 * {===== Critical units */

/* RefuseManualStop=yes: critical, never stopped, not even with force or
 * by the backend asked directly. */
void refuse_manual_stop_is_critical(void) {
  const char *file = held_file("refuse");
  uint32_t h, pid;
  listing l;
  fresh_store();
  write_unit("rmt-refuse",
             "[Unit]\nRefuseManualStop=yes\n"
             "[Service]\nType=notify\nExecStart=%s --hold %s\n", unitd, file);
  pid = start_unit("rmt-refuse", 1);
  ASSERT_EQ(4, ctl("stop", "rmt-refuse", NULL));  /* systemd refuses */
  ASSERT_EQ(1, rm__linux_service_critical("rmt-refuse"));
  h = session_with_file(file, 2000, 2000);
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(pid, l.v[0].process.pid);
  ASSERT_EQ(RM_APP_CRITICAL, l.v[0].app_type);
  ASSERT_STR_EQ("rmt-refuse", l.v[0].service_short_name);
  ASSERT_EQ(0, l.v[0].restartable);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_SERVICE, l.reasons);
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT,
            rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN,
            rm__os_service_stop("rmt-refuse", 1000, 1, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-refuse"));
  ASSERT_EQ(pid, main_pid("rmt-refuse"));
  ASSERT_OK(rm_end_session(h));
  /* Its stop is refused, so the clean-up kills it. */
  remove_unit("rmt-refuse");
}

/* Units the engine knows as critical: systemd's own (journald), the bus,
 * logins, gettys, display managers, user managers. */
void known_critical_units(void) {
  const char *names[2];
  uint32_t h, journald, bus;
  listing l;
  unsigned i;
  static const char *const critical[] = {
    "dbus", "dbus.service", "systemd-logind", "systemd-journald",
    "getty@tty1", "serial-getty@ttyS0", "console-getty", "user@1000",
    "user@0.service", "gdm", "display-manager", "lightdm", "sddm"
  };
  for (i = 0; i < sizeof critical / sizeof *critical; i++)
    ASSERT_EQ(1, rm__linux_service_critical(critical[i]));
  ASSERT_EQ(0, rm__linux_service_critical("nginx"));
  fresh_store();
  ASSERT_EQ(0, ctl("start", "dbus.service", NULL));
  journald = main_pid("systemd-journald");
  bus = main_pid("dbus");
  ASSERT(journald != 0 && bus != 0);
  h = session_with_file(NULL, 2000, 2000);
  names[0] = "systemd-journald";
  names[1] = "dbus.service";
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 2, names));
  list_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT(l.reasons & RM_REBOOT_REASON_CRITICAL_SERVICE);
  for (i = 0; i < l.n; i++) {
    ASSERT_EQ(RM_APP_CRITICAL, l.v[i].app_type);
    ASSERT(l.v[i].process.pid == journald || l.v[i].process.pid == bus);
  }
  {
    const rm_process_info *b = entry_of(&l, bus), *j = entry_of(&l, journald);
    ASSERT(b != NULL && j != NULL);
    if (b && j) {
      ASSERT_STR_EQ("dbus", b->service_short_name);
      ASSERT_STR_EQ("systemd-journald", j->service_short_name);
    }
  }
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT,
            rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT_EQ(journald, main_pid("systemd-journald"));
  ASSERT_EQ(bus, main_pid("dbus"));
  ASSERT_STR_EQ("active/running", state("dbus"));
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Debian's nginx */

/* 1 when something answers HTTP on 127.0.0.1:80. */
static int http_answers(void) {
  struct sockaddr_in a;
  char buf[64];
  ssize_t n = 0;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const char *req = "GET / HTTP/1.0\r\n\r\n";
  ASSERT(fd >= 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(80);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 5000) == 1) n = read(fd, buf, sizeof buf - 1);
  }
  close(fd);
  if (n < 5) return 0;
  buf[n] = 0;
  return strncmp(buf, "HTTP/", 5) == 0;
}

/* The comm of a pid ("nginx"). */
static void comm_of(uint32_t pid, char *out, size_t cap) {
  char path[64];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%u/cmdline", (unsigned)pid);
  out[0] = 0;
  f = fopen(path, "r");
  if (!f) return;
  if (!fgets(out, (int)cap, f)) out[0] = 0;
  fclose(f);
}

void debian_nginx(void) {
  const char *files[1];
  char cmd[256];
  uint32_t h, pid, pid2, pids[16];
  ASSERT_EQ(0, access("/usr/sbin/nginx", X_OK));
  ASSERT_EQ(0, access("/usr/lib/systemd/system/nginx.service", R_OK));
  /* What Debian's packaging would have created under /var. */
  mkdir("/var/lib/nginx", 0755);
  mkdir("/var/log/nginx", 0755);
  fresh_store();
  pid = start_unit("nginx", 1);
  comm_of(pid, cmd, sizeof cmd);
  ASSERT(strncmp(cmd, "nginx: master process", 21) == 0);
  ASSERT(unit_pids("nginx", pids, 16) >= 2);   /* master and workers */
  ASSERT(http_answers());
  h = session_with_file(NULL, 5000, 10000);
  files[0] = "/usr/sbin/nginx";
  ASSERT_OK(rm_register_resources(h, 1, files, 0, NULL, 0, NULL));
  one_service_entry(h, "nginx", pid, RM_STATUS_RUNNING);
  {
    listing l;
    list_now(h, &l);
    ASSERT_STR_EQ("nginx", l.v[0].app_name);
  }
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("inactive/dead", state("nginx"));
  ASSERT(gone_within(pid, 2000));
  ASSERT_EQ(0, http_answers());
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("nginx"));
  pid2 = main_pid("nginx");
  ASSERT(pid2 != 0 && pid2 != pid);
  ASSERT(http_answers());
  one_service_entry(h, "nginx", pid2,
                    RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                        RM_STATUS_RUNNING);
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(0, ctl("stop", "nginx", NULL));
}

/* }===== */

