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
 *
 * The thread lives only while armed: disarming stops and joins it.  And
 * while it lives, the object it runs in is pinned (RTLD_NODELETE): in the
 * Lua module, a program that exits armed closes its Lua state, which
 * unloads the module, and the thread must not wake up in unmapped code.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static pthread_t watcher;
static int running, cond_ready, pinned;
static uintptr_t generation;          /* a watcher whose own is older quits */
static uint64_t deadline_ms;
static char message[512];
static int exit_code;

static void *watch(void *arg) {
  uintptr_t mine = (uintptr_t)arg;
  pthread_mutex_lock(&lock);
  while (mine == generation) {
    uint64_t now = rm__os_now_ms();
    struct timespec until;
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
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* Keeps the object this code is in loaded for good. */
static void pin_self(void) {
  Dl_info info;
  if (pinned) return;
  pinned = 1;
  if (dladdr((void *)(uintptr_t)pin_self, &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

uint32_t rm__os_exit_after(unsigned seconds, const char *text, int code) {
  uint32_t rc = RM_OK;
  pthread_mutex_lock(&lock);
  if (!cond_ready) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    cond_ready = 1;
  }
  if (!seconds) {
    if (running) {
      pthread_t t = watcher;
      generation++;
      running = 0;
      pthread_cond_broadcast(&wake);
      pthread_mutex_unlock(&lock);
      pthread_join(t, NULL);
      return RM_OK;
    }
    pthread_mutex_unlock(&lock);
    return RM_OK;
  }
  snprintf(message, sizeof message - 1, "%s", text ? text : "");
  exit_code = code;
  deadline_ms = rm__os_now_ms() + (uint64_t)seconds * 1000u;
  if (running) {
    pthread_cond_broadcast(&wake);
  } else {
    pin_self();
    generation++;
    if (pthread_create(&watcher, NULL, watch, (void *)generation) == 0)
      running = 1;
    else
      rc = RM_ERROR_OUTOFMEMORY;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}
