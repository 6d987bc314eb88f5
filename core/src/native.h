/* SPDX-License-Identifier: MIT */
/*
 * native.h: the seam for RESTARTMGR_BACKEND=native, where every public
 * operation is forwarded to the operating system's own Restart Manager
 * (Windows' Rstrtmgr.dll) instead of the library's implementation.
 *
 * Each public entry point of the engine starts with one line:
 *
 *   if (rm__native()) return rm__native()->start_session(...);
 *
 * rm__native() decides once per process, at the first call: the variable
 * RESTARTMGR_BACKEND=native asks for it, and the backend says whether the
 * system has one (rm__os_native; Linux never does).  Without it, or when
 * it cannot be loaded, the library's own implementation runs.  Handles
 * are then the system's own, so the two are never mixed in one process.
 * Every member has the contract of the public function of the same name.
 */
#ifndef RM_NATIVE_H
#define RM_NATIVE_H

#include "restartmgr.h"

typedef struct rm__native_ops {
  uint32_t (*start_session)(uint32_t *, uint32_t, char *);
  uint32_t (*join_session)(uint32_t *, const char *);
  uint32_t (*end_session)(uint32_t);
  uint32_t (*register_resources)(uint32_t, unsigned, const char *const *,
                                 unsigned, const rm_unique_process *,
                                 unsigned, const char *const *);
  uint32_t (*get_list)(uint32_t, unsigned *, unsigned *, rm_process_info *,
                       uint32_t *);
  uint32_t (*get_list_alloc)(uint32_t, rm_app_info **, unsigned *,
                             uint32_t *);
  uint32_t (*shutdown)(uint32_t, uint32_t, rm_status_callback, void *);
  uint32_t (*restart)(uint32_t, uint32_t, rm_status_callback, void *);
  uint32_t (*cancel_current_task)(uint32_t);
  uint32_t (*add_filter)(uint32_t, const char *, const rm_unique_process *,
                         const char *, rm_filter_action);
  uint32_t (*remove_filter)(uint32_t, const char *, const rm_unique_process *,
                            const char *);
  uint32_t (*get_filter_list)(uint32_t, void *, uint32_t, uint32_t *);
  uint32_t (*set_timeouts)(uint32_t, uint32_t, uint32_t);
} rm__native_ops;

/* The forwarding table when native mode is on, else NULL (native.c). */
const rm__native_ops *rm__native(void);

/* Turns native mode off for the life of the process, whatever the
 * environment says: for the drop-in rstrtmgr.dll, which is itself the
 * system's Restart Manager and would otherwise forward to itself. */
void rm__native_forbid(void);

/* The backend's side of this seam, rm__os_native, is declared in os.h
 * with the rest of the backend's interface. */

#endif
