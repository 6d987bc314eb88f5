/* SPDX-License-Identifier: MIT */
/*
 * bench_store.c (rm_bench_store): the cost of the session store at scale
 * (issue 11, item 3), in one run, on the real store (a private directory,
 * fsync included, as users pay it):
 *
 *   - registering 100,000 files in one call (the dedup and the write under
 *     the lock: other writers wait that long);
 *   - a later one-file registration on that session (an append to its
 *     file journal and the small record replaced);
 *   - reading that session back whole (record, journal, dedup), as every
 *     rm_get_list does;
 *   - parsing a record with 10,000, 100,000 and 1,000,000 environment
 *     entries: linear when the cost per entry stays flat (it rises a
 *     little once the record no longer fits in the caches).
 *
 *   rm_bench_store [-n FILES] [-R RUNS]
 *
 * Medians of RUNS (default 5; the one-file registration: 20 per run).
 * The store directory is removed at the end.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 51

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st; (void)flag; (void)ftw;
  (void)remove(path);
  return 0;
}

static void die(const char *what, uint32_t rc) {
  fprintf(stderr, "rm_bench_store: %s: %s\n", what, rm_error_name(rc));
  exit(1);
}

/* A record text with n environment entries of one acted entry. */
static char *env_record(long n, size_t *len) {
  size_t cap = 256 + (size_t)n * 48, used = 0;
  char *t = malloc(cap);
  long i;
  if (!t) die("malloc", RM_ERROR_OUTOFMEMORY);
  used += (size_t)snprintf(t, cap,
      "restartmgr-session 2\nkey 0123456789abcdef0123456789abcdef\n"
      "owner 1 2\nsequence 3\nshutdown 1\n"
      "acted 10 20 5 2 1 1 0 0 :app :\nlaunch 0 0 :/\narg :/usr/bin/app\n");
  for (i = 0; i < n; i++)
    used += (size_t)snprintf(t + used, cap - used,
                             "env :VARIABLE_%ld=some%%20value%%20%ld\n", i, i);
  used += (size_t)snprintf(t + used, cap - used, "end\n");
  *len = used;
  return t;
}

static double time_parse(long n_env, int runs) {
  double t[MAX_RUNS];
  size_t len;
  char *text = env_record(n_env, &len);
  int r;
  for (r = 0; r < runs; r++) {
    rm__record rec;
    double t0 = now_ms();
    uint32_t rc = rm__record_parse(text, len, &rec);
    t[r] = now_ms() - t0;
    if (rc != RM_OK) die("parse", rc);
    rm__record_free(&rec);
  }
  free(text);
  return median(t, runs);
}

int main(int argc, char **argv) {
  long n_files = 100000;
  int runs = 5, opt, r, k;
  char dir[] = "/tmp/rm-bench-store-XXXXXX", store[64];
  char **names;
  const char **files;
  double t_bulk[MAX_RUNS], t_one[MAX_RUNS * 20], t_load[MAX_RUNS], bulk, one,
      load, p10k, p100k, p1m;
  int n_one = 0;

  while ((opt = getopt(argc, argv, "n:R:")) != -1) {
    if (opt == 'n') n_files = atol(optarg);
    else if (opt == 'R') runs = atoi(optarg);
    else {
      fprintf(stderr, "usage: rm_bench_store [-n FILES] [-R RUNS]\n");
      return 2;
    }
  }
  if (n_files < 1 || runs < 1 || runs > MAX_RUNS) return 2;
  if (!mkdtemp(dir)) die("mkdtemp", RM_ERROR_WRITE_FAULT);
  snprintf(store, sizeof store, "%s/store", dir);
  setenv("RESTARTMGR_STATE_DIR", store, 1);

  names = calloc((size_t)n_files, sizeof *names);
  files = calloc((size_t)n_files, sizeof *files);
  if (!names || !files) die("calloc", RM_ERROR_OUTOFMEMORY);
  for (k = 0; k < n_files; k++) {
    char path[96];
    snprintf(path, sizeof path, "/usr/share/restartmgr-bench/dir%03d/file%06d",
             k % 997, k);
    names[k] = strdup(path);
    files[k] = names[k];
  }

  for (r = 0; r < runs; r++) {
    uint32_t h, rc;
    char key[33];
    double t0;
    if ((rc = rm_start_session(&h, 0, key)) != RM_OK) die("start", rc);
    t0 = now_ms();
    rc = rm_register_resources(h, (unsigned)n_files, files, 0, NULL, 0, NULL);
    t_bulk[r] = now_ms() - t0;
    if (rc != RM_OK) die("register", rc);
    for (k = 0; k < 20; k++) {
      char path[64];
      const char *one_file[1];
      snprintf(path, sizeof path, "/opt/later/file%d", k);
      one_file[0] = path;
      t0 = now_ms();
      rc = rm_register_resources(h, 1, one_file, 0, NULL, 0, NULL);
      t_one[n_one++] = now_ms() - t0;
      if (rc != RM_OK) die("register one", rc);
    }
    {
      rm__handle *hp;
      rm__record rec;
      if ((rc = rm__enter(h, 0, 0, &hp)) != RM_OK) die("enter", rc);
      t0 = now_ms();
      rc = rm__load(hp, &rec);
      t_load[r] = now_ms() - t0;
      if (rc != RM_OK) die("load", rc);
      if (rec.files.n != (size_t)n_files + 20) die("load count", RM_ERROR_WRITE_FAULT);
      rm__record_free(&rec);
      rm__leave(hp, 0);
    }
    if ((rc = rm_end_session(h)) != RM_OK) die("end", rc);
  }
  bulk = median(t_bulk, runs);
  one = median(t_one, n_one);
  load = median(t_load, runs);
  p10k = time_parse(10000, runs);
  p100k = time_parse(100000, runs);
  p1m = time_parse(1000000, runs < 3 ? runs : 3);

  printf("rm_bench_store: store in %s (fsync on), medians of %d runs\n\n",
         dir, runs);
  printf("| | median | target |\n|---|---|---|\n");
  printf("| register %ld files in one call | %.0f ms | < 1000 ms |\n",
         n_files, bulk);
  printf("| then register 1 file on that session | %.2f ms | < 10 ms |\n", one);
  printf("| read that session back (%ld files) | %.1f ms | |\n", n_files + 20,
         load);
  printf("| parse a record with 10,000 env entries | %.2f ms (%.0f ns each) | |\n",
         p10k, p10k * 1e6 / 10000);
  printf("| parse a record with 100,000 env entries | %.2f ms (%.0f ns each) | "
         "%.1fx the 10,000 one |\n", p100k, p100k * 1e6 / 100000,
         p100k / p10k);
  printf("| parse a record with 1,000,000 env entries | %.1f ms (%.0f ns each) | "
         "%.1fx the 100,000 one |\n", p1m, p1m * 1e6 / 1000000, p1m / p100k);
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  for (k = 0; k < n_files; k++) free(names[k]);
  free(names);
  free(files);
  return 0;
}
