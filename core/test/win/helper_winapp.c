/* SPDX-License-Identifier: MIT */
/*
 * helper_winapp.c (rm_winapp): a Windows application for the Win32
 * backend tests, whose behaviour the arguments choose:
 *
 *   --hold PATH        open PATH (read, sharing read and write) and keep it
 *   --hold-shared PATH the same, sharing delete too (so the file can be
 *                      replaced by rename while held)
 *   --hold-hex HEX     the same as --hold for a path given as hex-encoded UTF-8 (a
 *                      command line passes through the ANSI code page)
 *   --map PATH         map PATH as data, close the file, keep the view
 *   --load PATH        load the DLL at PATH
 *   --window MODE      show a top-level window and run its message loop;
 *                      MODE "ok" agrees to end the session, "refuse"
 *                      answers FALSE to WM_QUERYENDSESSION and ignores
 *                      WM_CLOSE
 *   --ignore-ctrl-c    a console control handler that ignores Ctrl-C
 *   --report PATH      append how it was started: pid, current directory,
 *                      command line, %RMT_MARK%, console or not
 *   --log PATH         append each session-end message and Ctrl-C it gets
 *   --label TEXT       ignored (a test's way to pass an odd argument)
 *   --register KEY PATH  a secondary installer: joins the session KEY with
 *                      the rstrtmgr.dll of its system directory, registers
 *                      PATH (as it sees it) and ends its handle
 *
 * Prints "ready PID" on stdout once set up, then waits.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_path;
static int refuse;

/* Appends one UTF-8 line to a file (opened and closed each time, so a
 * kill never loses what was written before it). */
static void append(const char *path, const char *text) {
  HANDLE h;
  DWORD put;
  if (!path) return;
  h = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  NULL, OPEN_ALWAYS, 0, NULL);
  if (h == INVALID_HANDLE_VALUE) return;
  WriteFile(h, text, (DWORD)strlen(text), &put, NULL);
  WriteFile(h, "\n", 1, &put, NULL);
  CloseHandle(h);
}

/* The Restart Manager loaded at run time, so that this program needs
 * nothing but Windows' own DLLs to start (WINAPI: stdcall on x86). */
typedef DWORD(WINAPI *join_fn)(DWORD *, const WCHAR *);
typedef DWORD(WINAPI *register_fn)(DWORD, UINT, const WCHAR **, UINT, void *,
                                   UINT, const WCHAR **);
typedef DWORD(WINAPI *end_fn)(DWORD);

static DWORD register_as_secondary(const char *key, const char *path) {
  HMODULE rm = LoadLibraryW(L"rstrtmgr.dll");
  join_fn join;
  register_fn reg;
  end_fn end;
  WCHAR wkey[64], wpath[MAX_PATH];
  const WCHAR *files[1];
  DWORD h, rc;
  if (!rm) return GetLastError();
  join = (join_fn)(void (*)(void))GetProcAddress(rm, "RmJoinSession");
  reg = (register_fn)(void (*)(void))GetProcAddress(rm, "RmRegisterResources");
  end = (end_fn)(void (*)(void))GetProcAddress(rm, "RmEndSession");
  if (!join || !reg || !end) return ERROR_PROC_NOT_FOUND;
  if (!MultiByteToWideChar(CP_ACP, 0, key, -1, wkey, 64) ||
      !MultiByteToWideChar(CP_ACP, 0, path, -1, wpath, MAX_PATH))
    return ERROR_BAD_ARGUMENTS;
  rc = join(&h, wkey);
  if (rc) return rc;
  files[0] = wpath;
  rc = reg(h, 1, files, 0, NULL, 0, NULL);
  end(h);
  return rc;
}

static void die(const char *what) {
  printf("error: %s: %lu\n", what, (unsigned long)GetLastError());
  fflush(stdout);
  exit(2);
}

static char *utf8(const wchar_t *w) {
  static char buf[8192];
  if (!WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, sizeof buf, NULL, NULL))
    buf[0] = 0;
  return buf;
}

/* Decodes hex-encoded UTF-8 into a wide path. */
static wchar_t *from_hex(const char *hex) {
  static char bytes[4096];
  static wchar_t w[4096];
  size_t i, n = strlen(hex) / 2;
  if (n >= sizeof bytes) n = sizeof bytes - 1;
  for (i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) v = '?';
    bytes[i] = (char)v;
  }
  bytes[n] = 0;
  if (!MultiByteToWideChar(CP_UTF8, 0, bytes, -1, w, 4096)) w[0] = 0;
  return w;
}

static void report(const char *path) {
  wchar_t cwd[MAX_PATH + 1], mark[256];
  char line[9000];
  DWORD list[4];
  snprintf(line, sizeof line, "start pid=%lu", (unsigned long)GetCurrentProcessId());
  append(path, line);
  if (!GetCurrentDirectoryW(MAX_PATH + 1, cwd)) cwd[0] = 0;
  snprintf(line, sizeof line, "cwd=%s", utf8(cwd));
  append(path, line);
  snprintf(line, sizeof line, "cmd=%s", utf8(GetCommandLineW()));
  append(path, line);
  if (!GetEnvironmentVariableW(L"RMT_MARK", mark, 256)) mark[0] = 0;
  snprintf(line, sizeof line, "mark=%s", utf8(mark));
  append(path, line);
  snprintf(line, sizeof line, "console=%d", GetConsoleProcessList(list, 4) > 0);
  append(path, line);
}

static BOOL WINAPI on_ctrl(DWORD event) {
  append(log_path, event == CTRL_C_EVENT ? "ctrl-c" : "ctrl-other");
  return TRUE;                               /* ignored: keep running */
}

static LRESULT CALLBACK window_proc(HWND w, UINT msg, WPARAM wp, LPARAM lp) {
  char line[128];
  switch (msg) {
  case WM_QUERYENDSESSION:
    snprintf(line, sizeof line, "WM_QUERYENDSESSION lparam=%lu",
             (unsigned long)lp);
    append(log_path, line);
    return refuse ? FALSE : TRUE;
  case WM_ENDSESSION:
    snprintf(line, sizeof line, "WM_ENDSESSION wparam=%lu lparam=%lu",
             (unsigned long)wp, (unsigned long)lp);
    append(log_path, line);
    return 0;
  case WM_CLOSE:
    append(log_path, "WM_CLOSE");
    if (!refuse) DestroyWindow(w);
    return 0;
  case WM_DESTROY:
    PostQuitMessage(0);
    return 0;
  default:
    return DefWindowProcW(w, msg, wp, lp);
  }
}

static void make_window(void) {
  WNDCLASSW wc;
  HWND w;
  memset(&wc, 0, sizeof wc);
  wc.lpfnWndProc = window_proc;
  wc.hInstance = GetModuleHandleW(NULL);
  wc.lpszClassName = L"rm_winapp";
  if (!RegisterClassW(&wc)) die("RegisterClass");
  w = CreateWindowExW(0, L"rm_winapp", L"rm_winapp", WS_OVERLAPPEDWINDOW,
                      CW_USEDEFAULT, CW_USEDEFAULT, 200, 100, NULL, NULL,
                      wc.hInstance, NULL);
  if (!w) die("CreateWindow");
  ShowWindow(w, SW_SHOWNORMAL);
}

int main(int argc, char **argv) {
  int i, window = 0;
  const char *report_path = NULL;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--hold") == 0 && v) {
      if (CreateFileA(v, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                      OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE)
        die("hold");
      i++;
    } else if (strcmp(a, "--hold-shared") == 0 && v) {
      if (CreateFileA(v, GENERIC_READ,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      NULL, OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE)
        die("hold-shared");
      i++;
    } else if (strcmp(a, "--hold-hex") == 0 && v) {
      if (CreateFileW(from_hex(v), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                      NULL, OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE)
        die("hold-hex");
      i++;
    } else if (strcmp(a, "--map") == 0 && v) {
      HANDLE f = CreateFileA(v, GENERIC_READ, FILE_SHARE_READ, NULL,
                             OPEN_EXISTING, 0, NULL), m;
      if (f == INVALID_HANDLE_VALUE) die("map open");
      m = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
      if (!m || !MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0)) die("map");
      CloseHandle(m);
      CloseHandle(f);
      i++;
    } else if (strcmp(a, "--load") == 0 && v) {
      if (!LoadLibraryA(v)) die("load");
      i++;
    } else if (strcmp(a, "--window") == 0 && v) {
      window = 1;
      refuse = strcmp(v, "refuse") == 0;
      i++;
    } else if (strcmp(a, "--ignore-ctrl-c") == 0) {
      SetConsoleCtrlHandler(on_ctrl, TRUE);
    } else if (strcmp(a, "--report") == 0 && v) {
      report_path = v;
      i++;
    } else if (strcmp(a, "--register") == 0 && v && i + 2 < argc) {
      DWORD rc = register_as_secondary(v, argv[i + 2]);
      if (rc) {
        printf("error: register: %lu\n", (unsigned long)rc);
        fflush(stdout);
        exit(2);
      }
      i += 2;
    } else if (strcmp(a, "--label") == 0 && v) {
      i++;
    } else if (strcmp(a, "--log") == 0 && v) {
      log_path = v;
      i++;
    } else {
      printf("error: bad argument %s\n", a);
      return 2;
    }
  }
  if (report_path) report(report_path);
  if (window) make_window();
  printf("ready %lu\n", (unsigned long)GetCurrentProcessId());
  fflush(stdout);
  if (window) {
    MSG msg;
    while (GetMessageW(&msg, NULL, 0, 0) > 0) {
      TranslateMessage(&msg);
      DispatchMessageW(&msg);
    }
    append(log_path, "exit");
    return 0;
  }
  for (;;) Sleep(1000);
}
