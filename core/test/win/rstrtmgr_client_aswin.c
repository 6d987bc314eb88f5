/* SPDX-License-Identifier: MIT */
/*
 * rstrtmgr_client_aswin.c: the parts of rm_rstrtmgr_client that check the
 * drop-in answers as Windows does where Wine differs (docs/windows.md,
 * Use with Wine): names and the shell, and a console app on a console
 * the installer cannot attach to, stopped by RmShutdown without force.
 */
#include "rstrtmgr_client.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Names and types as Windows gives them: the shell (the process of
 * GetShellWindow's window, Wine's explorer.exe /desktop) is RmExplorer
 * named by its version resource's FileDescription; a program merely
 * called explorer.exe (a copy of rm_winapp, no version resource) is a
 * console app, not the shell. */
void check_names(void) {
  WCHAR sys[MAX_PATH], shell_image[MAX_PATH], fake[MAX_PATH], held[MAX_PATH],
      args[2 * MAX_PATH], app[MAX_PATH];
  LPCWSTR files[2];
  DWORD h = 0, reasons = 0, shell_pid = 0;
  RM_PROCESS_INFO *info = NULL;
  const RM_PROCESS_INFO *e;
  UINT n = 0;
  child *impostor;
  BOOL wow64 = FALSE;
  /* Wine sets no shell window without a visible desktop: its shell is
   * the desktop window's process. */
  HWND shell = GetShellWindow() ? GetShellWindow() : GetDesktopWindow();
  CHECK(shell != NULL && GetWindowThreadProcessId(shell, &shell_pid));
  /* The shell is the native explorer.exe: a 32-bit client names it
   * through Sysnative, since its System32 is SysWOW64 (docs/windows.md,
   * "Registration in the registrant's view"). */
  IsWow64Process(GetCurrentProcess(), &wow64);
  if (wow64) {
    GetWindowsDirectoryW(sys, MAX_PATH);
    swprintf(shell_image, MAX_PATH, L"%ls\\Sysnative\\explorer.exe", sys);
  } else {
    GetSystemDirectoryW(sys, MAX_PATH);
    swprintf(shell_image, MAX_PATH, L"%ls\\explorer.exe", sys);
  }
  path_in(fake, work, L"explorer.exe");
  path_in(held, work, L"impostor.txt");
  path_in(app, bin, L"rm_winapp.exe");
  make_file(held);
  CHECK(CopyFileW(app, fake, FALSE));
  swprintf(args, 2 * MAX_PATH, L"--hold \"%ls\"", held);
  impostor = start(fake, args, CREATE_NEW_CONSOLE);
  CHECK(impostor != NULL);
  CHECK_RC(RmStartSession(&h, 0, (WCHAR[CCH_RM_SESSION_KEY + 1]){0}), ERROR_SUCCESS);
  files[0] = shell_image;
  files[1] = held;
  CHECK_RC(RmRegisterResources(h, 2, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  say("names: the shell is pid %lu", (unsigned long)shell_pid);
  print_list(info, n, reasons);
  e = find(info, n, shell_pid);
  CHECK(e && e->ApplicationType == RmExplorer);
  CHECK(e && wcscmp(e->strAppName, L"Wine Explorer") == 0);
  e = impostor ? find(info, n, impostor->pid) : NULL;
  CHECK(e && e->ApplicationType == RmConsole);
  /* Windows reads the copy's own (absent) resource: "explorer.exe".
   * Wine's GetFileVersionInfo loads a file named like one of its builtin
   * programs as that builtin, so the copy gets Wine Explorer's name
   * (docs/windows.md, What still differs). */
  CHECK(e && wcscmp(e->strAppName, L"Wine Explorer") == 0);
  free(info);
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
}

/* The time of the shutdown's first progress call (RM_WRITE_STATUS_CALLBACK
 * has no context). */
static ULONGLONG shutdown_began;

static void note_progress(UINT percent) {
  FILETIME now;
  (void)percent;
  if (shutdown_began) return;
  GetSystemTimeAsFileTime(&now);
  shutdown_began = (ULONGLONG)now.dwHighDateTime << 32 | now.dwLowDateTime;
}

/* rm_rstrtmgr_client console FILE PID: the console app PID, started from
 * a Unix shell by rstrtmgr-client.sh (so on a console no other process
 * can attach to), holds FILE; RmShutdown without force must stop it, and
 * it must exit within a second of the shutdown beginning to act. */
int run_console_stop(const WCHAR *file, DWORD pid) {
  WCHAR key[CCH_RM_SESSION_KEY + 1];
  LPCWSTR files[1];
  DWORD h = 0, reasons = 0, code = 7;
  RM_PROCESS_INFO *info = NULL;
  const RM_PROCESS_INFO *e;
  UINT n = 0;
  FILETIME created, exited, kernel, user;
  ULONGLONG end, took;
  HANDLE process = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
                               FALSE, pid);
  CHECK(process != NULL);
  if (!process) return 1;
  CHECK_RC(RmStartSession(&h, 0, key), ERROR_SUCCESS);
  files[0] = file;
  CHECK_RC(RmRegisterResources(h, 1, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  print_list(info, n, reasons);
  e = find(info, n, pid);
  CHECK(n == 1 && e && e->ApplicationType == RmConsole);
  free(info);
  CHECK_RC(RmShutdown(h, 0, note_progress), ERROR_SUCCESS);   /* no force */
  CHECK(WaitForSingleObject(process, 10000) == WAIT_OBJECT_0);
  CHECK(GetProcessTimes(process, &created, &exited, &kernel, &user));
  CHECK(GetExitCodeProcess(process, &code));
  end = (ULONGLONG)exited.dwHighDateTime << 32 | exited.dwLowDateTime;
  took = end >= shutdown_began ? (end - shutdown_began) / 10000 : 0;
  say("console app %lu: exited %llu ms after RmShutdown began, exit code %lu",
      (unsigned long)pid, took, (unsigned long)code);
  CHECK(shutdown_began != 0 && end >= shutdown_began && took < 1000);
  CHECK(code == 0);                     /* Wine's default Ctrl-C handler */
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  CHECK(n == 1 && info && info[0].AppStatus == RmStatusStopped);
  free(info);
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
  CloseHandle(process);
  say("%s: console stop", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
