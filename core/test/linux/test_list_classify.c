/* SPDX-License-Identifier: MIT */
/*
 * test_list_classify.c: each entry of rm_get_list on Linux is filled
 * truthfully: app type, reboot reasons, restartable, name, session.
 *
 * Real processes in real situations: the caller holding a file, a
 * controlling terminal, a graphical environment, critical names, kernel
 * threads and PID 1, another user (as root: holders and listers drop to
 * uids 65534 and 65533), private mount namespaces (a different file at
 * the same path must not match by path), and audit login sessions.
 * Cases that need root say why they skip.
 */
#define _GNU_SOURCE
#include "test.h"
#include "linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOLDER_UID "65534"
#define LISTER_UID 65533

static uint32_t session;

typedef struct listing {
  rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
} listing;

static void start(void) {
  char key[RM_SESSION_KEY_CHARS + 1];
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&session, 0, key));
}

static void register_file(const char *path) {
  const char *files[1];
  files[0] = path;
  ASSERT_OK(rm_register_resources(session, 1, files, 0, NULL, 0, NULL));
}

static void register_pid(uint32_t pid) {
  rm_unique_process p;
  ASSERT_OK(rm_get_process_identity(pid, &p));
  ASSERT_OK(rm_register_resources(session, 0, NULL, 1, &p, 0, NULL));
}

static void list(listing *l) {
  ASSERT_OK(rm_get_list_alloc(session, &l->apps, &l->n, &l->reasons));
}

static void finish(listing *l) {
  rm_free_list(l->apps, l->n);
  ASSERT_OK(rm_end_session(session));
}

static const rm_app_info *find(const listing *l, long pid) {
  unsigned i;
  for (i = 0; i < l->n; i++)
    if (l->apps[i].info.process.pid == (uint32_t)pid) return &l->apps[i];
  rmt_fail(__FILE__, __LINE__, "pid not listed");
  return NULL;
}

/* Starts rm_holder with a NULL-terminated script of actions, and waits
 * for its "ready" (a copy at exe: rmt_start_ready). */
static void holder(rmt_child *c, const char *const script[]) {
  rmt_start_ready(c, rmt_helper("rm_holder"), script);
}

/* One entry, checked field by field. */
static void expect(const rm_app_info *a, const char *name, rm_app_type type,
                   uint32_t restartable, unsigned n_files, uint32_t how) {
  rm_unique_process id;
  ASSERT_OK(rm_get_process_identity(a->info.process.pid, &id));
  ASSERT_EQ(id.start_time, a->info.process.start_time);
  ASSERT_STR_EQ(name, a->info.app_name);
  ASSERT_STR_EQ("", a->info.service_short_name);
  ASSERT_EQ(type, a->info.app_type);
  ASSERT_EQ(RM_STATUS_RUNNING, a->info.app_status);
  ASSERT_EQ(restartable, a->info.restartable);
  ASSERT_EQ(n_files, a->n_files);
  if (n_files) ASSERT_EQ(how, a->files[0].how);
}

static int skip_unless_root(const char *why) {
  if (geteuid() == 0) return 0;
  printf("skip: %s needs root (it %s); running as uid %u\n",
         rmt_child_args ? "?" : "this case", why, (unsigned)geteuid());
  return 1;
}

/* A temp dir that other users can enter, with a readable file in it. */
static const char *shared_file(const char **dir_out) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "shared.txt");
  ASSERT_EQ(0, chmod(dir, 0755));
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  ASSERT_EQ(0, chmod(file, 0644));
  if (dir_out) *dir_out = dir;
  return file;
}

/* {===== Child side: a lister in another identity */

/* As `uid` (when nonzero, else as is; with loginuid "set", in a new audit
 * session): registers file, lists, prints one line per entry
 * "pid type restartable n_files session name", then "reasons R". */
static int child_list(const char *uid_text, const char *file, int new_login) {
  uint32_t h, reasons;
  char key[RM_SESSION_KEY_CHARS + 1];
  const char *files[1];
  rm_app_info *apps;
  unsigned n, i;
  uid_t uid = (uid_t)strtoul(uid_text, NULL, 10);
  if (new_login && rmt_write_file("/proc/self/loginuid", "0") != 0) return 3;
  if (uid && (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
              setresuid(uid, uid, uid) != 0))
    return 4;
  files[0] = file;
  if (rm_start_session(&h, 0, key) != RM_OK) return 5;
  if (rm_register_resources(h, 1, files, 0, NULL, 0, NULL) != RM_OK) return 6;
  if (rm_get_list_alloc(h, &apps, &n, &reasons) != RM_OK) return 7;
  for (i = 0; i < n; i++)
    printf("%u %d %d %u %u %s\n", (unsigned)apps[i].info.process.pid,
           (int)apps[i].info.app_type, apps[i].info.restartable,
           apps[i].n_files, (unsigned)apps[i].info.session_id,
           apps[i].info.app_name);
  printf("reasons %u\n", (unsigned)reasons);
  rm_free_list(apps, n);
  rm_end_session(h);
  return 0;
}

/* What the parent reads back from child_list. */
typedef struct child_entry {
  unsigned pid, n_files, session_id;
  int type, restartable;
  char name[300];
} child_entry;

/* Reads child_list's output; finds pid's line (found = 0 if absent). */
static uint32_t read_child_list(rmt_child *c, long pid, child_entry *e,
                                int *found) {
  char line[600];
  *found = 0;
  for (;;) {
    child_entry x;
    unsigned reasons;
    ASSERT_EQ(0, rmt_read_line(c, line, sizeof line, 20000));
    if (sscanf(line, "reasons %u", &reasons) == 1) return reasons;
    memset(&x, 0, sizeof x);
    ASSERT_EQ(6, sscanf(line, "%u %d %d %u %u %299s", &x.pid, &x.type,
                        &x.restartable, &x.n_files, &x.session_id, x.name));
    if ((long)x.pid == pid) {
      *e = x;
      *found = 1;
    }
  }
}

/* }===== */

static void caller_holding_a_file(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "mine.db");
  listing l;
  int fd;
  start();
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  fd = open(file, O_RDONLY);
  ASSERT(fd >= 0);
  register_file(file);
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_REBOOT_REASON_DETECTED_SELF, l.reasons);
  ASSERT_EQ(rmt_self_pid(), l.apps[0].info.process.pid);
  expect(&l.apps[0], "test_list_classify", RM_APP_CRITICAL, 0, 1,
         RM_USE_OPEN_FILE);
  close(fd);
  finish(&l);
}

static void console_and_graphical_apps(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "f");
  static rmt_child console, x11, wayland, plain;
  listing l;
  start();
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  register_file(file);
  {
    const char *with_tty[] = { "ctty", "open", file, NULL };
    const char *opens[] = { "open", file, NULL };
    holder(&console, with_tty);
    rmt_setenv("DISPLAY", ":99");
    holder(&x11, opens);
    rmt_setenv("DISPLAY", NULL);
    rmt_setenv("WAYLAND_DISPLAY", "wayland-1");
    holder(&wayland, opens);
    rmt_setenv("WAYLAND_DISPLAY", NULL);
    rmt_setenv("DISPLAY", "");              /* empty: not a display */
    holder(&plain, opens);
  }
  rmt_setenv("DISPLAY", NULL);
  list(&l);
  ASSERT_EQ(4, l.n);
  ASSERT_EQ(0, l.reasons);
  expect(find(&l, console.pid), "rm_holder", RM_APP_CONSOLE, 0, 1,
         RM_USE_OPEN_FILE);
  expect(find(&l, x11.pid), "rm_holder", RM_APP_MAIN_WINDOW, 1, 1,
         RM_USE_OPEN_FILE);
  expect(find(&l, wayland.pid), "rm_holder", RM_APP_MAIN_WINDOW, 1, 1,
         RM_USE_OPEN_FILE);
  expect(find(&l, plain.pid), "rm_holder", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  finish(&l);
}

static void critical_names(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "f");
  static rmt_child getty, custom, other;
  listing l;
  start();
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  rmt_copy_exe(rmt_helper("rm_holder"), rmt_path(dir, "agetty"));
  rmt_copy_exe(rmt_helper("rm_holder"), rmt_path(dir, "my-daemon"));
  rmt_copy_exe(rmt_helper("rm_holder"), rmt_path(dir, "my-app"));
  register_file(file);
  {
    const char *opens[] = { "open", file, NULL };
    rmt_start_ready(&getty, rmt_path(dir, "agetty"), opens);
    rmt_start_ready(&custom, rmt_path(dir, "my-daemon"), opens);
    rmt_start_ready(&other, rmt_path(dir, "my-app"), opens);
  }
  list(&l);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_PROCESS, l.reasons);
  expect(find(&l, getty.pid), "agetty", RM_APP_CRITICAL, 0, 1,
         RM_USE_OPEN_FILE);
  expect(find(&l, custom.pid), "my-daemon", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  rm_free_list(l.apps, l.n);
  rmt_setenv("RESTARTMGR_CRITICAL_PROCESSES", "nothing::my-daemon:");
  list(&l);
  rmt_setenv("RESTARTMGR_CRITICAL_PROCESSES", NULL);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_PROCESS, l.reasons);
  expect(find(&l, custom.pid), "my-daemon", RM_APP_CRITICAL, 0, 1,
         RM_USE_OPEN_FILE);
  expect(find(&l, other.pid), "my-app", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  finish(&l);
}

static void names_are_utf8(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "f");
  const char *nice = rmt_path(dir, "h\xc3\xa9llo-w\xc3\xb6rld");
  const char *bad = rmt_path(dir, "bad\xff\xc3name");
  static rmt_child a, b;
  listing l;
  start();
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  rmt_copy_exe(rmt_helper("rm_holder"), nice);
  rmt_copy_exe(rmt_helper("rm_holder"), bad);
  register_file(file);
  {
    const char *opens[] = { "open", file, NULL };
    rmt_start_ready(&a, nice, opens);
    rmt_start_ready(&b, bad, opens);
  }
  list(&l);
  ASSERT_EQ(2, l.n);
  expect(find(&l, a.pid), "h\xc3\xa9llo-w\xc3\xb6rld", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  expect(find(&l, b.pid), "bad??name", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  finish(&l);
}

/* The name /proc gives pid: its executable's basename, else comm. */
static void expected_name(uint32_t pid, char *name, size_t cap) {
  char path[64], link[4096];
  ssize_t n;
  rm__pstat st;
  snprintf(path, sizeof path, "/proc/%u/exe", (unsigned)pid);
  n = readlink(path, link, sizeof link - 1);
  if (n > 0) {
    const char *slash;
    link[n] = 0;
    slash = strrchr(link, '/');
    slash = slash ? slash + 1 : link;
    ASSERT(strlen(slash) < cap);
    memcpy(name, slash, strlen(slash) + 1);
    return;
  }
  ASSERT_EQ(0, rm__linux_read_stat(-1, pid, &st));
  memcpy(name, st.comm, strlen(st.comm) + 1);
}

static void pid1_and_kernel_threads(void) {
  rm__pstat st;
  uint32_t kthread = 0, pid;
  char name[300];
  listing l;
  for (pid = 2; pid < 400 && !kthread; pid++)
    if (rm__linux_read_stat(-1, pid, &st) == 0 && (st.flags & RM_PF_KTHREAD))
      kthread = pid;
  start();
  register_pid(1);
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_PROCESS, l.reasons);
  expected_name(1, name, sizeof name);
  expect(&l.apps[0], name, RM_APP_CRITICAL, 0, 0, 0);
  finish(&l);
  if (!kthread) {
    printf("skip: no kernel thread visible in this pid namespace\n");
    return;
  }
  start();
  register_pid(kthread);
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_PROCESS, l.reasons);
  ASSERT_EQ(0, rm__linux_read_stat(-1, kthread, &st));
  expect(&l.apps[0], st.comm, RM_APP_CRITICAL, 0, 0, 0);
  finish(&l);
}

static void another_user(void) {
  const char *dir, *file, *store;
  static rmt_child nobody, same_as_lister, lister;
  child_entry e;
  listing l;
  char lister_uid[16];
  int found;
  uint32_t reasons;
  if (skip_unless_root("drops privileges to uids 65534 and 65533")) return;
  file = shared_file(&dir);
  snprintf(lister_uid, sizeof lister_uid, "%u", (unsigned)LISTER_UID);
  {
    const char *as_nobody[] = { "drop", HOLDER_UID, "open", file, NULL };
    const char *as_lister[] = { "drop", lister_uid, "open", file, NULL };
    holder(&nobody, as_nobody);
    holder(&same_as_lister, as_lister);
  }

  /* Root may inspect and signal both: plain apps of other users, which
   * root relaunches as exactly their user, so they are restartable. */
  start();
  register_file(file);
  list(&l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(0, l.reasons);
  expect(find(&l, nobody.pid), "rm_holder", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  expect(find(&l, same_as_lister.pid), "rm_holder", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  finish(&l);

  /* Uid 65533 may neither inspect nor signal the uid 65534 holder. */
  store = rmt_path(dir, "store");
  ASSERT_EQ(0, mkdir(store, 0700));
  ASSERT_EQ(0, chown(store, LISTER_UID, LISTER_UID));
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  ASSERT_EQ(0, rmt_spawn_self(&lister, "list", lister_uid, file));
  reasons = read_child_list(&lister, nobody.pid, &e, &found);
  ASSERT_EQ(1, found);
  ASSERT_EQ(RM_APP_CRITICAL, e.type);
  ASSERT_EQ(0, e.restartable);
  ASSERT_EQ(0, e.n_files);                  /* unknown, not "none" */
  ASSERT_STR_EQ("rm_holder", e.name);
  ASSERT(reasons & RM_REBOOT_REASON_PERMISSION_DENIED);
  ASSERT_EQ(0, rmt_wait(&lister, 20000));
  /* ... but its own process, normally. */
  ASSERT_EQ(0, rmt_spawn_self(&lister, "list", lister_uid, file));
  read_child_list(&lister, same_as_lister.pid, &e, &found);
  ASSERT_EQ(1, found);
  ASSERT_EQ(RM_APP_UNKNOWN, e.type);
  ASSERT_EQ(1, e.restartable);
  ASSERT_EQ(1, e.n_files);
  ASSERT_EQ(0, rmt_wait(&lister, 20000));
}

/* The text /proc shows for pid's fd on a file whose name starts with
 * prefix (the holder may have inherited other fds). */
static void fd_text(long pid, const char *prefix, char *buf, size_t cap) {
  char path[64];
  int fd;
  for (fd = 0; fd < 256; fd++) {
    ssize_t n;
    snprintf(path, sizeof path, "/proc/%ld/fd/%d", pid, fd);
    n = readlink(path, buf, cap - 1);
    if (n <= 0) continue;
    buf[n] = 0;
    if (strncmp(buf, prefix, strlen(prefix)) == 0) return;
  }
  rmt_fail(__FILE__, __LINE__, "no such fd");
}

/* ASSERT_STR_EQ for long path buffers. */
static void expect_text(const char *want, const char *got) {
  if (strcmp(want, got) != 0) printf("want \"%s\", got \"%s\"\n", want, got);
  ASSERT(strcmp(want, got) == 0);
}

static void private_mount_namespaces(void) {
  const char *dir, *other, *file, *other_file;
  static rmt_child host_and_ns, tmpfs_only, same_text;
  char text[400], want[400];
  struct stat held, registered;
  listing l;
  if (skip_unless_root("creates mount namespaces")) return;
  dir = rmt_tempdir();
  other = rmt_tempdir();
  file = rmt_path(dir, "data.txt");
  other_file = rmt_path(other, "data.txt");
  ASSERT_EQ(0, rmt_write_file(file, "host\n"));
  ASSERT_EQ(0, rmt_write_file(other_file, "other\n"));
  start();
  register_file(file);
  {
    /* Holds the host file, then a different file at the same path. */
    const char *both[] = { "open", file, "unshare-tmpfs", dir,
                           "write", file, "inside\n", "open", file, NULL };
    /* Only a different file (tmpfs) at the registered path. */
    const char *tmpfs_file[] = { "unshare-tmpfs", dir, "write", file, "t\n",
                                 "open", file, NULL };
    /* Another file of the same filesystem, to be deleted, shown with the
     * registered path's text: only the namespace check tells them apart. */
    const char *bound[] = { "unshare-bind", other, dir, "open", file, NULL };
    holder(&host_and_ns, both);
    holder(&tmpfs_only, tmpfs_file);
    holder(&same_text, bound);
  }
  fd_text(same_text.pid, file, text, sizeof text);
  expect_text(file, text);
  ASSERT_EQ(0, stat(other_file, &held));    /* it is other's file ... */
  ASSERT_EQ(0, stat(file, &registered));
  ASSERT_EQ(registered.st_dev, held.st_dev);  /* ... on the same device */
  ASSERT_EQ(0, unlink(other_file));         /* now deleted, nlink 0 */
  fd_text(same_text.pid, file, text, sizeof text);
  snprintf(want, sizeof want, "%s (deleted)", file);
  expect_text(want, text);

  /* A mount namespace of its own is no container: it is listed like any
   * other, not restartable (a relaunch could not put it back in it). */
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(host_and_ns.pid, l.apps[0].info.process.pid);
  expect(&l.apps[0], "rm_holder", RM_APP_UNKNOWN, 0, 1, RM_USE_OPEN_FILE);
  ASSERT_EQ(RM_TRAIT_OWN_MOUNT_NS, l.apps[0].traits);
  ASSERT_STR_EQ(file, l.apps[0].files[0].file);
  finish(&l);
}

/* 1 when this machine lets root start new audit sessions. */
static int can_set_loginuid(void) {
  int status;
  pid_t pid = fork();
  if (pid == 0) _exit(rmt_write_file("/proc/self/loginuid", "0") == 0 ? 0 : 1);
  if (pid < 0) return 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static unsigned session_of(long pid) {
  char path[64], buf[32];
  FILE *f;
  unsigned v = 0;
  snprintf(path, sizeof path, "/proc/%ld/sessionid", pid);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  ASSERT(fgets(buf, sizeof buf, f) != NULL);
  fclose(f);
  ASSERT_EQ(1, sscanf(buf, "%u", &v));
  return v;
}

static void login_sessions(void) {
  const char *file;
  static rmt_child own_login, inherited, lister;
  child_entry e;
  listing l;
  unsigned caller_session = session_of(rmt_self_pid()), holder_session;
  uint32_t reasons;
  int found;
  if (skip_unless_root("writes /proc/self/loginuid")) return;
  if (!can_set_loginuid()) {
    printf("skip: the kernel refuses new audit sessions (no CONFIG_AUDIT?)\n");
    return;
  }
  file = shared_file(NULL);
  {
    const char *new_login[] = { "loginuid", "0", "open", file, NULL };
    const char *opens[] = { "open", file, NULL };
    holder(&own_login, new_login);
    holder(&inherited, opens);
  }
  holder_session = session_of(own_login.pid);
  ASSERT(holder_session != RM_INVALID_SESSION_ID);
  ASSERT(holder_session != caller_session);
  start();
  register_file(file);
  list(&l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(holder_session, find(&l, own_login.pid)->info.session_id);
  ASSERT_EQ(caller_session, find(&l, inherited.pid)->info.session_id);
  /* Another login than the caller's (when it has one) is no mismatch. */
  ASSERT_EQ(0, l.reasons);
  expect(find(&l, own_login.pid), "rm_holder", RM_APP_UNKNOWN, 1, 1,
         RM_USE_OPEN_FILE);
  finish(&l);

  /* A lister in a session of its own, both known and different.  The
   * login session is reported as is and decides nothing: the same
   * answer as from outside any login (docs/linux.md, Sessions). */
  ASSERT_EQ(0, rmt_spawn_self(&lister, "list-new-login", "0", file));
  reasons = read_child_list(&lister, own_login.pid, &e, &found);
  ASSERT_EQ(1, found);
  ASSERT_EQ(RM_APP_UNKNOWN, e.type);
  ASSERT_EQ(1, e.restartable);
  ASSERT_EQ(holder_session, e.session_id);
  ASSERT_EQ(0, reasons);
  ASSERT_EQ(0, rmt_wait(&lister, 20000));
  /* A user's own program, started from one of their logins, seen by
   * them from another login: theirs to restart. */
  {
    static rmt_child users_own;
    char uid[16], store[1200];
    const char *dir = rmt_tempdir();
    const char *script[] = { "loginuid", uid, "drop", uid, "open", file,
                             NULL };
    snprintf(uid, sizeof uid, "%u", (unsigned)LISTER_UID);
    holder(&users_own, script);
    snprintf(store, sizeof store, "%s/store", dir);
    ASSERT_EQ(0, chmod(dir, 0755));
    ASSERT_EQ(0, mkdir(store, 0700));
    ASSERT_EQ(0, chown(store, LISTER_UID, LISTER_UID));
    rmt_setenv("RESTARTMGR_STATE_DIR", store);
    ASSERT_EQ(0, rmt_spawn_self(&lister, "list-new-login", uid, file));
    reasons = read_child_list(&lister, users_own.pid, &e, &found);
    ASSERT_EQ(1, found);
    ASSERT(e.session_id != RM_INVALID_SESSION_ID);
    ASSERT(e.session_id != holder_session);
    ASSERT_EQ(RM_APP_UNKNOWN, e.type);
    ASSERT_EQ(1, e.restartable);
    ASSERT_EQ(0, reasons & RM_REBOOT_REASON_SESSION_MISMATCH);
    ASSERT_EQ(0, rmt_wait(&lister, 20000));
  }
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args && rmt_child_args[0] && rmt_child_args[1] &&
      rmt_child_args[2]) {
    int new_login = strcmp(rmt_child_args[0], "list-new-login") == 0;
    return child_list(rmt_child_args[1], rmt_child_args[2], new_login);
  }
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  rmt_setenv("RESTARTMGR_CRITICAL_PROCESSES", NULL);
  RUN(caller_holding_a_file);
  RUN(console_and_graphical_apps);
  RUN(critical_names);
  RUN(names_are_utf8);
  RUN(pid1_and_kernel_threads);
  RUN(another_user);
  RUN(private_mount_namespaces);
  RUN(login_sessions);
  return rmt_finish();
}
