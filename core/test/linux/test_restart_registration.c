/* SPDX-License-Identifier: MIT */
/*
 * test_restart_registration.c: restart registrations (the counterpart of
 * RegisterApplicationRestart): input checks (nothing bad is stored),
 * the query, ownership (another user's process is ACCESS_DENIED), their
 * lifetime (they vanish with their process), RM_RESTART_NO_PATCH, and
 * the session record fields a restart relies on.
 */
#define _GNU_SOURCE
#include "test_restart_common.h"

/* {===== Registration */

static void registration_input_is_checked_and_nothing_bad_is_stored(void) {
  static char long_path[RM_PATH_MAX + 2];
  const char *empty[] = { NULL };
  const char *relative[] = { "bin/sleep", NULL };
  const char *bad_utf8[] = { "/bin/sl\xff" "eep", NULL };
  const char *bad_arg[] = { "/bin/sleep", "\xc3(", NULL };
  const char *too_long[] = { long_path, NULL };
  const char *good[] = { "/bin/sleep", "5", NULL };
  rm_restart_registration *r = NULL;
  rm_unique_process self;
  uint32_t pid = (uint32_t)getpid();
  rmt_fresh_store();
  memset(long_path, 'a', sizeof long_path - 1);
  long_path[0] = '/';
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_application_restart(empty, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_application_restart(relative, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_application_restart(bad_utf8, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_application_restart(bad_arg, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_application_restart(too_long, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_application_restart(good, 0x10));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_process_restart(NULL, good, "relative/dir", 0));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_get_application_restart(pid, &r));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_get_application_restart(pid, NULL));

  ASSERT_OK(rm_register_application_restart(good, RM_RESTART_NO_CRASH));
  ASSERT_OK(rm_get_application_restart(pid, &r));
  ASSERT_OK(rm_get_process_identity(pid, &self));
  ASSERT_EQ(self.start_time, r->process.start_time);
  ASSERT_STR_EQ("/bin/sleep", r->argv[0]);
  ASSERT_STR_EQ("5", r->argv[1]);
  ASSERT(r->argv[2] == NULL && r->cwd == NULL);
  ASSERT_EQ(RM_RESTART_NO_CRASH, r->flags);
  rm_free_application_restart(r);
  /* A rejected call leaves the earlier registration as it was. */
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_application_restart(relative, 0));
  ASSERT_OK(rm_register_process_restart(NULL, good, "/tmp/a dir", 0));
  ASSERT_OK(rm_get_application_restart(pid, &r));
  ASSERT_STR_EQ("/tmp/a dir", r->cwd);
  ASSERT_EQ(0, r->flags);
  rm_free_application_restart(r);
  ASSERT_OK(rm_register_application_restart(NULL, 0));       /* removes */
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_get_application_restart(pid, &r));
  rm_free_application_restart(NULL);
}

static void registration_vanishes_with_its_process(void) {
  const char *good[] = { "/bin/sleep", "5", NULL };
  static rmt_child c;
  rm_unique_process p, self;
  rm_restart_registration *r = NULL;
  char *data = NULL;
  size_t len = 0;
  rm__dir *d;
  rmt_fresh_store();
  APP(&c, &p, "--keep-session");
  ASSERT_OK(rm_register_process_restart(&p, good, NULL, 0));
  ASSERT_OK(rm_get_application_restart(p.pid, &r));
  rm_free_application_restart(r);
  rmt_kill(&c);
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_get_application_restart(p.pid, &r));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND,
            rm_register_process_restart(&p, good, NULL, 0));
  /* The next write drops it from the store. */
  ASSERT_OK(rm_register_application_restart(good, 0));
  ASSERT_OK(rm__os_store_open(&d));
  ASSERT_OK(rm__os_store_read(d, "restarts", &data, &len));
  rm__os_store_close(d);
  rm__os_self(&self);
  {
    char mine[64], theirs[64];
    snprintf(mine, sizeof mine, "reg %u %llu ", (unsigned)self.pid,
             (unsigned long long)self.start_time);
    snprintf(theirs, sizeof theirs, "reg %u %llu ", (unsigned)p.pid,
             (unsigned long long)p.start_time);
    ASSERT(strstr(data, mine) != NULL);
    ASSERT(strstr(data, theirs) == NULL);
  }
  free(data);
  ASSERT_OK(rm_register_application_restart(NULL, 0));
}

/* RM_RESTART_NO_PATCH: "do not restart me after an update". */
static void no_patch_registration_is_not_restartable(void) {
  const char *good[] = { "/bin/sleep", "5", NULL };
  const char *file;
  static rmt_child c;
  rm_unique_process p;
  alist l;
  uint32_t h;
  rmt_fresh_store();
  file = temp_file("held");
  APP(&c, &p, "--hold", file);
  h = session_with_file(file, 5000, 5000);
  alist_now(h, &l);
  ASSERT_EQ(1, l.v[0].info.restartable);
  alist_free(&l);
  ASSERT_OK(rm_register_process_restart(&p, good, NULL, RM_RESTART_NO_PATCH));
  alist_now(h, &l);
  ASSERT_EQ(0, l.v[0].info.restartable);
  alist_free(&l);
  ASSERT_OK(rm_end_session(h));
  rmt_kill(&c);
}

/* Child: as nobody (when root), register a restart for pid 1. */
static int child_register_for_pid1(void) {
  const char *good[] = { "/bin/true", NULL };
  rm_unique_process init;
  if (geteuid() == 0 && (setgroups(0, NULL) != 0 ||
                         setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
                         setresuid(NOBODY, NOBODY, NOBODY) != 0))
    return 3;
  if (rm_get_process_identity(1, &init) != RM_OK) return 4;
  printf("%u\n", (unsigned)rm_register_process_restart(&init, good, NULL, 0));
  return 0;
}

static void registering_for_another_users_process_is_denied(void) {
  static rmt_child c;
  char line[64];
  rmt_fresh_store();
  ASSERT_EQ(0, rmt_spawn_self(&c, "register-pid1", NULL, NULL));
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 10000));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, strtoul(line, NULL, 10));
  ASSERT_EQ(0, rmt_wait(&c, 10000));
}

/* The session record keeps what a restart needs: the executable by
 * identity, the supplementary groups, the worker link and the outcome. */
static void record_keeps_restart_details(void) {
  rm__record r, back;
  rm__acted a;
  char *text = NULL, *argv[] = { (char *)(uintptr_t)"/bin/x y", NULL },
       *envp[] = { (char *)(uintptr_t)"A=b c", NULL };
  uint32_t groups[] = { 4242, 0, 4294967295u };
  size_t len = 0;
  memset(&r, 0, sizeof r);
  memset(&a, 0, sizeof a);
  memset(r.key, 'a', RM_SESSION_KEY_CHARS);
  a.info.process.pid = 7;
  a.info.process.start_time = 99;
  a.info.app_status = RM_STATUS_STOPPED | RM_STATUS_ERROR_ON_RESTART;
  a.info.restartable = 1;
  a.through.pid = 6;
  a.through.start_time = 98;
  a.outcome.failure = RM_RESTART_FAILED_EXITED;
  a.outcome.error = -9;
  a.outcome.notes = RM_RESTART_NOTE_CWD_ROOT;
  a.launch.argv = argv;
  a.launch.envp = envp;
  a.launch.cwd = (char *)(uintptr_t)"/w d";
  a.launch.exe = (char *)(uintptr_t)"/usr/bin/x y";
  a.launch.exe_id.dev = 2049;
  a.launch.exe_id.ino = 1234567890123ull;
  a.launch.groups = groups;
  a.launch.n_groups = 3;
  a.launch.notes = RM_RESTART_NOTE_REGISTERED;
  a.launch.uid = 65534;
  a.launch.gid = 65533;
  r.acted = &a;
  r.n_acted = 1;
  ASSERT_OK(rm__record_format(&r, &text, &len));
  ASSERT_OK(rm__record_parse(text, len, &back));
  ASSERT_EQ(1, back.n_acted);
  ASSERT_EQ(6, back.acted[0].through.pid);
  ASSERT_EQ(98, back.acted[0].through.start_time);
  ASSERT_EQ(RM_RESTART_FAILED_EXITED, back.acted[0].outcome.failure);
  ASSERT_EQ(-9, back.acted[0].outcome.error);
  ASSERT_EQ(RM_RESTART_NOTE_CWD_ROOT, back.acted[0].outcome.notes);
  ASSERT_STR_EQ("/usr/bin/x y", back.acted[0].launch.exe);
  ASSERT_EQ(2049, back.acted[0].launch.exe_id.dev);
  ASSERT_EQ(1234567890123ull, back.acted[0].launch.exe_id.ino);
  ASSERT_EQ(RM_RESTART_NOTE_REGISTERED, back.acted[0].launch.notes);
  ASSERT_EQ(3, back.acted[0].launch.n_groups);
  ASSERT_EQ(4294967295u, back.acted[0].launch.groups[2]);
  ASSERT_STR_EQ("/w d", back.acted[0].launch.cwd);
  ASSERT_STR_EQ("A=b c", back.acted[0].launch.envp[0]);
  rm__record_free(&back);
  /* An exe line that belongs to no launch is a corrupt record. */
  {
    const char *bad = strstr(text, "launch ");
    char *broken = malloc(len + 1);
    size_t at = (size_t)(bad - text);
    ASSERT(bad && broken);
    memcpy(broken, text, at);
    memcpy(broken + at, "exe 1 2 0 0 :/x\n", 16);
    memcpy(broken + at + 16, "end\n", 5);
    ASSERT_EQ(RM_ERROR_WRITE_FAULT,
              rm__record_parse(broken, at + 20, &back));
    free(broken);
  }
  free(text);
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args && rmt_child_args[0] &&
      strcmp(rmt_child_args[0], "register-pid1") == 0)
    return child_register_for_pid1();
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  /* Root relaunching root drops glibc's unsecvars, which would add
   * RM_RESTART_NOTE_ENV_SANITIZED to the exact notes checked here. */
  rmt_setenv("TMPDIR", NULL);
  rmt_setenv("LD_PRELOAD", NULL);
  rmt_setenv("LD_LIBRARY_PATH", NULL);
  RUN(registration_input_is_checked_and_nothing_bad_is_stored);
  RUN(registration_vanishes_with_its_process);
  RUN(no_patch_registration_is_not_restartable);
  RUN(registering_for_another_users_process_is_denied);
  RUN(record_keeps_restart_details);
  return rmt_finish();
}
