/* SPDX-License-Identifier: MIT */
/*
 * test_store_stress.c: the store under real contention and real kills.
 *
 *   - 16 processes x 1,000 registrations at once, one file per call, at
 *     the default lock bound: every one stored, none timed out, no call
 *     waited more than half the bound;
 *   - 300 writers killed with SIGKILL at random instants while they
 *     register: no temp file survives the next lock, no acknowledged
 *     registration is lost.
 */
#define _GNU_SOURCE
#include "test.h"
#include "internal.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WRITERS 16
#define PER_WRITER 1000
#define KILLS 300

/* {===== Children */

static int child_main(char **args) {
  const char *mode = args[0];
  uint32_t h, rc;
  char key[33];
  if (strcmp(mode, "register-many") == 0) {   /* N GOFILE: own session */
    int i, n = atoi(args[1]), ok = 0, timeouts = 0, other = 0;
    uint64_t t, slowest = 0;
    rm__record r;
    struct stat st;
    rc = rm_start_session(&h, 0, key);
    if (rc != RM_OK) {
      printf("error %u\n", (unsigned)rc);
      return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (stat(args[2], &st) != 0) rmt_sleep_ms(1);    /* all start at once */
    for (i = 0; i < n; i++) {
      char path[64];
      const char *files[1];
      snprintf(path, sizeof path, "/writer-%ld/file%d", rmt_self_pid(), i);
      files[0] = path;
      t = rm__os_now_ms();
      rc = rm_register_resources(h, 1, files, 0, NULL, 0, NULL);
      t = rm__os_now_ms() - t;
      if (t > slowest) slowest = t;
      if (rc == RM_OK) ok++;
      else if (rc == RM_ERROR_SEM_TIMEOUT) timeouts++;
      else other++;
    }
    /* What the store holds, read back by the owner. */
    {
      rm__handle *hp;
      size_t stored = 0;
      if (rm__enter(h, 0, 0, &hp) == RM_OK) {
        if (rm__load(hp, &r) == RM_OK) {
          stored = r.files.n;
          rm__record_free(&r);
        }
        rm__leave(hp, 0);
      }
      printf("ok %d timeouts %d other %d stored %zu slowest %llu\n", ok,
             timeouts, other, stored, (unsigned long long)slowest);
    }
    fflush(stdout);
    rm_end_session(h);
    return 0;
  }
  if (strcmp(mode, "register-until-killed") == 0) {  /* join KEY, FROM */
    int i = atoi(args[2]);
    rc = rm_join_session(&h, args[1]);
    if (rc != RM_OK) return 1;
    printf("ready\n");
    fflush(stdout);
    for (;; i++) {
      char path[64];
      const char *files[1];
      snprintf(path, sizeof path, "/killed/file%d", i);
      files[0] = path;
      if (rm_register_resources(h, 1, files, 0, NULL, 0, NULL) == RM_OK) {
        printf("%d\n", i);                 /* acknowledged */
        fflush(stdout);
      }
    }
  }
  if (strcmp(mode, "register-same") == 0) {   /* join KEY: compact, forever */
    const char *ten[10] = { "/same/0", "/same/1", "/same/2", "/same/3",
                            "/same/4", "/same/5", "/same/6", "/same/7",
                            "/same/8", "/same/9" };
    rc = rm_join_session(&h, args[1]);
    if (rc != RM_OK) return 1;
    printf("ready\n");
    fflush(stdout);
    for (;;) rm_register_resources(h, 10, ten, 0, NULL, 0, NULL);
  }
  return 2;
}

/* }=====
 * {===== Helpers */

static unsigned count_temp_files(const char *store) {
  DIR *d = opendir(store);
  struct dirent *e;
  unsigned n = 0;
  if (!d) return 9999;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) n++;
  }
  closedir(d);
  return n;
}

/* Takes and releases the store lock, as every writer does first. */
static void take_lock_once(void) {
  rm__dir *d;
  ASSERT_OK(rm__os_store_open(&d));
  ASSERT_OK(rm__os_store_lock(d, 10000));
  rm__os_store_unlock(d);
  rm__os_store_close(d);
}

static int record_has(const rm__record *r, const char *path) {
  size_t i;
  for (i = 0; i < r->files.n; i++)
    if (strcmp(r->files.v[i], path) == 0) return 1;
  return 0;
}

/* }=====
 * {===== Cases */

static void sixteen_writers_store_everything_without_timeouts(void) {
  rmt_child c[WRITERS];
  char line[128], go[700];
  int i, total_ok = 0, total_timeouts = 0, total_other = 0;
  unsigned long long slowest = 0;
  size_t total_stored = 0;
  uint64_t t0;
  snprintf(go, sizeof go, "%s/go", rmt_fresh_store());
  rmt_setenv("RESTARTMGR_LOCK_TIMEOUT_MS", NULL);       /* the default */
  for (i = 0; i < WRITERS; i++) {
    char n[16];
    snprintf(n, sizeof n, "%d", PER_WRITER);
    ASSERT_EQ(0, rmt_spawn_self(&c[i], "register-many", n, go));
    ASSERT_EQ(0, rmt_read_line(&c[i], line, sizeof line, 60000));
    ASSERT_STR_EQ("ready", line);
  }
  t0 = rm__os_now_ms();
  ASSERT_EQ(0, rmt_write_file(go, "go\n"));
  for (i = 0; i < WRITERS; i++) {
    int ok, timeouts, other;
    size_t stored;
    unsigned long long slow;
    ASSERT_EQ(0, rmt_read_line(&c[i], line, sizeof line, 540000));
    ASSERT_EQ(5, sscanf(line, "ok %d timeouts %d other %d stored %zu slowest %llu",
                        &ok, &timeouts, &other, &stored, &slow));
    if (slow > slowest) slowest = slow;
    total_ok += ok;
    total_timeouts += timeouts;
    total_other += other;
    total_stored += stored;
  }
  printf("note: %d writers x %d registrations in %.1f s: %d ok, %d timed out, "
         "%d other errors, %zu stored; slowest call %llu ms\n", WRITERS,
         PER_WRITER, (double)(rm__os_now_ms() - t0) / 1000.0, total_ok,
         total_timeouts, total_other, total_stored, slowest);
  ASSERT_EQ(0, total_timeouts);
  /* Fairness, not speed: with a kernel wait no writer is passed over for
   * long (measured 0.2-0.3 s on a loaded 2-core VM); a polled lock let one
   * wait 3.6 s of the 5 s bound in the same run, or time out. */
  ASSERT(slowest <= RM_LOCK_TIMEOUT_MS / 2);
  ASSERT_EQ(0, total_other);
  ASSERT_EQ(WRITERS * PER_WRITER, total_ok);
  ASSERT_EQ(WRITERS * PER_WRITER, total_stored);
  for (i = 0; i < WRITERS; i++) ASSERT_EQ(0, rmt_wait(&c[i], 60000));
}

static void killed_writers_leave_no_temp_files_and_lose_nothing(void) {
  const char *store = rmt_fresh_store();
  uint32_t h;
  char key[33], line[64];
  int round, next = 0, acknowledged = -1, temp_seen = 0, lost = 0;
  int *acked = NULL;
  size_t n_acked = 0, cap_acked = 0;
  unsigned seed = (unsigned)time(NULL);
  rm__record r;
  rm__handle *hp;
  ASSERT_OK(rm_start_session(&h, 0, key));
  /* A record of some size, so that a write takes a while to land in. */
  {
    static char paths[2000][40];
    const char *files[2000];
    int i;
    for (i = 0; i < 2000; i++) {
      snprintf(paths[i], sizeof paths[i], "/bulk/some/longer/dir/file%d", i);
      files[i] = paths[i];
    }
    ASSERT_OK(rm_register_resources(h, 2000, files, 0, NULL, 0, NULL));
  }
  printf("note: seed %u\n", seed);
  srand(seed);
  for (round = 0; round < KILLS; round++) {
    rmt_child c;
    char from[16];
    snprintf(from, sizeof from, "%d", next);
    ASSERT_EQ(0, rmt_spawn_self(&c, "register-until-killed", key, from));
    ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 20000));
    ASSERT_STR_EQ("ready", line);
    {
      /* 0 to 12 ms, in microseconds: somewhere inside some write. */
      struct timespec ts = { 0, (long)(rand() % 12000) * 1000L };
      nanosleep(&ts, NULL);
    }
    kill((pid_t)c.pid, SIGKILL);
    while (rmt_read_line(&c, line, sizeof line, 2000) == 0) {
      int got = atoi(line);
      if (got > acknowledged) acknowledged = got;
      if (n_acked == cap_acked) {
        cap_acked = cap_acked ? 2 * cap_acked : 1024;
        acked = realloc(acked, cap_acked * sizeof *acked);
        ASSERT(acked != NULL);
      }
      acked[n_acked++] = got;
    }
    rmt_kill(&c);                           /* reaped */
    /* The next writer starts past the write this one may have died in. */
    if (acknowledged + 2 > next) next = acknowledged + 2;
    else next += 1;
    if (count_temp_files(store) > 0) temp_seen++;
  }
  take_lock_once();
  ASSERT_OK(rm__enter(h, 0, 0, &hp));
  ASSERT_OK(rm__load(hp, &r));
  rm__leave(hp, 0);
  {
    size_t i;
    char path[64];
    for (i = 0; i < n_acked; i++) {
      snprintf(path, sizeof path, "/killed/file%d", acked[i]);
      if (!record_has(&r, path)) lost++;
    }
  }
  printf("note: %d kills, %zu acknowledged registrations (%d lost), a temp "
         "file present after %d kills, %u after the next lock\n", KILLS,
         n_acked, lost, temp_seen, count_temp_files(store));
  ASSERT_EQ(0, count_temp_files(store));
  ASSERT_EQ(0, lost);
  ASSERT(n_acked > 0);
  free(acked);
  rm__record_free(&r);
  ASSERT_OK(rm_end_session(h));
}

/* Readers take no lock: while another process registers the same files
 * over and over (its journal is compacted every hundred calls or so, the
 * old one removed), every read still gets the whole session. */
static void readers_see_whole_sessions_during_compactions(void) {
  uint32_t h;
  char key[33], line[64];
  rmt_child c;
  rm__handle *hp;
  int i;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(0, rmt_spawn_self(&c, "register-same", key, NULL));
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 20000));
  ASSERT_STR_EQ("ready", line);
  ASSERT_OK(rm__enter(h, 0, 0, &hp));
  for (i = 0; i < 2000; i++) {
    rm__record r;
    uint32_t rc = rm__load(hp, &r);
    ASSERT_OK(rc);
    ASSERT(r.files.n == 0 || r.files.n == 10);
    rm__record_free(&r);
  }
  rm__leave(hp, 0);
  rmt_kill(&c);
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) return child_main(rmt_child_args);
  RUN(sixteen_writers_store_everything_without_timeouts);
  RUN(killed_writers_leave_no_temp_files_and_lose_nothing);
  RUN(readers_see_whole_sessions_during_compactions);
  return rmt_finish();
}
