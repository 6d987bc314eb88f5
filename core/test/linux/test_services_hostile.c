/* SPDX-License-Identifier: MIT */
/*
 * test_services_hostile.c: a hostile local user against root's use of
 * runit (docs/security.md, "Services").  Each case makes an unprivileged
 * user with useradd, and that user starts the real /usr/bin/runsv on a
 * directory in their home:
 *
 *  - with a ./check that records who ran it, and supervise/control
 *    replaced by a link to a root file: root's list, shutdown and restart
 *    treat the process as the user's plain program, run nothing of the
 *    user's as root and write nothing through the link;
 *  - with FIFOs planted as supervise/stat, pid and status: root's list
 *    does not block (the case runs it in a child bounded in time);
 *  - named like a real system service (a root runsvdir re-parented to
 *    init): root never stops or starts the real one.
 *
 * Root and runit are required (CI has both); elsewhere the cases fail.
 */
#define _GNU_SOURCE
#include "test_shutdown_common.h"
#include "test_user.h"
#include "linux/services.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>

/* {===== The user */

static rmt_user user;      /* base: root's, 0755: the home and our files */

/* The user's runsv, our child. */
typedef struct user_runsv {
  pid_t pid;
  char dir[600];
} user_runsv;

static user_runsv runsvs[4];        /* at most 4 per case */
static int n_runsvs;

/* Ends the user's runsv (SIGTERM: it takes its service down and exits)
 * and reaps it. */
static void end_runsv(user_runsv *r) {
  unsigned waited = 0;
  int status;
  if (r->pid <= 0) return;
  kill(r->pid, SIGTERM);
  while (waitpid(r->pid, &status, WNOHANG) == 0 && waited < 10000) {
    rmt_sleep_ms(10);
    waited += 10;
  }
  if (waited >= 10000) {
    kill(r->pid, SIGKILL);
    while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR) {}
  }
  r->pid = 0;
}

/* Ends, by pid, every process left running as the user (copies of their
 * program that root relaunched): all of them were started for this
 * case's user, and userdel refuses a user with processes. */
static void end_users_processes(void) {
  unsigned round;
  for (round = 0; round < 500; round++) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int left = 0;
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
      char path[64], status[4096];
      rm__creds c;
      long pid = strtol(e->d_name, NULL, 10);
      FILE *f;
      size_t n;
      if (pid <= 0) continue;
      snprintf(path, sizeof path, "/proc/%ld/status", pid);
      f = fopen(path, "r");
      if (!f) continue;
      n = fread(status, 1, sizeof status - 1, f);
      fclose(f);
      status[n] = 0;
      if (rm__linux_parse_creds(status, &c) != 0 || c.uid[0] != user.uid ||
          strstr(status, "State:\tZ"))
        continue;
      kill((pid_t)pid, SIGKILL);
      left = 1;
    }
    closedir(d);
    if (!left) return;
    rmt_sleep_ms(10);
  }
}

static void remove_user(void *arg) {
  int i;
  (void)arg;
  for (i = 0; i < n_runsvs; i++) end_runsv(&runsvs[i]);
  n_runsvs = 0;
  foreign_kill_all();
  if (user.made_user) end_users_processes();
  rmt_user_remove(&user);
}

static void make_user(void) {
  memset(&user, 0, sizeof user);
  rmt_at_cleanup(remove_user, NULL);
  /* A start of its own in its range: other tests make users too. */
  rmt_user_make(&user, "rmt-hostile", 63000 + (uid_t)(getpid() % 500), 64000,
                NULL);
}

/* "dir/name" in one of 32 rotating buffers: for a moment only (a path
 * kept for a case is copied). */
static const char *in(const char *dir, const char *name) {
  static char buf[32][700];
  static int next;
  char *b = buf[next++ % 32], joined[700];
  snprintf(joined, sizeof joined, "%s/%s", dir, name);  /* dir may be buf */
  memcpy(b, joined, sizeof joined);
  return b;
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* A file of the user's with that text and mode. */
static void users_file(const char *path, const char *text, unsigned mode) {
  ASSERT_EQ(0, rmt_write_file(path, text));
  ASSERT_EQ(0, chmod(path, mode));
  ASSERT_EQ(0, chown(path, user.uid, user.uid));
}

static void users_dir(const char *path) {
  ASSERT_EQ(0, mkdir(path, 0755));
  ASSERT_EQ(0, chown(path, user.uid, user.uid));
}

/* The user's service directory home/TOP/NAME: ./run holds held open,
 * ./check records the uid that ran it in home/check-ran.UID. */
static const char *users_service(const char *top, const char *name,
                                 const char *held) {
  static char dir[600];
  char script[2048];
  if (!exists(in(user.home, top))) users_dir(in(user.home, top));
  snprintf(dir, sizeof dir, "%s/%s/%s", user.home, top, name);
  users_dir(dir);
  /* A copy of rm_app of its own: no --pdeathsig, so a copy root
   * relaunches lives on (its parent exits at once), and not the build's,
   * which a rebuild would make a deleted executable. */
  if (!exists(in(user.base, "rm_app")))
    rmt_copy_exe(rmt_helper("rm_app"), in(user.base, "rm_app"));
  snprintf(script, sizeof script,
           "#!/bin/sh\nexec 2>&1\nexec '%s' --hold '%s'\n",
           in(user.base, "rm_app"), held);
  users_file(in(dir, "run"), script, 0755);
  snprintf(script, sizeof script,
           "#!/bin/sh\n: > '%s/check-ran.'\"$(id -u)\"\nexit 0\n", user.home);
  users_file(in(dir, "check"), script, 0755);
  return dir;
}

/* The user runs runsv on dir, as our child; returns the service's pid
 * once it has run for over a second. */
static uint32_t user_starts_runsv(const char *dir) {
  user_runsv *r = &runsvs[n_runsvs];
  char stat[64], buf[32];
  unsigned waited;
  uint32_t pid = 0;
  ASSERT(n_runsvs < 4);
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  r->pid = fork();
  ASSERT(r->pid >= 0);
  if (r->pid == 0) {
    int null = open("/dev/null", O_RDWR), fd;
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    for (fd = 3; fd < 1024; fd++) close(fd);
    if (setgroups(0, NULL) != 0 ||
        setresgid(user.uid, user.uid, user.uid) != 0 ||
        setresuid(user.uid, user.uid, user.uid) != 0)
      _exit(126);
    setsid();
    execl(RUNSV, "runsv", dir, (char *)NULL);
    _exit(127);
  }
  n_runsvs++;
  for (waited = 0; waited < 10000; waited += 20) {
    FILE *f = fopen(in(dir, "supervise/stat"), "r");
    stat[0] = 0;
    if (f) {
      if (!fgets(stat, sizeof stat, f)) stat[0] = 0;
      fclose(f);
    }
    f = fopen(in(dir, "supervise/pid"), "r");
    buf[0] = 0;
    if (f) {
      if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
      fclose(f);
    }
    pid = (uint32_t)strtoul(buf, NULL, 10);
    if (pid && strncmp(stat, "run", 3) == 0) break;
    rmt_sleep_ms(20);
  }
  ASSERT(pid != 0);
  rmt_sleep_ms(1200);
  return pid;
}

/* What the user's supervise/pid says now. */
static uint32_t users_service_pid(const char *dir) {
  char buf[32];
  FILE *f = fopen(in(dir, "supervise/pid"), "r");
  buf[0] = 0;
  if (f) {
    if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
    fclose(f);
  }
  return (uint32_t)strtoul(buf, NULL, 10);
}

static void file_is(const char *path, const char *want) {
  char got[256];
  FILE *f = fopen(path, "r");
  size_t n = 0;
  ASSERT(f != NULL);
  n = fread(got, 1, sizeof got - 1, f);
  fclose(f);
  got[n] = 0;
  ASSERT_STR_EQ(want, got);
}

/* The relaunched copies of the user's program are not our children:
 * tracked to be ended by identity. */
static void track_restarted(uint32_t h) {
  listing l;
  unsigned i;
  list_now(h, &l);
  for (i = 0; i < l.n; i++)
    if (l.v[i].app_status & RM_STATUS_RESTARTED) foreign_track(&l.v[i].process);
}

/* }=====
 * {===== Cases */

static void users_runsv_is_their_plain_program(void) {
  const char *names[2];
  char name[64], name2[80], dir[600], dir2[600], held[700], target[700];
  uint32_t h, pid, pid2, rc_stop, rc_start;
  listing l;
  const rm_process_info *e;
  require_runit();
  make_user();
  rmt_fresh_store();
  snprintf(name, sizeof name, "rmt-plain-%ld", rmt_self_pid());
  snprintf(held, sizeof held, "%s", in(user.home, "held"));
  users_file(held, "data\n", 0644);
  snprintf(dir, sizeof dir, "%s", users_service("svc", name, held));
  snprintf(target, sizeof target, "%s", in(user.base, "root-file"));
  ASSERT_EQ(0, rmt_write_file(target, "untouched\n"));
  ASSERT_EQ(0, chmod(target, 0644));
  pid = user_starts_runsv(dir);
  /* A second one, left intact: a stop and start through it would work,
   * and sv start would run its ./check. */
  snprintf(name2, sizeof name2, "%s-check", name);
  snprintf(dir2, sizeof dir2, "%s", users_service("svc", name2, held));
  pid2 = user_starts_runsv(dir2);
  /* runsv holds its control FIFO open; the name now leads to root's
   * file (what `sv` as root would write into). */
  ASSERT_EQ(0, rename(in(dir, "supervise/control"),
                      in(dir, "supervise/control.fifo")));
  ASSERT_EQ(0, symlink(target, in(dir, "supervise/control")));
  ASSERT_EQ(0, lchown(in(dir, "supervise/control"), user.uid, user.uid));
  /* Even with $SVDIR pointing at the user's directories. */
  rmt_setenv("SVDIR", in(user.home, "svc"));

  /* By name: no such system service, so nothing is stopped or started
   * (the outcome first, then what the list said). */
  h = session_with_file(NULL, 5000, 5000);
  names[0] = name;
  names[1] = name2;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 2, names));
  list_now(h, &l);
  rc_stop = rm_shutdown(h, 0, NULL, NULL);
  rc_start = rm_restart(h, 0, NULL, NULL);
  ASSERT_OK(rm_end_session(h));
  rmt_sleep_ms(300);
  ASSERT(!exists(in(user.home, "check-ran.0")));      /* nothing as root */
  file_is(target, "untouched\n");                     /* nothing written */
  ASSERT_EQ(pid, users_service_pid(dir));             /* never restarted */
  ASSERT_EQ(pid2, users_service_pid(dir2));
  ASSERT_EQ(0, l.n);
  ASSERT_OK(rc_stop);
  ASSERT_OK(rc_start);

  /* Through the file its process holds: the user's plain program. */
  h = session_with_file(held, 5000, 5000);
  list_now(h, &l);
  e = entry_of(&l, pid);
  ASSERT(e != NULL);
  ASSERT(e->app_type != RM_APP_SERVICE);
  ASSERT_STR_EQ("", e->service_short_name);
  ASSERT_OK(rm_end_session(h));
  rmt_setenv("SVDIR", NULL);
}

/* The root list of a user's process whose supervise/ holds FIFOs, in a
 * child: 0 when it listed, else the step that failed. */
static int list_in_child(const char *held, const char *name) {
  uint32_t h;
  char key[33];
  const char *files[1], *names[1];
  unsigned n = 0, need = 0;
  uint32_t reasons;
  rm_process_info info[16];
  files[0] = held;
  names[0] = name;
  if (rm_start_session(&h, 0, key) != RM_OK) return 2;
  if (rm_register_resources(h, 1, files, 0, NULL, 1, names) != RM_OK) return 3;
  n = 16;
  if (rm_get_list(h, &need, &n, info, &reasons) != RM_OK) return 4;
  if (rm_shutdown(h, 0, NULL, NULL) != RM_OK) return 5;
  if (rm_restart(h, 0, NULL, NULL) != RM_OK) return 6;
  rm_end_session(h);
  return 0;
}

static void fifo_in_users_supervise_does_not_block(void) {
  static const char *const planted[] = { "stat", "pid", "status" };
  const char *dir;
  char name[64], held[700];
  pid_t child;
  unsigned waited, i;
  int status = 0;
  require_runit();
  make_user();
  rmt_fresh_store();
  snprintf(name, sizeof name, "rmt-fifo-%ld", rmt_self_pid());
  snprintf(held, sizeof held, "%s", in(user.home, "held"));
  users_file(held, "data\n", 0644);
  dir = users_service("fifo", name, held);
  user_starts_runsv(dir);
  /* Planted once runsv wrote them: it replaces them only on a change. */
  for (i = 0; i < sizeof planted / sizeof *planted; i++) {
    char path[700];
    snprintf(path, sizeof path, "%s/supervise/%s", dir, planted[i]);
    ASSERT_EQ(0, unlink(path));
    ASSERT_EQ(0, mkfifo(path, 0644));
    ASSERT_EQ(0, lchown(path, user.uid, user.uid));
  }
  rmt_setenv("SVDIR", in(user.home, "fifo"));
  child = fork();
  ASSERT(child >= 0);
  if (child == 0) _exit(list_in_child(held, name));
  for (waited = 0; waited < 30000; waited += 20) {
    if (waitpid(child, &status, WNOHANG) == child) break;
    rmt_sleep_ms(20);
  }
  if (waited >= 30000) {
    kill(child, SIGKILL);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    rmt_setenv("SVDIR", NULL);
    ASSERT(!"root's list blocked on a user's FIFO for 30 s");
  }
  rmt_setenv("SVDIR", NULL);
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(0, WEXITSTATUS(status));
}

static void users_runsv_named_like_a_system_service(void) {
  svc s;
  const char *dir, *sys_held;
  char name[64], args[1024], held[700];
  uint32_t h, sys_pid, pid;
  listing l;
  const rm_process_info *e;
  require_runit();
  rmt_fresh_store();
  snprintf(name, sizeof name, "rmt-twin-%ld", rmt_self_pid());
  sys_held = temp_file("system-held");
  snprintf(args, sizeof args, "--hold '%s'", sys_held);
  svc_create(&s, name, args);
  sys_pid = svc_start(&s);                      /* $SVDIR: the system's */
  make_user();
  snprintf(held, sizeof held, "%s", in(user.home, "held"));
  users_file(held, "data\n", 0644);
  dir = users_service("svc", name, held);
  pid = user_starts_runsv(dir);

  h = session_with_file(held, 5000, 5000);
  list_now(h, &l);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(sys_pid, svc_pid(&s));              /* the real one untouched */
  e = entry_of(&l, pid);
  ASSERT(e != NULL);
  ASSERT(e->app_type != RM_APP_SERVICE);
  ASSERT_STR_EQ("", e->service_short_name);
  ASSERT(entry_of(&l, sys_pid) == NULL);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  track_restarted(h);
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(sys_pid, svc_pid(&s));
  ASSERT(!exists(in(user.home, "check-ran.0")));
  foreign_kill_all();
  remove_user(NULL);
  svc_teardown(&s);
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  rmt_setenv("RESTARTMGR_CRITICAL_SERVICES", NULL);
  atexit(foreign_kill_all);
  RUN(users_runsv_is_their_plain_program);
  RUN(fifo_in_users_supervise_does_not_block);
  RUN(users_runsv_named_like_a_system_service);
  return rmt_finish();
}
