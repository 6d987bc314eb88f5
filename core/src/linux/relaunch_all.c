/* SPDX-License-Identifier: MIT */
/*
 * relaunch_all.c: rm__os_launch_begin_all, starting many applications at
 * once (docs/performance.md, Restart and the whole cycle).
 *
 * Starting one application (relaunch.c) waits for its intermediate
 * process to fork it and report its pid before the go byte is sent; on a
 * busy machine each such wait is a trip through the scheduler.  Done one
 * after the other those waits add up (about 25 ms per application with a
 * load of 12 on two cores), so each start runs on a thread of its own (at
 * most LAUNCH_THREADS at a time) and the waits overlap.  Every child is
 * still forked the way relaunch.c does it (after fork only
 * async-signal-safe calls), and each application's settle time still
 * starts with its own pid report.
 */
#include "linux.h"

#include <pthread.h>
#include <string.h>

#define LAUNCH_THREADS 32

typedef struct one_start {
  const rm__launch *l;
  rm__launching *run;
  rm_restart_outcome *outcome;
  uint32_t *rc;
  int *begun;
  const volatile int *cancel;
} one_start;

static void *start_one(void *arg) {
  one_start *s = arg;
  if (*s->cancel) return NULL;      /* not begun: the caller sees *begun 0 */
  *s->rc = rm__os_launch_begin(s->l, s->run, s->outcome);
  *s->begun = 1;
  return NULL;
}

void rm__os_launch_begin_all(const rm__launch *const *l, size_t n,
                             rm__launching *runs,
                             rm_restart_outcome *const *outcomes,
                             uint32_t *rcs, int *begun,
                             const volatile int *cancel) {
  one_start s[LAUNCH_THREADS];
  pthread_t t[LAUNCH_THREADS];
  int threaded[LAUNCH_THREADS];
  size_t at, k, m;
  for (at = 0; at < n; at += m) {
    m = n - at < LAUNCH_THREADS ? n - at : LAUNCH_THREADS;
    for (k = 0; k < m; k++) {
      s[k].l = l[at + k];
      s[k].run = &runs[at + k];
      s[k].outcome = outcomes[at + k];
      s[k].rc = &rcs[at + k];
      s[k].begun = &begun[at + k];
      s[k].cancel = cancel;
      begun[at + k] = 0;
      /* Without a thread, it starts here. */
      threaded[k] =
          m > 1 && pthread_create(&t[k], NULL, start_one, &s[k]) == 0;
      if (!threaded[k]) start_one(&s[k]);
    }
    for (k = 0; k < m; k++)
      if (threaded[k]) pthread_join(t[k], NULL);
  }
}
