/* SPDX-License-Identifier: MIT */
/*
 * services.c: the service-manager dispatcher of the Linux backend.
 *
 * Three managers sit behind one interface (services.h): the caller's own
 * systemd user manager (a caller other than root whose manager runs),
 * systemd, consulted only where it runs (/run/systemd/system exists), and
 * runit.  A process
 * belongs to the service the first present manager names for it; a short
 * name resolves through the first manager that runs such a service, else
 * the first that knows it.
 *
 * Critical services are never stopped: a built-in list of what a machine
 * cannot lose without losing its users' sessions (D-Bus, login managers,
 * gettys, display managers, network plumbing), extended by the
 * space-, comma- or colon-separated shell patterns of
 * $RESTARTMGR_CRITICAL_SERVICES, plus whatever the manager itself refuses
 * to stop (systemd's RefuseManualStop=yes).
 *
 * sv and systemctl are run by svc_run.c.
 */
#define _GNU_SOURCE
#include "services.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* {===== The managers */

/* The caller's user manager first: for a caller other than root its own
 * units are the ones it can stop, and a name it shares with a system
 * unit means the user's. */
static const rm__svc_manager *const managers[] = {
  &rm__svc_systemd_user, &rm__svc_systemd, &rm__svc_runit
};
#define N_MANAGERS (sizeof managers / sizeof managers[0])

/* The manager that handles a name: one that runs it, else one that knows
 * it, else NULL. */
static const rm__svc_manager *manager_for(const char *name, uint32_t *pid) {
  const rm__svc_manager *known = NULL;
  size_t i;
  for (i = 0; i < N_MANAGERS; i++) {
    uint32_t p = 0;
    int state;
    if (!managers[i]->present()) continue;
    state = managers[i]->lookup(name, &p);
    if (state == RM_SVC_RUNNING) {
      if (pid) *pid = p;
      return managers[i];
    }
    if (state == RM_SVC_DOWN && !known) known = managers[i];
  }
  return known;
}

unsigned rm__linux_services_present(void) {
  unsigned present = 0;
  size_t i;
  for (i = 0; i < N_MANAGERS; i++)
    if (managers[i]->present()) present |= 1u << i;
  return present;
}

int rm__linux_service_of_stat(uint32_t pid, const rm__pstat *st,
                              unsigned present, char *name, size_t cap) {
  size_t i;
  for (i = 0; i < N_MANAGERS; i++)
    if ((present & (1u << i)) && managers[i]->service_of(pid, st, name, cap))
      return 1;
  return 0;
}

int rm__linux_service_of(uint32_t pid, char *name, size_t cap) {
  return rm__linux_service_of_stat(pid, NULL, rm__linux_services_present(),
                                   name, cap);
}

int rm__linux_service_pid(const char *name, uint32_t *pid) {
  uint32_t p = 0;
  const rm__svc_manager *m = manager_for(name, &p);
  if (!m || p == 0) return 0;
  *pid = p;
  return 1;
}

int rm__linux_service_find(const char *name, uint32_t *pid, char *short_name,
                           size_t cap) {
  uint32_t p = 0;
  const rm__svc_manager *m = manager_for(name, &p);
  *pid = 0;
  if (!m || !m->short_name(name, short_name, cap)) {
    if ((size_t)snprintf(short_name, cap, "%s", name) >= cap) short_name[0] = 0;
    return 0;
  }
  *pid = p;
  return p != 0;
}

void rm__linux_services_prefetch(const char *const *names, size_t n) {
  size_t i;
  for (i = 0; i < N_MANAGERS; i++)
    if (managers[i]->prefetch && managers[i]->present())
      managers[i]->prefetch(names, n);
}

void rm__linux_services_forget(void) {
  size_t i;
  for (i = 0; i < N_MANAGERS; i++)
    if (managers[i]->forget && managers[i]->present()) managers[i]->forget();
}

/* }=====
 * {===== Critical services */

static const char *const critical_patterns[] = {
  "dbus", "dbus-broker", "dbus-daemon", "elogind", "logind",
  "systemd-*", "user@*", "user-runtime-dir@*", "init", "runit", "runsvdir",
  "getty*", "*-getty*", "agetty*", "serial-getty@*", "autovt@*", "mingetty*",
  "display-manager", "gdm", "gdm3", "sddm", "lightdm", "xdm", "lxdm",
  "slim", "greetd", "ly",
  "NetworkManager", "network-manager", "networking", "wpa_supplicant",
  "ModemManager", "connman", "iwd", "udev", "udevd", "eudev",
  "polkit", "polkitd", "emergency", "rescue", "container-getty@*"
};

/* 1 when name matches one of the space/comma/colon separated patterns of
 * list. */
static int matches_list(const char *name, const char *list) {
  char pattern[256];
  while (list && *list) {
    size_t n = strcspn(list, " ,:\t\n");
    if (n > 0 && n < sizeof pattern) {
      memcpy(pattern, list, n);
      pattern[n] = 0;
      if (fnmatch(pattern, name, 0) == 0) return 1;
    }
    list += n;
    if (*list) list++;
  }
  return 0;
}

int rm__linux_service_critical(const char *name) {
  char bare[RM_MAX_SVC_NAME + 1];
  size_t i, n = strlen(name);
  /* "x.service" and "x" are the same service for the list. */
  if (n >= 8 && strcmp(name + n - 8, ".service") == 0 && n - 8 < sizeof bare) {
    memcpy(bare, name, n - 8);
    bare[n - 8] = 0;
  } else {
    snprintf(bare, sizeof bare, "%s", name);
  }
  for (i = 0; i < sizeof critical_patterns / sizeof *critical_patterns; i++)
    if (fnmatch(critical_patterns[i], bare, 0) == 0) return 1;
  if (matches_list(bare, getenv("RESTARTMGR_CRITICAL_SERVICES"))) return 1;
  for (i = 0; i < N_MANAGERS; i++)
    if (managers[i]->present() && managers[i]->refuses_stop(name)) return 1;
  return 0;
}

uint32_t rm__linux_service_stop(const char *name, unsigned timeout_ms,
                                int force, const volatile int *cancel) {
  const rm__svc_manager *m;
  if (rm__linux_service_critical(name)) return RM_ERROR_FAIL_SHUTDOWN;
  m = manager_for(name, NULL);
  if (!m) return RM_ERROR_FAIL_SHUTDOWN;
  return m->stop(name, timeout_ms, force, cancel);
}

uint32_t rm__linux_service_start(const char *name, unsigned timeout_ms) {
  const rm__svc_manager *m = manager_for(name, NULL);
  if (!m) return RM_ERROR_FAIL_RESTART;
  return m->start(name, timeout_ms);
}

/* Restart in place: the services of each manager that can do it go to
 * it together (one call for all of them); the others, and critical ones
 * (which fail), one by one as a stop then a start. */
void rm__linux_services_restart(rm__svc_restart *v, size_t n,
                                unsigned timeout_ms,
                                const volatile int *cancel) {
  const rm__svc_manager **of = calloc(n + 1, sizeof *of);
  rm__svc_restart *batch = calloc(n + 1, sizeof *batch);
  size_t *index = calloc(n + 1, sizeof *index);
  size_t i, m;
  for (i = 0; i < n; i++) {
    v[i].result = RM_ERROR_FAIL_SHUTDOWN;
    v[i].now.pid = 0;
    v[i].now.start_time = 0;
  }
  if (!of || !batch || !index) goto end;
  for (i = 0; i < n; i++)
    of[i] = rm__linux_service_critical(v[i].name) ? NULL
                                                   : manager_for(v[i].name,
                                                                 NULL);
  for (m = 0; m < N_MANAGERS; m++) {
    size_t k = 0;
    if (!managers[m]->restart) continue;
    for (i = 0; i < n; i++)
      if (of[i] == managers[m]) {
        batch[k] = v[i];
        index[k++] = i;
      }
    if (k == 0) continue;
    managers[m]->restart(batch, k, timeout_ms, cancel);
    for (i = 0; i < k; i++) v[index[i]] = batch[i];
  }
  for (i = 0; i < n; i++) {
    uint32_t pid = 0;
    if (!of[i] || of[i]->restart) continue;
    if (cancel && *cancel) {
      v[i].result = RM_ERROR_CANCELLED;
      continue;
    }
    v[i].result = of[i]->stop(v[i].name, timeout_ms, 0, cancel);
    if (v[i].result == RM_OK && of[i]->start(v[i].name, timeout_ms) != RM_OK)
      v[i].result = RM_ERROR_FAIL_RESTART;
    if (v[i].result == RM_OK && of[i]->lookup(v[i].name, &pid) ==
                                    RM_SVC_RUNNING) {
      rm__pstat st;
      if (rm__linux_read_stat(-1, pid, &st) == 0) {
        v[i].now.pid = pid;
        v[i].now.start_time = rm__linux_ticks_to_100ns(st.start_ticks);
      }
    }
  }
end:
  free(of);
  free(batch);
  free(index);
}

/* }===== */
