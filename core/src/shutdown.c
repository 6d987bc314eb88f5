/*
 * shutdown.c: rm_shutdown, rm_restart, rm_cancel_current_task.
 * (Argument and role checks only until the shutdown issue lands.)
 */
#include "internal.h"

uint32_t rm_shutdown(uint32_t session_handle, uint32_t action_flags,
                     rm_status_callback status, void *context) {
  rm__handle *h;
  uint32_t rc = rm__enter(session_handle, 1, 1, &h);
  (void)status; (void)context;
  if (rc != RM_OK) return rc;
  if (action_flags & ~(RM_FORCE_SHUTDOWN | RM_SHUTDOWN_ONLY_REGISTERED))
    rc = RM_ERROR_BAD_ARGUMENTS;
  else
    rc = RM_ERROR_FAIL_SHUTDOWN;  /* not implemented yet: never claim success */
  rm__leave(h, 1);
  return rc;
}

uint32_t rm_restart(uint32_t session_handle, uint32_t restart_flags,
                    rm_status_callback status, void *context) {
  rm__handle *h;
  uint32_t rc = rm__enter(session_handle, 1, 1, &h);
  (void)status; (void)context;
  if (rc != RM_OK) return rc;
  rc = restart_flags != 0 ? RM_ERROR_BAD_ARGUMENTS
                          : RM_ERROR_REQUEST_OUT_OF_SEQUENCE;
  rm__leave(h, 1);
  return rc;
}

uint32_t rm_cancel_current_task(uint32_t session_handle) {
  return rm__cancel(session_handle);
}
