/* SPDX-License-Identifier: MIT */
/*
 * native.c: whether this process forwards to the system's own Restart
 * Manager (native.h), decided once, and rm_backend().
 */
#include "internal.h"
#include "native.h"

#include <string.h>

static volatile int decided;
static const rm__native_ops *ops;

const rm__native_ops *rm__native(void) {
  /* The decision is read without the lock once made: it never changes. */
  if (decided) return ops;
  rm__os_global_lock();
  if (!decided) {
    const char *want = rm__os_getenv("RESTARTMGR_BACKEND");
    if (want && strcmp(want, "native") == 0) ops = rm__os_native();
    decided = 1;
  }
  rm__os_global_unlock();
  return ops;
}

void rm__native_forbid(void) {
  rm__os_global_lock();
  ops = NULL;
  decided = 1;
  rm__os_global_unlock();
}

const char *rm_backend(void) {
  return rm__native() ? "native" : rm__os_backend_name();
}
