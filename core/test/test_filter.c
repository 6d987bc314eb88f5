/* SPDX-License-Identifier: MIT */
/*
 * test_filter.c: rm_add_filter, rm_remove_filter and rm_get_filter_list
 * through the public API, with exact codes: the one-selector rule, the
 * actions, roles, last call wins, FILE_NOT_FOUND, the self-contained
 * buffer and its MORE_DATA protocol, and filters kept in the session
 * store while another process registers.  Portable (runs under Wine too).
 */
#include "test.h"

/* {===== Children: this executable re-run with --child MODE KEY */

static int child_main(char **args) {
  const char *mode = args[0];
  uint32_t h, rc;
  if (strcmp(mode, "join-register") == 0) {     /* join, register, end */
    char path[600];
    const char *files[1];
    rc = rm_join_session(&h, args[1]);
    if (rc != RM_OK) { printf("error %u\n", (unsigned)rc); return 1; }
    snprintf(path, sizeof path, "%s", args[2]);
    files[0] = path;
    rc = rm_register_resources(h, 1, files, 0, NULL, 0, NULL);
    printf("registered %u\n", (unsigned)rc);
    printf("add %u\n", (unsigned)rm_add_filter(h, NULL, NULL, "svc",
                                                 RM_NO_RESTART));
    printf("remove %u\n", (unsigned)rm_remove_filter(h, NULL, NULL, "svc"));
    {
      uint32_t need = 0;
      printf("list %u\n", (unsigned)rm_get_filter_list(h, NULL, 0, &need));
    }
    rm_end_session(h);
    return 0;
  }
  return 2;
}

/* }=====
 * {===== Helpers */

static uint32_t start(char key[33]) {
  uint32_t h;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  return h;
}

/* An absolute path for this OS (under a temp dir); 4 static slots. */
static const char *abs_path(const char *name) {
  static char paths[4][700];
  static int next;
  static const char *dir;
  char *p = paths[next++ % 4];
  if (!dir) dir = rmt_tempdir();
#ifdef _WIN32
  snprintf(p, 700, "%s\\%s", dir, name);
#else
  snprintf(p, 700, "%s/%s", dir, name);
#endif
  return p;
}

/* Fetches the filter list into a malloc'd buffer; *n records. */
static unsigned char *get_filters(uint32_t h, uint32_t *size, unsigned *n) {
  uint32_t need = 0, rc;
  unsigned char *buf;
  const rm_filter_info *f;
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_filter_list(h, NULL, 0, NULL));
  rc = rm_get_filter_list(h, NULL, 0, &need);
  ASSERT_EQ(need == 0 ? RM_OK : RM_ERROR_MORE_DATA, rc);
  *n = 0;
  *size = need;
  if (need == 0) return NULL;
  buf = malloc(need);
  ASSERT(buf != NULL);
  ASSERT_OK(rm_get_filter_list(h, buf, need, size));
  ASSERT_EQ(need, *size);
  for (f = (const rm_filter_info *)(void *)buf;;
       f = (const rm_filter_info *)(const void *)((const unsigned char *)f +
                                                  f->next_offset)) {
    ASSERT((const unsigned char *)f + sizeof *f <= buf + need);
    (*n)++;
    if (f->next_offset == 0) break;
  }
  return buf;
}

static const rm_filter_info *nth(const unsigned char *buf, unsigned i) {
  const rm_filter_info *f = (const rm_filter_info *)(const void *)buf;
  while (i-- > 0)
    f = (const rm_filter_info *)(const void *)((const unsigned char *)f +
                                               f->next_offset);
  return f;
}

/* A string a record points to lies inside the buffer. */
static void inside(const unsigned char *buf, uint32_t size, const char *s) {
  ASSERT((const unsigned char *)s >= buf);
  ASSERT((const unsigned char *)s + strlen(s) + 1 <= buf + size);
}

/* }=====
 * {===== Arguments and roles */

static void exactly_one_selector_and_a_valid_action(void) {
  char key[33], long_name[80];
  uint32_t h = start(key), secondary, need = 99;
  rm_unique_process p;
  const char *exe = abs_path("app.exe");
  ASSERT_OK(rm_get_process_identity((uint32_t)rmt_self_pid(), &p));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, NULL, NULL, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, exe, &p, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, NULL, &p, "svc", RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, exe, NULL, "svc", RM_NO_SHUTDOWN));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, exe, &p, "svc", RM_NO_SHUTDOWN));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, exe, NULL, NULL, RM_FILTER_ACTION_INVALID));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, exe, NULL, NULL, (rm_filter_action)3));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, NULL, &p, NULL, (rm_filter_action)-1));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, "relative/app", NULL, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, "", NULL, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, NULL, NULL, "", RM_NO_RESTART));
  memset(long_name, 'x', 64);
  long_name[64] = 0;                      /* RM_MAX_SVC_NAME is 63 */
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, NULL, NULL, long_name, RM_NO_RESTART));
  long_name[63] = 0;
  ASSERT_OK(rm_add_filter(h, NULL, NULL, long_name, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_add_filter(h, NULL, NULL, "bad\xff", RM_NO_RESTART));
  /* The same rules for removal. */
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_remove_filter(h, NULL, NULL, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_remove_filter(h, exe, &p, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_remove_filter(h, NULL, NULL, ""));
  /* Only the valid one was stored. */
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_filter_list(h, NULL, 0, &need));
  ASSERT_EQ(sizeof(rm_filter_info) + 64, need);
  ASSERT_OK(rm_remove_filter(h, NULL, NULL, long_name));
  ASSERT_OK(rm_get_filter_list(h, NULL, 0, &need));
  ASSERT_EQ(0, need);
  /* Roles and handles. */
  ASSERT_OK(rm_join_session(&secondary, key));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_add_filter(secondary, exe, NULL, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_remove_filter(secondary, exe, NULL, NULL));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
            rm_get_filter_list(secondary, NULL, 0, &need));
  ASSERT_OK(rm_end_session(secondary));
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE,
            rm_add_filter(h, exe, NULL, NULL, RM_NO_RESTART));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_remove_filter(h, exe, NULL, NULL));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_get_filter_list(h, NULL, 0, &need));
}

/* }=====
 * {===== Last call wins, removal */

static void last_call_wins_per_target(void) {
  char key[33];
  uint32_t h = start(key), size;
  const char *exe = abs_path("app.exe");
  rm_unique_process p, other;
  unsigned char *buf;
  unsigned n;
  ASSERT_OK(rm_get_process_identity((uint32_t)rmt_self_pid(), &p));
  other = p;
  other.start_time += 1;
  ASSERT_OK(rm_add_filter(h, exe, NULL, NULL, RM_NO_RESTART));
  ASSERT_OK(rm_add_filter(h, NULL, NULL, "Spooler", RM_NO_RESTART));
  ASSERT_OK(rm_add_filter(h, NULL, &p, NULL, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_add_filter(h, exe, NULL, NULL, RM_NO_SHUTDOWN));     /* same */
  ASSERT_OK(rm_add_filter(h, NULL, NULL, "spooler", RM_NO_SHUTDOWN)); /* same */
  ASSERT_OK(rm_add_filter(h, NULL, &p, NULL, RM_NO_RESTART));        /* same */
  ASSERT_OK(rm_add_filter(h, NULL, &other, NULL, RM_NO_RESTART));    /* new */
  buf = get_filters(h, &size, &n);
  ASSERT_EQ(4, n);
  /* Insertion order; each target once, with its last action. */
  ASSERT_EQ(RM_FILTER_TRIGGER_FILE, nth(buf, 0)->trigger);
  ASSERT_EQ(RM_NO_SHUTDOWN, nth(buf, 0)->action);
  ASSERT_STR_EQ(exe, nth(buf, 0)->u.file_name);
  ASSERT_EQ(RM_FILTER_TRIGGER_SERVICE, nth(buf, 1)->trigger);
  ASSERT_EQ(RM_NO_SHUTDOWN, nth(buf, 1)->action);
  ASSERT_STR_EQ("Spooler", nth(buf, 1)->u.service_short_name);
  ASSERT_EQ(RM_FILTER_TRIGGER_PROCESS, nth(buf, 2)->trigger);
  ASSERT_EQ(RM_NO_RESTART, nth(buf, 2)->action);
  ASSERT_EQ(p.pid, nth(buf, 2)->u.process.pid);
  ASSERT_EQ(p.start_time, nth(buf, 2)->u.process.start_time);
  ASSERT_EQ(RM_FILTER_TRIGGER_PROCESS, nth(buf, 3)->trigger);
  ASSERT_EQ(other.start_time, nth(buf, 3)->u.process.start_time);
  ASSERT_EQ(0, nth(buf, 3)->next_offset);
  free(buf);
  ASSERT_OK(rm_end_session(h));
}

static void removing_a_missing_filter_is_file_not_found(void) {
  char key[33];
  uint32_t h = start(key), size;
  const char *exe = abs_path("app.exe"), *exe2 = abs_path("APP.exe");
  rm_unique_process p, other;
  unsigned char *buf;
  unsigned n;
  ASSERT_OK(rm_get_process_identity((uint32_t)rmt_self_pid(), &p));
  other = p;
  other.start_time += 1;
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_remove_filter(h, exe, NULL, NULL));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_remove_filter(h, NULL, &p, NULL));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_remove_filter(h, NULL, NULL, "svc"));
  ASSERT_OK(rm_add_filter(h, exe, NULL, NULL, RM_NO_RESTART));
  ASSERT_OK(rm_add_filter(h, NULL, &p, NULL, RM_NO_RESTART));
  ASSERT_OK(rm_add_filter(h, NULL, NULL, "Svc", RM_NO_SHUTDOWN));
  /* Targets are (kind, key): another start time or another kind is not
   * the same target.  (File paths compare byte for byte on Linux.) */
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_remove_filter(h, NULL, &other, NULL));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND,
            rm_remove_filter(h, NULL, NULL, "app.exe"));
#ifndef _WIN32
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_remove_filter(h, exe2, NULL, NULL));
#else
  (void)exe2;
#endif
  ASSERT_OK(rm_remove_filter(h, NULL, NULL, "SVC"));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_remove_filter(h, NULL, NULL, "svc"));
  ASSERT_OK(rm_remove_filter(h, exe, NULL, NULL));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_remove_filter(h, exe, NULL, NULL));
  buf = get_filters(h, &size, &n);
  ASSERT_EQ(1, n);
  ASSERT_EQ(RM_FILTER_TRIGGER_PROCESS, nth(buf, 0)->trigger);
  free(buf);
  ASSERT_OK(rm_remove_filter(h, NULL, &p, NULL));
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== The buffer */

static void filter_list_buffer_protocol(void) {
  char key[33];
  uint32_t h = start(key), need = 99, got;
  const char *exe = abs_path("some app.exe");
  rm_unique_process p;
  unsigned char *buf, small[8];
  const rm_filter_info *f;
  char exe_copy[700];

  /* No filters: OK and 0 bytes, with or without a buffer. */
  ASSERT_OK(rm_get_filter_list(h, NULL, 0, &need));
  ASSERT_EQ(0, need);
  need = 99;
  ASSERT_OK(rm_get_filter_list(h, small, sizeof small, &need));
  ASSERT_EQ(0, need);
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_filter_list(h, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_get_filter_list(h, NULL, 16, &need));

  ASSERT_OK(rm_get_process_identity((uint32_t)rmt_self_pid(), &p));
  ASSERT_OK(rm_add_filter(h, exe, NULL, NULL, RM_NO_RESTART));
  ASSERT_OK(rm_add_filter(h, NULL, &p, NULL, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_add_filter(h, NULL, NULL, "\xc3\xa9t\xc3\xa9-svc",
                          RM_NO_SHUTDOWN));

  /* Too small, or no place for the size: MORE_DATA. */
  need = 0;
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_filter_list(h, NULL, 0, &need));
  ASSERT(need >= 3 * sizeof(rm_filter_info) + strlen(exe) + 1 + 9);
  got = 0;
  ASSERT_EQ(RM_ERROR_MORE_DATA,
            rm_get_filter_list(h, small, sizeof small, &got));
  ASSERT_EQ(need, got);
  buf = malloc(need);
  ASSERT(buf != NULL);
  got = 0;
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_filter_list(h, buf, need - 1, &got));
  ASSERT_EQ(need, got);
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_filter_list(h, buf, need, NULL));
  ASSERT_OK(rm_get_filter_list(h, buf, need, &got));
  ASSERT_EQ(need, got);

  /* The chain, and every string inside the one buffer. */
  f = (const rm_filter_info *)(void *)buf;
  ASSERT_EQ(RM_FILTER_TRIGGER_FILE, f->trigger);
  ASSERT_EQ(RM_NO_RESTART, f->action);
  inside(buf, need, f->u.file_name);
  ASSERT_STR_EQ(exe, f->u.file_name);
  ASSERT(f->next_offset != 0);
  f = nth((const unsigned char *)f, 1);
  ASSERT_EQ(RM_FILTER_TRIGGER_PROCESS, f->trigger);
  ASSERT_EQ(RM_NO_SHUTDOWN, f->action);
  ASSERT_EQ(p.pid, f->u.process.pid);
  ASSERT_EQ(p.start_time, f->u.process.start_time);
  ASSERT(f->next_offset != 0);
  f = nth((const unsigned char *)f, 1);
  ASSERT_EQ(RM_FILTER_TRIGGER_SERVICE, f->trigger);
  inside(buf, need, f->u.service_short_name);
  ASSERT_STR_EQ("\xc3\xa9t\xc3\xa9-svc", f->u.service_short_name);
  ASSERT_EQ(0, f->next_offset);

  /* Self-contained: it outlives the session. */
  snprintf(exe_copy, sizeof exe_copy, "%s", exe);
  ASSERT_OK(rm_end_session(h));
  f = (const rm_filter_info *)(void *)buf;
  ASSERT(strcmp(exe_copy, f->u.file_name) == 0);
  free(buf);
}

/* }=====
 * {===== Kept in the store */

/* Filters are part of the session record: a secondary process's
 * registration (a read-modify-write of the same record) keeps them, and
 * the secondary may not touch them. */
static void filters_survive_another_process_registering(void) {
  char key[33], line[64];
  uint32_t h = start(key), size;
  const char *exe = abs_path("app.exe");
  rmt_child c;
  unsigned char *buf;
  unsigned n;
  ASSERT_OK(rm_add_filter(h, exe, NULL, NULL, RM_NO_RESTART));
  ASSERT_OK(rm_add_filter(h, NULL, NULL, "svc", RM_NO_SHUTDOWN));
  ASSERT_EQ(0,
            rmt_spawn_self(&c, "join-register", key,
                           abs_path("registered.dat")));
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 10000));
  ASSERT_STR_EQ("registered 0", line);
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 10000));
  ASSERT_STR_EQ("add 1219", line);
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 10000));
  ASSERT_STR_EQ("remove 1219", line);
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 10000));
  ASSERT_STR_EQ("list 1219", line);
  ASSERT_EQ(0, rmt_wait(&c, 10000));
  buf = get_filters(h, &size, &n);
  ASSERT_EQ(2, n);
  ASSERT_STR_EQ(exe, nth(buf, 0)->u.file_name);
  ASSERT_EQ(RM_NO_RESTART, nth(buf, 0)->action);
  ASSERT_STR_EQ("svc", nth(buf, 1)->u.service_short_name);
  ASSERT_EQ(RM_NO_SHUTDOWN, nth(buf, 1)->action);
  free(buf);
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) return child_main(rmt_child_args);
  RUN(exactly_one_selector_and_a_valid_action);
  RUN(last_call_wins_per_target);
  RUN(removing_a_missing_filter_is_file_not_found);
  RUN(filter_list_buffer_protocol);
  RUN(filters_survive_another_process_registering);
  return rmt_finish();
}
