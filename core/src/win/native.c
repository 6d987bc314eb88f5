/* SPDX-License-Identifier: MIT */
/*
 * native.c: RESTARTMGR_BACKEND=native on Windows: every public operation
 * forwarded to Windows' own Restart Manager (Rstrtmgr.dll, loaded from
 * the system directory at the first call), converting at the edge:
 * UTF-8 ↔ UTF-16 strings, rm_unique_process ↔ RM_UNIQUE_PROCESS
 * (start_time ↔ FILETIME), RM_PROCESS_INFO → rm_process_info, the
 * RM_FILTER_INFO chain → the library's rm_filter_info buffer, and the
 * status callback, which in Win32 has no context argument, through a
 * per-thread trampoline that also keeps the percentages strictly
 * increasing.  Error codes are the Win32 ones on both sides.
 *
 * What changes in native mode: handles and keys are Windows' own (the key
 * is returned as Windows writes it, always NUL-terminated); only
 * applications registered with RegisterApplicationRestart are restarted,
 * Explorer is handled, and Windows' timeouts (HungAppTimeout,
 * WaitToKillServiceTimeout) apply, so rm_set_timeouts does nothing;
 * rm_get_list_alloc lists no files per application (Windows does not
 * say).
 *
 * Wine: its rstrtmgr is a set of stubs, and three of its exports
 * (RmJoinSession, RmCancelCurrentTask, RmGetFilterList) abort the process
 * when called.  Native mode is therefore not offered under Wine (the
 * library's own implementation runs) unless RESTARTMGR_NATIVE_ON_WINE=1,
 * which the tests use to check the forwarding itself.
 */
#define _GNU_SOURCE
#include "win.h"
#include "../native.h"

#include <restartmanager.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* {===== Rstrtmgr.dll */

typedef DWORD (WINAPI *start_fn)(DWORD *, DWORD, WCHAR *);
typedef DWORD (WINAPI *join_fn)(DWORD *, const WCHAR *);
typedef DWORD (WINAPI *end_fn)(DWORD);
typedef DWORD (WINAPI *register_fn)(DWORD, UINT, LPCWSTR *, UINT,
                                    RM_UNIQUE_PROCESS *, UINT, LPCWSTR *);
typedef DWORD (WINAPI *get_list_fn)(DWORD, UINT *, UINT *, RM_PROCESS_INFO *,
                                    LPDWORD);
typedef DWORD (WINAPI *shutdown_fn)(DWORD, ULONG, RM_WRITE_STATUS_CALLBACK);
typedef DWORD (WINAPI *restart_fn)(DWORD, DWORD, RM_WRITE_STATUS_CALLBACK);
typedef DWORD (WINAPI *cancel_fn)(DWORD);
typedef DWORD (WINAPI *add_filter_fn)(DWORD, LPCWSTR, RM_UNIQUE_PROCESS *,
                                      LPCWSTR, RM_FILTER_ACTION);
typedef DWORD (WINAPI *remove_filter_fn)(DWORD, LPCWSTR, RM_UNIQUE_PROCESS *,
                                         LPCWSTR);
typedef DWORD (WINAPI *filter_list_fn)(DWORD, PBYTE, DWORD, LPDWORD);

static struct {
  start_fn start;
  join_fn join;
  end_fn end;
  register_fn reg;
  get_list_fn get_list;
  shutdown_fn shutdown;
  restart_fn restart;
  cancel_fn cancel;
  add_filter_fn add_filter;
  remove_filter_fn remove_filter;
  filter_list_fn filter_list;
} rm;

#define LOAD(field, type, name)                                            \
  (rm.field = (type)(void (*)(void))GetProcAddress(dll, name)) != NULL

static int load(void) {
  HMODULE dll;
  const char *force = rm__os_getenv("RESTARTMGR_NATIVE_ON_WINE");
  if (rm__win_ntdll()->wine_get_version &&
      !(force && strcmp(force, "1") == 0))
    return 0;
  dll = LoadLibraryExW(L"rstrtmgr.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!dll) return 0;
  return LOAD(start, start_fn, "RmStartSession") &&
         LOAD(join, join_fn, "RmJoinSession") &&
         LOAD(end, end_fn, "RmEndSession") &&
         LOAD(reg, register_fn, "RmRegisterResources") &&
         LOAD(get_list, get_list_fn, "RmGetList") &&
         LOAD(shutdown, shutdown_fn, "RmShutdown") &&
         LOAD(restart, restart_fn, "RmRestart") &&
         LOAD(cancel, cancel_fn, "RmCancelCurrentTask") &&
         LOAD(add_filter, add_filter_fn, "RmAddFilter") &&
         LOAD(remove_filter, remove_filter_fn, "RmRemoveFilter") &&
         LOAD(filter_list, filter_list_fn, "RmGetFilterList");
}

/* }=====
 * {===== Conversions */

static void to_unique(RM_UNIQUE_PROCESS *out, const rm_unique_process *p) {
  out->dwProcessId = p->pid;
  out->ProcessStartTime.dwLowDateTime = (DWORD)p->start_time;
  out->ProcessStartTime.dwHighDateTime = (DWORD)(p->start_time >> 32);
}

static void from_info(rm_process_info *out, const RM_PROCESS_INFO *in) {
  WCHAR name[CCH_RM_MAX_APP_NAME + 1], svc[CCH_RM_MAX_SVC_NAME + 1];
  memset(out, 0, sizeof *out);
  out->process.pid = in->Process.dwProcessId;
  out->process.start_time =
      ((uint64_t)in->Process.ProcessStartTime.dwHighDateTime << 32) |
      in->Process.ProcessStartTime.dwLowDateTime;
  memcpy(name, in->strAppName, sizeof name);
  name[CCH_RM_MAX_APP_NAME] = 0;
  memcpy(svc, in->strServiceShortName, sizeof svc);
  svc[CCH_RM_MAX_SVC_NAME] = 0;
  rm__win_utf8_copy(out->app_name, sizeof out->app_name, name);
  rm__win_utf8_copy(out->service_short_name, sizeof out->service_short_name,
                    svc);
  out->app_type = (rm_app_type)in->ApplicationType;
  out->app_status = in->AppStatus;
  out->session_id = in->TSSessionId;
  out->restartable = in->bRestartable != 0;
}

/* A UTF-8 argument as UTF-16: *ok cleared for invalid UTF-8 or no memory;
 * NULL stays NULL. */
static wchar_t *wide_arg(const char *s, int *ok) {
  wchar_t *w;
  if (!s) return NULL;
  w = rm__win_wide(s);
  if (!w) *ok = 0;
  return w;
}

/* Converts n strings; NULL on a NULL element, invalid UTF-8 or no memory
 * (then nothing is left allocated). */
static LPCWSTR *wide_array(unsigned n, const char *const *v) {
  LPCWSTR *w = calloc(n + 1, sizeof *w);
  unsigned i;
  if (!w) return NULL;
  for (i = 0; i < n; i++) {
    if (!v[i] || !(w[i] = rm__win_wide(v[i]))) {
      while (i > 0) free((void *)(uintptr_t)w[--i]);
      free(w);
      return NULL;
    }
  }
  return w;
}

static void free_array(LPCWSTR *w, unsigned n) {
  unsigned i;
  if (!w) return;
  for (i = 0; i < n; i++) free((void *)(uintptr_t)w[i]);
  free(w);
}

/* }=====
 * {===== Sessions and registration */

static uint32_t n_start(uint32_t *handle, uint32_t flags, char *key) {
  WCHAR wkey[CCH_RM_SESSION_KEY + 1];
  DWORD h = 0, rc;
  int i;
  /* Zero-filled first: Windows is known not to always terminate it. */
  memset(wkey, 0, sizeof wkey);
  rc = rm.start(handle ? &h : NULL, flags, key ? wkey : NULL);
  if (rc != ERROR_SUCCESS) return rc;
  if (handle) *handle = h;
  if (key) {
    for (i = 0; i < RM_SESSION_KEY_CHARS && wkey[i] && wkey[i] < 128; i++)
      key[i] = (char)wkey[i];
    key[i] = 0;
  }
  return RM_OK;
}

static uint32_t n_join(uint32_t *handle, const char *key) {
  int ok = 1;
  wchar_t *wkey = wide_arg(key, &ok);
  DWORD h = 0, rc;
  if (!ok) return RM_ERROR_SESSION_CREDENTIAL_CONFLICT;
  rc = rm.join(handle ? &h : NULL, wkey);
  free(wkey);
  if (rc == ERROR_SUCCESS && handle) *handle = h;
  return rc;
}

static uint32_t n_end(uint32_t handle) { return rm.end(handle); }

static uint32_t n_register(uint32_t handle, unsigned n_files,
                           const char *const *files, unsigned n_apps,
                           const rm_unique_process *apps, unsigned n_services,
                           const char *const *services) {
  LPCWSTR *wfiles = NULL, *wsvcs = NULL;
  RM_UNIQUE_PROCESS *wapps = NULL;
  unsigned i;
  DWORD rc = RM_ERROR_BAD_ARGUMENTS;
  if ((n_files && !files) || (n_apps && !apps) || (n_services && !services))
    return RM_ERROR_BAD_ARGUMENTS;
  if (n_files && !(wfiles = wide_array(n_files, files))) goto out;
  if (n_services && !(wsvcs = wide_array(n_services, services))) goto out;
  if (n_apps) {
    wapps = calloc(n_apps, sizeof *wapps);
    if (!wapps) {
      rc = RM_ERROR_OUTOFMEMORY;
      goto out;
    }
    for (i = 0; i < n_apps; i++) to_unique(&wapps[i], &apps[i]);
  }
  rc = rm.reg(handle, n_files, wfiles, n_apps, wapps, n_services, wsvcs);
out:
  free_array(wfiles, n_files);
  free_array(wsvcs, n_services);
  free(wapps);
  return rc;
}

static uint32_t n_set_timeouts(uint32_t handle, uint32_t app, uint32_t svc) {
  (void)handle; (void)app; (void)svc;
  return RM_OK;                /* Windows reads its own, from the registry */
}

/* }=====
 * {===== Lists */

static uint32_t n_get_list(uint32_t handle, unsigned *needed, unsigned *n,
                           rm_process_info *apps, uint32_t *reasons) {
  RM_PROCESS_INFO *w = NULL;
  UINT wneeded = 0, wn;
  DWORD wreasons = 0, rc;
  unsigned i;
  if (!needed || !n || !reasons || (*n > 0 && !apps))
    return RM_ERROR_BAD_ARGUMENTS;
  wn = *n;
  if (wn > 0 && !(w = calloc(wn, sizeof *w))) return RM_ERROR_OUTOFMEMORY;
  rc = rm.get_list(handle, &wneeded, &wn, w, &wreasons);
  if (rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA) {
    *needed = wneeded;
    *reasons = wreasons;
    *n = rc == ERROR_SUCCESS ? wn : 0;
    if (rc == ERROR_SUCCESS)
      for (i = 0; i < wn; i++) from_info(&apps[i], &w[i]);
  }
  free(w);
  return rc;
}

/* The two-call protocol, looped until the set holds still. */
static uint32_t n_get_list_alloc(uint32_t handle, rm_app_info **apps,
                                 unsigned *n_apps, uint32_t *reasons) {
  RM_PROCESS_INFO *w = NULL;
  UINT needed = 0, n = 0;
  DWORD wreasons = 0, rc;
  int tries;
  unsigned i;
  if (!apps || !n_apps || !reasons) return RM_ERROR_BAD_ARGUMENTS;
  for (tries = 0; tries < 16; tries++) {
    n = needed;
    rc = rm.get_list(handle, &needed, &n, w, &wreasons);
    if (rc != ERROR_MORE_DATA) break;
    free(w);
    w = calloc(needed + 1, sizeof *w);
    if (!w) return RM_ERROR_OUTOFMEMORY;
  }
  if (rc == ERROR_SUCCESS) {
    rm_app_info *a = n ? calloc(n, sizeof *a) : NULL;
    if (n && !a) {
      rc = RM_ERROR_OUTOFMEMORY;
    } else {
      for (i = 0; i < n; i++) from_info(&a[i].info, &w[i]);
      *apps = a;
      *n_apps = n;
      *reasons = wreasons;
    }
  }
  free(w);
  return rc;
}

/* }=====
 * {===== Shutdown and restart */

/* The caller's callback for RM_WRITE_STATUS_CALLBACK, which carries only
 * the percentage: kept per thread (Windows calls back on the calling
 * thread), with the last value so repeats are not passed on. */
typedef struct progress {
  rm_status_callback fn;
  void *ctx;
  int last;
} progress;

static DWORD tls = TLS_OUT_OF_INDEXES;

static BOOL CALLBACK make_tls(INIT_ONCE *once, void *param, void **ctx) {
  (void)once; (void)param; (void)ctx;
  tls = TlsAlloc();
  return tls != TLS_OUT_OF_INDEXES;
}

static void trampoline(UINT percent) {
  progress *p = tls != TLS_OUT_OF_INDEXES ? TlsGetValue(tls) : NULL;
  if (!p || !p->fn || (int)percent <= p->last) return;
  p->last = (int)percent;
  p->fn(percent, p->ctx);
}


static uint32_t with_progress(uint32_t handle, uint32_t flags, int restart,
                              rm_status_callback fn, void *ctx) {
  static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
  progress p, *outer;
  DWORD rc;
  if (!fn)
    return restart ? rm.restart(handle, flags, NULL)
                   : rm.shutdown(handle, flags, NULL);
  if (!InitOnceExecuteOnce(&once, make_tls, NULL, NULL))
    return RM_ERROR_OUTOFMEMORY;
  p.fn = fn;
  p.ctx = ctx;
  p.last = -1;
  outer = TlsGetValue(tls);
  TlsSetValue(tls, &p);
  rc = restart ? rm.restart(handle, flags, trampoline)
               : rm.shutdown(handle, flags, trampoline);
  TlsSetValue(tls, outer);
  return rc;
}

static uint32_t n_shutdown(uint32_t handle, uint32_t flags,
                           rm_status_callback fn, void *ctx) {
  return with_progress(handle, flags, 0, fn, ctx);
}

static uint32_t n_restart(uint32_t handle, uint32_t flags,
                          rm_status_callback fn, void *ctx) {
  return with_progress(handle, flags, 1, fn, ctx);
}

static uint32_t n_cancel(uint32_t handle) { return rm.cancel(handle); }

/* }=====
 * {===== Filters */

static uint32_t n_add_filter(uint32_t handle, const char *module,
                             const rm_unique_process *process,
                             const char *service, rm_filter_action action) {
  int ok = 1;
  wchar_t *wmod = wide_arg(module, &ok), *wsvc = wide_arg(service, &ok);
  RM_UNIQUE_PROCESS up;
  DWORD rc = RM_ERROR_BAD_ARGUMENTS;
  if (process) to_unique(&up, process);
  if (ok)
    rc = rm.add_filter(handle, wmod, process ? &up : NULL, wsvc,
                       (RM_FILTER_ACTION)action);
  free(wmod);
  free(wsvc);
  return rc;
}

static uint32_t n_remove_filter(uint32_t handle, const char *module,
                                const rm_unique_process *process,
                                const char *service) {
  int ok = 1;
  wchar_t *wmod = wide_arg(module, &ok), *wsvc = wide_arg(service, &ok);
  RM_UNIQUE_PROCESS up;
  DWORD rc = RM_ERROR_BAD_ARGUMENTS;
  if (process) to_unique(&up, process);
  if (ok) rc = rm.remove_filter(handle, wmod, process ? &up : NULL, wsvc);
  free(wmod);
  free(wsvc);
  return rc;
}

/* Strings after the records, each aligned for rm_filter_info, as the
 * library's own rm_get_filter_list lays them out. */
static size_t align_up(size_t n) {
  size_t a = sizeof(void *) > 8 ? sizeof(void *) : 8;
  return (n + a - 1) / a * a;
}

static uint32_t n_filter_list(uint32_t handle, void *buf, uint32_t size,
                              uint32_t *needed) {
  BYTE *w = NULL;
  DWORD wneed = 0, rc, off;
  size_t n = 0, need, at, i;
  char **names = NULL;
  const RM_FILTER_INFO *f;
  unsigned char *out = buf;

  if (size > 0 && !buf) return RM_ERROR_BAD_ARGUMENTS;
  rc = rm.filter_list(handle, NULL, 0, &wneed);
  if (rc == ERROR_MORE_DATA && wneed > 0) {
    w = malloc(wneed);
    if (!w) return RM_ERROR_OUTOFMEMORY;
    rc = rm.filter_list(handle, w, wneed, &wneed);
  }
  if (rc != ERROR_SUCCESS) {
    free(w);
    return rc;
  }
  /* Count the records, convert their strings. */
  for (off = 0; w && off + sizeof *f <= wneed; off += f->cbNextOffset) {
    f = (const RM_FILTER_INFO *)(const void *)(w + off);
    n++;
    if (f->cbNextOffset == 0) break;
  }
  names = calloc(n + 1, sizeof *names);
  if (!names) {
    free(w);
    return RM_ERROR_OUTOFMEMORY;
  }
  need = n * sizeof(rm_filter_info);
  for (i = 0, off = 0; i < n; i++, off += f->cbNextOffset) {
    f = (const RM_FILTER_INFO *)(const void *)(w + off);
    if (f->FilterTrigger != RmFilterTriggerProcess) {
      names[i] = rm__win_utf8(f->strFilename ? f->strFilename : L"", -1);
      if (!names[i]) {
        rc = RM_ERROR_OUTOFMEMORY;
        break;
      }
      need += align_up(strlen(names[i]) + 1);
    }
  }
  if (rc == ERROR_SUCCESS) {
    if (!needed) rc = RM_ERROR_MORE_DATA;
    else if ((*needed = (uint32_t)need) > size) rc = RM_ERROR_MORE_DATA;
  }
  if (rc == ERROR_SUCCESS && n > 0) {
    at = n * sizeof(rm_filter_info);
    for (i = 0, off = 0; i < n; i++, off += f->cbNextOffset) {
      rm_filter_info fi;
      f = (const RM_FILTER_INFO *)(const void *)(w + off);
      memset(&fi, 0, sizeof fi);
      fi.action = (rm_filter_action)f->FilterAction;
      fi.trigger = (rm_filter_trigger)f->FilterTrigger;
      fi.next_offset = i + 1 < n ? (uint32_t)sizeof(rm_filter_info) : 0;
      if (f->FilterTrigger == RmFilterTriggerProcess) {
        fi.u.process.pid = f->Process.dwProcessId;
        fi.u.process.start_time =
            ((uint64_t)f->Process.ProcessStartTime.dwHighDateTime << 32) |
            f->Process.ProcessStartTime.dwLowDateTime;
      } else {
        size_t len = strlen(names[i]) + 1;
        memcpy(out + at, names[i], len);
        fi.u.file_name = (const char *)(out + at);
        at += align_up(len);
      }
      memcpy(out + i * sizeof(rm_filter_info), &fi, sizeof fi);
    }
  }
  for (i = 0; i < n; i++) free(names[i]);
  free(names);
  free(w);
  return rc;
}

/* }===== */

static const rm__native_ops native_ops = {
  n_start, n_join, n_end, n_register, n_get_list, n_get_list_alloc,
  n_shutdown, n_restart, n_cancel, n_add_filter, n_remove_filter,
  n_filter_list, n_set_timeouts
};

const rm__native_ops *rm__os_native(void) {
  return load() ? &native_ops : NULL;
}

const char *rm__os_backend_name(void) { return "win32"; }
