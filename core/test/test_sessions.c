/* SPDX-License-Identifier: MIT */
/*
 * test_sessions.c: rm_list_sessions, the sessions of the caller's store,
 * with a second process that starts a session and then dies.
 */
#include "test.h"

/* {===== Children: this executable re-run with --child MODE ... */

static int child_main(char **args) {
  uint32_t h, rc;
  char key[33];
  const char *files[1] = {"/child/registered file"};
  if (strcmp(args[0], "start") != 0) return 2;  /* start, register, wait */
  rc = rm_start_session(&h, 0, key);
  if (rc == RM_OK) rc = rm_register_resources(h, 1, files, 0, NULL, 0, NULL);
  if (rc != RM_OK) {
    printf("error %u\n", (unsigned)rc);
    return 1;
  }
  printf("%s\n", key);
  fflush(stdout);
  for (;;) rmt_sleep_ms(1000);
}

/* }=====
 * {===== Cases */

static const rm_session_info *find(const rm_session_info *v, unsigned n,
                                   const char *key) {
  unsigned i;
  for (i = 0; i < n; i++)
    if (strcmp(v[i].key, key) == 0) return &v[i];
  return NULL;
}

static void empty_store_lists_nothing(void) {
  rm_session_info *v = (rm_session_info *)1;
  unsigned n = 99;
  rmt_fresh_store();
  ASSERT_OK(rm_list_sessions(&v, &n));
  ASSERT_EQ(0, n);
  ASSERT(v == NULL);
  rm_free_sessions(NULL, 0);
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_list_sessions(NULL, &n));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_list_sessions(&v, NULL));
}

static void lists_what_each_session_registered(void) {
  uint32_t a, b, j;
  char ka[33], kb[33], line[128];
  const char *files[2] = {"/a/one", "/a/two words"};
  const char *services[1] = {"nginx"};
  rm_unique_process self;
  rm_session_info *v;
  const rm_session_info *s;
  unsigned n;
  rmt_child c;
  rmt_fresh_store();
  ASSERT_OK(rm_get_process_identity((uint32_t)rmt_self_pid(), &self));
  ASSERT_OK(rm_start_session(&a, 0, ka));
  ASSERT_OK(rm_start_session(&b, 0, kb));
  ASSERT_OK(rm_register_resources(a, 2, files, 1, &self, 1, services));
  ASSERT_EQ(0, rmt_spawn_self(&c, "start", NULL, NULL));
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 20000));
  ASSERT_EQ(32, (long)strlen(line));
  /* A secondary's registration shows in its session. */
  ASSERT_OK(rm_join_session(&j, kb));
  ASSERT_OK(rm_register_resources(j, 1, files, 0, NULL, 0, NULL));
  ASSERT_OK(rm_end_session(j));

  ASSERT_OK(rm_list_sessions(&v, &n));
  ASSERT_EQ(3, n);
  ASSERT(v[0].slot < v[1].slot && v[1].slot < v[2].slot);
  s = find(v, n, ka);
  ASSERT(s != NULL);
  ASSERT_EQ(self.pid, s->owner.pid);
  ASSERT_EQ(self.start_time, s->owner.start_time);
  ASSERT_EQ(0, s->shutdown_called);
  ASSERT_EQ(2, s->n_files);
  ASSERT_STR_EQ("/a/one", s->files[0]);
  ASSERT_STR_EQ("/a/two words", s->files[1]);
  ASSERT_EQ(1, s->n_processes);
  ASSERT_EQ(self.pid, s->processes[0].pid);
  ASSERT_EQ(1, s->n_services);
  ASSERT_STR_EQ("nginx", s->services[0]);
  s = find(v, n, kb);
  ASSERT(s != NULL);
  ASSERT_EQ(1, s->n_files);
  ASSERT_EQ(0, s->n_processes);
  ASSERT(s->processes == NULL);
  s = find(v, n, line);
  ASSERT(s != NULL);
  ASSERT_EQ((uint32_t)c.pid, s->owner.pid);
  ASSERT_STR_EQ("/child/registered file", s->files[0]);
  rm_free_sessions(v, n);

  /* Ended and abandoned sessions are left out. */
  rmt_kill(&c);
  ASSERT_OK(rm_end_session(b));
  ASSERT_OK(rm_list_sessions(&v, &n));
  ASSERT_EQ(1, n);
  ASSERT_STR_EQ(ka, v[0].key);
  rm_free_sessions(v, n);
  ASSERT_OK(rm_end_session(a));
  /* A session that shut down (nothing to stop: nobody holds the file). */
  ASSERT_OK(rm_start_session(&a, 0, ka));
  ASSERT_OK(rm_register_resources(a, 0, NULL, 0, NULL, 0, NULL));
  ASSERT_OK(rm_shutdown(a, 0, NULL, NULL));
  ASSERT_OK(rm_list_sessions(&v, &n));
  ASSERT_EQ(1, n);
  ASSERT_STR_EQ(ka, v[0].key);
  ASSERT_EQ(1, v[0].shutdown_called);
  ASSERT_EQ(0, v[0].n_files);
  ASSERT(v[0].files == NULL);
  rm_free_sessions(v, n);
  ASSERT_OK(rm_end_session(a));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) return child_main(rmt_child_args);
  RUN(empty_store_lists_nothing);
  RUN(lists_what_each_session_registered);
  return rmt_finish();
}
