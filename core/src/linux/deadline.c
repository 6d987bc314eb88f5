/* SPDX-License-Identifier: MIT */
/*
 * deadline.c: the watchdog behind a command's time limit (os.h,
 * rm__os_exit_after; docs/security.md, "Nothing blocks").
 *
 * A read of /proc/PID/maps, cmdline or environ waits for the target's
 * memory map lock, which a user can hold for as long as they like (a
 * page fault on their own FUSE mount), so no timeout around the read can
 * bound it.  What does is ending the process: _exit from this thread is
 * exit_group, which kills every thread, and the lock waits are killable.
 * The thread sleeps on a condition variable against the monotonic clock
 * and is started once, at the first arming.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int started;
static uint64_t deadline_ms;          /* 0: disarmed */
static char message[512];
static int exit_code;

static void *watch(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  for (;;) {
    uint64_t now = rm__os_now_ms();
    struct timespec until;
    if (!deadline_ms) {
      pthread_cond_wait(&wake, &lock);
      continue;
    }
    if (now >= deadline_ms) {
      size_t n = strlen(message);
      message[n] = '\n';
      if (write(2, message, n + 1) < 0) {}
      _exit(exit_code);
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)((deadline_ms - now) / 1000u);
    until.tv_nsec += (long)((deadline_ms - now) % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&wake, &lock, &until);
  }
  return NULL;
}

uint32_t rm__os_exit_after(unsigned seconds, const char *text, int code) {
  uint32_t rc = RM_OK;
  pthread_mutex_lock(&lock);
  if (!started && seconds) {
    pthread_condattr_t attr;
    pthread_attr_t tattr;
    pthread_t t;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_attr_init(&tattr);
    pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &tattr, watch, NULL) == 0) started = 1;
    else rc = RM_ERROR_OUTOFMEMORY;
    pthread_attr_destroy(&tattr);
  }
  if (rc == RM_OK && started) {
    snprintf(message, sizeof message - 1, "%s", text ? text : "");
    exit_code = code;
    deadline_ms = seconds ? rm__os_now_ms() + (uint64_t)seconds * 1000u : 0;
    pthread_cond_signal(&wake);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}
