/* SPDX-License-Identifier: MIT */
/*
 * classify.c: what kind of application a found process is on Windows, and
 * whether the installer can shut it down and bring it back.
 *
 * In the order the checks apply:
 *  - a service (the SCM says it runs in this process): RM_APP_SERVICE with
 *    its short name and display name, one entry per service; critical
 *    services (critical_services[] or $RESTARTMGR_CRITICAL_SERVICES) give
 *    CRITICAL_SERVICE, and a service the caller may not stop and start
 *    gives PERMISSION_DENIED;
 *  - the caller itself: DETECTED_SELF;
 *  - a critical system process (critical_processes[] running from the
 *    system directory, the image-less kernel processes, or a name in
 *    $RESTARTMGR_CRITICAL_PROCESSES): CRITICAL_PROCESS;
 *  - a process the caller may not open, or may not terminate:
 *    PERMISSION_DENIED;
 *  - a process in another Terminal Services session: SESSION_MISMATCH;
 *  - Explorer (explorer.exe in the Windows directory): RM_APP_EXPLORER;
 *    a visible, unowned top-level window: RM_APP_MAIN_WINDOW; other
 *    top-level windows only: RM_APP_OTHER_WINDOW; a console-subsystem
 *    image: RM_APP_CONSOLE; anything else RM_APP_UNKNOWN.
 * Any reboot reason makes the entry RM_APP_CRITICAL and not restartable,
 * as on Linux.  Services are restartable.  Applications are restartable
 * as Windows decides it (restartreg.c): when they registered with
 * RegisterApplicationRestart (without RESTART_NO_PATCH); where the
 * system cannot say (Wine), when their image and start parameters can be
 * read (under Wine 8.0 a 32-bit caller cannot read a 64-bit process's);
 * and in both cases only when they run as the caller's user, not elevated
 * above it.  The app name is the image's base name, or a service's
 * display name.  Both name lists take ':' or ';' separated names; process
 * names match with or without ".exe", without case.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const wchar_t *const critical_processes[] = {
  L"smss.exe", L"csrss.exe", L"wininit.exe", L"winlogon.exe", L"lsass.exe",
  L"lsaiso.exe", L"services.exe", L"logonui.exe", NULL
};

/* Processes without an image file: System and its kin. */
static const wchar_t *const kernel_processes[] = {
  L"System", L"Registry", L"Secure System", L"Memory Compression",
  L"System Idle Process", NULL
};

/* Services whose stop takes COM, RPC, devices or logons down with it. */
static const wchar_t *const critical_services[] = {
  L"RpcSs", L"DcomLaunch", L"RpcEptMapper", L"PlugPlay", L"Power", L"LSM",
  L"BrokerInfrastructure", L"SamSs", L"EventLog", NULL
};

/* {===== Name lists */

/* 1 when name equals an entry of the environment list, ignoring case and
 * an ".exe" suffix on either side. */
static int in_env_list(const char *var, const wchar_t *name) {
  const char *list = rm__os_getenv(var);
  wchar_t *w, *p;
  size_t n = wcslen(name);
  int hit = 0;
  if (!list || !*list) return 0;
  w = rm__win_wide(list);
  if (!w) return 0;
  if (n > 4 && rm__win_ieq(name + n - 4, L".exe")) n -= 4;
  for (p = w; *p && !hit;) {
    wchar_t *end = p;
    size_t len;
    while (*end && *end != L':' && *end != L';') end++;
    len = (size_t)(end - p);
    if (len > 4 &&
        CompareStringOrdinal(p + len - 4, 4, L".exe", 4, TRUE) == CSTR_EQUAL)
      len -= 4;
    hit = len == n && len > 0 &&
          CompareStringOrdinal(p, (int)len, name, (int)n, TRUE) == CSTR_EQUAL;
    p = *end ? end + 1 : end;
  }
  free(w);
  return hit;
}

static int in_list(const wchar_t *const *list, const wchar_t *name) {
  size_t i;
  for (i = 0; list[i]; i++)
    if (rm__win_ieq(list[i], name)) return 1;
  return 0;
}

/* 1 when path names a file directly inside the directory dir. */
static int inside(const wchar_t *path, const wchar_t *dir) {
  size_t n = wcslen(dir);
  const wchar_t *base = rm__win_basename(path);
  return n > 0 && (size_t)(base - path) == n + 1 &&
         CompareStringOrdinal(path, (int)n, dir, (int)n, TRUE) == CSTR_EQUAL;
}

/* }=====
 * {===== Windows */

typedef struct window_list {
  rm__win_context *c;
  size_t cap;
  int failed;
} window_list;

static BOOL CALLBACK add_window(HWND hwnd, LPARAM lp) {
  window_list *l = (window_list *)lp;
  rm__win_context *c = l->c;
  DWORD pid = 0;
  GetWindowThreadProcessId(hwnd, &pid);
  if (c->n_windows == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    HWND *w = realloc(c->windows, cap * sizeof *w);
    DWORD *p;
    unsigned char *v;
    if (w) c->windows = w;
    p = w ? realloc(c->window_pids, cap * sizeof *p) : NULL;
    if (p) c->window_pids = p;
    v = p ? realloc(c->window_visible, cap) : NULL;
    if (!v) {
      l->failed = 1;
      return FALSE;
    }
    c->window_visible = v;
    l->cap = cap;
  }
  c->windows[c->n_windows] = hwnd;
  c->window_pids[c->n_windows] = pid;
  c->window_visible[c->n_windows] =
      IsWindowVisible(hwnd) && GetWindow(hwnd, GW_OWNER) == NULL;
  c->n_windows++;
  return TRUE;
}

uint32_t rm__win_context_windows(rm__win_context *c) {
  window_list l;
  l.c = c;
  l.cap = 0;
  l.failed = 0;
  c->windows = NULL;
  c->window_pids = NULL;
  c->window_visible = NULL;
  c->n_windows = 0;
  EnumWindows(add_window, (LPARAM)&l);  /* no desktop: no windows */
  return l.failed ? RM_ERROR_OUTOFMEMORY : RM_OK;
}

void rm__win_context_free(rm__win_context *c) {
  free(c->windows);
  free(c->window_pids);
  free(c->window_visible);
  c->windows = NULL;
  c->window_pids = NULL;
  c->window_visible = NULL;
  c->n_windows = 0;
}

/* 2: a visible unowned top-level window, 1: top-level windows, 0: none. */
static int window_kind(const rm__win_context *c, DWORD pid) {
  size_t i;
  int kind = 0;
  for (i = 0; i < c->n_windows; i++)
    if (c->window_pids[i] == pid) {
      if (c->window_visible[i]) return 2;
      kind = 1;
    }
  return kind;
}

/* }=====
 * {===== Rights */

/* 1 when the process runs as the caller's user and is not elevated above
 * the caller: what rm__os_launch can start again as it was. */
static int same_user(HANDLE process) {
  HANDLE mine = NULL, theirs = NULL;
  BYTE a[256], b[256];
  TOKEN_ELEVATION ea, eb;
  DWORD len;
  int same = 0;
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mine) &&
      OpenProcessToken(process, TOKEN_QUERY, &theirs) &&
      GetTokenInformation(mine, TokenUser, a, sizeof a, &len) &&
      GetTokenInformation(theirs, TokenUser, b, sizeof b, &len))
    same = EqualSid(((TOKEN_USER *)(void *)a)->User.Sid,
                    ((TOKEN_USER *)(void *)b)->User.Sid) != 0;
  if (same && GetTokenInformation(mine, TokenElevation, &ea, sizeof ea, &len) &&
      GetTokenInformation(theirs, TokenElevation, &eb, sizeof eb, &len) &&
      eb.TokenIsElevated && !ea.TokenIsElevated)
    same = 0;
  if (mine) CloseHandle(mine);
  if (theirs) CloseHandle(theirs);
  return same;
}

/* 0 when Windows' rule says the process is not to be restarted: it did
 * not register with RegisterApplicationRestart, or registered with
 * RESTART_NO_PATCH.  Where the system cannot say (Wine), the library's
 * rule restarts it with the command line it was started with, so it is
 * restartable only when this caller can read that (not a 64-bit process
 * from a 32-bit caller under Wine 8.0: peb.c). */
static int registered_for_restart(DWORD pid) {
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ,
                         FALSE, pid);
  rm__win_restart_kind kind;
  int readable;
  if (!h) return 0;
  kind = rm__win_restart_registration(h, NULL);
  CloseHandle(h);
  if (kind != RM__WIN_UNKNOWABLE) return kind == RM__WIN_REGISTERED;
  /* Opened as rm__os_capture opens it to read them. */
  h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, pid);
  if (!h) return 0;
  readable = rm__win_params_reachable(h);
  CloseHandle(h);
  return readable;
}

/* 1 when the SCM refuses the caller the rights to stop and start it. */
static int service_denied(const wchar_t *name) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc;
  int denied = 0;
  if (!scm) return GetLastError() == ERROR_ACCESS_DENIED;
  svc = OpenServiceW(scm, name, SERVICE_STOP | SERVICE_START |
                                    SERVICE_QUERY_STATUS);
  if (svc) CloseServiceHandle(svc);
  else denied = GetLastError() == ERROR_ACCESS_DENIED;
  CloseServiceHandle(scm);
  return denied;
}

/* }=====
 * {===== The classification */

static void classify_service(rm__found *f, const rm__win_service *svc) {
  uint32_t reasons = 0;
  rm__win_utf8_copy(f->info.service_short_name,
                    sizeof f->info.service_short_name, svc->name);
  rm__win_utf8_copy(f->info.app_name, sizeof f->info.app_name,
                    svc->display[0] ? svc->display : svc->name);
  if (in_list(critical_services, svc->name) ||
      in_env_list("RESTARTMGR_CRITICAL_SERVICES", svc->name))
    reasons |= RM_REBOOT_REASON_CRITICAL_SERVICE;
  if (service_denied(svc->name))
    reasons |= RM_REBOOT_REASON_PERMISSION_DENIED;
  f->reasons = reasons;
  f->info.app_type = reasons ? RM_APP_CRITICAL : RM_APP_SERVICE;
  f->info.restartable = !reasons;
}

void rm__win_classify(const rm__win_context *c, rm__found *f,
                      const rm__win_service *svc) {
  DWORD pid = f->info.process.pid;
  const rm__win_proc *proc = rm__win_procs_find(c->procs, pid);
  wchar_t sysdir[MAX_PATH], windir[MAX_PATH], *image = NULL;
  const wchar_t *base = proc && proc->name[0] ? proc->name : L"";
  uint32_t reasons = 0;
  int restartable = 0, kind, console = 0;
  HANDLE h;

  f->info.session_id = proc ? proc->session : RM_INVALID_SESSION_ID;
  f->info.service_short_name[0] = 0;
  f->info.app_status = RM_STATUS_RUNNING;
  if (svc) {
    classify_service(f, svc);
    return;
  }

  if (pid == rm__win_self()->pid) reasons |= RM_REBOOT_REASON_DETECTED_SELF;
  if (!GetSystemDirectoryW(sysdir, MAX_PATH)) sysdir[0] = 0;
  if (!GetWindowsDirectoryW(windir, MAX_PATH)) windir[0] = 0;

  h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (h) {
    HANDLE t = OpenProcess(PROCESS_TERMINATE, FALSE, pid);
    if (t) CloseHandle(t);
    else if (GetLastError() == ERROR_ACCESS_DENIED)
      reasons |= RM_REBOOT_REASON_PERMISSION_DENIED;
    image = rm__win_image_path(h);
    if (image) base = rm__win_basename(image);
    restartable = image != NULL && same_user(h) && registered_for_restart(pid);
    console = image != NULL && rm__win_image_is_console(image);
  } else if (GetLastError() == ERROR_ACCESS_DENIED) {
    reasons |= RM_REBOOT_REASON_PERMISSION_DENIED;
  }

  if ((image && in_list(critical_processes, base) && inside(image, sysdir)) ||
      (!image && (pid == 4 || in_list(kernel_processes, base))) ||
      in_env_list("RESTARTMGR_CRITICAL_PROCESSES", base))
    reasons |= RM_REBOOT_REASON_CRITICAL_PROCESS;
  if (f->info.session_id != RM_INVALID_SESSION_ID &&
      c->self_session != RM_INVALID_SESSION_ID &&
      f->info.session_id != c->self_session)
    reasons |= RM_REBOOT_REASON_SESSION_MISMATCH;

  rm__win_utf8_copy(f->info.app_name, sizeof f->info.app_name, base);
  kind = window_kind(c, pid);
  f->reasons = reasons;
  if (reasons) {
    f->info.app_type = RM_APP_CRITICAL;
    restartable = 0;
  } else if (image && rm__win_ieq(base, L"explorer.exe") &&
             inside(image, windir)) {
    f->info.app_type = RM_APP_EXPLORER;
  } else if (kind == 2) {
    f->info.app_type = RM_APP_MAIN_WINDOW;
  } else if (kind == 1) {
    f->info.app_type = RM_APP_OTHER_WINDOW;
  } else if (console) {
    f->info.app_type = RM_APP_CONSOLE;
  } else {
    f->info.app_type = RM_APP_UNKNOWN;
  }
  f->info.restartable = restartable;
  free(image);
  if (h) CloseHandle(h);
}

/* }=====
 * {===== The whole name */

static wchar_t *service_display_name(const char *short_name) {
  wchar_t *name = rm__win_wide(short_name), *display = NULL;
  SC_HANDLE scm = name ? OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT) : NULL;
  DWORD len = 0;
  if (scm) {
    /* The length comes back in characters, without the NUL. */
    GetServiceDisplayNameW(scm, name, NULL, &len);
    display = len ? malloc((len + 1) * sizeof *display) : NULL;
    len++;
    if (display && !GetServiceDisplayNameW(scm, name, display, &len)) {
      free(display);
      display = NULL;
    }
    CloseServiceHandle(scm);
  }
  if (display && !display[0]) {
    free(display);
    display = NULL;
  }
  if (!display) display = name;
  else free(name);
  return display;
}

wchar_t *rm__win_app_name(const rm_process_info *info) {
  HANDLE h;
  wchar_t *image, *name;
  if (info->service_short_name[0])
    return service_display_name(info->service_short_name);
  h = rm__win_open_identity(&info->process, PROCESS_QUERY_LIMITED_INFORMATION);
  if (!h) return NULL;
  image = rm__win_image_path(h);
  CloseHandle(h);
  if (!image) return NULL;
  name = wcsdup(rm__win_basename(image));
  free(image);
  return name;
}

/* }===== */
