/* SPDX-License-Identifier: MIT */
/* native.c: Linux has no Restart Manager of its own to forward to
 * (RESTARTMGR_BACKEND=native is ignored; see core/src/native.h). */
#define _GNU_SOURCE
#include "../native.h"
#include "../os.h"

#include <stddef.h>

const rm__native_ops *rm__os_native(void) { return NULL; }

const char *rm__os_backend_name(void) { return "linux"; }
