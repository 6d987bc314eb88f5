/*
 * test_store_linux.c: the Linux store's safety rules, with real
 * permissions, real other users (as root, a child drops to uid 65534) and
 * real threads.
 */
#define _GNU_SOURCE
#include "test.h"
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#define NOBODY 65534

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

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(store_is_private);
  RUN(unsafe_store_directories_are_refused);
  RUN(store_of_another_user_is_refused);
  RUN(unwritable_store_gives_write_fault);
  RUN(symlinked_session_file_is_not_followed);
  RUN(xdg_runtime_dir_is_the_default);
  RUN(threads_share_the_api_safely);
  return rmt_finish();
}
