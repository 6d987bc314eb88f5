/* SPDX-License-Identifier: MIT */
/*
 * rstrtmgr.c: Rstrtmgr.dll, Windows' Restart Manager ABI over restartmgr's
 * engine.  A program written against <restartmanager.h> and linked with
 * -lrstrtmgr (or loading Rstrtmgr.dll itself, as installers do) gets the
 * engine's sessions, scans, shutdowns and restarts unchanged.
 *
 * Each export has the prototype <restartmanager.h> declares (the header is
 * included, so the compiler checks it) and WINAPI: stdcall on 32-bit,
 * where the .def file maps the decorated names to Windows' undecorated
 * export names, and nothing else is exported.  Everything is converted at
 * the edge:
 *  - strings: UTF-16 in, UTF-8 for the engine; a name that is not valid
 *    UTF-16 (an unpaired surrogate) is refused as the engine refuses a bad
 *    name (ERROR_BAD_ARGUMENTS, after the handle is checked);
 *  - bad arguments get the engine's answer and order (the handle is
 *    checked first, then the arguments);
 *  - RM_UNIQUE_PROCESS: pid + FILETIME, the engine's start_time exactly;
 *  - RM_PROCESS_INFO: names cut at CCH_RM_MAX_APP_NAME and
 *    CCH_RM_MAX_SVC_NAME UTF-16 units, as Windows counts them (the engine
 *    keeps 255 bytes of UTF-8, so a longer non-ASCII name is found again in
 *    full from the live process or the SCM);
 *  - RM_FILTER_INFO: one self-contained buffer, records first and their
 *    UTF-16 strings after them, chained by cbNextOffset;
 *  - RM_WRITE_STATUS_CALLBACK has no context: the engine calls back on the
 *    calling thread, so the caller's function rides in the context.
 * Error codes are the Win32 ones on both sides.  Native mode
 * (RESTARTMGR_BACKEND=native) is off inside this DLL: it would forward to
 * itself.
 *
 * Layouts are checked against the SDK's numbers below (the same on every
 * Windows compiler), so a header that drifted would not build.
 */
#define _GNU_SOURCE
#include "win/win.h"
#include "appname.h"
#include "native.h"

#include <restartmanager.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* {===== The ABI, as the SDK lays it out */

#define PTR64 (sizeof(void *) == 8)

_Static_assert(sizeof(DWORD) == 4 && sizeof(UINT) == 4 && sizeof(WCHAR) == 2,
               "Win32 integer sizes");
_Static_assert(sizeof(RM_UNIQUE_PROCESS) == 12, "RM_UNIQUE_PROCESS size");
_Static_assert(offsetof(RM_UNIQUE_PROCESS, ProcessStartTime) == 4,
               "RM_UNIQUE_PROCESS.ProcessStartTime");
_Static_assert(offsetof(RM_PROCESS_INFO, strAppName) == 12,
               "RM_PROCESS_INFO.strAppName");
_Static_assert(offsetof(RM_PROCESS_INFO, strServiceShortName) == 524,
               "RM_PROCESS_INFO.strServiceShortName");
_Static_assert(offsetof(RM_PROCESS_INFO, ApplicationType) == 652,
               "RM_PROCESS_INFO.ApplicationType");
_Static_assert(offsetof(RM_PROCESS_INFO, AppStatus) == 656,
               "RM_PROCESS_INFO.AppStatus");
_Static_assert(offsetof(RM_PROCESS_INFO, TSSessionId) == 660,
               "RM_PROCESS_INFO.TSSessionId");
_Static_assert(offsetof(RM_PROCESS_INFO, bRestartable) == 664,
               "RM_PROCESS_INFO.bRestartable");
_Static_assert(sizeof(RM_PROCESS_INFO) == 668, "RM_PROCESS_INFO size");
_Static_assert(offsetof(RM_FILTER_INFO, FilterTrigger) == 4,
               "RM_FILTER_INFO.FilterTrigger");
_Static_assert(offsetof(RM_FILTER_INFO, cbNextOffset) == 8,
               "RM_FILTER_INFO.cbNextOffset");
_Static_assert(offsetof(RM_FILTER_INFO, strFilename) == (PTR64 ? 16 : 12),
               "RM_FILTER_INFO union");
_Static_assert(offsetof(RM_FILTER_INFO, Process) ==
                   offsetof(RM_FILTER_INFO, strServiceShortName),
               "RM_FILTER_INFO union members");
_Static_assert(sizeof(RM_FILTER_INFO) == (PTR64 ? 32 : 24),
               "RM_FILTER_INFO size");
_Static_assert(CCH_RM_SESSION_KEY == RM_SESSION_KEY_CHARS &&
                   CCH_RM_MAX_APP_NAME == RM_MAX_APP_NAME &&
                   CCH_RM_MAX_SVC_NAME == RM_MAX_SVC_NAME,
               "limits");
_Static_assert(RmForceShutdown == RM_FORCE_SHUTDOWN &&
                   RmShutdownOnlyRegistered == RM_SHUTDOWN_ONLY_REGISTERED &&
                   (int)RmNoRestart == (int)RM_NO_RESTART &&
                   (int)RmNoShutdown == (int)RM_NO_SHUTDOWN &&
                   (int)RmFilterTriggerFile == (int)RM_FILTER_TRIGGER_FILE &&
                   (int)RmFilterTriggerProcess ==
                       (int)RM_FILTER_TRIGGER_PROCESS &&
                   (int)RmFilterTriggerService ==
                       (int)RM_FILTER_TRIGGER_SERVICE &&
                   (int)RmCritical == (int)RM_APP_CRITICAL &&
                   RmStatusRestartMasked == RM_STATUS_RESTART_MASKED &&
                   RmRebootReasonDetectedSelf == RM_REBOOT_REASON_DETECTED_SELF,
               "enumeration values");

/* Not in <restartmanager.h>: undocumented, one 32-bit argument
 * (RmReserveHeap@4 in mingw-w64's import library). */
DWORD WINAPI RmReserveHeap(DWORD reserved);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

/* How core/rstrtmgr/wine-prefix.sh tells this DLL from Wine's. */
__attribute__((used)) static const char marker[] =
    "restartmgr drop-in rstrtmgr.dll " RM_VERSION_STRING;

/* }=====
 * {===== Conversions */

/* UTF-16 → UTF-8, malloc'd.  A string that is not valid UTF-16 (an
 * unpaired surrogate) becomes "", which the engine refuses as a name or
 * key.  NULL in gives NULL out; *oom is set for no memory. */
static char *narrow(const WCHAR *w, int *oom) {
  int n;
  char *s;
  if (!w) return NULL;
  n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0,
                          NULL, NULL);
  s = malloc(n > 0 ? (size_t)n : 1);
  if (!s) {
    *oom = 1;
    return NULL;
  }
  if (n <= 0 || WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s,
                                    n, NULL, NULL) != n)
    s[0] = 0;
  return s;
}

/* n UTF-16 strings → UTF-8.  A NULL element stays NULL (the engine refuses
 * it).  NULL for no memory. */
static char **narrow_all(UINT n, LPCWSTR *w) {
  char **v = calloc((size_t)n + 1, sizeof *v);
  int oom = 0;
  UINT i;
  if (!v) return NULL;
  for (i = 0; i < n && !oom; i++) {
    v[i] = narrow(w[i], &oom);
    if (w[i] && !v[i]) oom = 1;
  }
  if (!oom) return v;
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
  return NULL;
}

static void free_all(char **v, UINT n) {
  UINT i;
  if (!v) return;
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void from_unique(rm_unique_process *out, const RM_UNIQUE_PROCESS *in) {
  out->pid = in->dwProcessId;
  out->start_time = ((uint64_t)in->ProcessStartTime.dwHighDateTime << 32) |
                    in->ProcessStartTime.dwLowDateTime;
}

static void to_unique(RM_UNIQUE_PROCESS *out, const rm_unique_process *in) {
  out->dwProcessId = in->pid;
  out->ProcessStartTime.dwLowDateTime = (DWORD)in->start_time;
  out->ProcessStartTime.dwHighDateTime = (DWORD)(in->start_time >> 32);
}

/* Copies a UTF-16 string into dst[cap], at most cap - 1 units and never
 * half a surrogate pair, always terminated. */
static void put_wide(WCHAR *dst, size_t cap, const WCHAR *src) {
  size_t n = wcslen(src);
  if (n > cap - 1) {
    n = cap - 1;
    if (n > 0 && src[n - 1] >= 0xD800 && src[n - 1] <= 0xDBFF) n--;
  }
  memcpy(dst, src, n * sizeof *dst);
  dst[n] = 0;
}

static void put_utf8(WCHAR *dst, size_t cap, const char *src) {
  wchar_t *w = rm__win_wide(src);
  put_wide(dst, cap, w ? w : L"");
  free(w);
}

static void to_info(RM_PROCESS_INFO *out, const rm_process_info *in) {
  memset(out, 0, sizeof *out);
  to_unique(&out->Process, &in->process);
  /* 255 bytes of UTF-8 may be a cut: the whole name is then looked up. */
  if (strlen(in->app_name) + 4 > RM_MAX_APP_NAME) {
    wchar_t *whole = rm__win_app_name(in);
    if (whole) put_wide(out->strAppName, CCH_RM_MAX_APP_NAME + 1, whole);
    else put_utf8(out->strAppName, CCH_RM_MAX_APP_NAME + 1, in->app_name);
    free(whole);
  } else {
    put_utf8(out->strAppName, CCH_RM_MAX_APP_NAME + 1, in->app_name);
  }
  put_utf8(out->strServiceShortName, CCH_RM_MAX_SVC_NAME + 1,
           in->service_short_name);
  out->ApplicationType = (RM_APP_TYPE)in->app_type;
  /* As Windows describes apps: the version resource's FileDescription and
   * the shell by being the shell (appname.c).  A service keeps its
   * display name, an app acted on and gone its recorded name. */
  if (in->app_type != RM_APP_SERVICE && (in->app_status & RM_STATUS_RUNNING)) {
    wchar_t *friendly = rm__dropin_friendly_name(&in->process);
    if (friendly) put_wide(out->strAppName, CCH_RM_MAX_APP_NAME + 1, friendly);
    free(friendly);
    if (in->app_type != RM_APP_CRITICAL && rm__dropin_is_shell(&in->process))
      out->ApplicationType = RmExplorer;
  }
  out->AppStatus = in->app_status;
  out->TSSessionId = in->session_id;
  out->bRestartable = in->restartable ? TRUE : FALSE;
}

/* }=====
 * {===== Sessions and registration */

DWORD WINAPI RmStartSession(DWORD *pSessionHandle, DWORD dwSessionFlags,
                            WCHAR strSessionKey[]) {
  char key[RM_SESSION_KEY_CHARS + 1];
  uint32_t h = 0, rc;
  int i;
  rc = rm_start_session(pSessionHandle ? &h : NULL, dwSessionFlags,
                        strSessionKey ? key : NULL);
  if (rc != RM_OK) return rc;
  *pSessionHandle = h;
  for (i = 0; i <= RM_SESSION_KEY_CHARS; i++) strSessionKey[i] = (WCHAR)key[i];
  return ERROR_SUCCESS;
}

DWORD WINAPI RmJoinSession(DWORD *pSessionHandle,
                           const WCHAR strSessionKey[]) {
  int oom = 0;
  char *key = narrow(strSessionKey, &oom);
  uint32_t h = 0, rc;
  if (oom) return ERROR_OUTOFMEMORY;
  rc = rm_join_session(pSessionHandle ? &h : NULL, key);
  free(key);
  if (rc == RM_OK) *pSessionHandle = h;
  return rc;
}

DWORD WINAPI RmEndSession(DWORD dwSessionHandle) {
  return rm_end_session(dwSessionHandle);
}

DWORD WINAPI RmRegisterResources(DWORD dwSessionHandle, UINT nFiles,
                                 LPCWSTR rgsFileNames[], UINT nApplications,
                                 RM_UNIQUE_PROCESS rgApplications[],
                                 UINT nServices, LPCWSTR rgsServiceNames[]) {
  char **files = NULL, **services = NULL;
  rm_unique_process *apps = NULL;
  uint32_t rc = ERROR_OUTOFMEMORY;
  UINT i;
  /* A count with no array goes to the engine as it is: it refuses it after
   * checking the handle. */
  if (nFiles && rgsFileNames && !(files = narrow_all(nFiles, rgsFileNames)))
    goto out;
  if (nServices && rgsServiceNames &&
      !(services = narrow_all(nServices, rgsServiceNames)))
    goto out;
  if (nApplications && rgApplications) {
    apps = calloc(nApplications, sizeof *apps);
    if (!apps) goto out;
    for (i = 0; i < nApplications; i++) from_unique(&apps[i], &rgApplications[i]);
  }
  rc = rm_register_resources(dwSessionHandle, nFiles,
                             (const char *const *)files, nApplications, apps,
                             nServices, (const char *const *)services);
out:
  free_all(files, nFiles);
  free_all(services, nServices);
  free(apps);
  return rc;
}

/* }=====
 * {===== The list */

/* Through rm_get_list, so that a client's two-call loop costs one scan
 * (the engine keeps a MORE_DATA answer for the next call, list_keep.c).
 * The engine's entries are converted through a buffer of at most
 * LIST_CHUNK entries first; when the caller's array is bigger than that
 * and the list fits it, the kept answer is fetched again at its size. */
#define LIST_CHUNK 256u

DWORD WINAPI RmGetList(DWORD dwSessionHandle, UINT *pnProcInfoNeeded,
                       UINT *pnProcInfo, RM_PROCESS_INFO rgAffectedApps[],
                       LPDWORD lpdwRebootReasons) {
  rm_process_info *apps = NULL;
  rm__handle *session;
  unsigned cap, needed = 0, n, i, zero = 0, tries;
  uint32_t reasons = 0, rc = RM_OK;
  /* Windows lets only the primary installer list ("a secondary installer
   * cannot perform any other getlist, shutdown, restart or filter
   * operations"); the library's own API lists for secondaries too. */
  rc = rm__enter(dwSessionHandle, 1, 0, &session);
  if (rc != RM_OK) return rc;
  rm__leave(session, 0);
  if (!pnProcInfoNeeded || !pnProcInfo || !lpdwRebootReasons ||
      (*pnProcInfo > 0 && !rgAffectedApps)) {
    /* The engine's answer for the handle first, then for the arguments. */
    return rm_get_list(dwSessionHandle, NULL, &zero, NULL, NULL);
  }
  cap = *pnProcInfo < LIST_CHUNK ? *pnProcInfo : LIST_CHUNK;
  for (tries = 0; tries < 4; tries++) {
    free(apps);
    apps = calloc(cap + 1, sizeof *apps);
    if (!apps) return ERROR_OUTOFMEMORY;
    n = cap;
    rc = rm_get_list(dwSessionHandle, &needed, &n, apps, &reasons);
    /* Too small for the engine but not for the caller: again at size. */
    if (rc != RM_ERROR_MORE_DATA || needed > *pnProcInfo) break;
    cap = needed;
  }
  if (rc == RM_OK) {
    for (i = 0; i < n; i++) to_info(&rgAffectedApps[i], &apps[i]);
    *pnProcInfo = n;
    *pnProcInfoNeeded = n;
    *lpdwRebootReasons = reasons;
  } else if (rc == RM_ERROR_MORE_DATA) {
    *pnProcInfo = 0;
    *pnProcInfoNeeded = needed;
    *lpdwRebootReasons = reasons;
    rc = ERROR_MORE_DATA;
  }
  free(apps);
  return rc;
}

/* }=====
 * {===== Shutdown, restart, cancel */

/* The caller's RM_WRITE_STATUS_CALLBACK, carried as the engine's context
 * (the engine calls back on the calling thread, strictly increasing). */
typedef struct status_fn {
  RM_WRITE_STATUS_CALLBACK fn;
} status_fn;

static void forward_status(unsigned percent, void *ctx) {
  ((status_fn *)ctx)->fn(percent);
}

DWORD WINAPI RmShutdown(DWORD dwSessionHandle, ULONG lActionFlags,
                        RM_WRITE_STATUS_CALLBACK fnStatus) {
  status_fn s;
  s.fn = fnStatus;
  /* Bits Win32 does not know (restartmgr's own
   * RM_SHUTDOWN_SERVICES_IN_PLACE among them) stay unknown bits, refused
   * as Windows refuses them. */
  if (lActionFlags & ~(ULONG)(RmForceShutdown | RmShutdownOnlyRegistered))
    lActionFlags = ~(ULONG)0;
  return rm_shutdown(dwSessionHandle, lActionFlags,
                     fnStatus ? forward_status : NULL, &s);
}

DWORD WINAPI RmRestart(DWORD dwSessionHandle, DWORD dwRestartFlags,
                       RM_WRITE_STATUS_CALLBACK fnStatus) {
  status_fn s;
  s.fn = fnStatus;
  return rm_restart(dwSessionHandle, dwRestartFlags,
                    fnStatus ? forward_status : NULL, &s);
}

DWORD WINAPI RmCancelCurrentTask(DWORD dwSessionHandle) {
  return rm_cancel_current_task(dwSessionHandle);
}

/* }=====
 * {===== Filters */

typedef struct selector {
  char *module, *service;
  rm_unique_process process;
  const rm_unique_process *pprocess;
} selector;

static int select_target(selector *s, LPCWSTR module,
                         const RM_UNIQUE_PROCESS *process, LPCWSTR service) {
  int oom = 0;
  s->module = narrow(module, &oom);
  s->service = narrow(service, &oom);
  s->pprocess = NULL;
  if (process) {
    from_unique(&s->process, process);
    s->pprocess = &s->process;
  }
  return !oom;
}

static void selector_free(selector *s) {
  free(s->module);
  free(s->service);
}

DWORD WINAPI RmAddFilter(DWORD dwSessionHandle, LPCWSTR strModuleName,
                         RM_UNIQUE_PROCESS *pProcess,
                         LPCWSTR strServiceShortName,
                         RM_FILTER_ACTION FilterAction) {
  selector s;
  uint32_t rc = ERROR_OUTOFMEMORY;
  if (select_target(&s, strModuleName, pProcess, strServiceShortName))
    rc = rm_add_filter(dwSessionHandle, s.module, s.pprocess, s.service,
                       (rm_filter_action)FilterAction);
  selector_free(&s);
  return rc;
}

DWORD WINAPI RmRemoveFilter(DWORD dwSessionHandle, LPCWSTR strModuleName,
                            RM_UNIQUE_PROCESS *pProcess,
                            LPCWSTR strServiceShortName) {
  selector s;
  uint32_t rc = ERROR_OUTOFMEMORY;
  if (select_target(&s, strModuleName, pProcess, strServiceShortName))
    rc = rm_remove_filter(dwSessionHandle, s.module, s.pprocess, s.service);
  selector_free(&s);
  return rc;
}

/* Strings follow the records, each starting on a pointer boundary so the
 * whole buffer stays aligned for RM_FILTER_INFO. */
static size_t align_ptr(size_t n) {
  return (n + sizeof(void *) - 1) / sizeof(void *) * sizeof(void *);
}

/* The engine's filter buffer, whole (NULL with *n 0 when there is none). */
static uint32_t engine_filters(DWORD handle, rm_filter_info **out, size_t *n) {
  uint32_t need = 0, rc;
  void *buf = NULL;
  int tries;
  *out = NULL;
  *n = 0;
  rc = rm_get_filter_list(handle, NULL, 0, &need);
  for (tries = 0; rc == RM_ERROR_MORE_DATA && tries < 8; tries++) {
    free(buf);
    buf = malloc(need ? need : 1);
    if (!buf) return ERROR_OUTOFMEMORY;
    rc = rm_get_filter_list(handle, buf, need, &need);
  }
  if (rc != RM_OK || need == 0) {
    free(buf);
    return rc;
  }
  *out = buf;
  *n = need / sizeof(rm_filter_info);   /* an upper bound; the chain ends */
  return RM_OK;
}

DWORD WINAPI RmGetFilterList(DWORD dwSessionHandle, PBYTE pbFilterBuf,
                             DWORD cbFilterBuf, LPDWORD cbFilterBufNeeded) {
  rm_filter_info *f = NULL;
  wchar_t **names = NULL;
  size_t bound = 0, n = 0, need, at, i;
  uint32_t rc;

  if (cbFilterBuf > 0 && !pbFilterBuf) {
    /* The engine's answer for the handle first, then for the arguments. */
    uint32_t ignored;
    return rm_get_filter_list(dwSessionHandle, NULL, 1, &ignored);
  }
  rc = engine_filters(dwSessionHandle, &f, &bound);
  if (rc != RM_OK) return rc;
  /* Walk the chain once: count the records, widen their strings. */
  names = calloc(bound + 1, sizeof *names);
  if (!names && bound) {
    free(f);
    return ERROR_OUTOFMEMORY;
  }
  need = 0;
  for (i = 0; f && i < bound; i++) {
    const rm_filter_info *r = (const rm_filter_info *)(void *)
        ((unsigned char *)f + i * sizeof *f);
    n++;
    need += sizeof(RM_FILTER_INFO);
    if (r->trigger != RM_FILTER_TRIGGER_PROCESS) {
      names[i] = rm__win_wide(r->u.file_name);
      if (!names[i]) {
        rc = ERROR_OUTOFMEMORY;
        break;
      }
      need += align_ptr((wcslen(names[i]) + 1) * sizeof(WCHAR));
    }
    if (r->next_offset == 0) break;
  }
  if (rc == RM_OK) {
    if (cbFilterBufNeeded) *cbFilterBufNeeded = (DWORD)need;
    if (!cbFilterBufNeeded || need > cbFilterBuf) rc = ERROR_MORE_DATA;
  }
  if (rc == RM_OK && n > 0) {
    at = n * sizeof(RM_FILTER_INFO);
    for (i = 0; i < n; i++) {
      const rm_filter_info *r = &f[i];
      RM_FILTER_INFO w;
      memset(&w, 0, sizeof w);
      w.FilterAction = (RM_FILTER_ACTION)r->action;
      w.FilterTrigger = (RM_FILTER_TRIGGER)r->trigger;
      w.cbNextOffset = i + 1 < n ? (DWORD)sizeof(RM_FILTER_INFO) : 0;
      if (r->trigger == RM_FILTER_TRIGGER_PROCESS) {
        to_unique(&w.Process, &r->u.process);
      } else {
        size_t bytes = (wcslen(names[i]) + 1) * sizeof(WCHAR);
        memcpy(pbFilterBuf + at, names[i], bytes);
        /* strFilename and strServiceShortName share the union. */
        w.strFilename = (LPWSTR)(void *)(pbFilterBuf + at);
        at += align_ptr(bytes);
      }
      memcpy(pbFilterBuf + i * sizeof(RM_FILTER_INFO), &w, sizeof w);
    }
  }
  for (i = 0; i < bound; i++) free(names ? names[i] : NULL);
  free(names);
  free(f);
  return rc;
}

/* }=====
 * {===== The rest */

/* Undocumented; Windows' installers do not call it.  This Restart Manager
 * has no heap of its own to reserve, so it succeeds and does nothing. */
DWORD WINAPI RmReserveHeap(DWORD reserved) {
  (void)reserved;
  return ERROR_SUCCESS;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance;
  (void)reserved;
  if (reason == DLL_PROCESS_ATTACH) rm__native_forbid();
  return TRUE;
}

/* }===== */
