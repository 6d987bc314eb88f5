/* SPDX-License-Identifier: MIT */
/*
 * services.c: stopping and starting Win32 services through the Service
 * Control Manager, never by signalling their processes.
 *
 * Stop: the services that depend on it and run are stopped first (the SCM
 * refuses to stop a service others depend on, and Windows' Restart
 * Manager stops dependents too), then SERVICE_CONTROL_STOP, then the
 * status is polled until SERVICE_STOPPED or the timeout.  With force, a
 * service still running at the timeout has its process terminated, but
 * only when that process hosts no other running service.  The dependents
 * stopped on the way are remembered in this process, and started again,
 * after the service itself, by rm__os_service_start.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <wchar.h>

#define POLL_MS 50u

/* {===== Dependents stopped on the way, per stopped service */

typedef struct dependent {
  struct dependent *next;
  wchar_t *of;                      /* the service that was stopped */
  wchar_t *name;                    /* a dependent stopped with it */
} dependent;

static dependent *dependents;
static SRWLOCK dependents_lock = SRWLOCK_INIT;

static void remember(const wchar_t *of, const wchar_t *name) {
  dependent *d = malloc(sizeof *d);
  if (!d) return;
  d->of = _wcsdup(of);
  d->name = _wcsdup(name);
  if (!d->of || !d->name) {
    free(d->of);
    free(d->name);
    free(d);
    return;
  }
  AcquireSRWLockExclusive(&dependents_lock);
  d->next = dependents;
  dependents = d;
  ReleaseSRWLockExclusive(&dependents_lock);
}

/* Takes the remembered dependents of a service off the list. */
static dependent *take(const wchar_t *of) {
  dependent *got = NULL, **p;
  AcquireSRWLockExclusive(&dependents_lock);
  for (p = &dependents; *p;) {
    dependent *d = *p;
    if (rm__win_ieq(d->of, of)) {
      *p = d->next;
      d->next = got;
      got = d;
    } else {
      p = &d->next;
    }
  }
  ReleaseSRWLockExclusive(&dependents_lock);
  return got;
}

/* }=====
 * {===== Waiting for a state */

static int query(SC_HANDLE svc, SERVICE_STATUS_PROCESS *st) {
  DWORD need;
  return QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)st,
                              sizeof *st, &need) != 0;
}

/* Polls until the service reaches state.  1 reached, 0 timeout or error,
 * -1 cancelled. */
static int wait_state(SC_HANDLE svc, DWORD state, unsigned timeout_ms,
                      const volatile int *cancel) {
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  SERVICE_STATUS_PROCESS st;
  for (;;) {
    if (!query(svc, &st)) return 0;
    if (st.dwCurrentState == state) return 1;
    if (state == SERVICE_RUNNING && st.dwCurrentState == SERVICE_STOPPED &&
        st.dwWin32ExitCode != NO_ERROR && st.dwWin32ExitCode !=
        ERROR_SERVICE_NEVER_STARTED)
      return 0;                       /* it failed to start */
    if (cancel && *cancel) return -1;
    if (rm__os_now_ms() >= deadline) return 0;
    Sleep(POLL_MS);
  }
}

/* 1 when no other running service shares the process. */
static int sole_service(SC_HANDLE scm, DWORD pid) {
  rm__win_services all;
  size_t i, count = 0;
  (void)scm;
  if (rm__win_services_snapshot(&all) != RM_OK) return 0;
  for (i = 0; i < all.n; i++) count += all.v[i].pid == pid;
  rm__win_services_free(&all);
  return count == 1;
}

/* }=====
 * {===== Stop */

static uint32_t stop_one(SC_HANDLE scm, const wchar_t *name,
                         unsigned timeout_ms, int force,
                         const volatile int *cancel, int depth);

/* 1 when the double-NUL list of dependencies names the service (entries
 * starting with '+' name load-order groups, not services). */
static int listed(const wchar_t *list, const wchar_t *name) {
  const wchar_t *d;
  for (d = list; d && *d; d += wcslen(d) + 1)
    if (*d != SC_GROUP_IDENTIFIERW && rm__win_ieq(d, name)) return 1;
  return 0;
}

/* 1 when service depends on name: by its SCM configuration, or by its
 * DependOnService registry value (which Wine's QueryServiceConfig leaves
 * out). */
static int depends_on(SC_HANDLE scm, const wchar_t *service,
                      const wchar_t *name) {
  SC_HANDLE svc = OpenServiceW(scm, service, SERVICE_QUERY_CONFIG);
  QUERY_SERVICE_CONFIGW *cfg = NULL;
  wchar_t key[300], *value = NULL;
  DWORD need = 0;
  int hit = 0;
  if (svc) {
    if (!QueryServiceConfigW(svc, NULL, 0, &need) &&
        GetLastError() == ERROR_INSUFFICIENT_BUFFER && (cfg = malloc(need)) &&
        QueryServiceConfigW(svc, cfg, need, &need))
      hit = listed(cfg->lpDependencies, name);
    free(cfg);
    CloseServiceHandle(svc);
  }
  if (hit || wcslen(service) > 200) return hit;
  swprintf(key, 300, L"SYSTEM\\CurrentControlSet\\Services\\%ls", service);
  need = 0;
  if (RegGetValueW(HKEY_LOCAL_MACHINE, key, L"DependOnService",
                   RRF_RT_REG_MULTI_SZ, NULL, NULL, &need) == ERROR_SUCCESS &&
      (value = calloc(need + 4, 1)) &&
      RegGetValueW(HKEY_LOCAL_MACHINE, key, L"DependOnService",
                   RRF_RT_REG_MULTI_SZ, NULL, value, &need) == ERROR_SUCCESS)
    hit = listed(value, name);
  free(value);
  return hit;
}

/* Stops the running services that depend on name, remembering them.
 * Found from each service's configuration rather than through
 * EnumDependentServices, which Wine leaves empty. */
static uint32_t stop_dependents(SC_HANDLE scm, const wchar_t *name,
                                unsigned timeout_ms, int force,
                                const volatile int *cancel, int depth) {
  rm__win_services all;
  uint32_t rc = RM_OK;
  size_t i;
  if (rm__win_services_snapshot(&all) != RM_OK) return RM_ERROR_FAIL_SHUTDOWN;
  for (i = 0; i < all.n && rc == RM_OK; i++) {
    if (all.v[i].state == SERVICE_STOPPED ||
        !depends_on(scm, all.v[i].name, name))
      continue;
    rc = stop_one(scm, all.v[i].name, timeout_ms, force, cancel, depth + 1);
    if (rc == RM_OK) remember(name, all.v[i].name);
  }
  rm__win_services_free(&all);
  return rc;
}

static uint32_t stop_one(SC_HANDLE scm, const wchar_t *name,
                         unsigned timeout_ms, int force,
                         const volatile int *cancel, int depth) {
  SERVICE_STATUS_PROCESS st;
  SERVICE_STATUS ignored;
  SC_HANDLE svc;
  uint32_t rc;
  int got;
  if (depth > 16) return RM_ERROR_FAIL_SHUTDOWN;
  svc = OpenServiceW(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS);
  if (!svc) return RM_ERROR_FAIL_SHUTDOWN;
  if (!query(svc, &st)) {
    CloseServiceHandle(svc);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  if (st.dwCurrentState == SERVICE_STOPPED) {
    CloseServiceHandle(svc);
    return RM_OK;
  }
  rc = stop_dependents(scm, name, timeout_ms, force, cancel, depth);
  if (rc != RM_OK) {
    CloseServiceHandle(svc);
    return rc;
  }
  if (!ControlService(svc, SERVICE_CONTROL_STOP, &ignored) &&
      GetLastError() != ERROR_SERVICE_NOT_ACTIVE &&
      GetLastError() != ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
    CloseServiceHandle(svc);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  got = wait_state(svc, SERVICE_STOPPED, timeout_ms, cancel);
  if (got == 0 && force && query(svc, &st) && st.dwProcessId &&
      sole_service(scm, st.dwProcessId)) {
    HANDLE p = OpenProcess(PROCESS_TERMINATE, FALSE, st.dwProcessId);
    if (p) {
      TerminateProcess(p, 1);
      CloseHandle(p);
      got = wait_state(svc, SERVICE_STOPPED, 5000, cancel);
    }
  }
  CloseServiceHandle(svc);
  if (got > 0) return RM_OK;
  return got < 0 ? RM_ERROR_CANCELLED : RM_ERROR_FAIL_SHUTDOWN;
}

uint32_t rm__os_service_stop(const char *name, unsigned timeout_ms, int force,
                             const volatile int *cancel) {
  wchar_t *w = rm__win_wide(name);
  SC_HANDLE scm;
  uint32_t rc;
  if (!w) return RM_ERROR_FAIL_SHUTDOWN;
  scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  if (!scm) {
    free(w);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  rc = stop_one(scm, w, timeout_ms, force, cancel, 0);
  CloseServiceHandle(scm);
  free(w);
  return rc;
}

/* }=====
 * {===== Start */

static int start_one(SC_HANDLE scm, const wchar_t *name, unsigned timeout_ms) {
  SC_HANDLE svc = OpenServiceW(scm, name, SERVICE_START | SERVICE_QUERY_STATUS);
  int ok;
  if (!svc) return 0;
  ok = StartServiceW(svc, 0, NULL) ||
       GetLastError() == ERROR_SERVICE_ALREADY_RUNNING;
  ok = ok && wait_state(svc, SERVICE_RUNNING, timeout_ms, NULL) > 0;
  CloseServiceHandle(svc);
  return ok;
}

/* Starts a service, then the dependents stopped with it, and theirs. */
static int start_tree(SC_HANDLE scm, const wchar_t *name, unsigned timeout_ms,
                      int depth) {
  dependent *deps = take(name), *d;
  int ok = start_one(scm, name, timeout_ms);
  while ((d = deps) != NULL) {
    deps = d->next;
    if (ok && depth < 16) ok = start_tree(scm, d->name, timeout_ms, depth + 1);
    free(d->of);
    free(d->name);
    free(d);
  }
  return ok;
}

uint32_t rm__os_service_start(const char *name, unsigned timeout_ms) {
  wchar_t *w = rm__win_wide(name);
  SC_HANDLE scm;
  int ok;
  if (!w) return RM_ERROR_FAIL_RESTART;
  scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  if (!scm) {
    free(w);
    return RM_ERROR_FAIL_RESTART;
  }
  ok = start_tree(scm, w, timeout_ms, 0);
  CloseServiceHandle(scm);
  free(w);
  return ok ? RM_OK : RM_ERROR_FAIL_RESTART;
}

/* }=====
 * {===== Restart in place */

/* The service manager has no restart of its own: each service is stopped
 * and started again, one after the other.  Its new process is found by
 * the caller's next scan (now.pid 0). */
void rm__os_services_restart(rm__svc_restart *v, size_t n,
                             unsigned timeout_ms, const volatile int *cancel) {
  size_t i;
  for (i = 0; i < n; i++) {
    v[i].now.pid = 0;
    v[i].now.start_time = 0;
    if (cancel && *cancel) {
      v[i].result = RM_ERROR_CANCELLED;
      continue;
    }
    v[i].result = rm__os_service_stop(v[i].name, timeout_ms, 0, cancel);
    if (v[i].result == RM_OK &&
        rm__os_service_start(v[i].name, timeout_ms) != RM_OK)
      v[i].result = RM_ERROR_FAIL_RESTART;
  }
}

/* }===== */

/* One after the other: the SCM's start waits are short. */
void rm__os_service_start_all(const char *const *names, size_t n,
                              unsigned timeout_ms, uint32_t *rcs) {
  size_t i;
  for (i = 0; i < n; i++) rcs[i] = rm__os_service_start(names[i], timeout_ms);
}

void rm__os_service_stop_all(const char *const *names, size_t n,
                             unsigned timeout_ms, int force,
                             const volatile int *cancel, uint32_t *rcs) {
  size_t i;
  for (i = 0; i < n; i++)
    rcs[i] = rm__os_service_stop(names[i], timeout_ms, force, cancel);
}
