/* SPDX-License-Identifier: MIT */
/*
 * test_list_views.c: rm_get_list sees what other views and shapes of a
 * process hold: another mount namespace (matched by identity in its own
 * view), a thread group whose leader has exited, a terminal host (pty
 * master: tmux, screen, sshd), and it never offers to stop what the
 * caller stands on: its ancestors and the host of its terminal.
 *
 * Real rm_holder processes, a real tmux server, real ptys.
 */
#define _GNU_SOURCE
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint32_t session;

typedef struct listing {
  rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
} listing;

static void start_with(const char *file) {
  char key[RM_SESSION_KEY_CHARS + 1];
  const char *files[1];
  files[0] = file;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&session, 0, key));
  ASSERT_OK(rm_register_resources(session, 1, files, 0, NULL, 0, NULL));
}

static void list(listing *l) {
  ASSERT_OK(rm_get_list_alloc(session, &l->apps, &l->n, &l->reasons));
}

static void unlist(listing *l) {
  rm_free_list(l->apps, l->n);
  memset(l, 0, sizeof *l);
}

static const rm_app_info *entry(const listing *l, long pid) {
  unsigned i;
  for (i = 0; i < l->n; i++)
    if (l->apps[i].info.process.pid == (uint32_t)pid) return &l->apps[i];
  return NULL;
}

static void holder(rmt_child *c, const char *const script[]) {
  rmt_start_ready(c, rmt_helper("rm_holder"), script);
}

static void replace(const char *path) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  ASSERT_EQ(0, rmt_write_file(tmp, "new\n"));
  ASSERT_EQ(0, rename(tmp, path));
}

static int is_root(const char *why) {
  if (geteuid() == 0) return 1;
  printf("skip: this case needs root (%s)\n", why);
  return 0;
}

/* {===== Child side: a lister on a terminal of its own */

/* Becomes a session leader whose controlling terminal is pts, registers
 * file, lists, prints "pid reasons traits type" per entry, then "end". */
static int list_on_tty(const char *pts, const char *file) {
  uint32_t h, reasons;
  char key[RM_SESSION_KEY_CHARS + 1];
  const char *files[1];
  rm_app_info *apps;
  unsigned n, i;
  if (setsid() < 0) {
    /* A process group leader already: a child of it becomes the lister
     * (the parent, waiting, is then one more ancestor). */
    int status;
    pid_t pid = fork();
    if (pid < 0) return 3;
    if (pid > 0) {
      if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 3;
      return WEXITSTATUS(status);
    }
    if (setsid() < 0) _exit(3);
  }
  if (open(pts, O_RDWR) < 0) return 3;
  files[0] = file;
  if (rm_start_session(&h, 0, key) != RM_OK) return 5;
  if (rm_register_resources(h, 1, files, 0, NULL, 0, NULL) != RM_OK) return 6;
  if (rm_get_list_alloc(h, &apps, &n, &reasons) != RM_OK) return 7;
  for (i = 0; i < n; i++)
    printf("%u %u %u %d\n", (unsigned)apps[i].info.process.pid,
           (unsigned)apps[i].reasons, (unsigned)apps[i].traits,
           (int)apps[i].info.app_type);
  printf("end\n");
  fflush(stdout);
  rm_free_list(apps, n);
  rm_end_session(h);
  return 0;
}

/* Reads list_on_tty's lines; pid's reasons and traits (found 0: absent). */
static void read_entry(rmt_child *c, long pid, unsigned *reasons,
                       unsigned *traits, int *found) {
  char line[200];
  *found = 0;
  for (;;) {
    unsigned p, r, t;
    int type;
    ASSERT_EQ(0, rmt_read_line(c, line, sizeof line, 20000));
    if (strcmp(line, "end") == 0) return;
    ASSERT_EQ(4, sscanf(line, "%u %u %u %d", &p, &r, &t, &type));
    if ((long)p == pid) {
      *reasons = r;
      *traits = t;
      *found = 1;
    }
  }
}

/* }=====
 * {===== Cases */

/* A sandboxed process holds a registered file that is then replaced on
 * the host: an older inode of the registered path, in its view too. */
static void mount_namespace_older_inode(void) {
  const char *dir, *hidden, *file;
  static rmt_child c;
  listing l;
  const rm_app_info *a;
  if (!is_root("unshare --mount")) return;
  dir = rmt_tempdir();
  hidden = rmt_tempdir();
  file = rmt_path(dir, "config.dat");
  ASSERT_EQ(0, rmt_write_file(file, "old\n"));
  {
    const char *script[] = { "unshare-tmpfs", hidden, "open", file, "map",
                             file, NULL };
    holder(&c, script);
  }
  replace(file);                   /* before it is registered: no id kept */
  start_with(file);
  list(&l);
  a = entry(&l, c.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(file, a->files[0].file);
  ASSERT_EQ(RM_USE_OPEN_FILE | RM_USE_MAPPING | RM_USE_OLDER_INODE,
            a->files[0].how);
  ASSERT_EQ(0, a->reasons);
  ASSERT_EQ(RM_APP_UNKNOWN, a->info.app_type);
  ASSERT_EQ(RM_TRAIT_OWN_MOUNT_NS, a->traits);
  unlist(&l);
  ASSERT_OK(rm_end_session(session));
}

/* The leader has exited; a thread holds the file.  Found, stopped. */
static void leader_exited(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "held.txt");
  static rmt_child c;
  listing l;
  const rm_app_info *a;
  int status;
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  {
    const char *script[] = { "open", file, "leader-exit", NULL };
    holder(&c, script);
  }
  start_with(file);
  list(&l);
  a = entry(&l, c.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_USE_OPEN_FILE, a->files[0].how);
  ASSERT_STR_EQ("rm_holder", a->info.app_name);
  ASSERT_EQ(RM_APP_UNKNOWN, a->info.app_type);
  ASSERT_EQ(0, a->info.restartable);
  ASSERT_EQ(RM_TRAIT_LEADER_EXITED, a->traits);
  unlist(&l);
  ASSERT_OK(rm_shutdown(session, 0, NULL, NULL));
  ASSERT_EQ(c.pid, waitpid((pid_t)c.pid, &status, 0));
  rmt_forget(&c);
  ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_STATUS_STOPPED, l.apps[0].info.app_status);
  unlist(&l);
  ASSERT_OK(rm_end_session(session));
}

/* A process holding a pty master hosts consoles: a console app, never
 * restartable, and said so. */
static void terminal_host(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "held.txt");
  static rmt_child host;
  listing l;
  const rm_app_info *a;
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  {
    const char *script[] = { "ptmx", rmt_path(dir, "pts"), "open", file,
                             NULL };
    holder(&host, script);
  }
  start_with(file);
  list(&l);
  a = entry(&l, host.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(RM_APP_CONSOLE, a->info.app_type);
  ASSERT_EQ(0, a->info.restartable);
  ASSERT_EQ(RM_TRAIT_TERMINAL_HOST, a->traits);
  unlist(&l);
  ASSERT_OK(rm_end_session(session));
}

/* The caller's ancestors and the host of its terminal are DETECTED_SELF:
 * a lister on a pty whose master an unrelated process holds, started by
 * this test, which holds the file too. */
static void never_stop_yourself(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "held.txt");
  const char *pts_file = rmt_path(dir, "pts");
  static rmt_child host, lister;
  char pts[64];
  FILE *f;
  unsigned reasons = 0, traits = 0;
  int found, fd;
  rmt_fresh_store();
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  {
    const char *script[] = { "ptmx", pts_file, "open", file, NULL };
    holder(&host, script);
  }
  f = fopen(pts_file, "r");
  ASSERT(f != NULL);
  ASSERT(fgets(pts, sizeof pts, f) != NULL);
  fclose(f);
  pts[strcspn(pts, "\n")] = 0;
  fd = open(file, O_RDONLY);                    /* the lister's parent */
  ASSERT(fd >= 0);
  ASSERT_EQ(0, rmt_spawn_self(&lister, "list-on-tty", pts, file));
  read_entry(&lister, host.pid, &reasons, &traits, &found);
  ASSERT_EQ(1, found);
  ASSERT_EQ(RM_REBOOT_REASON_DETECTED_SELF, reasons);
  ASSERT_EQ(RM_TRAIT_TERMINAL_HOST | RM_TRAIT_SELF, traits);
  ASSERT_EQ(0, rmt_wait(&lister, 20000));

  ASSERT_EQ(0, rmt_spawn_self(&lister, "list-on-tty", pts, file));
  read_entry(&lister, rmt_self_pid(), &reasons, &traits, &found);
  ASSERT_EQ(1, found);                          /* its parent: this test */
  ASSERT_EQ(RM_REBOOT_REASON_DETECTED_SELF, reasons);
  ASSERT_EQ(RM_TRAIT_SELF, traits);
  ASSERT_EQ(0, rmt_wait(&lister, 20000));
  close(fd);
}

/* {===== A real tmux server */

static char tmux_sock[1100];

static int run(const char *cmd) {
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void tmux_kill(void *arg) {
  char cmd[1300];
  (void)arg;
  snprintf(cmd, sizeof cmd, "tmux -S '%s' kill-server 2>/dev/null",
           tmux_sock);
  run(cmd);
}

/* The tmux server's pid (its pane's shell's parent). */
static long tmux_server_pid(void) {
  char cmd[1300], line[64];
  FILE *p;
  long pid = 0;
  snprintf(cmd, sizeof cmd, "tmux -S '%s' display-message -p '#{pid}'",
           tmux_sock);
  p = popen(cmd, "r");
  ASSERT(p != NULL);
  if (fgets(line, sizeof line, p)) pid = strtol(line, NULL, 10);
  pclose(p);
  return pid;
}

static void real_tmux_server(void) {
  const char *dir = rmt_tempdir(), *exe = rmt_path(dir, "tmux");
  char cmd[3000];
  listing l;
  const rm_app_info *a;
  long server;
  if (access("/usr/bin/tmux", X_OK) != 0) {
    printf("skip: tmux is not installed (.ci/bootstrap installs it)\n");
    return;
  }
  /* A copy of tmux of its own, so the registered file is its alone. */
  rmt_copy_exe("/usr/bin/tmux", exe);
  snprintf(tmux_sock, sizeof tmux_sock, "%s/sock", dir);
  rmt_at_cleanup(tmux_kill, NULL);
  snprintf(cmd, sizeof cmd,
           "'%s' -S '%s' -f /dev/null new-session -d -s t "
           "'sleep 600 & exec sh'", exe, tmux_sock);
  ASSERT_EQ(0, run(cmd));
  server = tmux_server_pid();
  ASSERT(server > 0);
  start_with(exe);
  list(&l);
  a = entry(&l, server);
  ASSERT(a != NULL);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(RM_APP_CONSOLE, a->info.app_type);
  ASSERT_EQ(0, a->info.restartable);
  ASSERT_EQ(RM_TRAIT_TERMINAL_HOST, a->traits);
  ASSERT_EQ(RM_USE_EXECUTABLE, a->files[0].how);
  unlist(&l);
  ASSERT_OK(rm_end_session(session));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args && rmt_child_args[0] && rmt_child_args[1] &&
      rmt_child_args[2] && strcmp(rmt_child_args[0], "list-on-tty") == 0)
    return list_on_tty(rmt_child_args[1], rmt_child_args[2]);
  RUN(mount_namespace_older_inode);
  RUN(leader_exited);
  RUN(terminal_host);
  RUN(never_stop_yourself);
  RUN(real_tmux_server);
  return rmt_finish();
}
