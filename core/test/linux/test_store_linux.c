/* SPDX-License-Identifier: MIT */
/*
 * test_store_linux.c: the Linux store's safety rules, with real
 * permissions, real other users (as root, a child drops to uid 65534) and
 * real threads.
 */
#define _GNU_SOURCE
#include "test.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#define NOBODY 65534
#define OTHER 65533                 /* a second unprivileged user */

/* Runs fn in a child that dropped to uid/gid NOBODY; returns its exit
 * code (fn's return value), or -1. */
static int as_nobody(int (*fn)(void)) {
  int status;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) != 0)
      _exit(200);
    _exit(fn());
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int start_code(void) {
  uint32_t h;
  char key[33];
  uint32_t rc = rm_start_session(&h, 0, key);
  if (rc == RM_OK) rm_end_session(h);
  return (int)(rc & 0xFF);     /* exit codes are 8 bits: 29 stays 29 */
}

static void store_is_private(void) {
  const char *store = rmt_fresh_store();
  uint32_t h;
  char key[33], path[700];
  struct stat st;
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(0, stat(store, &st));
  ASSERT_EQ(0700, st.st_mode & 0777);
  ASSERT_EQ(geteuid(), st.st_uid);
  snprintf(path, sizeof path, "%s/session.00", store);
  ASSERT_EQ(0, lstat(path, &st));
  ASSERT(S_ISREG(st.st_mode));
  ASSERT_EQ(0600, st.st_mode & 0777);
  ASSERT_OK(rm_end_session(h));
  ASSERT(lstat(path, &st) != 0);           /* the primary's end removes it */
}

static void unsafe_store_directories_are_refused(void) {
  const char *dir = rmt_tempdir();
  char store[700], link[700];
  uint32_t h;
  char key[33];
  snprintf(store, sizeof store, "%s/store", dir);
  ASSERT_EQ(0, mkdir(store, 0700));
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  ASSERT_EQ(0, chmod(store, 0777));           /* world-writable */
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  ASSERT_EQ(0, chmod(store, 0770));           /* group-writable */
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  ASSERT_EQ(0, chmod(store, 0700));
  snprintf(link, sizeof link, "%s/link", dir); /* reached through a symlink */
  ASSERT_EQ(0, symlink(store, link));
  rmt_setenv("RESTARTMGR_STATE_DIR", link);
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  rmt_setenv("RESTARTMGR_STATE_DIR", "relative/store");
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
}

static void store_of_another_user_is_refused(void) {
  const char *dir = rmt_tempdir();
  char store[700];
  uint32_t h;
  char key[33];
  if (geteuid() != 0) {
    /* /tmp belongs to root: another user's directory for us. */
    rmt_setenv("RESTARTMGR_STATE_DIR", "/tmp");
    ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
    printf("note: not root; checked against root's /tmp only\n");
    return;
  }
  snprintf(store, sizeof store, "%s/store", dir);
  ASSERT_EQ(0, mkdir(store, 0700));
  ASSERT_EQ(0, chown(store, NOBODY, NOBODY));
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  /* And the other way round: nobody refuses root's store. */
  ASSERT_EQ(0, chown(store, 0, 0));
  ASSERT_EQ(0, chmod(dir, 0755));
  ASSERT_EQ((int)RM_ERROR_WRITE_FAULT, as_nobody(start_code));
}

static void unwritable_store_gives_write_fault(void) {
  const char *dir = rmt_tempdir();
  char store[700];
  uint32_t h;
  char key[33];
  snprintf(store, sizeof store, "%s/store", dir);
  ASSERT_EQ(0, mkdir(store, 0500));
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  if (geteuid() != 0) {
    ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
    return;
  }
  /* Root writes anywhere: let the store's owner, nobody, try. */
  ASSERT_EQ(0, chown(store, NOBODY, NOBODY));
  ASSERT_EQ(0, chmod(dir, 0755));
  ASSERT_EQ((int)RM_ERROR_WRITE_FAULT, as_nobody(start_code));
  ASSERT_EQ(0, chmod(store, 0700));             /* writable again: works */
  ASSERT_EQ(0, as_nobody(start_code));
}

static void symlinked_session_file_is_not_followed(void) {
  const char *store = rmt_fresh_store();
  const char *dir = rmt_tempdir();
  char target[700], slot[700], buf[64];
  uint32_t h;
  char key[33];
  FILE *f;
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
  snprintf(target, sizeof target, "%s/victim", dir);
  ASSERT_EQ(0, rmt_write_file(target, "precious\n"));
  snprintf(slot, sizeof slot, "%s/session.00", store);
  ASSERT_EQ(0, symlink(target, slot));
  ASSERT_OK(rm_start_session(&h, 0, key));     /* reclaims slot 0 ... */
  ASSERT_OK(rm_end_session(h));
  f = fopen(target, "r");                       /* ... without writing there */
  ASSERT(f != NULL);
  ASSERT(fgets(buf, sizeof buf, f) != NULL);
  fclose(f);
  ASSERT_STR_EQ("precious\n", buf);
}

static void xdg_runtime_dir_is_the_default(void) {
  const char *dir = rmt_tempdir();
  char expect[700];
  uint32_t h;
  char key[33];
  struct stat st;
  rmt_setenv("RESTARTMGR_STATE_DIR", NULL);
  rmt_setenv("XDG_RUNTIME_DIR", dir);
  ASSERT_OK(rm_start_session(&h, 0, key));
  snprintf(expect, sizeof expect, "%s/restartmgr/session.00", dir);
  ASSERT_EQ(0, stat(expect, &st));
  ASSERT_OK(rm_end_session(h));
  rmt_setenv("XDG_RUNTIME_DIR", NULL);
}

static void *thread_body(void *arg) {
  int i;
  (void)arg;
  for (i = 0; i < 20; i++) {
    uint32_t h, h2;
    char key[33], path[64];
    const char *files[1];
    snprintf(path, sizeof path, "/thread/%p/%d", (void *)&h, i);
    files[0] = path;
    if (rm_start_session(&h, 0, key) != RM_OK) return (void *)1;
    if (rm_join_session(&h2, key) != RM_OK) return (void *)2;
    if (rm_register_resources(h2, 1, files, 0, NULL, 0, NULL) != RM_OK)
      return (void *)3;
    if (rm_end_session(h2) != RM_OK) return (void *)4;
    if (rm_end_session(h) != RM_OK) return (void *)5;
  }
  return NULL;
}

static void threads_share_the_api_safely(void) {
  pthread_t t[8];
  int i;
  rmt_fresh_store();
  for (i = 0; i < 8; i++) ASSERT_EQ(0, pthread_create(&t[i], NULL, thread_body, NULL));
  for (i = 0; i < 8; i++) {
    void *ret;
    ASSERT_EQ(0, pthread_join(t[i], &ret));
    ASSERT(ret == NULL);
  }
}


/* {===== Location and path checks */

/* Runs fn as uid (gid the same) in a child; what fn writes into out
 * (at most cap bytes) comes back through a pipe.  Returns fn's result,
 * or -1. */
static int run_as(uid_t uid, int (*fn)(char *out, size_t cap), char *out,
                  size_t cap) {
  int fds[2], status;
  pid_t pid;
  ssize_t got;
  if (pipe(fds) != 0) return -1;
  pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    char buf[1024] = "";
    int rc;
    close(fds[0]);
    if (uid != geteuid() &&
        (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
         setresuid(uid, uid, uid) != 0))
      _exit(200);
    rc = fn(buf, sizeof buf);
    if (write(fds[1], buf, strlen(buf)) < 0) _exit(201);
    _exit(rc);
  }
  close(fds[1]);
  got = read(fds[0], out, cap - 1);
  out[got > 0 ? got : 0] = 0;
  close(fds[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* "RC SKIPPED PATH" from rm_store_path, then a session started there. */
static int report_store(char *out, size_t cap) {
  char path[4200] = "";
  uint32_t skipped = 0, rc = rm_store_path(path, sizeof path, &skipped);
  snprintf(out, cap, "%u %u %s", (unsigned)rc, (unsigned)skipped, path);
  return start_code();
}

static void clear_location_env(void) {
  rmt_setenv("RESTARTMGR_STATE_DIR", NULL);
  rmt_setenv("XDG_RUNTIME_DIR", NULL);
  rmt_setenv("XDG_STATE_HOME", NULL);
}

static const char *sub(const char *dir, const char *name) {
  static char buf[64][700];          /* a ring: names stay valid for a case */
  static int next;
  char *b = buf[next++ % 64], copy[700];
  size_t n = strlen(dir), k = strlen(name);
  ASSERT(n + k + 2 <= sizeof copy);
  memcpy(copy, dir, n);                   /* dir may be an earlier sub() */
  copy[n] = '/';
  memcpy(copy + n + 1, name, k + 1);
  memcpy(b, copy, n + k + 2);
  return b;
}

static int skip_unless_root(void) {
  if (geteuid() == 0) return 0;
  printf("note: not root; needs other users to squat paths\n");
  return 1;
}

static void store_path_reports_the_store(void) {
  const char *store = rmt_fresh_store();
  char path[700], tiny[4];
  uint32_t skipped = 99;
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_store_path(NULL, 10, &skipped));
  ASSERT_EQ(0, skipped);
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_store_path(path, 0, NULL));
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_store_path(tiny, sizeof tiny, &skipped));
  ASSERT_OK(rm_store_path(path, sizeof path, &skipped));
  ASSERT_STR_EQ(store, path);
  ASSERT_EQ(0, skipped);
  ASSERT_OK(rm_store_path(path, sizeof path, NULL));
  rmt_setenv("RESTARTMGR_STATE_DIR", "relative/store");
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_store_path(path, sizeof path, &skipped));
  if (geteuid() != 0) return;
  /* Root's own place (only named here, no session started in it); a
   * runtime dir like /tmp, which everyone can write, is passed over. */
  clear_location_env();
  ASSERT_OK(rm_store_path(path, sizeof path, &skipped));
  ASSERT_STR_EQ("/run/restartmgr", path);
  ASSERT_EQ(0, skipped);
  rmt_setenv("XDG_RUNTIME_DIR", "/tmp");
  ASSERT_OK(rm_store_path(path, sizeof path, &skipped));
  ASSERT_STR_EQ("/run/restartmgr", path);
  ASSERT_EQ(RM_STORE_SKIPPED_RUNTIME_DIR, skipped);
  clear_location_env();
}

/* The denial of service: another user pre-creates every place the
 * victim (nobody) would use.  Each is skipped, in the documented order,
 * and the first one nobody else took is the store. */
static void squatted_candidates_are_skipped(void) {
  const char *dir = rmt_tempdir();
  const char *runtime = sub(dir, "runtime"), *state = sub(dir, "state");
  char out[1024], want[800], tmp_store[64];
  struct stat st;
  int tmp_was_there;
  if (skip_unless_root()) return;
  ASSERT_EQ(0, chmod(dir, 0755));
  /* XDG_RUNTIME_DIR not the caller's: another user's 0700 directory. */
  ASSERT_EQ(0, mkdir(runtime, 0700));
  ASSERT_EQ(0, chown(runtime, OTHER, OTHER));
  /* XDG_STATE_HOME the caller's, but restartmgr in it taken (a symlink of
   * the other user's: the victim cannot remove it from a sticky dir). */
  ASSERT_EQ(0, mkdir(state, 01777));
  ASSERT_EQ(0, chmod(state, 01777));
  ASSERT_EQ(0, symlink("/tmp", sub(state, "restartmgr")));
  ASSERT_EQ(0, lchown(sub(state, "restartmgr"), OTHER, OTHER));
  clear_location_env();
  rmt_setenv("XDG_RUNTIME_DIR", runtime);
  rmt_setenv("XDG_STATE_HOME", state);
  snprintf(tmp_store, sizeof tmp_store, "/tmp/restartmgr-%u", NOBODY);
  tmp_was_there = lstat(tmp_store, &st) == 0;
  if (!tmp_was_there) {
    /* /tmp/restartmgr-65534 taken too, as a plain file of the other user. */
    ASSERT_EQ(0, rmt_write_file(tmp_store, "squat\n"));
    ASSERT_EQ(0, chown(tmp_store, OTHER, OTHER));
    ASSERT_EQ((int)RM_ERROR_WRITE_FAULT,
              run_as(NOBODY, report_store, out, sizeof out));
    snprintf(want, sizeof want, "%u %u ", (unsigned)RM_ERROR_WRITE_FAULT,
             (unsigned)(RM_STORE_SKIPPED_RUNTIME_DIR | RM_STORE_SKIPPED_STATE_HOME |
                        RM_STORE_SKIPPED_HOME | RM_STORE_SKIPPED_TMP));
    ASSERT_STR_EQ(want, out);
    ASSERT_EQ(0, unlink(tmp_store));
    /* With /tmp free, nobody lands there and says what it skipped. */
    ASSERT_EQ(0, run_as(NOBODY, report_store, out, sizeof out));
    snprintf(want, sizeof want, "0 %u %s",
             (unsigned)(RM_STORE_SKIPPED_RUNTIME_DIR | RM_STORE_SKIPPED_STATE_HOME |
                        RM_STORE_SKIPPED_HOME), tmp_store);
    ASSERT_STR_EQ(want, out);
    ASSERT_EQ(0, lstat(tmp_store, &st));
    ASSERT_EQ(NOBODY, st.st_uid);
    ASSERT_EQ(0700, st.st_mode & 07777);
    {
      char cmd[128];
      snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_store);
      ASSERT_EQ(0, system(cmd));
    }
  } else {
    printf("note: %s exists; its squatting case skipped\n", tmp_store);
  }
  /* The state home freed: its restartmgr is created there, 0700. */
  ASSERT_EQ(0, unlink(sub(state, "restartmgr")));
  ASSERT_EQ(0, run_as(NOBODY, report_store, out, sizeof out));
  snprintf(want, sizeof want, "0 %u %s/restartmgr",
           (unsigned)RM_STORE_SKIPPED_RUNTIME_DIR, state);
  ASSERT_STR_EQ(want, out);
  /* A runtime dir that is the caller's but not 0700 is skipped too. */
  ASSERT_EQ(0, chown(runtime, NOBODY, NOBODY));
  ASSERT_EQ(0, chmod(runtime, 0755));
  ASSERT_EQ(0, run_as(NOBODY, report_store, out, sizeof out));
  ASSERT_STR_EQ(want, out);
  ASSERT_EQ(0, chmod(runtime, 0700));            /* as pam_systemd makes it */
  ASSERT_EQ(0, run_as(NOBODY, report_store, out, sizeof out));
  snprintf(want, sizeof want, "0 0 %s/restartmgr", runtime);
  ASSERT_STR_EQ(want, out);
  clear_location_env();
}

/* Every component from "/" is checked, not only the last. */
static void every_component_is_checked(void) {
  const char *dir = rmt_tempdir();
  const char *open_dir = sub(dir, "open"), *sticky = sub(dir, "sticky");
  const char *foreign = sub(dir, "foreign"), *real = sub(dir, "real");
  char out[1024];
  uint32_t h;
  char key[33];
  ASSERT_EQ(0, mkdir(open_dir, 0777));
  ASSERT_EQ(0, chmod(open_dir, 0777));          /* writable by all, no sticky */
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(open_dir, "store"));
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  ASSERT_EQ(0, chmod(open_dir, 0775));          /* writable by the group */
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  ASSERT_EQ(0, chmod(open_dir, 0755));          /* safe again */
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
  /* A sticky world-writable directory is fine: others cannot rename our
   * names in it. */
  ASSERT_EQ(0, mkdir(sticky, 01777));
  ASSERT_EQ(0, chmod(sticky, 01777));
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(sticky, "store"));
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
  /* ".." is refused, wherever it leads. */
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(sticky, "../sticky/store"));
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  /* A symlink in the named part: followed when it is the caller's (or
   * root's), and its target is checked the same way. */
  ASSERT_EQ(0, mkdir(real, 0700));
  ASSERT_EQ(0, symlink(real, sub(dir, "via")));
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(sub(dir, "via"), "store"));
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(0, symlink(open_dir, sub(dir, "to-open")));
  ASSERT_EQ(0, chmod(open_dir, 0777));
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(sub(dir, "to-open"), "store"));
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_start_session(&h, 0, key));
  ASSERT_EQ(0, chmod(open_dir, 0755));
  if (skip_unless_root()) return;
  /* A directory of another user on the way: that user could rename the
   * store away or swap an old copy in. */
  ASSERT_EQ(0, chmod(dir, 0755));
  ASSERT_EQ(0, mkdir(foreign, 0755));
  ASSERT_EQ(0, chown(foreign, OTHER, OTHER));
  ASSERT_EQ(0, mkdir(sub(foreign, "store"), 0700));
  ASSERT_EQ(0, chown(sub(foreign, "store"), NOBODY, NOBODY));
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(foreign, "store"));
  ASSERT_EQ((int)RM_ERROR_WRITE_FAULT, run_as(NOBODY, report_store, out, sizeof out));
  /* The same store under a directory of nobody's own: accepted. */
  ASSERT_EQ(0, chown(foreign, NOBODY, NOBODY));
  ASSERT_EQ(0, run_as(NOBODY, report_store, out, sizeof out));
  /* A symlink the other user owns is not followed, even to a good place. */
  ASSERT_EQ(0, symlink(foreign, sub(sticky, "link")));
  ASSERT_EQ(0, lchown(sub(sticky, "link"), OTHER, OTHER));
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(sub(sticky, "link"), "store"));
  ASSERT_EQ((int)RM_ERROR_WRITE_FAULT, run_as(NOBODY, report_store, out, sizeof out));
  ASSERT_EQ(0, lchown(sub(sticky, "link"), NOBODY, NOBODY));
  ASSERT_EQ(0, run_as(NOBODY, report_store, out, sizeof out));
  /* In a sticky directory, the next component must not be another
   * user's: a store dir the other user made there is refused. */
  ASSERT_EQ(0, mkdir(sub(sticky, "theirs"), 0755));
  ASSERT_EQ(0, chown(sub(sticky, "theirs"), OTHER, OTHER));
  rmt_setenv("RESTARTMGR_STATE_DIR", sub(sub(sticky, "theirs"), "store"));
  ASSERT_EQ((int)RM_ERROR_WRITE_FAULT, run_as(NOBODY, report_store, out, sizeof out));
  rmt_setenv("RESTARTMGR_STATE_DIR", NULL);
}

/* A record that parses only with a wrapped range check ("filter 9 9"),
 * owned by this live process: a free slot, never a live session. */
static void hostile_live_record_is_a_free_slot(void) {
  const char *store = rmt_fresh_store();
  rm_unique_process self;
  rm__handle *hp;
  char text[512];
  uint32_t h;
  char key[33];
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
  rm__os_self(&self);
  snprintf(text, sizeof text,
           "restartmgr-session 2\nkey 0123456789abcdef0123456789abcdef\n"
           "owner %u %llu\nsequence 1\nshutdown 0\n"
           "filter 9 9 0 0 :/x\nend\n",
           (unsigned)self.pid, (unsigned long long)self.start_time);
  ASSERT_EQ(0, rmt_write_file(sub(store, "session.00"), text));
  ASSERT_EQ(0, chmod(sub(store, "session.00"), 0600));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_join_session(&h, "0123456789abcdef0123456789abcdef"));
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm__enter(h, 0, 0, &hp));
  ASSERT_EQ(0, hp->slot);                        /* reclaimed */
  rm__leave(hp, 0);
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

/* {===== The file journal */

static long file_size(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? (long)st.st_size : -1;
}

static size_t loaded_files(uint32_t h, const char *must_have) {
  rm__handle *hp;
  rm__record r;
  size_t n, i;
  int found = must_have == NULL;
  ASSERT_OK(rm__enter(h, 0, 0, &hp));
  ASSERT_OK(rm__load(hp, &r));
  rm__leave(hp, 0);
  n = r.files.n;
  for (i = 0; i < n; i++)
    if (must_have && strcmp(r.files.v[i], must_have) == 0) found = 1;
  rm__record_free(&r);
  ASSERT(found);
  return n;
}

static unsigned count_names(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  struct dirent *e;
  unsigned n = 0;
  ASSERT(d != NULL);
  while ((e = readdir(d)) != NULL) n += strstr(e->d_name, part) != NULL;
  closedir(d);
  return n;
}

/* The one journal in the store (its generation is random). */
static const char *the_journal(const char *store) {
  static char path[700];
  DIR *d = opendir(store);
  struct dirent *e;
  int n = 0;
  ASSERT(d != NULL);
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, "session.00.files.", 17) == 0) {
      snprintf(path, sizeof path, "%s/%s", store, e->d_name);
      n++;
    }
  closedir(d);
  ASSERT_EQ(1, n);
  return path;
}

static void journal_survives_torn_tails_and_stays_bounded(void) {
  const char *store = rmt_fresh_store();
  const char *a = "/j/a", *b = "/j/b", *c = "/j/c";
  const char *ten[10] = { "/r/0", "/r/1", "/r/2", "/r/3", "/r/4",
                          "/r/5", "/r/6", "/r/7", "/r/8", "/r/9" };
  char journal[700];
  uint32_t h;
  char key[33];
  long committed;
  int i;
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_register_resources(h, 1, &a, 0, NULL, 0, NULL));
  ASSERT_OK(rm_register_resources(h, 1, &b, 0, NULL, 0, NULL));
  snprintf(journal, sizeof journal, "%s", the_journal(store));
  committed = file_size(journal);
  ASSERT(committed > 0);
  /* A crash after an append, before the record: bytes past the committed
   * length, which readers ignore and the next append overwrites. */
  {
    FILE *f = fopen(journal, "ab");
    ASSERT(f != NULL);
    fputs("file 0 0 :/torn/tail/never/committed\nfile 0 0 :/half", f);
    fclose(f);
  }
  ASSERT_EQ(2, loaded_files(h, b));
  ASSERT_OK(rm_register_resources(h, 1, &c, 0, NULL, 0, NULL));
  ASSERT_EQ(3, loaded_files(h, c));
  ASSERT_EQ(committed + (long)strlen("file 0 0 :/j/c\n"), file_size(journal));
  /* The same ten files, 300 times: duplicates are dropped when read, and
   * the journal is compacted (next generation) instead of growing. */
  for (i = 0; i < 300; i++)
    ASSERT_OK(rm_register_resources(h, 10, ten, 0, NULL, 0, NULL));
  ASSERT_EQ(13, loaded_files(h, "/r/9"));
  ASSERT(file_size(journal) < 0);               /* the first one is gone */
  ASSERT(file_size(the_journal(store)) < 40000);  /* the one left, small */
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(0, count_names(store, ".files."));    /* ended: nothing left */
  /* A journal whose record is gone (a crash between the two removals) is
   * removed by the next writer. */
  ASSERT_EQ(0, rmt_write_file(sub(store, "session.05.files.3"), "file 0 0 :/x\n"));
  ASSERT_EQ(0, rmt_write_file(sub(store, "restart.keep"), "other\n"));
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(0, count_names(store, ".files."));
  ASSERT(file_size(sub(store, "restart.keep")) > 0);   /* others' files stay */
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

/* {===== The lock's waiter thread and fork() */

/* A caller that timed out leaves its blocked flock() queued on a thread;
 * a child forked then has no such thread, and must not wait for it: the
 * child gets the lock as soon as the holder lets go. */
static void forked_child_does_not_wait_for_the_parents_waiter(void) {
  int to_parent[2], status;
  pid_t holder, child;
  char c;
  uint32_t h;
  char key[33];
  rmt_fresh_store();
  ASSERT_EQ(0, pipe(to_parent));
  holder = fork();
  ASSERT(holder >= 0);
  if (holder == 0) {
    rm__dir *d;
    if (rm__os_store_open(&d) != RM_OK || rm__os_store_lock(d, 1000) != RM_OK)
      _exit(1);
    if (write(to_parent[1], "L", 1) != 1) _exit(1);
    for (;;) pause();
  }
  ASSERT_EQ(1, read(to_parent[0], &c, 1));
  rmt_setenv("RESTARTMGR_LOCK_TIMEOUT_MS", "200");
  ASSERT_EQ(RM_ERROR_SEM_TIMEOUT, rm_start_session(&h, 0, key));  /* queued */
  child = fork();
  ASSERT(child >= 0);
  if (child == 0) {
    uint32_t rc;
    setenv("RESTARTMGR_LOCK_TIMEOUT_MS", "10000", 1);
    rc = rm_start_session(&h, 0, key);
    if (rc == RM_OK) rm_end_session(h);
    _exit((int)(rc & 0xFF));
  }
  rmt_sleep_ms(300);                           /* the child is waiting */
  kill(holder, SIGKILL);
  while (waitpid(holder, &status, 0) < 0 && errno == EINTR) {}
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(0, WEXITSTATUS(status));
  /* And this process, which adopts its own queued waiter, gets it too. */
  rmt_setenv("RESTARTMGR_LOCK_TIMEOUT_MS", NULL);
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
  close(to_parent[0]);
  close(to_parent[1]);
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(store_is_private);
  RUN(unsafe_store_directories_are_refused);
  RUN(store_of_another_user_is_refused);
  RUN(unwritable_store_gives_write_fault);
  RUN(symlinked_session_file_is_not_followed);
  RUN(xdg_runtime_dir_is_the_default);
  RUN(threads_share_the_api_safely);
  RUN(store_path_reports_the_store);
  RUN(squatted_candidates_are_skipped);
  RUN(every_component_is_checked);
  RUN(hostile_live_record_is_a_free_slot);
  RUN(journal_survives_torn_tails_and_stays_bounded);
  RUN(forked_child_does_not_wait_for_the_parents_waiter);
  return rmt_finish();
}
