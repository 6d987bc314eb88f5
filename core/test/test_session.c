/* SPDX-License-Identifier: MIT */
/*
 * test_session.c: sessions, roles, registration and the shared store,
 * through the public API, with real second processes (this executable
 * re-run as a child).
 */
#include "test.h"
#include "internal.h"

#include <ctype.h>

/* {===== Children: this executable re-run with --child MODE ... */

static int child_main(char **args) {
  const char *mode = args[0];
  uint32_t h, rc;
  char key[33];
  if (strcmp(mode, "start") == 0) {           /* start, print key, wait */
    rc = rm_start_session(&h, 0, key);
    if (rc != RM_OK) { printf("error %u\n", (unsigned)rc); return 1; }
    printf("%s %u\n", key, (unsigned)h);
    for (;;) rmt_sleep_ms(1000);
  }
  if (strcmp(mode, "start-many") == 0) {      /* start N sessions, wait */
    int i, n = atoi(args[1]);
    for (i = 0; i < n; i++) {
      rc = rm_start_session(&h, 0, key);
      if (rc != RM_OK) { printf("error %u\n", (unsigned)rc); return 1; }
    }
    printf("ok\n");
    for (;;) rmt_sleep_ms(1000);
  }
  if (strcmp(mode, "join-register") == 0) {   /* join KEY, register files */
    int i, n = atoi(args[2]);
    rc = rm_join_session(&h, args[1]);
    if (rc != RM_OK) { printf("error %u\n", (unsigned)rc); return 1; }
    for (i = 0; i < n; i++) {
      char path[64];
      const char *files[1];
      snprintf(path, sizeof path, "/child-%ld/file%d", rmt_self_pid(), i);
      files[0] = path;
      rc = rm_register_resources(h, 1, files, 0, NULL, 0, NULL);
      if (rc != RM_OK) { printf("error %u\n", (unsigned)rc); return 1; }
    }
    rc = rm_end_session(h);
    printf("done %u\n", (unsigned)rc);
    return rc == RM_OK ? 0 : 1;
  }
  if (strcmp(mode, "join") == 0) {            /* join KEY, print result */
    rc = rm_join_session(&h, args[1]);
    printf("%u\n", (unsigned)rc);
    if (rc == RM_OK) rm_end_session(h);
    return 0;
  }
  if (strcmp(mode, "hold-lock") == 0) {       /* take the store lock, wait */
    rm__dir *d;
    if (rm__os_store_open(&d) != RM_OK || rm__os_store_lock(d, 1000) != RM_OK) {
      printf("error\n");
      return 1;
    }
    printf("locked\n");
    for (;;) rmt_sleep_ms(1000);
  }
  if (strcmp(mode, "register-loop") == 0) {   /* join KEY, register forever */
    int i;
    rc = rm_join_session(&h, args[1]);
    if (rc != RM_OK) return 1;
    printf("ready\n");
    for (i = 0;; i++) {
      char path[64];
      const char *files[1];
      snprintf(path, sizeof path, "/loop/file%d", i);
      files[0] = path;
      rm_register_resources(h, 1, files, 0, NULL, 0, NULL);
    }
  }
  return 2;
}

/* }=====
 * {===== Helpers */

/* The session record behind a handle, read through the engine. */
static void load_record(uint32_t handle, rm__record *r) {
  rm__handle *h;
  ASSERT_OK(rm__enter(handle, 0, 0, &h));
  ASSERT_OK(rm__load(h, r));
  rm__leave(h, 0);
}

static unsigned slot_of(uint32_t handle) {
  rm__handle *h;
  unsigned slot;
  ASSERT_OK(rm__enter(handle, 0, 0, &h));
  slot = h->slot;
  rm__leave(h, 0);
  return slot;
}

static int record_has_file(const rm__record *r, const char *path) {
  size_t i;
  for (i = 0; i < r->files.n; i++)
    if (strcmp(r->files.v[i], path) == 0) return 1;
  return 0;
}

static void spawn_child_line(rmt_child *c, const char *a1, const char *a2,
                             const char *a3, char *line, size_t cap) {
  ASSERT_EQ(0, rmt_spawn_self(c, a1, a2, a3));
  ASSERT_EQ(0, rmt_read_line(c, line, cap, 20000));
}

/* }=====
 * {===== Cases */

static void first_handle_is_zero_and_key_is_hex(void) {
  uint32_t h = 12345;
  char key[33];
  int i;
  rmt_fresh_store();
  memset(key, 0xFF, sizeof key);
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(0, h);
  ASSERT_EQ(0, key[32]);
  ASSERT_EQ(32, strlen(key));
  for (i = 0; i < 32; i++)
    ASSERT(isxdigit((unsigned char)key[i]) && !isupper((unsigned char)key[i]));
  ASSERT_OK(rm_end_session(h));
}

static void two_sessions_differ(void) {
  uint32_t h1, h2;
  char k1[33], k2[33];
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h1, 0, k1));
  ASSERT_OK(rm_start_session(&h2, 0, k2));
  ASSERT(h1 != h2);
  ASSERT(strcmp(k1, k2) != 0);
  ASSERT(slot_of(h1) != slot_of(h2));
  ASSERT_OK(rm_end_session(h2));
  ASSERT_OK(rm_end_session(h1));
}

static void start_rejects_bad_arguments(void) {
  uint32_t h;
  char key[33];
  rmt_fresh_store();
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_start_session(NULL, 0, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_start_session(&h, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_start_session(&h, 1, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_start_session(&h, 0x80000000u, key));
}

static void ended_and_unknown_handles_are_invalid(void) {
  uint32_t h, need = 0;
  unsigned n = 0, needed = 0;
  uint32_t reasons = 0;
  char key[33];
  const char *file = "/x";
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_end_session(h));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_get_list(h, &needed, &n, NULL, &reasons));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE,
            rm_register_resources(h, 1, &file, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_get_list(0x7FFF, &needed, &n, NULL, &reasons));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_end_session(0x7FFF));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_shutdown(0x7FFF, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_restart(0x7FFF, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_cancel_current_task(0x7FFF));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_add_filter(0x7FFF, "/x", NULL, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_remove_filter(0x7FFF, "/x", NULL, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_get_filter_list(0x7FFF, NULL, 0, &need));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_set_timeouts(0x7FFF, 1, 1));
  /* A new session reusing the table entry does not revive the old handle. */
  {
    uint32_t h2;
    ASSERT_OK(rm_start_session(&h2, 0, key));
    ASSERT(h2 != h);
    ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_end_session(h));
    ASSERT_OK(rm_end_session(h2));
  }
}

static void join_from_another_process_registers(void) {
  long child_pid;
  uint32_t h;
  char key[33], line[128];
  rmt_child c;
  rm__record r;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  spawn_child_line(&c, "join-register", key, "3", line, sizeof line);
  ASSERT_STR_EQ("done 0", line);
  child_pid = c.pid;
  ASSERT_EQ(0, rmt_wait(&c, 10000));
  /* The child registered through its own handle; the primary sees it. */
  {
    const char *name = "join";
    (void)name;
  }
  load_record(h, &r);
  ASSERT_EQ(3, r.files.n);
  {
    char path[64];
    snprintf(path, sizeof path, "/child-%ld/file2", child_pid);
    ASSERT(record_has_file(&r, path));
  }
  rm__record_free(&r);
  /* The secondary ending only detached it. */
  {
    unsigned needed = 9, n = 0;
    uint32_t reasons = 9;
    ASSERT_OK(rm_get_list(h, &needed, &n, NULL, &reasons));
  }
  ASSERT_OK(rm_end_session(h));
}

static void join_rejects_bad_keys(void) {
  uint32_t h, h2;
  char key[33], upper[33];
  size_t i;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_join_session(NULL, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_join_session(&h2, NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_join_session(&h2, "0123456789abcdef0123456789abcdef"));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_join_session(&h2, ""));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_join_session(&h2, "short"));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_join_session(&h2, "zz23456789abcdef0123456789abcdef"));
  {
    char longer[40];
    snprintf(longer, sizeof longer, "%sab", key);
    ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_join_session(&h2, longer));
  }
  /* Keys compare without case. */
  for (i = 0; i < 33; i++) upper[i] = (char)toupper((unsigned char)key[i]);
  ASSERT_OK(rm_join_session(&h2, upper));
  ASSERT_OK(rm_end_session(h2));
  ASSERT_OK(rm_end_session(h));
}

static void secondary_role_is_checked(void) {
  uint32_t h, h2, need = 0;
  char key[33];
  rm_unique_process p;
  const char *file = "/opt/app/lib.so";
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_join_session(&h2, key));          /* in-process secondary */
  ASSERT(h2 != h);
  memset(&p, 0, sizeof p);
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_shutdown(h2, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_restart(h2, 0, NULL, NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_cancel_current_task(h2));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_add_filter(h2, NULL, &p, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_remove_filter(h2, NULL, &p, NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_get_filter_list(h2, NULL, 0, &need));
  /* Secondaries may register and list. */
  ASSERT_OK(rm_register_resources(h2, 1, &file, 0, NULL, 0, NULL));
  {
    unsigned needed = 0, n = 0;
    uint32_t reasons = 0;
    ASSERT_OK(rm_get_list(h2, &needed, &n, NULL, &reasons));
  }
  /* Ending the secondary leaves the primary's session alone. */
  ASSERT_OK(rm_end_session(h2));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_end_session(h2));
  {
    rm__record r;
    load_record(h, &r);
    ASSERT(record_has_file(&r, file));
    rm__record_free(&r);
  }
  ASSERT_OK(rm_end_session(h));
}

static void primary_end_invalidates_secondaries(void) {
  uint32_t h, h2;
  char key[33];
  const char *file = "/a";
  unsigned needed = 0, n = 0;
  uint32_t reasons = 0;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_join_session(&h2, key));
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE,
            rm_register_resources(h2, 1, &file, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_get_list(h2, &needed, &n, NULL, &reasons));
  ASSERT_OK(rm_end_session(h2));               /* detaching still works */
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_join_session(&h2, key));
}

static void abandoned_session_cannot_be_joined_and_slot_is_reused(void) {
  uint32_t h;
  char key[33], line[128], child_key[33];
  unsigned child_handle = 99;
  rmt_child c, j;
  rmt_fresh_store();
  spawn_child_line(&c, "start", NULL, NULL, line, sizeof line);
  ASSERT_EQ(2, sscanf(line, "%32s %u", child_key, &child_handle));
  ASSERT_EQ(0, child_handle);
  /* While the owner lives, the key joins. */
  spawn_child_line(&j, "join", child_key, NULL, line, sizeof line);
  ASSERT_STR_EQ("0", line);
  rmt_wait(&j, 10000);
  rmt_kill(&c);                                /* the owner dies */
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_join_session(&h, child_key));
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(0, slot_of(h));                    /* the abandoned slot, reused */
  ASSERT(strcmp(key, child_key) != 0);
  ASSERT_OK(rm_end_session(h));
}

static void sixty_four_live_sessions_per_user(void) {
  uint32_t handles[RM_MAX_SESSIONS + 1], h;
  char key[33], line[64];
  rmt_child a, b;
  int i;
  rmt_fresh_store();
  /* 32 here, 16 in each of two other processes. */
  spawn_child_line(&a, "start-many", "16", NULL, line, sizeof line);
  ASSERT_STR_EQ("ok", line);
  spawn_child_line(&b, "start-many", "16", NULL, line, sizeof line);
  ASSERT_STR_EQ("ok", line);
  for (i = 0; i < 32; i++) ASSERT_OK(rm_start_session(&handles[i], 0, key));
  ASSERT_EQ(RM_ERROR_MAX_SESSIONS_REACHED, rm_start_session(&h, 0, key));
  /* Ending one frees one. */
  ASSERT_OK(rm_end_session(handles[31]));
  ASSERT_OK(rm_start_session(&handles[31], 0, key));
  ASSERT_EQ(RM_ERROR_MAX_SESSIONS_REACHED, rm_start_session(&h, 0, key));
  /* Sessions of dead owners are abandoned and their slots reused. */
  rmt_kill(&a);
  for (i = 32; i < 48; i++) ASSERT_OK(rm_start_session(&handles[i], 0, key));
  ASSERT_EQ(RM_ERROR_MAX_SESSIONS_REACHED, rm_start_session(&h, 0, key));
  for (i = 0; i < 48; i++) ASSERT_OK(rm_end_session(handles[i]));
  rmt_kill(&b);
}

static void concurrent_registrations_lose_nothing(void) {
  uint32_t h;
  char key[33], line[64];
  rmt_child c[4];
  rm__record r;
  int i, k;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  /* Four processes register 40 files each, one call per file, at once;
   * each names its files after its pid. */
  for (i = 0; i < 4; i++)
    ASSERT_EQ(0, rmt_spawn_self(&c[i], "join-register", key, "40"));
  for (i = 0; i < 4; i++) {
    ASSERT_EQ(0, rmt_read_line(&c[i], line, sizeof line, 60000));
    ASSERT_STR_EQ("done 0", line);
  }
  load_record(h, &r);
  ASSERT_EQ(160, r.files.n);
  for (i = 0; i < 4; i++)
    for (k = 0; k < 40; k++) {
      char path[64];
      snprintf(path, sizeof path, "/child-%ld/file%d", c[i].pid, k);
      ASSERT(record_has_file(&r, path));
    }
  rm__record_free(&r);
  for (i = 0; i < 4; i++) ASSERT_EQ(0, rmt_wait(&c[i], 10000));
  ASSERT_OK(rm_end_session(h));
}

static void stale_lock_holder_times_out(void) {
  uint32_t h;
  char key[33], line[64];
  const char *file = "/f";
  rmt_child c;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  rmt_setenv("RESTARTMGR_LOCK_TIMEOUT_MS", "300");
  spawn_child_line(&c, "hold-lock", NULL, NULL, line, sizeof line);
  ASSERT_STR_EQ("locked", line);
  {
    uint32_t h2;
    char k2[33];
    ASSERT_EQ(RM_ERROR_SEM_TIMEOUT, rm_start_session(&h2, 0, k2));
  }
  ASSERT_EQ(RM_ERROR_SEM_TIMEOUT,
            rm_register_resources(h, 1, &file, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_SEM_TIMEOUT, rm_end_session(h));
  rmt_kill(&c);                                /* the lock dies with it */
  ASSERT_OK(rm_register_resources(h, 1, &file, 0, NULL, 0, NULL));
  ASSERT_OK(rm_end_session(h));
  rmt_setenv("RESTARTMGR_LOCK_TIMEOUT_MS", NULL);
}

static void register_validates_everything_first(void) {
  uint32_t h;
  char key[33];
  rm__record r;
  static char long_path[RM_PATH_MAX + 2];
  const char *good[2] = { "/opt/a", "/opt/b" };
  const char *relative[2] = { "/opt/c", "relative/d" };
  const char *bad_utf8[1] = { "/opt/\xff\xfe" };
  const char *overlong[1] = { "/opt/\xc0\xaf" };
  const char *too_long[1] = { long_path };
  const char *null_elem[2] = { "/opt/e", NULL };
  const char *svc_bad[1] = { "a/b" };
  const char *svc_empty[1] = { "" };
  const char *svc_good[1] = { "sshd" };
  rm_unique_process p = { 1, 2 };
  memset(long_path, 'a', sizeof long_path - 1);
  long_path[0] = '/';
  long_path[sizeof long_path - 1] = 0;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 1, NULL, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 0, NULL, 1, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 0, NULL, 0, NULL, 1, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 2, relative, 1, &p, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 1, bad_utf8, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 1, overlong, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 1, too_long, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 2, null_elem, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 1, good, 0, NULL, 1, svc_bad));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_resources(h, 0, NULL, 0, NULL, 1, svc_empty));
  load_record(h, &r);                          /* nothing of those calls */
  ASSERT_EQ(0, r.files.n);
  ASSERT_EQ(0, r.n_procs);
  ASSERT_EQ(0, r.services.n);
  rm__record_free(&r);
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 0, NULL));   /* no-op */
  ASSERT_OK(rm_register_resources(h, 2, good, 1, &p, 1, svc_good));
  ASSERT_OK(rm_register_resources(h, 2, good, 1, &p, 1, svc_good)); /* again */
  long_path[RM_PATH_MAX] = 0;                  /* exactly the limit */
  ASSERT_OK(rm_register_resources(h, 1, too_long, 0, NULL, 0, NULL));
  load_record(h, &r);
  ASSERT_EQ(3, r.files.n);
  ASSERT_STR_EQ("/opt/a", r.files.v[0]);
  ASSERT_STR_EQ("/opt/b", r.files.v[1]);
  ASSERT_EQ(1, r.n_procs);
  ASSERT_EQ(1, r.procs[0].pid);
  ASSERT_EQ(2, r.procs[0].start_time);
  ASSERT_EQ(1, r.services.n);
  ASSERT_STR_EQ("sshd", r.services.v[0]);
  rm__record_free(&r);
  ASSERT_OK(rm_end_session(h));
}

static void hostile_store_files_are_survived(void) {
  uint32_t h, h2;
  char key[33], path[700];
  const char *store = rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));      /* creates the store */
  ASSERT_OK(rm_end_session(h));
  /* Garbage in slot 0 and a truncated record in slot 1. */
  snprintf(path, sizeof path, "%s/session.00", store);
  ASSERT_EQ(0, rmt_write_file(path, "not a session\n"));
  snprintf(path, sizeof path, "%s/session.01", store);
  ASSERT_EQ(0, rmt_write_file(path, "restartmgr-session 1\nkey 0123456789abcdef0123456789abcdef\nowner 1 0\n"));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_join_session(&h2, "0123456789abcdef0123456789abcdef"));
  ASSERT_OK(rm_start_session(&h, 0, key));      /* reclaims slot 0 */
  ASSERT_EQ(0, slot_of(h));
  ASSERT_OK(rm_start_session(&h2, 0, key));     /* and slot 1 */
  ASSERT_EQ(1, slot_of(h2));
  ASSERT_OK(rm_end_session(h2));
  ASSERT_OK(rm_end_session(h));
}

static void record_text_round_trips(void) {
  rm__record r, back;
  char *text;
  size_t len;
  static char *argv[] = { (char *)(uintptr_t)"/bin/app", (char *)(uintptr_t)"a b", (char *)(uintptr_t)"", NULL };
  static char *envp[] = { (char *)(uintptr_t)"X=1%\n2", NULL };
  memset(&r, 0, sizeof r);
  memcpy(r.key, "00112233445566778899aabbccddeeff", 33);
  r.owner.pid = 42;
  r.owner.start_time = 123456789012345ull;
  r.shutdown_called = 1;
  ASSERT_OK(rm__strv_push(&r.files, "/path with space/and\nnewline%"));
  ASSERT_OK(rm__strv_push(&r.services, "svc"));
  r.acted = calloc(1, sizeof *r.acted);
  r.n_acted = 1;
  r.acted[0].info.process.pid = 7;
  r.acted[0].info.app_type = RM_APP_CONSOLE;
  r.acted[0].info.app_status = RM_STATUS_STOPPED | RM_STATUS_RESTART_MASKED;
  r.acted[0].info.session_id = RM_INVALID_SESSION_ID;
  strcpy(r.acted[0].info.app_name, "caf\xc3\xa9");
  r.acted[0].launch.argv = rm__argv_dup(argv);
  r.acted[0].launch.envp = rm__argv_dup(envp);
  r.acted[0].launch.cwd = rm__strdup("/");
  ASSERT_OK(rm__record_format(&r, &text, &len));
  ASSERT_OK(rm__record_parse(text, len, &back));
  ASSERT_STR_EQ(r.key, back.key);
  ASSERT_EQ(123456789012345ull, back.owner.start_time);
  ASSERT_EQ(0, back.files.n);                 /* files live in the journal */
  {
    const char *paths[1] = { "/path with space/and\nnewline%" };
    char *jtext;
    size_t jlen;
    ASSERT_OK(rm__files_format(paths, NULL, NULL, 1, &jtext, &jlen));
    back.journal.gen = 1;
    back.journal.lines = back.journal.unique = 1;
    back.journal.bytes = jlen;
    ASSERT_OK(rm__record_parse_files(jtext, jlen, &back));
    ASSERT_STR_EQ("/path with space/and\nnewline%", back.files.v[0]);
    free(jtext);
  }
  ASSERT_EQ(1, back.n_acted);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTART_MASKED, back.acted[0].info.app_status);
  ASSERT_EQ(RM_INVALID_SESSION_ID, back.acted[0].info.session_id);
  ASSERT_STR_EQ("caf\xc3\xa9", back.acted[0].info.app_name);
  ASSERT_STR_EQ("a b", back.acted[0].launch.argv[1]);
  ASSERT_STR_EQ("", back.acted[0].launch.argv[2]);
  ASSERT(back.acted[0].launch.argv[3] == NULL);
  ASSERT_STR_EQ("X=1%\n2", back.acted[0].launch.envp[0]);
  /* Every truncation of the text is rejected, never half-read. */
  {
    size_t cut;
    for (cut = 0; cut < len; cut++) {
      rm__record t;
      ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm__record_parse(text, cut, &t));
    }
  }
  free(text);
  rm__record_free(&back);
  rm__record_free(&r);
}

static void error_names_and_identity(void) {
  rm_unique_process a, b;
  ASSERT_STR_EQ("ERROR_SUCCESS", rm_error_name(0));
  ASSERT_STR_EQ("ERROR_MORE_DATA", rm_error_name(234));
  ASSERT_STR_EQ("ERROR_SESSION_CREDENTIAL_CONFLICT", rm_error_name(1219));
  ASSERT_STR_EQ("ERROR_UNKNOWN", rm_error_name(99999));
  ASSERT(strlen(rm_strerror(RM_ERROR_FAIL_NOACTION_REBOOT)) > 10);
  ASSERT_STR_EQ(RM_VERSION_STRING, rm_version());
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_get_process_identity(1, NULL));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_get_process_identity(0, &a));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_get_process_identity(0x7FFFFFF0u, &a));
  {
    rm_unique_process self;
    rm__os_self(&self);
    ASSERT_OK(rm_get_process_identity(self.pid, &a));
    ASSERT_OK(rm_get_process_identity(self.pid, &b));
    ASSERT_EQ(self.pid, a.pid);
    ASSERT_EQ(a.start_time, b.start_time);
    ASSERT(a.start_time > 0);
  }
}

static void crash_at_any_instant_leaves_sessions_readable(void) {
  uint32_t h;
  char key[33], line[64];
  int round;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  for (round = 0; round < 8; round++) {
    rmt_child c;
    rm__record r;
    spawn_child_line(&c, "register-loop", key, NULL, line, sizeof line);
    ASSERT_STR_EQ("ready", line);
    rmt_sleep_ms(30 + (unsigned)round * 17);
    rmt_kill(&c);                            /* SIGKILL mid-write */
    load_record(h, &r);                      /* whole, never torn */
    rm__record_free(&r);
  }
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) return child_main(rmt_child_args);
  RUN(first_handle_is_zero_and_key_is_hex);
  RUN(two_sessions_differ);
  RUN(start_rejects_bad_arguments);
  RUN(ended_and_unknown_handles_are_invalid);
  RUN(join_from_another_process_registers);
  RUN(join_rejects_bad_keys);
  RUN(secondary_role_is_checked);
  RUN(primary_end_invalidates_secondaries);
  RUN(abandoned_session_cannot_be_joined_and_slot_is_reused);
  RUN(sixty_four_live_sessions_per_user);
  RUN(concurrent_registrations_lose_nothing);
  RUN(stale_lock_holder_times_out);
  RUN(register_validates_everything_first);
  RUN(hostile_store_files_are_survived);
  RUN(record_text_round_trips);
  RUN(error_names_and_identity);
  RUN(crash_at_any_instant_leaves_sessions_readable);
  return rmt_finish();
}
