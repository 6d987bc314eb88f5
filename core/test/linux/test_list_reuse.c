/* SPDX-License-Identifier: MIT */
/*
 * test_list_reuse.c: the two-call rm_get_list loop costs one scan.
 *
 * A MORE_DATA answer is reused by the next rm_get_list on the handle only
 * within its window, while the session's record and the restart
 * registrations are unchanged and every listed process still runs
 * (docs/performance.md, The two-call loop).  Reuse is observable: a
 * holder started between the two calls is missing from a reused answer
 * and present in a rescan.  Real holders (rm_holder), a real secondary in
 * another process, a real shutdown.
 */
#define _GNU_SOURCE
#include "test.h"

#include <stdint.h>
#include <unistd.h>

static void holder(rmt_child *c, const char *path) {
  const char *args[3];
  args[0] = "open";
  args[1] = path;
  args[2] = NULL;
  rmt_start_ready(c, rmt_helper("rm_holder"), args);
}

static const char *file_a, *file_b;
static rmt_child first;
static char key[33];

/* A session with file_a registered and held by first; the loop's first
 * call answered MORE_DATA for one entry. */
static uint32_t first_call(void) {
  const char *dir = rmt_tempdir();
  unsigned needed = 99, n = 0;
  uint32_t h, reasons = 99;
  rmt_fresh_store();
  file_a = rmt_path(dir, "a.bin");
  file_b = rmt_path(dir, "b.bin");
  ASSERT_EQ(0, rmt_write_file(file_a, "a\n"));
  ASSERT_EQ(0, rmt_write_file(file_b, "b\n"));
  holder(&first, file_a);
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_register_resources(h, 1, &file_a, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_list(h, &needed, &n, NULL, &reasons));
  ASSERT_EQ(1, needed);
  ASSERT_EQ(0, n);
  ASSERT_EQ(0, reasons);
  return h;
}

/* The second call with room for 8: its count, and whether pid is in it. */
static unsigned second_call(uint32_t h, long pid, int *has) {
  rm_process_info apps[8];
  unsigned needed = 0, n = 8, i;
  uint32_t reasons = 99;
  ASSERT_OK(rm_get_list(h, &needed, &n, apps, &reasons));
  ASSERT_EQ(needed, n);
  *has = 0;
  for (i = 0; i < n; i++)
    if ((long)apps[i].process.pid == pid) *has = 1;
  return n;
}

static void reused_within_the_window(void) {
  uint32_t h = first_call();
  rmt_child later;
  unsigned needed = 0, n = 0;
  uint32_t reasons;
  int has;
  holder(&later, file_a);
  /* Still too small: MORE_DATA again, from the kept answer. */
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_list(h, &needed, &n, NULL, &reasons));
  ASSERT_EQ(1, needed);
  ASSERT_EQ(1, second_call(h, first.pid, &has));
  ASSERT_EQ(1, has);
  /* A success consumed it: the next call scans. */
  ASSERT_EQ(2, second_call(h, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_OK(rm_end_session(h));
}

static void rescans_after_the_window(void) {
  uint32_t h;
  rmt_child later;
  int has;
  rmt_setenv("RESTARTMGR_LIST_REUSE_MS", "100");
  h = first_call();
  holder(&later, file_a);
  rmt_sleep_ms(150);
  ASSERT_EQ(2, second_call(h, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_OK(rm_end_session(h));
  /* 0 turns reuse off. */
  rmt_setenv("RESTARTMGR_LIST_REUSE_MS", "0");
  h = first_call();
  rmt_kill(&later);
  holder(&later, file_a);
  ASSERT_EQ(2, second_call(h, later.pid, &has));
  ASSERT_OK(rm_end_session(h));
  rmt_setenv("RESTARTMGR_LIST_REUSE_MS", "");
}

static void rescans_after_a_registration(void) {
  uint32_t h = first_call();
  rmt_child later;
  int has;
  holder(&later, file_a);
  ASSERT_OK(rm_register_resources(h, 1, &file_b, 0, NULL, 0, NULL));
  ASSERT_EQ(2, second_call(h, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_OK(rm_end_session(h));
}

/* A secondary in another process registers (the same file again: even a
 * registration that changes nothing is a write the next call sees). */
static void rescans_after_a_secondary_registers(void) {
  uint32_t h = first_call();
  rmt_child later, secondary;
  char line[64];
  int has;
  holder(&later, file_a);
  ASSERT_EQ(0, rmt_spawn_self(&secondary, "register", key, file_a));
  ASSERT_EQ(0, rmt_read_line(&secondary, line, sizeof line, 10000));
  ASSERT_STR_EQ("registered 0", line);
  ASSERT_EQ(0, rmt_wait(&secondary, 10000));
  ASSERT_EQ(2, second_call(h, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_OK(rm_end_session(h));
}

static void rescans_after_a_filter(void) {
  uint32_t h = first_call();
  rmt_child later;
  int has;
  holder(&later, file_a);
  ASSERT_OK(rm_add_filter(h, file_b, NULL, NULL, RM_NO_RESTART));
  ASSERT_EQ(2, second_call(h, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_OK(rm_end_session(h));
}

static void rescans_after_a_restart_registration(void) {
  uint32_t h = first_call();
  rmt_child later;
  rm_unique_process p;
  const char *argv[2];
  int has;
  holder(&later, file_a);
  p.pid = (uint32_t)first.pid;
  /* Its identity (start time) as another session lists it. */
  {
    rm_app_info *apps;
    unsigned n, i;
    uint32_t reasons, other;
    char other_key[33];
    ASSERT_OK(rm_start_session(&other, 0, other_key));
    ASSERT_OK(rm_register_resources(other, 1, &file_a, 0, NULL, 0, NULL));
    ASSERT_OK(rm_get_list_alloc(other, &apps, &n, &reasons));
    for (i = 0; i < n; i++)
      if ((long)apps[i].info.process.pid == first.pid)
        p = apps[i].info.process;
    rm_free_list(apps, n);
    ASSERT_OK(rm_end_session(other));
  }
  argv[0] = rmt_helper("rm_holder");
  argv[1] = NULL;
  ASSERT_OK(rm_register_process_restart(&p, argv, NULL, 0));
  ASSERT_EQ(2, second_call(h, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_OK(rm_end_session(h));
}

static void rescans_after_a_shutdown(void) {
  uint32_t h = first_call();
  rm_process_info apps[8];
  unsigned needed = 0, n = 8;
  uint32_t reasons;
  ASSERT_OK(rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT_OK(rm_get_list(h, &needed, &n, apps, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ((long)first.pid, (long)apps[0].process.pid);
  /* A reused answer would still say RUNNING. */
  ASSERT_EQ(RM_STATUS_STOPPED, apps[0].app_status);
  rmt_wait(&first, 10000);
  ASSERT_OK(rm_end_session(h));
}

static void rescans_when_a_listed_process_died(void) {
  uint32_t h = first_call();
  rmt_child later;
  int has;
  holder(&later, file_a);
  rmt_kill(&first);
  ASSERT_EQ(1, second_call(h, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_OK(rm_end_session(h));
}

/* Another handle of the same session in this process keeps its own. */
static void kept_per_handle(void) {
  uint32_t h = first_call(), joined;
  rmt_child later;
  int has;
  holder(&later, file_a);
  ASSERT_OK(rm_join_session(&joined, key));
  ASSERT_EQ(2, second_call(joined, later.pid, &has));
  ASSERT_EQ(1, has);
  ASSERT_EQ(1, second_call(h, later.pid, &has));
  ASSERT_EQ(0, has);
  ASSERT_OK(rm_end_session(joined));
  ASSERT_OK(rm_end_session(h));
}

/* The child: join KEY, register FILE, say how it went. */
static int child_main(char **args) {
  uint32_t h, rc;
  const char *file = args[2];
  if (!args[0] || strcmp(args[0], "register") != 0 || !args[1] || !file)
    return 2;
  rc = rm_join_session(&h, args[1]);
  if (rc == RM_OK) rc = rm_register_resources(h, 1, &file, 0, NULL, 0, NULL);
  printf("registered %u\n", (unsigned)rc);
  fflush(stdout);
  if (rc == RM_OK) rm_end_session(h);
  return 0;
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) return child_main(rmt_child_args);
  RUN(reused_within_the_window);
  RUN(rescans_after_the_window);
  RUN(rescans_after_a_registration);
  RUN(rescans_after_a_secondary_registers);
  RUN(rescans_after_a_filter);
  RUN(rescans_after_a_restart_registration);
  RUN(rescans_after_a_shutdown);
  RUN(rescans_when_a_listed_process_died);
  RUN(kept_per_handle);
  return rmt_finish();
}
