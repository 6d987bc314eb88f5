/* SPDX-License-Identifier: MIT */
/*
 * rstrtmgr_client_wow64.c: "rm_rstrtmgr_client wow64 OTHER-BIN", an
 * installer of one width against applications of the other on a 64-bit
 * system: a 32-bit installer (in WOW64) and 64-bit applications, or a
 * 64-bit installer and 32-bit ones.  OTHER-BIN holds rm_winapp.exe and
 * rmtestdll.dll built for the other width.
 *
 * The primary-installer sequence against three children of the other
 * width: a console app holding a file, a windowed app holding another,
 * one that loaded the other width's rmtestdll.dll.  What is checked:
 *  - found, with their identity, type and name;
 *  - restartable exactly when this installer can read what they were
 *    started with (the drop-in's rule where Windows' registration is
 *    unknowable, as under Wine): a 64-bit installer always; a 32-bit one
 *    only where ntdll has NtWow64QueryInformationProcess64 (Windows, not
 *    Wine 8.0), so under Wine 8.0 64-bit apps are listed not restartable;
 *  - a module loaded by a 64-bit app is found by a 64-bit installer
 *    only: a 32-bit one cannot list a 64-bit process's modules
 *    (EnumProcessModulesEx fails, as on Windows), and says so here; a
 *    64-bit installer reads a 32-bit app's System32 modules as the
 *    SysWOW64 files they are (<SysWOW64>\kernel32.dll finds all three);
 *  - RmShutdown (forced) stops every one; RmRestart starts the
 *    restartable ones again with their command lines (each reports its
 *    start), and none of the others;
 *  - a secondary installer of the other width (rm_winapp --register, with
 *    the drop-in of its width) registers <System32>\rmtest-view.dat as it
 *    sees it: the primary lists exactly the app of that width holding
 *    what that path is for it (SysWOW64's file for a 32-bit secondary,
 *    the native System32's for a 64-bit one), not this width's holder of
 *    the same path; registered by both, the path is two files and both
 *    holders are listed (docs/windows.md, Registration in the registrant's
 *    view);
 *  - System32 under file-system redirection: for a 32-bit installer a
 *    registered <System32>\services.exe is SysWOW64\services.exe, which
 *    no process uses (there is none), while <Windows>\Sysnative\services.exe
 *    is the SCM's own, critical, process; for a 64-bit installer the
 *    System32 path is the SCM's.
 */
#include "rstrtmgr_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The number of affected apps and the reboot reasons for one file. */
static UINT list_one_file(const WCHAR *path, DWORD *reasons,
                          RM_APP_TYPE *type) {
  WCHAR key[CCH_RM_SESSION_KEY + 1];
  LPCWSTR files[1];
  RM_PROCESS_INFO *info = NULL;
  DWORD h;
  UINT n = 0;
  files[0] = path;
  *type = RmUnknownApp;
  CHECK_RC(RmStartSession(&h, 0, key), ERROR_SUCCESS);
  CHECK_RC(RmRegisterResources(h, 1, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
  CHECK_RC(get_list(h, &info, &n, reasons), ERROR_SUCCESS);
  if (n) *type = info[0].ApplicationType;
  free(info);
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
  return n;
}

static void check_system32(int self32) {
  WCHAR path[MAX_PATH + 32];
  DWORD reasons = 0;
  RM_APP_TYPE type;
  UINT n;
  GetSystemDirectoryW(path, MAX_PATH);
  wcscat(path, L"\\services.exe");
  n = list_one_file(path, &reasons, &type);
  say("System32: %ls: %u affected, reasons 0x%lx", path, n,
      (unsigned long)reasons);
  if (self32) {
    CHECK(n == 0 && reasons == RmRebootReasonNone);   /* it is SysWOW64's */
    GetWindowsDirectoryW(path, MAX_PATH);
    wcscat(path, L"\\Sysnative\\services.exe");
    n = list_one_file(path, &reasons, &type);
    say("Sysnative: %ls: %u affected, reasons 0x%lx", path, n,
        (unsigned long)reasons);
  }
  CHECK(n == 1 && type == RmCritical &&
        reasons == RmRebootReasonCriticalProcess);
}

static void end_holder(child *c) {
  if (!c) return;
  TerminateProcess(c->process, 1);
  WaitForSingleObject(c->process, 30000);
}

/* The other width's secondary registers a System32 path in its view. */
static void check_other_width_secondary(const WCHAR *app, int self32) {
  WCHAR named[MAX_PATH + 32], native[MAX_PATH + 32], wow[MAX_PATH + 32],
      args[4 * MAX_PATH], key[CCH_RM_SESSION_KEY + 1];
  LPCWSTR one[1];
  RM_PROCESS_INFO *info = NULL;
  DWORD h, reasons = 1;
  UINT n = 0;
  child *mine, *theirs, *sec;
  const WCHAR *name = L"\\rmtest-view.dat";
  /* The path both name, and the two files it is: the native one, and
   * the one a 32-bit process reaches through it. */
  GetSystemDirectoryW(named, MAX_PATH);
  wcscat(named, name);
  if (self32) {
    GetWindowsDirectoryW(native, MAX_PATH);
    wcscat(native, L"\\Sysnative");
  } else {
    GetSystemDirectoryW(native, MAX_PATH);
  }
  wcscat(native, name);
  GetSystemWow64DirectoryW(wow, MAX_PATH);
  wcscat(wow, name);
  make_file(native);
  make_file(wow);
  swprintf(args, 4 * MAX_PATH, L"--hold \"%ls\"", named);
  mine = winapp(args, CREATE_NEW_CONSOLE);          /* this width's file */
  theirs = start(app, args, CREATE_NEW_CONSOLE);    /* the other's */
  CHECK(mine && theirs);
  if (!mine || !theirs) return;

  CHECK_RC(RmStartSession(&h, 0, key), ERROR_SUCCESS);
  swprintf(args, 4 * MAX_PATH, L"--register %ls \"%ls\"", key, named);
  sec = start(app, args, CREATE_NEW_CONSOLE);
  CHECK(sec != NULL);
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  say("a %d-bit secondary registered %ls (%ls for it):", self32 ? 64 : 32,
      named, self32 ? native : wow);
  print_list(info, n, reasons);
  CHECK(n == 1 && reasons == RmRebootReasonNone);
  CHECK(find(info, n, theirs->pid) && same(&find(info, n, theirs->pid)->Process, theirs));
  CHECK(find(info, n, mine->pid) == NULL);
  free(info);

  /* Registered by this installer too: the same path, two files. */
  one[0] = named;
  CHECK_RC(RmRegisterResources(h, 1, one, 0, NULL, 0, NULL), ERROR_SUCCESS);
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  say("registered by both installers:");
  print_list(info, n, reasons);
  CHECK(n == 2 && find(info, n, mine->pid) && find(info, n, theirs->pid));
  free(info);
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
  end_holder(sec);
  end_holder(mine);
  end_holder(theirs);
  CHECK(DeleteFileW(native) && DeleteFileW(wow));
}

int run_wow64(const WCHAR *other) {
  WCHAR key[CCH_RM_SESSION_KEY + 1], held[MAX_PATH], shown[MAX_PATH],
      dll[MAX_PATH], app[MAX_PATH], args[3 * MAX_PATH], report[MAX_PATH];
  LPCWSTR files[3];
  DWORD h = 0, reasons = 1;
  RM_PROCESS_INFO *info = NULL;
  UINT n = 0, i, restarted = 0;
  child *con, *win, *user;
  const RM_PROCESS_INFO *e;
  BOOL self_wow = FALSE, kid_wow = TRUE;
  int self32 = sizeof(void *) == 4, can_read, k, starts;

  /* A 64-bit installer reads any process's start parameters; a 32-bit
   * one reads a 64-bit process's only through this call. */
  can_read = !self32 || GetProcAddress(GetModuleHandleW(L"ntdll.dll"),
                                       "NtWow64QueryInformationProcess64");
  path_in(held, work, L"held.txt");
  path_in(shown, work, L"shown.txt");
  path_in(report, work, L"report.txt");
  path_in(dll, other, L"rmtestdll.dll");
  path_in(app, other, L"rm_winapp.exe");
  make_file(held);
  make_file(shown);
  DeleteFileW(report);

  swprintf(args, 3 * MAX_PATH, L"--hold \"%ls\" --report \"%ls\"", held, report);
  con = start(app, args, CREATE_NEW_CONSOLE);
  swprintf(args, 3 * MAX_PATH, L"--window ok --hold \"%ls\" --report \"%ls\"",
           shown, report);
  win = start(app, args, 0);
  swprintf(args, 3 * MAX_PATH, L"--load \"%ls\"", dll);
  user = start(app, args, CREATE_NEW_CONSOLE);
  CHECK(con && win && user);
  if (!con || !win || !user) return 1;
  /* The premise: this is WOW64's pair, one side 32-bit, the other not. */
  CHECK(IsWow64Process(GetCurrentProcess(), &self_wow) &&
        IsWow64Process(con->process, &kid_wow));
  CHECK(self_wow == (self32 != 0) && kid_wow == !self32);
  say("wow64: a %d-bit installer, %d-bit apps; this installer %s read their "
      "start parameters",
      self32 ? 32 : 64, self32 ? 64 : 32, can_read ? "can" : "cannot");

  CHECK_RC(RmStartSession(&h, 0, key), ERROR_SUCCESS);
  files[0] = held;
  files[1] = shown;
  files[2] = dll;
  CHECK_RC(RmRegisterResources(h, 3, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  say("RmGetList:");
  print_list(info, n, reasons);
  CHECK(reasons == RmRebootReasonNone);
  e = find(info, n, con->pid);
  CHECK(e && same(&e->Process, con) && e->ApplicationType == RmConsole);
  e = find(info, n, win->pid);
  CHECK(e && same(&e->Process, win) && e->ApplicationType == RmMainWindow);
  e = find(info, n, user->pid);
  if (self32) {
    /* A 64-bit process's modules are out of a 32-bit caller's sight. */
    CHECK(e == NULL && n == 2);
    say("  the 64-bit app that loaded %ls: not seen (its modules cannot be "
        "listed by a 32-bit process)", dll);
  } else {
    CHECK(e && same(&e->Process, user) && n == 3);
  }
  for (i = 0; i < n; i++) {
    CHECK(wcscmp(info[i].strAppName, L"rm_winapp.exe") == 0);
    CHECK(info[i].AppStatus == RmStatusRunning);
    CHECK(info[i].bRestartable == (can_read ? TRUE : FALSE));
  }
  free(info);

  if (!self32) {
    /* A 32-bit app's modules under its System32 are SysWOW64 files: the
     * 32-bit kernel32.dll is found in all three, by module. */
    WCHAR k32[MAX_PATH + 16], key2[CCH_RM_SESSION_KEY + 1];
    DWORD h2, r2 = 0;
    LPCWSTR one[1];
    GetSystemWow64DirectoryW(k32, MAX_PATH);
    wcscat(k32, L"\\kernel32.dll");
    one[0] = k32;
    CHECK_RC(RmStartSession(&h2, 0, key2), ERROR_SUCCESS);
    CHECK_RC(RmRegisterResources(h2, 1, one, 0, NULL, 0, NULL), ERROR_SUCCESS);
    CHECK_RC(get_list(h2, &info, &n, &r2), ERROR_SUCCESS);
    CHECK(find(info, n, con->pid) && find(info, n, win->pid) &&
          find(info, n, user->pid));
    say("%ls: loaded by the three 32-bit apps (%u affected in all)", k32, n);
    free(info);
    CHECK_RC(RmEndSession(h2), ERROR_SUCCESS);
  }
  CHECK_RC(RmShutdown(h, RmForceShutdown, NULL), ERROR_SUCCESS);
  for (k = 0; k < n_children; k++)
    if (children[k].pid == con->pid || children[k].pid == win->pid ||
        (!self32 && children[k].pid == user->pid))
      CHECK(WaitForSingleObject(children[k].process, 30000) == WAIT_OBJECT_0);
  CHECK_RC(RmRestart(h, 0, NULL), ERROR_SUCCESS);
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  say("after RmShutdown and RmRestart:");
  print_list(info, n, reasons);
  for (i = 0; i < n; i++) {
    CHECK(info[i].AppStatus & RmStatusStopped);
    if (info[i].AppStatus & RmStatusRestarted) {
      restarted++;
      CHECK(info[i].AppStatus & RmStatusRunning);
    }
  }
  /* Each restarted holder reports its start again, with its command line
   * (counted before they are ended: an app of the other width may be
   * slower to get there than the settle time). */
  starts = count_in(report, "start pid=", can_read ? 4 : 2);
  for (i = 0; i < n; i++)
    if (info[i].AppStatus & RmStatusRestarted) kill_identity(&info[i].Process);
  free(info);
  say("  %u restarted, %d starts reported", restarted, starts);
  CHECK(restarted == (can_read ? n : 0));
  CHECK(starts == (can_read ? 4 : 2));
  CHECK(count_in(report, "--hold", can_read ? 4 : 2) == (can_read ? 4 : 2));
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);

  check_system32(self32);
  check_other_width_secondary(app, self32);
  return failures ? 1 : 0;
}
