/* SPDX-License-Identifier: MIT */
/*
 * procs.c: the system's processes and services, each taken in one call.
 *
 * Processes come from NtQuerySystemInformation(SystemProcessInformation),
 * which gives every process's pid, creation time and session without
 * opening it: identity and session are known even for processes the
 * caller may not touch.  Services come from the Service Control Manager
 * (EnumServicesStatusEx with their process ids), which is how a pid is
 * mapped to the services it hosts.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <winternl.h>

/* SYSTEM_PROCESS_INFORMATION with the fields the SDK calls Reserved named
 * (the layout is fixed since NT; the same on x86 and x64 by alignment). */
typedef struct sys_process {
  ULONG next;
  ULONG threads;
  LARGE_INTEGER unused[3];
  LARGE_INTEGER create_time;
  LARGE_INTEGER user_time;
  LARGE_INTEGER kernel_time;
  UNICODE_STRING image_name;
  LONG base_priority;
  HANDLE pid;
  HANDLE parent;
  ULONG handle_count;
  ULONG session_id;
} sys_process;

#ifdef _WIN64
typedef char sys_process_layout_check[
    offsetof(sys_process, create_time) == 32 &&
    offsetof(sys_process, image_name) == 56 &&
    offsetof(sys_process, pid) == 80 &&
    offsetof(sys_process, session_id) == 100 ? 1 : -1];
#endif

#define SYSTEM_PROCESS_INFORMATION_CLASS 5

static int by_pid(const void *a, const void *b) {
  const rm__win_proc *x = a, *y = b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

uint32_t rm__win_procs_snapshot(rm__win_procs *out) {
  void *buf = NULL;
  ULONG len = 0;
  const unsigned char *p;
  size_t n = 0, cap = 0;
  rm__win_proc *v = NULL;
  rm__ntstatus st;

  out->v = NULL;
  out->n = 0;
  st = rm__win_query_system(SYSTEM_PROCESS_INFORMATION_CLASS, &buf, &len);
  if (st < 0) {
    free(buf);
    return st == (rm__ntstatus)0xC0000017L ? RM_ERROR_OUTOFMEMORY : RM_OK;
  }
  for (p = buf;; ) {
    sys_process sp;
    rm__win_proc *e;
    memcpy(&sp, p, sizeof sp);
    if (n == cap) {
      rm__win_proc *bigger;
      cap = cap ? cap * 2 : 256;
      bigger = realloc(v, cap * sizeof *v);
      if (!bigger) goto oom;
      v = bigger;
    }
    e = &v[n];
    e->pid = (uint32_t)(uintptr_t)sp.pid;
    e->parent = (uint32_t)(uintptr_t)sp.parent;
    e->session = sp.session_id;
    e->start_time = (uint64_t)sp.create_time.QuadPart;
    e->name = malloc((size_t)sp.image_name.Length + sizeof(wchar_t));
    if (!e->name) goto oom;
    if (sp.image_name.Buffer)
      memcpy(e->name, sp.image_name.Buffer, sp.image_name.Length);
    e->name[sp.image_name.Length / sizeof(wchar_t)] = 0;
    n++;
    if (sp.next == 0) break;
    p += sp.next;
  }
  free(buf);
  qsort(v, n, sizeof *v, by_pid);
  out->v = v;
  out->n = n;
  return RM_OK;

oom:
  free(buf);
  out->v = v;
  out->n = n;
  rm__win_procs_free(out);
  return RM_ERROR_OUTOFMEMORY;
}

void rm__win_procs_free(rm__win_procs *p) {
  size_t i;
  for (i = 0; i < p->n; i++) free(p->v[i].name);
  free(p->v);
  p->v = NULL;
  p->n = 0;
}

const rm__win_proc *rm__win_procs_find(const rm__win_procs *p, uint32_t pid) {
  size_t lo = 0, hi = p->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (p->v[mid].pid == pid) return &p->v[mid];
    if (p->v[mid].pid < pid) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

static wchar_t *wdup(const wchar_t *s) {
  size_t n = (s ? wcslen(s) : 0) + 1;
  wchar_t *d = malloc(n * sizeof *d);
  if (d) {
    if (s) memcpy(d, s, n * sizeof *d);
    else d[0] = 0;
  }
  return d;
}

uint32_t rm__win_services_snapshot(rm__win_services *out) {
  SC_HANDLE scm;
  BYTE *buf = NULL;
  DWORD size = 64 * 1024, need = 0, count = 0, resume = 0, i;
  uint32_t rc = RM_OK;

  out->v = NULL;
  out->n = 0;
  scm = OpenSCManagerW(NULL, NULL,
                       SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE);
  if (!scm) return RM_OK;                 /* no SCM: no services */
  for (;;) {
    ENUM_SERVICE_STATUS_PROCESSW *e;
    BOOL ok;
    free(buf);
    buf = malloc(size);
    if (!buf) {
      rc = RM_ERROR_OUTOFMEMORY;
      break;
    }
    ok = EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32,
                               SERVICE_STATE_ALL, buf, size, &need, &count,
                               &resume, NULL);
    if (!ok && GetLastError() != ERROR_MORE_DATA) break;
    e = (ENUM_SERVICE_STATUS_PROCESSW *)(void *)buf;
    if (count) {
      rm__win_service *bigger =
          realloc(out->v, (out->n + count) * sizeof *bigger);
      if (!bigger) {
        rc = RM_ERROR_OUTOFMEMORY;
        break;
      }
      out->v = bigger;
    }
    for (i = 0; i < count; i++) {
      rm__win_service *s = &out->v[out->n];
      s->name = wdup(e[i].lpServiceName);
      s->display = wdup(e[i].lpDisplayName);
      s->state = e[i].ServiceStatusProcess.dwCurrentState;
      s->pid = s->state == SERVICE_STOPPED
                   ? 0 : e[i].ServiceStatusProcess.dwProcessId;
      out->n++;
      if (!s->name || !s->display) {
        rc = RM_ERROR_OUTOFMEMORY;
        break;
      }
    }
    if (ok || rc != RM_OK) break;
    if (need > size) size = need + 4096;
  }
  free(buf);
  CloseServiceHandle(scm);
  if (rc != RM_OK) rm__win_services_free(out);
  return rc;
}

void rm__win_services_free(rm__win_services *s) {
  size_t i;
  for (i = 0; i < s->n; i++) {
    free(s->v[i].name);
    free(s->v[i].display);
  }
  free(s->v);
  s->v = NULL;
  s->n = 0;
}
