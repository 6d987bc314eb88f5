/* SPDX-License-Identifier: MIT */
/*
 * test_store_home.c: the store in a real user's home.  Without
 * RESTARTMGR_STATE_DIR and XDG_RUNTIME_DIR a user that is not root uses
 * $XDG_STATE_HOME/restartmgr, then HOME/.local/state/restartmgr (HOME from
 * the password database), then /tmp/restartmgr-UID.
 *
 * As root, each case makes a temporary user with useradd (its own group,
 * gid = uid, a home 0755 of its own in a fresh dir under /tmp) and runs
 * the library in forked children that dropped to that user: no exec, so
 * nothing depends on where the checkout lives.  The cleanup (also after a
 * failed assertion) kills and reaps those children, removes the user and
 * its group (userdel, groupdel) and the dirs.
 */
#define _GNU_SOURCE
#include "test.h"
#include "test_user.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OTHER 65533u                   /* the squatter: another user */

/* {===== A temporary user */


/* A forked child of the user's: the session holder (or a one-shot
 * reporter) and the joiner, killed and reaped at cleanup. */
typedef struct user_child {
  pid_t pid;
  int from, to;                       /* its report, our "go on" */
} user_child;

static rmt_user user;                 /* test_user.h */
static char user_tmp_store[64];       /* /tmp/restartmgr-UID */
static user_child holder = { -1, -1, -1 }, joiner = { -1, -1, -1 };

static void end_child(user_child *c) {
  int status;
  if (c->to >= 0) close(c->to);
  if (c->from >= 0) close(c->from);
  if (c->pid > 0) {
    kill(c->pid, SIGKILL);
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {}
  }
  c->pid = -1;
  c->from = c->to = -1;
}

static void remove_user(void *arg) {
  struct stat st;
  (void)arg;
  end_child(&joiner);
  end_child(&holder);
  /* /tmp/restartmgr-UID only when the user made it there. */
  if (user_tmp_store[0] && lstat(user_tmp_store, &st) == 0 &&
      st.st_uid == user.uid)
    rmt_remove_tree(user_tmp_store);
  user_tmp_store[0] = 0;
  rmt_user_remove(&user);
}

static const char *in(const char *dir, const char *name) {
  static char buf[256][200];          /* a ring: valid for a whole case */
  static int next;
  char *b = buf[next++ % 256], copy[200];
  size_t n = strlen(dir), k = strlen(name);
  ASSERT(n + k + 2 <= sizeof copy);
  memcpy(copy, dir, n);                         /* dir may be an earlier in() */
  copy[n] = '/';
  memcpy(copy + n + 1, name, k + 1);
  memcpy(b, copy, n + k + 2);
  return b;
}

/* Makes the case's user.  0 when made, 1 when this is not root (the case
 * is skipped, and says so). */
/* 1 when a /tmp/restartmgr-UID of uid is left over from elsewhere. */
static int tmp_store_taken(uid_t uid) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/tmp/restartmgr-%u", (unsigned)uid);
  return lstat(path, &st) == 0;
}

static int make_user(void) {
  if (geteuid() != 0) {
    printf("note: not root; needs to create a user\n");
    return 1;
  }
  memset(&user, 0, sizeof user);
  user_tmp_store[0] = 0;
  rmt_at_cleanup(remove_user, NULL);
  /* A uid (and gid) nobody has, with no /tmp/restartmgr-UID left over. */
  rmt_user_make(&user, "rmt-home", 61000, 62000, tmp_store_taken);
  snprintf(user_tmp_store, sizeof user_tmp_store, "/tmp/restartmgr-%u",
           (unsigned)user.uid);
  return 0;
}

/* A directory (or a symlink) with exactly that owner (gid the same). */
static const char *mkdir_of(const char *path, unsigned mode, uid_t owner) {
  ASSERT_EQ(0, mkdir(path, mode));
  ASSERT_EQ(0, chmod(path, mode));
  ASSERT_EQ(0, chown(path, owner, owner));
  return path;
}

static void symlink_of(const char *target, const char *path, uid_t owner) {
  ASSERT_EQ(0, symlink(target, path));
  ASSERT_EQ(0, lchown(path, owner, owner));
}

/* Asserts path is a directory of the user's with exactly mode. */
static void assert_users_dir(const char *path, unsigned mode) {
  struct stat st;
  ASSERT_EQ(0, lstat(path, &st));
  ASSERT(S_ISDIR(st.st_mode));
  ASSERT_EQ(user.uid, st.st_uid);
  ASSERT_EQ(user.uid, st.st_gid);
  ASSERT_EQ(mode, st.st_mode & 07777);
}

static void assert_missing(const char *path) {
  struct stat st;
  ASSERT(lstat(path, &st) != 0);
  ASSERT_EQ(ENOENT, errno);
}

/* }=====
 * {===== Children of the user */

static char joined_key[33];            /* what the joiner joins (fork copies) */

/* Forks a child that drops to the user (no supplementary groups), with a
 * $HOME that lies (the store must follow the password database), and runs
 * fn(out, in): out writes to us, in reads our "go on". */
static void fork_as_user(user_child *c, int (*fn)(FILE *out, int in)) {
  int up[2], down[2];
  ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
  ASSERT_EQ(0, pipe2(down, O_CLOEXEC));
  c->pid = fork();
  ASSERT(c->pid >= 0);
  if (c->pid == 0) {
    FILE *out;
    close(up[0]);
    close(down[1]);
    if (setgroups(0, NULL) != 0 || setresgid(user.uid, user.uid, user.uid) != 0 ||
        setresuid(user.uid, user.uid, user.uid) != 0 ||
        setenv("HOME", "/tmp", 1) != 0)
      _exit(200);
    out = fdopen(up[1], "w");
    if (!out) _exit(201);
    setvbuf(out, NULL, _IONBF, 0);
    _exit(fn(out, down[0]));
  }
  close(up[1]);
  close(down[0]);
  c->from = up[0];
  c->to = down[1];
}

/* Reads the child's report line (without newline) within 30 s. */
static void read_report(user_child *c, char *buf, size_t cap) {
  size_t n = 0;
  ASSERT(cap > 1);
  while (n + 1 < cap) {
    fd_set set;
    struct timeval tv = { 30, 0 };
    ssize_t got;
    FD_ZERO(&set);
    FD_SET(c->from, &set);
    ASSERT(select(c->from + 1, &set, NULL, NULL, &tv) == 1);
    got = read(c->from, buf + n, 1);
    if (got <= 0 || buf[n] == '\n') break;
    n++;
  }
  buf[n] = 0;
}

/* Lets the child go on and reaps it: its exit code (-1: killed). */
static int finish(user_child *c) {
  int status;
  pid_t pid = c->pid;
  if (c->to >= 0) {
    /* Only a holder waits for it; one that exited reads nothing (and its
     * exit code tells). */
    if (write(c->to, "g", 1) != 1) {}
    close(c->to);
  }
  close(c->from);
  c->from = c->to = -1;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  c->pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* "RC SKIPPED PATH" from rm_store_path. */
static void print_store(FILE *out) {
  char path[4200] = "";
  uint32_t skipped = 0, rc = rm_store_path(path, sizeof path, &skipped);
  fprintf(out, "%u %u %s", (unsigned)rc, (unsigned)skipped, path);
}

/* The store it finds, then a session started and ended there: exit code
 * the start's (8 bits: 29 stays 29). */
static int report_and_start(FILE *out, int in) {
  uint32_t h, rc;
  char key[33];
  (void)in;
  print_store(out);
  fputc('\n', out);
  rc = rm_start_session(&h, 0, key);
  if (rc == RM_OK) rc = rm_end_session(h);
  return (int)(rc & 0xFF);
}

/* Starts a session, reports "RC SKIPPED PATH START_RC KEY", holds it
 * until told to go on, then ends it: exit code the end's. */
static int hold_session(FILE *out, int in) {
  uint32_t h, rc;
  char key[33] = "", go;
  print_store(out);
  rc = rm_start_session(&h, 0, key);
  fprintf(out, " %u %s\n", (unsigned)rc, key);
  if (rc != RM_OK) return 100;
  if (read(in, &go, 1) != 1) return 101;
  return (int)(rm_end_session(h) & 0xFF);
}

/* Joins joined_key, reports "RC SKIPPED PATH JOIN_RC", ends its handle:
 * exit code the end's. */
static int join_session(FILE *out, int in) {
  uint32_t h, rc;
  (void)in;
  print_store(out);
  rc = rm_join_session(&h, joined_key);
  fprintf(out, " %u\n", (unsigned)rc);
  if (rc != RM_OK) return 100;
  return (int)(rm_end_session(h) & 0xFF);
}

/* The line a child reports for a store at path with those skipped bits. */
static const char *store_line(uint32_t skipped, const char *path) {
  static char line[300];
  snprintf(line, sizeof line, "0 %u %s", (unsigned)skipped, path);
  return line;
}

/* One process of the user starts a session; it must be at store, with
 * exactly skipped passed over, its record there (0600, the user's);
 * a second process of the user finds the same store and joins by key;
 * after the primary ends, the record is gone. */
static void two_processes_share(const char *store, uint32_t skipped) {
  char line[400], want[400], *key;
  struct stat st;
  fork_as_user(&holder, hold_session);
  read_report(&holder, line, sizeof line);
  key = strrchr(line, ' ');
  ASSERT(key != NULL);
  *key++ = 0;
  ASSERT_EQ(32, strlen(key));
  snprintf(want, sizeof want, "%s 0", store_line(skipped, store));
  ASSERT_STR_EQ(want, line);
  ASSERT_EQ(0, lstat(in(store, "session.00"), &st));
  ASSERT(S_ISREG(st.st_mode));
  ASSERT_EQ(user.uid, st.st_uid);
  ASSERT_EQ(0600, st.st_mode & 07777);
  assert_users_dir(store, 0700);
  memcpy(joined_key, key, 33);
  fork_as_user(&joiner, join_session);
  read_report(&joiner, line, sizeof line);
  ASSERT_STR_EQ(want, line);                   /* same store, joined: 0 */
  ASSERT_EQ(0, finish(&joiner));
  ASSERT_EQ(0, finish(&holder));
  assert_missing(in(store, "session.00"));
}

/* What one process of the user finds; its session's start code. */
static int one_process(char *line, size_t cap) {
  fork_as_user(&holder, report_and_start);
  read_report(&holder, line, cap);
  return finish(&holder);
}

static void clear_location_env(void) {
  rmt_setenv("RESTARTMGR_STATE_DIR", NULL);
  rmt_setenv("XDG_RUNTIME_DIR", NULL);
  rmt_setenv("XDG_STATE_HOME", NULL);
}

/* }=====
 * {===== Cases */

/* No XDG_STATE_HOME: HOME/.local/state/restartmgr, made with its missing
 * parents, each 0700 and the user's. */
static void home_store_is_made_and_shared(void) {
  const char *local, *state, *store;
  if (make_user()) return;
  local = in(user.home, ".local");
  state = in(local, "state");
  store = in(state, "restartmgr");
  clear_location_env();
  two_processes_share(store, 0);
  assert_users_dir(local, 0700);
  assert_users_dir(state, 0700);
  assert_users_dir(user.home, 0755);           /* the home itself untouched */
  assert_missing(user_tmp_store);
  /* An existing ~/.local of the user's, as a desktop makes it (0755),
   * is used as it is. */
  rmt_remove_tree(local);
  mkdir_of(local, 0755, user.uid);
  two_processes_share(store, 0);
  assert_users_dir(local, 0755);
  assert_users_dir(state, 0700);
  clear_location_env();
}

/* XDG_STATE_HOME a directory of the user's: its restartmgr, and the home
 * is not touched.  Set but unusable (another user's, missing): skipped,
 * not created, and the home store is next.  Relative: ignored. */
static void state_home_comes_first(void) {
  const char *state, *theirs, *missing, *store;
  char line[300], slashed[200];
  if (make_user()) return;
  state = mkdir_of(in(user.base, "state"), 0700, user.uid);
  theirs = mkdir_of(in(user.base, "theirs"), 0755, OTHER);
  missing = in(user.base, "missing");
  store = in(user.home, ".local/state/restartmgr");
  clear_location_env();
  rmt_setenv("XDG_STATE_HOME", state);
  two_processes_share(in(state, "restartmgr"), 0);
  assert_missing(in(user.home, ".local"));
  /* A trailing slash names the same directory, and the same path. */
  snprintf(slashed, sizeof slashed, "%s/", state);
  rmt_setenv("XDG_STATE_HOME", slashed);
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(0, in(state, "restartmgr")), line);
  rmt_setenv("XDG_STATE_HOME", in(user.base, "state//"));
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(0, in(state, "restartmgr")), line);
  rmt_setenv("XDG_STATE_HOME", theirs);
  two_processes_share(store, RM_STORE_SKIPPED_STATE_HOME);
  assert_missing(in(theirs, "restartmgr"));
  rmt_setenv("XDG_STATE_HOME", missing);
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(RM_STORE_SKIPPED_STATE_HOME, store), line);
  assert_missing(missing);
  rmt_setenv("XDG_STATE_HOME", "state");
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(0, store), line);
  /* The whole chain: a runtime dir not the user's, the state home
   * another user's, then the home; a relative runtime dir is ignored. */
  rmt_setenv("XDG_RUNTIME_DIR", theirs);
  rmt_setenv("XDG_STATE_HOME", theirs);
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(RM_STORE_SKIPPED_RUNTIME_DIR |
                           RM_STORE_SKIPPED_STATE_HOME, store), line);
  rmt_setenv("XDG_RUNTIME_DIR", "run");
  rmt_setenv("XDG_STATE_HOME", NULL);
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(0, store), line);
  /* An explicit store with a trailing slash: the path without it. */
  rmt_setenv("RESTARTMGR_STATE_DIR", in(state, "explicit/"));
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(0, in(state, "explicit")), line);
  assert_users_dir(in(state, "explicit"), 0700);
  clear_location_env();
}

/* Another user squats the way to the home store: the user skips it
 * (RM_STORE_SKIPPED_HOME) to /tmp/restartmgr-UID, where every process of
 * the user meets; once the squat is gone, the home store again. */
static void squatted_home_store_is_skipped(void) {
  const char *local, *store, *elsewhere;
  char line[300];
  if (make_user()) return;
  local = in(user.home, ".local");
  store = in(local, "state/restartmgr");
  elsewhere = mkdir_of(in(user.base, "elsewhere"), 0700, user.uid);
  clear_location_env();
  /* ~/.local a directory of another user's (root lets it be made there). */
  mkdir_of(local, 0755, OTHER);
  two_processes_share(user_tmp_store, RM_STORE_SKIPPED_HOME);
  assert_missing(in(local, "state"));
  rmt_remove_tree(user_tmp_store);
  rmdir(local);
  /* ~/.local a symlink of another user's, to a place of the user's. */
  symlink_of(elsewhere, local, OTHER);
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(RM_STORE_SKIPPED_HOME, user_tmp_store), line);
  assert_missing(in(elsewhere, "state"));
  ASSERT_EQ(0, unlink(local));
  /* ~/.local the user's, but its state a symlink (even the user's own:
   * restartmgr's components are never followed). */
  mkdir_of(local, 0700, user.uid);
  symlink_of(elsewhere, in(local, "state"), user.uid);
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(RM_STORE_SKIPPED_HOME, user_tmp_store), line);
  assert_missing(in(elsewhere, "restartmgr"));
  ASSERT_EQ(0, unlink(in(local, "state")));
  /* The home writable by the group: others could rename .local away. */
  ASSERT_EQ(0, chmod(user.home, 0775));
  ASSERT_EQ(0, one_process(line, sizeof line));
  ASSERT_STR_EQ(store_line(RM_STORE_SKIPPED_HOME, user_tmp_store), line);
  /* No squat left: home again (the /tmp store stays, unused). */
  ASSERT_EQ(0, chmod(user.home, 0755));
  two_processes_share(store, 0);
  clear_location_env();
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  signal(SIGPIPE, SIG_IGN);          /* "go on" to a child that has exited */
  RUN(home_store_is_made_and_shared);
  RUN(state_home_comes_first);
  RUN(squatted_home_store_is_skipped);
  return rmt_finish();
}

