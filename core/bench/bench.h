/* SPDX-License-Identifier: MIT */
/*
 * bench.h: what the two files of rm_bench_list share (bench_list.c: the
 * measurements and main; bench_procs.c: the processes it runs).
 */
#ifndef RM_BENCH_H
#define RM_BENCH_H

#include "restartmgr.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define MAX_RUNS 51

typedef struct config {
  long procs, per_proc, mapped, pool, registered, runs;
  int scaling;
  int cycle;                /* 0: none (-s), 1: with the rest, 2: only (-c) */
} config;

/* One contender: a command run as a separate process, its runs' times. */
typedef struct contender {
  const char *label;        /* NULL: not run in this table */
  char **argv, **envp;
  double wall[MAX_RUNS], cpu[MAX_RUNS];
  long found;
  int missing;              /* not installed, or not run */
} contender;

extern char work_dir[4096];   /* the pool, pad files, the disk store */
extern char shm_dir[4096];    /* the tmpfs store's dir, "" when none */

/* Housekeeping. */
void on_signal(int sig);
void die(const char *what);            /* cleans up, exits 1 */
void check_interrupt(void);            /* after SIGINT/SIGTERM: clean, exit */
void cleanup(void);
/* Run by cleanup() first when set (the cycle tables' runsvdir). */
extern void (*cleanup_hook)(void);
double now_ms(void);
double tv_ms(struct timeval tv);
double median(const double *v, long n);
void pool_name(char *buf, size_t cap, long i);
void beside_me(char *buf, size_t cap, const char *name);

/* The modes: --lean FILE..., --list FILE..., --loop FILE...; exit codes. */
int lean_main(int n, char **files);
int list_main(int n, char **files);
int loop_main(int n, char **files);
/* bench_cycle.c: --app FILE, --cycle FILE...; the cycle tables and the
 * stale-processes table. */
int app_main(int n, char **files);
int cycle_main(int n, char **files);
void cycle_tables(long runs);
void stale_table(long runs);
/* Removes a directory tree (best effort). */
void remove_tree(const char *path);

/* The workload: start (through the launcher) and stop the holders. */
void start_holders(const config *c, long procs, int sparse);
void stop_holders(void);

/* One run of argv: wall and CPU ms, distinct pids printed; -1 when it
 * cannot run. */
int run_tool(char *const argv[], char *const envp[], double *wall,
             double *cpu, long *n_pids);
/* environ without RESTARTMGR_SCAN_THREADS, plus extra ("NAME=value"). */
char **environment(const char *extra);
/* rm_get_list timed inside a long-lived child, after one warm-up call. */
void list_in_child(char **files, long n, long runs, double *wall,
                   double *cpu, long *found);

#endif
