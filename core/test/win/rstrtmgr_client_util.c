/* SPDX-License-Identifier: MIT */
/*
 * rstrtmgr_client_util.c: the test plumbing of rm_rstrtmgr_client (see
 * rstrtmgr_client.c): checks, children started from rm_winapp and killed
 * by handle, the RmGetList loop, files.  Windows' headers only.
 */
#include "rstrtmgr_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

int failures;

void check(int ok, const char *what, int line) {
  if (ok) return;
  printf("FAIL line %d: %s\n", line, what);
  fflush(stdout);
  failures++;
}

void check_rc(DWORD got, DWORD want, const char *what, int line) {
  if (got == want) return;
  printf("FAIL line %d: %s = %lu, want %lu\n", line, what,
         (unsigned long)got, (unsigned long)want);
  fflush(stdout);
  failures++;
}

void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

void windows_dir(WCHAR *out, const char *dir) {
  int i;
  MultiByteToWideChar(CP_UTF8, 0, dir, -1, out, MAX_PATH);
  for (i = 0; out[i]; i++)
    if (out[i] == L'/') out[i] = L'\\';
  if (out[0] == L'\\') {                    /* a Unix path: Wine's Z: */
    memmove(out + 2, out, (wcslen(out) + 1) * sizeof *out);
    out[0] = L'Z';
    out[1] = L':';
  }
}

/* {===== Children */

child children[16];
int n_children;
WCHAR bin[MAX_PATH], work[MAX_PATH];

void kill_children(void) {
  int i;
  for (i = 0; i < n_children; i++) {
    TerminateProcess(children[i].process, 1);
    WaitForSingleObject(children[i].process, 10000);
    CloseHandle(children[i].process);
  }
  n_children = 0;
}

/* Starts rm_winapp (or this program) with a command line and waits for
 * its "ready" line.  flags: CREATE_NEW_CONSOLE for a console of its own. */
child *start(const WCHAR *exe, const WCHAR *args, DWORD flags) {
  WCHAR cmd[4096];
  SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
  HANDLE rd, wr;
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  FILETIME x1, x2, x3;
  char line[256];
  DWORD got, at = 0;
  child *c;
  if (n_children == (int)(sizeof children / sizeof children[0])) return NULL;
  c = &children[n_children];
  swprintf(cmd, 4096, L"\"%ls\" %ls", exe, args);
  if (!CreatePipe(&rd, &wr, &sa, 0)) return NULL;
  SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdOutput = wr;
  si.hStdError = wr;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, flags, NULL, work, &si, &pi)) {
    say("cannot start %ls: %lu", exe, GetLastError());
    CloseHandle(rd);
    CloseHandle(wr);
    return NULL;
  }
  CloseHandle(wr);
  CloseHandle(pi.hThread);
  c->process = pi.hProcess;
  c->pid = pi.dwProcessId;
  GetProcessTimes(pi.hProcess, &c->created, &x1, &x2, &x3);
  n_children++;
  /* "ready PID\n" once it holds what it was asked to. */
  while (at < sizeof line - 1 && ReadFile(rd, line + at, 1, &got, NULL) && got) {
    if (line[at] == '\n') break;
    at++;
  }
  line[at] = 0;
  CloseHandle(rd);
  if (strncmp(line, "ready", 5) != 0) {
    say("%ls did not get ready: \"%s\"", exe, line);
    return NULL;
  }
  return c;
}

child *winapp(const WCHAR *args, DWORD flags) {
  WCHAR exe[MAX_PATH];
  swprintf(exe, MAX_PATH, L"%ls\\rm_winapp.exe", bin);
  return start(exe, args, flags);
}

int same(const RM_UNIQUE_PROCESS *p, const child *c) {
  return p->dwProcessId == c->pid &&
         p->ProcessStartTime.dwLowDateTime == c->created.dwLowDateTime &&
         p->ProcessStartTime.dwHighDateTime == c->created.dwHighDateTime;
}

void unique(RM_UNIQUE_PROCESS *out, const child *c) {
  out->dwProcessId = c->pid;
  out->ProcessStartTime = c->created;
}

/* Kills a process the session restarted, by identity. */
void kill_identity(const RM_UNIQUE_PROCESS *p) {
  HANDLE h = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE |
                             PROCESS_QUERY_LIMITED_INFORMATION,
                         FALSE, p->dwProcessId);
  FILETIME c, x1, x2, x3;
  if (!h) return;
  if (GetProcessTimes(h, &c, &x1, &x2, &x3) &&
      CompareFileTime(&c, &p->ProcessStartTime) == 0) {
    TerminateProcess(h, 1);
    WaitForSingleObject(h, 10000);
  }
  CloseHandle(h);
}

/* }=====
 * {===== The list, as Microsoft's sample takes it */

/* RmGetList until it holds still: ERROR_MORE_DATA says how many. */
DWORD get_list(DWORD h, RM_PROCESS_INFO **out, UINT *n, DWORD *reasons) {
  UINT needed = 0, have = 0;
  RM_PROCESS_INFO *info = NULL;
  DWORD rc;
  int rounds = 0;
  for (;;) {
    rc = RmGetList(h, &needed, &have, info, reasons);
    rounds++;
    if (rc != ERROR_MORE_DATA || rounds > 10) break;
    CHECK(have == 0);
    free(info);
    have = needed;
    info = calloc(needed, sizeof *info);
  }
  *out = info;
  *n = rc == ERROR_SUCCESS ? have : 0;
  return rc;
}

static const char *type_name(RM_APP_TYPE t) {
  switch (t) {
  case RmUnknownApp: return "RmUnknownApp";
  case RmMainWindow: return "RmMainWindow";
  case RmOtherWindow: return "RmOtherWindow";
  case RmService: return "RmService";
  case RmExplorer: return "RmExplorer";
  case RmConsole: return "RmConsole";
  case RmCritical: return "RmCritical";
  }
  return "?";
}

void print_list(const RM_PROCESS_INFO *info, UINT n, DWORD reasons) {
  UINT i;
  say("  %u affected, reboot reasons 0x%lx", n, (unsigned long)reasons);
  for (i = 0; i < n; i++)
    say("  pid %lu  %ls  %s  status 0x%lx  restartable %d",
        (unsigned long)info[i].Process.dwProcessId, info[i].strAppName,
        type_name(info[i].ApplicationType), (unsigned long)info[i].AppStatus,
        info[i].bRestartable);
}

const RM_PROCESS_INFO *find(const RM_PROCESS_INFO *info, UINT n,
                                   DWORD pid) {
  UINT i;
  for (i = 0; i < n; i++)
    if (info[i].Process.dwProcessId == pid) return &info[i];
  return NULL;
}

/* }=====
 * {===== Files */

void path_in(WCHAR *out, const WCHAR *dir, const WCHAR *name) {
  swprintf(out, MAX_PATH, L"%ls\\%ls", dir, name);
}

/* How many times a file holds a string, waiting up to 20 s for want. */
int count_in(const WCHAR *path, const char *what, int want) {
  int tries, n = 0;
  for (tries = 0; tries < 200; tries++) {
    static char text[65536];
    DWORD got = 0;
    const char *p;
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                           NULL, OPEN_EXISTING, 0, NULL);
    n = 0;
    if (f != INVALID_HANDLE_VALUE) {
      ReadFile(f, text, sizeof text - 1, &got, NULL);
      CloseHandle(f);
      text[got] = 0;
      for (p = strstr(text, what); p; p = strstr(p + 1, what)) n++;
    }
    if (n >= want) break;
    Sleep(100);
  }
  return n;
}

void make_file(const WCHAR *path) {
  HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
  if (f != INVALID_HANDLE_VALUE) CloseHandle(f);
}

/* }===== */
