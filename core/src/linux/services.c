/* services.c: service managers (placeholder until the shutdown issue lands). */
#define _GNU_SOURCE
#include "linux.h"

int rm__linux_service_of(uint32_t pid, char *name, size_t cap) {
  (void)pid; (void)name; (void)cap;
  return 0;
}

int rm__linux_service_pid(const char *name, uint32_t *pid) {
  (void)name; (void)pid;
  return 0;
}

int rm__linux_service_critical(const char *name) {
  (void)name;
  return 0;
}
