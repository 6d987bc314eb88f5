/* stop.c: rm__os_stop_apps (placeholder until the shutdown issue lands). */
#define _GNU_SOURCE
#include "linux.h"

uint32_t rm__os_stop_apps(rm__stop *apps, size_t n, unsigned timeout_ms,
                          int force, const volatile int *cancel,
                          void (*done)(void *ctx, size_t i), void *ctx) {
  size_t i;
  (void)timeout_ms; (void)force; (void)cancel; (void)done; (void)ctx;
  for (i = 0; i < n; i++) apps[i].result = RM_STATUS_ERROR_ON_STOP;
  return RM_OK;
}

uint32_t rm__os_service_stop(const char *name, unsigned timeout_ms, int force,
                             const volatile int *cancel) {
  (void)name; (void)timeout_ms; (void)force; (void)cancel;
  return RM_ERROR_FAIL_SHUTDOWN;
}

uint32_t rm__os_service_start(const char *name, unsigned timeout_ms) {
  (void)name; (void)timeout_ms;
  return RM_ERROR_FAIL_RESTART;
}
