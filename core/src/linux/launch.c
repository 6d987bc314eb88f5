/* launch.c: capture and relaunch (placeholder until the shutdown issue lands). */
#define _GNU_SOURCE
#include "linux.h"

uint32_t rm__os_capture(const rm_unique_process *p, rm__launch *out) {
  (void)p; (void)out;
  return RM_ERROR_ACCESS_DENIED;
}

uint32_t rm__os_launch(const rm__launch *l, rm_unique_process *started) {
  (void)l; (void)started;
  return RM_ERROR_FAIL_RESTART;
}
