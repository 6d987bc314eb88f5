/* SPDX-License-Identifier: MIT */
/*
 * test.h: the assertions and process helpers of the C tests.
 *
 * Each test file is one executable whose main() runs its cases with
 * RUN(case).  A failed assertion prints file:line and the two values, runs
 * the registered cleanups (children killed and reaped, temp dirs removed)
 * and exits 1.  The last line is "N passed, N failed".
 */
#ifndef RM_TEST_H
#define RM_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restartmgr.h"

extern int rmt_failed_cases, rmt_passed_cases;
void rmt_fail(const char *file, int line, const char *what);
void rmt_cleanup(void);

#define ASSERT(c) do { if (!(c)) rmt_fail(__FILE__, __LINE__, #c); } while (0)
#define ASSERT_EQ(want, got) do {                                          \
    unsigned long long w_ = (unsigned long long)(want);                    \
    unsigned long long g_ = (unsigned long long)(got);                     \
    if (w_ != g_) {                                                         \
      char m_[256];                                                         \
      snprintf(m_, sizeof m_, "%s == %s: want %llu, got %llu", #want, #got, \
               w_, g_);                                                     \
      rmt_fail(__FILE__, __LINE__, m_);                                     \
    }                                                                       \
  } while (0)
#define ASSERT_OK(x) ASSERT_EQ(RM_OK, (x))
#define ASSERT_STR_EQ(want, got) do {                                      \
    const char *w_ = (want), *g_ = (got);                                   \
    if (!w_ || !g_ || strcmp(w_, g_) != 0)                                  \
      rmt_fail_str(__FILE__, __LINE__, #want, #got, w_, g_);                \
  } while (0)
void rmt_fail_str(const char *file, int line, const char *want_expr,
                  const char *got_expr, const char *want, const char *got);

/* Runs one case; cases are void functions. */
#define RUN(fn) rmt_run(#fn, fn)
void rmt_run(const char *name, void (*fn)(void));
/* Prints the summary line and returns the exit status for main. */
int rmt_finish(void);

/* A fresh private temp dir (removed at exit), and a fresh session store in
 * it: sets RESTARTMGR_STATE_DIR.  Returns the dir path (static storage). */
const char *rmt_tempdir(void);
const char *rmt_fresh_store(void);
/* Removes a file or a directory tree (as far as the caller may). */
void rmt_remove_tree(const char *path);
/* Registers fn(arg) to run at the end of the case and on a failed
 * assertion (children are killed first, temp dirs removed after; the
 * latest registered runs first).  Only in the process that registered it,
 * so a forked child's failure never runs the parent's cleanups. */
void rmt_at_cleanup(void (*fn)(void *), void *arg);
/* Writes a small file, returns 0 on success. */
int rmt_write_file(const char *path, const char *text);
/* "dir/name" in one of 8 rotating static buffers (a pointer stays valid
 * for the next 7 calls). */
const char *rmt_path(const char *dir, const char *name);
/* Copies the file from to to, mode 0755 (a program of its own, at a path
 * the test chooses); fails the case on any error. */
void rmt_copy_exe(const char *from, const char *to);
void rmt_setenv(const char *name, const char *value);

/* Child processes.  rmt_spawn runs argv (argv[0] a path) with stdin from
 * the null device and stdout to a pipe; the child is killed and reaped at
 * cleanup unless rmt_reap is called first.  rmt_spawn_self re-runs this
 * test executable with "--child" and the given arguments; main() passes
 * those to its own dispatcher through rmt_child_args. */
typedef struct rmt_child {
  long pid;
  void *os;                 /* process handle on Windows */
  int out_fd;               /* read end of the child's stdout, or -1 */
} rmt_child;
int rmt_spawn(rmt_child *c, char *const argv[]);
int rmt_spawn_self(rmt_child *c, const char *a1, const char *a2, const char *a3);
/* Starts exe (a path) with the NULL-terminated args (up to 30; args may
 * be NULL) and waits up to 10 s for its first line, which must be
 * "ready" (the helpers' handshake); fails the case otherwise. */
void rmt_start_ready(rmt_child *c, const char *exe, const char *const args[]);
/* Reads one line of the child's stdout (without newline) within
 * timeout_ms; returns 0 on success. */
int rmt_read_line(rmt_child *c, char *buf, size_t cap, unsigned timeout_ms);
/* Waits for exit; returns the exit status, or -1 (killed by a signal or
 * not within timeout_ms, in which case it is killed). */
int rmt_wait(rmt_child *c, unsigned timeout_ms);
/* Kills and reaps. */
void rmt_kill(rmt_child *c);
/* Stops tracking a child the caller reaped itself, so the cleanup after
 * the case never touches the (possibly gone) rmt_child again. */
void rmt_forget(rmt_child *c);
#ifdef _WIN32
/* Windows only: rmt_spawn with CreateProcess creation flags (for example
 * CREATE_NEW_CONSOLE) and a working directory (NULL: the caller's). */
int rmt_spawn_win(rmt_child *c, char *const argv[], unsigned long flags,
                  const char *cwd);
/* Windows only: tracks a process the test did not start (one rm_restart
 * started), so cleanup kills it.  0 on success. */
int rmt_adopt(rmt_child *c, unsigned long pid);
#endif
/* Path of a helper program built beside the tests ($RM_TEST_BIN/name). */
const char *rmt_helper(const char *name);
/* In a child started by rmt_spawn_self: its arguments, else NULL. */
extern char **rmt_child_args;
void rmt_init(int argc, char **argv);
void rmt_sleep_ms(unsigned ms);
/* This process's id. */
long rmt_self_pid(void);

#endif
