/* SPDX-License-Identifier: MIT */
/*
 * rstrtmgr_client.c (rm_rstrtmgr_client): an installer written against
 * Windows' own <restartmanager.h> and linked with mingw-w64's -lrstrtmgr,
 * with no restartmgr header: what an unmodified installer does.
 *
 *   rm_rstrtmgr_client dropin              the whole check (exit 0: passed)
 *   rm_rstrtmgr_client stub                what Wine's stub answers
 *   rm_rstrtmgr_client wow64               against apps of the other width,
 *                                          from $RM_TEST_OTHER_BIN
 *                                          (rstrtmgr_client_wow64.c)
 *   rm_rstrtmgr_client secondary KEY FILE  a secondary installer
 *
 * "dropin" follows Microsoft's primary-installer sequence (RmStartSession,
 * RmRegisterResources, RmGetList with the ERROR_MORE_DATA loop, RmShutdown
 * with RmForceShutdown, RmRestart, RmEndSession) against real children
 * started from rm_winapp ($RM_TEST_BIN): a console app holding a file, a
 * windowed app holding another, and a process that loaded rmtestdll.dll,
 * which a secondary installer (this program again, joining by key)
 * registers.  Then filters and RmGetFilterList's buffer protocol,
 * RmCancelCurrentTask from another thread, a real SCM service whose
 * display name is longer than the engine's 255 bytes (listed cut at
 * CCH_RM_MAX_APP_NAME UTF-16 units), and bad input with the documented
 * codes.  Every child is killed by handle and waited for, also on
 * failure; the service is deleted.  The plumbing (children, the RmGetList
 * loop, files) is in rstrtmgr_client_util.c.
 *
 * "stub" runs the part of the sequence that Wine's stub survives and
 * prints its answers; the known ones are checked (handle 0xDEADBEEF, an
 * empty key, no affected application), and RmJoinSession is called in a
 * child, which the stub aborts.
 */
#include "rstrtmgr_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

int wmain(int argc, wchar_t **argv);

/* {===== Progress and cancel */

static UINT progress[128];
static int n_progress;

static void on_status(UINT percent) {
  if (n_progress < 128) progress[n_progress++] = percent;
}

static void check_progress(const char *what) {
  int i, ok = n_progress > 0 && progress[n_progress - 1] == 100;
  for (i = 1; i < n_progress; i++)
    if (progress[i] <= progress[i - 1]) ok = 0;
  say("  %s progress: %d calls, %u .. %u", what, n_progress,
      n_progress ? progress[0] : 0, n_progress ? progress[n_progress - 1] : 0);
  CHECK(ok);
  n_progress = 0;
}

/* The canceller: once the stubborn app logged the Ctrl-C it ignores (the
 * shutdown now waits for it to exit), RmCancelCurrentTask from this
 * thread. */
static DWORD cancel_session;
static WCHAR cancel_log[MAX_PATH];

static DWORD WINAPI canceller(void *arg) {
  int tries;
  (void)arg;
  for (tries = 0; tries < 600; tries++) {
    char text[512];
    DWORD got = 0;
    HANDLE f = CreateFileW(cancel_log, GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, 0, NULL);
    if (f != INVALID_HANDLE_VALUE) {
      ReadFile(f, text, sizeof text - 1, &got, NULL);
      CloseHandle(f);
      text[got] = 0;
      if (strstr(text, "ctrl-c"))
        return RmCancelCurrentTask(cancel_session);
    }
    Sleep(100);
  }
  return 1;
}

/* }=====
 * {===== The parts of the check */

/* A second installer process that joins by key and registers a file. */
static int run_secondary(const WCHAR *key, const WCHAR *file) {
  DWORD h = 0xFFFFFFFF, reasons = 0;
  UINT needed = 7, have = 0;
  LPCWSTR files[1];
  BYTE buf[64];
  DWORD need = 0;
  files[0] = file;
  CHECK_RC(RmJoinSession(&h, key), ERROR_SUCCESS);
  CHECK_RC(RmRegisterResources(h, 1, files, 0, NULL, 0, NULL), ERROR_SUCCESS);
  say("secondary: joined, registered %ls", file);
  /* Only the primary lists, shuts down, restarts, cancels and filters
   * (Microsoft's secondary-installer sample). */
  CHECK_RC(RmGetList(h, &needed, &have, NULL, &reasons),
           ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK(needed == 7 && have == 0 && reasons == 0);   /* untouched */
  CHECK_RC(RmRemoveFilter(h, NULL, NULL, L"Spooler"),
           ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmShutdown(h, RmForceShutdown, NULL), ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmRestart(h, 0, NULL), ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmCancelCurrentTask(h), ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmAddFilter(h, NULL, NULL, L"Spooler", RmNoRestart),
           ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmGetFilterList(h, buf, sizeof buf, &need),
           ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
  return failures ? 1 : 0;
}

/* Runs this program again with args; its output (read through a pipe, so
 * that it cannot interleave with ours) is printed after ours. */
static DWORD run_self(const WCHAR *args) {
  WCHAR self[MAX_PATH], cmd[4096];
  SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  HANDLE rd, wr;
  DWORD code = 255, got;
  char buf[512];
  GetModuleFileNameW(NULL, self, MAX_PATH);
  swprintf(cmd, 4096, L"\"%ls\" %ls", self, args);
  if (!CreatePipe(&rd, &wr, &sa, 0)) return 255;
  SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdOutput = wr;
  si.hStdError = wr;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  if (!CreateProcessW(self, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
    CloseHandle(rd);
    CloseHandle(wr);
    return 255;
  }
  CloseHandle(wr);
  while (ReadFile(rd, buf, sizeof buf - 1, &got, NULL) && got) {
    buf[got] = 0;
    fputs(buf, stdout);
  }
  fflush(stdout);
  CloseHandle(rd);
  if (WaitForSingleObject(pi.hProcess, 120000) != WAIT_OBJECT_0)
    TerminateProcess(pi.hProcess, 254);
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return code;
}

static void check_filters(DWORD h, const child *dll_user) {
  RM_UNIQUE_PROCESS p;
  WCHAR exe[MAX_PATH];
  DWORD need = 0, off, seen = 0;
  BYTE *buf;
  int n = 0;
  unique(&p, dll_user);
  path_in(exe, bin, L"not-running.exe");
  CHECK_RC(RmAddFilter(h, NULL, &p, NULL, RmNoRestart), ERROR_SUCCESS);
  CHECK_RC(RmAddFilter(h, exe, NULL, NULL, RmNoShutdown), ERROR_SUCCESS);
  CHECK_RC(RmAddFilter(h, NULL, NULL, L"Spooler", RmNoRestart), ERROR_SUCCESS);
  /* The buffer protocol: size first, too small, then exact. */
  CHECK_RC(RmGetFilterList(h, NULL, 0, &need), ERROR_MORE_DATA);
  CHECK(need >= 3 * sizeof(RM_FILTER_INFO));
  buf = calloc(1, need);
  {
    DWORD small = 0;
    CHECK_RC(RmGetFilterList(h, buf, need - 1, &small), ERROR_MORE_DATA);
    CHECK(small == need);
  }
  CHECK_RC(RmGetFilterList(h, buf, need, &need), ERROR_SUCCESS);
  for (off = 0; off < need; n++) {
    const RM_FILTER_INFO *f = (const RM_FILTER_INFO *)(void *)(buf + off);
    if (f->FilterTrigger == RmFilterTriggerProcess) {
      CHECK(f->FilterAction == RmNoRestart);
      CHECK(f->Process.dwProcessId == dll_user->pid &&
            CompareFileTime(&f->Process.ProcessStartTime, &dll_user->created) == 0);
      seen |= 1;
    } else {
      const BYTE *s = (const BYTE *)f->strFilename;
      CHECK(s >= buf && s < buf + need);       /* inside the same buffer */
      if (f->FilterTrigger == RmFilterTriggerFile) {
        CHECK(f->FilterAction == RmNoShutdown);
        CHECK(_wcsicmp(f->strFilename, exe) == 0);
        seen |= 2;
      } else {
        CHECK(f->FilterTrigger == RmFilterTriggerService);
        CHECK(f->FilterAction == RmNoRestart);
        CHECK(wcscmp(f->strServiceShortName, L"Spooler") == 0);
        seen |= 4;
      }
    }
    if (f->cbNextOffset == 0) break;
    off += f->cbNextOffset;
  }
  say("filters: %lu bytes, %d records (process, file, service)",
      (unsigned long)need, n + 1);
  CHECK(seen == 7 && n + 1 == 3);
  free(buf);
  CHECK_RC(RmRemoveFilter(h, NULL, NULL, L"Spooler"), ERROR_SUCCESS);
  CHECK_RC(RmRemoveFilter(h, NULL, NULL, L"Spooler"), ERROR_FILE_NOT_FOUND);
  CHECK_RC(RmRemoveFilter(h, exe, NULL, NULL), ERROR_SUCCESS);
}

static void check_bad_input(void) {
  DWORD h = 0, h2 = 0, reasons = 0, need = 0;
  WCHAR key[CCH_RM_SESSION_KEY + 1];
  UINT a = 0, b = 0;
  LPCWSTR rel[1] = { L"relative\\file.txt" };
  WCHAR lone[] = { L'C', L':', L'\\', 0xD800, L'x', 0 };
  LPCWSTR bad[1];
  RM_UNIQUE_PROCESS p;
  BYTE buf[8];
  bad[0] = lone;
  memset(&p, 0, sizeof p);
  CHECK_RC(RmStartSession(NULL, 0, key), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmStartSession(&h, 0, NULL), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmStartSession(&h, 1, key), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmJoinSession(&h2, NULL), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmJoinSession(&h2, L"0123456789abcdef0123456789abcdef"),
           ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmJoinSession(&h2, L"not a key"), ERROR_SESSION_CREDENTIAL_CONFLICT);
  CHECK_RC(RmEndSession(0x7777), ERROR_INVALID_HANDLE);
  CHECK_RC(RmGetList(0x7777, &a, &b, NULL, &reasons), ERROR_INVALID_HANDLE);
  CHECK_RC(RmStartSession(&h, 0, key), ERROR_SUCCESS);
  CHECK_RC(RmRegisterResources(h, 1, NULL, 0, NULL, 0, NULL), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmRegisterResources(h, 1, rel, 0, NULL, 0, NULL), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmRegisterResources(h, 1, bad, 0, NULL, 0, NULL), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmRegisterResources(h, 0, NULL, 1, NULL, 0, NULL), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmRegisterResources(h, 0, NULL, 0, NULL, 0, NULL), ERROR_SUCCESS);
  CHECK_RC(RmGetList(h, NULL, &b, NULL, &reasons), ERROR_BAD_ARGUMENTS);
  b = 2;
  CHECK_RC(RmGetList(h, &a, &b, NULL, &reasons), ERROR_BAD_ARGUMENTS);
  b = 0;
  CHECK_RC(RmGetList(h, &a, &b, NULL, &reasons), ERROR_SUCCESS);
  CHECK(a == 0 && b == 0 && reasons == 0);
  CHECK_RC(RmAddFilter(h, NULL, NULL, NULL, RmNoRestart), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmAddFilter(h, L"C:\\x.exe", &p, NULL, RmNoRestart), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmAddFilter(h, NULL, NULL, L"Spooler", (RM_FILTER_ACTION)7),
           ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmRemoveFilter(h, NULL, NULL, L"Spooler"), ERROR_FILE_NOT_FOUND);
  CHECK_RC(RmGetFilterList(h, NULL, 8, &need), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmGetFilterList(h, buf, sizeof buf, &need), ERROR_SUCCESS);
  CHECK(need == 0);
  CHECK_RC(RmRestart(h, 0, NULL), ERROR_REQUEST_OUT_OF_SEQUENCE);
  CHECK_RC(RmShutdown(h, 0x100, NULL), ERROR_BAD_ARGUMENTS);
  /* restartmgr's own RM_SHUTDOWN_SERVICES_IN_PLACE is no Win32 flag. */
  CHECK_RC(RmShutdown(h, 0x10000, NULL), ERROR_BAD_ARGUMENTS);
  CHECK_RC(RmCancelCurrentTask(h), ERROR_SUCCESS);   /* nothing running */
  CHECK_RC(RmReserveHeap(0), ERROR_SUCCESS);
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
  CHECK_RC(RmEndSession(h), ERROR_INVALID_HANDLE);
  say("bad input: %s", failures ? "some codes wrong" : "every documented code");
}

/* RmShutdown without force on a console app that ignores Ctrl-C,
 * cancelled from another thread while the shutdown waits for it. */
static void check_cancel(void) {
  WCHAR key[CCH_RM_SESSION_KEY + 1], file[MAX_PATH], args[3 * MAX_PATH];
  LPCWSTR files[1];
  HANDLE t;
  DWORD code = 99, rc, took;
  child *c;
  path_in(file, work, L"stubborn.txt");
  path_in(cancel_log, work, L"stubborn.log");
  make_file(file);
  DeleteFileW(cancel_log);
  swprintf(args, 3 * MAX_PATH, L"--ignore-ctrl-c --hold \"%ls\" --log \"%ls\"",
           file, cancel_log);
  c = winapp(args, CREATE_NEW_CONSOLE);
  CHECK(c != NULL);
  if (!c) return;
  files[0] = file;
  CHECK_RC(RmStartSession(&cancel_session, 0, key), ERROR_SUCCESS);
  CHECK_RC(RmRegisterResources(cancel_session, 1, files, 0, NULL, 0, NULL),
           ERROR_SUCCESS);
  t = CreateThread(NULL, 0, canceller, NULL, 0, NULL);
  took = GetTickCount();
  rc = RmShutdown(cancel_session, 0, NULL);
  took = GetTickCount() - took;
  CHECK_RC(rc, ERROR_CANCELLED);
  WaitForSingleObject(t, 70000);
  GetExitCodeThread(t, &code);
  CHECK_RC(code, ERROR_SUCCESS);
  CloseHandle(t);
  CHECK(WaitForSingleObject(c->process, 0) == WAIT_TIMEOUT);  /* still runs */
  CHECK_RC(RmEndSession(cancel_session), ERROR_SUCCESS);
  say("cancel: RmCancelCurrentTask from another thread; RmShutdown returned "
      "%lu after %lu ms (app timeout 15000 ms), the app still runs",
      (unsigned long)rc, (unsigned long)took);
}

/* }=====
 * {===== A service with a long non-ASCII display name */

static const WCHAR svc_name[] = L"rm_rstrtmgr_svc";

static void delete_service(void) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS), svc;
  SERVICE_STATUS st;
  int i;
  if (!scm) return;
  svc = OpenServiceW(scm, svc_name, SERVICE_ALL_ACCESS);
  if (svc) {
    ControlService(svc, SERVICE_CONTROL_STOP, &st);
    for (i = 0; i < 200 && QueryServiceStatus(svc, &st) &&
                st.dwCurrentState != SERVICE_STOPPED;
         i++)
      Sleep(50);
    DeleteService(svc);
    CloseServiceHandle(svc);
  }
  CloseServiceHandle(scm);
}

/* The display name is 256 UTF-16 units: 254 x U+00E9 and U+1F600 (a
 * surrogate pair), 762 bytes of UTF-8.  The engine keeps 255 bytes; the
 * list must give 255 units at most without splitting the pair: the 254
 * letters. */
static void check_service(void) {
  WCHAR display[260], want[260], cmd[2 * MAX_PATH], log[MAX_PATH];
  WCHAR key[CCH_RM_SESSION_KEY + 1];
  SC_HANDLE scm, svc;
  LPCWSTR names[1];
  RM_PROCESS_INFO *info = NULL;
  UINT n = 0;
  DWORD h, reasons = 0;
  SERVICE_STATUS_PROCESS st;
  DWORD need = 0;
  int i, ok = 0;
  for (i = 0; i < 254; i++) display[i] = want[i] = 0x00E9;
  display[254] = 0xD83D;
  display[255] = 0xDE00;
  display[256] = 0;
  want[254] = 0;
  path_in(log, work, L"service.log");
  swprintf(cmd, 2 * MAX_PATH, L"\"%ls\\rm_winsvc.exe\" %ls \"%ls\"", bin,
           svc_name, log);
  delete_service();
  scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
  CHECK(scm != NULL);
  if (!scm) return;
  svc = CreateServiceW(scm, svc_name, display, SERVICE_ALL_ACCESS,
                       SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                       SERVICE_ERROR_IGNORE, cmd, NULL, NULL, NULL, NULL, NULL);
  CHECK(svc != NULL);
  if (svc && StartServiceW(svc, 0, NULL))
    for (i = 0; i < 200 && !ok; i++) {
      ok = QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&st,
                                sizeof st, &need) &&
           st.dwCurrentState == SERVICE_RUNNING;
      if (!ok) Sleep(50);
    }
  CHECK(ok);
  if (svc) CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  if (!ok) {
    delete_service();
    return;
  }
  names[0] = svc_name;
  CHECK_RC(RmStartSession(&h, 0, key), ERROR_SUCCESS);
  CHECK_RC(RmRegisterResources(h, 0, NULL, 0, NULL, 1, names), ERROR_SUCCESS);
  CHECK_RC(get_list(h, &info, &n, &reasons), ERROR_SUCCESS);
  CHECK(n == 1);
  if (n == 1) {
    CHECK(info[0].Process.dwProcessId == st.dwProcessId);
    CHECK(info[0].ApplicationType == RmService);
    CHECK(wcscmp(info[0].strServiceShortName, svc_name) == 0);
    CHECK(wcslen(info[0].strAppName) == 254);
    CHECK(wcscmp(info[0].strAppName, want) == 0);
    CHECK(info[0].bRestartable);
    say("service: %ls, RmService, display name of 256 units listed as %u "
        "(the 255th would split a surrogate pair)",
        info[0].strServiceShortName, (unsigned)wcslen(info[0].strAppName));
  }
  free(info);
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
  delete_service();
}

/* }=====
 * {===== The two runs */

static int run_dropin(void) {
  WCHAR key[CCH_RM_SESSION_KEY + 1], held[MAX_PATH], shown[MAX_PATH],
      dll[MAX_PATH], args[3 * MAX_PATH], report[MAX_PATH];
  LPCWSTR files[2];
  DWORD h = 0xFFFFFFFF, reasons = 1, rc, code;
  RM_PROCESS_INFO *info = NULL;
  UINT n = 0, i;
  child *con, *win, *user;
  const RM_PROCESS_INFO *e;
  int k;

  path_in(held, work, L"held.txt");
  path_in(shown, work, L"shown.txt");
  path_in(dll, bin, L"rmtestdll.dll");
  path_in(report, work, L"report.txt");
  make_file(held);
  make_file(shown);
  DeleteFileW(report);

  check_bad_input();
  check_cancel();
  check_service();
  check_names();

  swprintf(args, 3 * MAX_PATH, L"--hold \"%ls\" --report \"%ls\"", held, report);
  con = winapp(args, CREATE_NEW_CONSOLE);
  swprintf(args, 3 * MAX_PATH, L"--window ok --hold \"%ls\" --report \"%ls\"",
           shown, report);
  win = winapp(args, 0);
  swprintf(args, 3 * MAX_PATH, L"--load \"%ls\"", dll);
  user = winapp(args, CREATE_NEW_CONSOLE);
  CHECK(con && win && user);
  if (!con || !win || !user) return 1;

  /* 1. Start a session; register the files. */
  CHECK_RC(RmStartSession(&h, 0, key), ERROR_SUCCESS);
  CHECK(wcslen(key) == CCH_RM_SESSION_KEY);
  for (k = 0; k < (int)CCH_RM_SESSION_KEY; k++) CHECK(iswxdigit(key[k]));
  say("RmStartSession: handle %lu, key %ls", (unsigned long)h, key);
  files[0] = held;
  files[1] = shown;
  CHECK_RC(RmRegisterResources(h, 2, files, 0, NULL, 0, NULL), ERROR_SUCCESS);

  /* 2. A secondary installer joins by key and registers the DLL. */
  swprintf(args, 3 * MAX_PATH, L"secondary %ls \"%ls\"", key, dll);
  code = run_self(args);
  CHECK_RC(code, 0);

  /* 3. Who is affected: the ERROR_MORE_DATA loop. */
  rc = get_list(h, &info, &n, &reasons);
  CHECK_RC(rc, ERROR_SUCCESS);
  say("RmGetList:");
  print_list(info, n, reasons);
  CHECK(n == 3 && reasons == RmRebootReasonNone);
  e = find(info, n, con->pid);
  CHECK(e && same(&e->Process, con) && e->ApplicationType == RmConsole);
  e = find(info, n, win->pid);
  CHECK(e && same(&e->Process, win) && e->ApplicationType == RmMainWindow);
  e = find(info, n, user->pid);
  CHECK(e && same(&e->Process, user));
  for (i = 0; i < n; i++) {
    DWORD session = 0;
    CHECK(wcscmp(info[i].strAppName, L"rm_winapp.exe") == 0);
    CHECK(info[i].strServiceShortName[0] == 0);
    CHECK(info[i].AppStatus == RmStatusRunning);
    ProcessIdToSessionId(info[i].Process.dwProcessId, &session);
    CHECK(info[i].TSSessionId == session);
  }
  free(info);

  /* 4. Filters: the DLL user is shut down but not restarted. */
  check_filters(h, user);

  /* 5. Shut down, forced. */
  CHECK_RC(RmShutdown(h, RmForceShutdown, on_status), ERROR_SUCCESS);
  check_progress("RmShutdown");
  for (k = 0; k < n_children; k++)
    if (children[k].pid == con->pid || children[k].pid == win->pid ||
        children[k].pid == user->pid)
      CHECK(WaitForSingleObject(children[k].process, 30000) == WAIT_OBJECT_0);
  rc = get_list(h, &info, &n, &reasons);
  CHECK_RC(rc, ERROR_SUCCESS);
  say("after RmShutdown:");
  print_list(info, n, reasons);
  for (i = 0; i < n; i++) CHECK(info[i].AppStatus & RmStatusStopped);
  free(info);

  /* 6. Restart what was stopped and is restartable. */
  CHECK_RC(RmRestart(h, 0, on_status), ERROR_SUCCESS);
  check_progress("RmRestart");
  rc = get_list(h, &info, &n, &reasons);
  CHECK_RC(rc, ERROR_SUCCESS);
  say("after RmRestart:");
  print_list(info, n, reasons);
  for (i = 0; i < n; i++) {
    int masked = info[i].AppStatus & RmStatusRestartMasked;
    if (info[i].Process.dwProcessId == user->pid || masked) {
      CHECK(info[i].Process.dwProcessId == user->pid && masked);
      CHECK(!(info[i].AppStatus & RmStatusRestarted));
    } else if (info[i].bRestartable) {
      CHECK(info[i].AppStatus & RmStatusRestarted);
      CHECK(info[i].AppStatus & RmStatusRunning);
    }
  }
  /* Both started again with their command lines: each reports again. */
  k = count_in(report, "start pid=", 4);
  say("  %d starts reported (2 before, 2 restarts)", k);
  CHECK(k == 4);
  /* The restarted apps are new processes: end them by identity. */
  for (i = 0; i < n; i++)
    if (info[i].AppStatus & RmStatusRestarted) kill_identity(&info[i].Process);
  free(info);

  /* 7. End: the handle is gone. */
  CHECK_RC(RmEndSession(h), ERROR_SUCCESS);
  CHECK_RC(RmEndSession(h), ERROR_INVALID_HANDLE);
  say("RmEndSession: done");
  return failures ? 1 : 0;
}

/* Wine's stub: the calls it survives, printed; its known answers checked. */
static int run_stub(void) {
  WCHAR key[CCH_RM_SESSION_KEY + 1], held[MAX_PATH], args[2 * MAX_PATH];
  LPCWSTR files[1];
  DWORD h = 0, reasons = 0, rc, code;
  UINT needed = 0, have = 0;
  child *con;
  path_in(held, work, L"held.txt");
  make_file(held);
  swprintf(args, 2 * MAX_PATH, L"--hold \"%ls\"", held);
  con = winapp(args, CREATE_NEW_CONSOLE);
  CHECK(con != NULL);
  if (!con) return 1;
  memset(key, 0, sizeof key);
  rc = RmStartSession(&h, 0, key);
  say("RmStartSession: %lu, handle 0x%lx, key \"%ls\"", (unsigned long)rc,
      (unsigned long)h, key);
  CHECK(rc == ERROR_SUCCESS && h == 0xDEADBEEF && key[0] == 0);
  files[0] = held;
  rc = RmRegisterResources(h, 1, files, 0, NULL, 0, NULL);
  say("RmRegisterResources: %lu", (unsigned long)rc);
  rc = RmGetList(h, &needed, &have, NULL, &reasons);
  say("RmGetList: %lu, %u needed (a console app holds the file)",
      (unsigned long)rc, needed);
  CHECK(rc == ERROR_SUCCESS && needed == 0);
  rc = RmShutdown(h, RmForceShutdown, NULL);
  say("RmShutdown: %lu, the holder %s", (unsigned long)rc,
      WaitForSingleObject(con->process, 2000) == WAIT_TIMEOUT ? "still runs"
                                                               : "exited");
  rc = RmRestart(h, 0, NULL);
  say("RmRestart: %lu", (unsigned long)rc);
  rc = RmEndSession(h);
  say("RmEndSession: %lu", (unsigned long)rc);
  /* A secondary installer: the stub's RmJoinSession ends the process. */
  code = run_self(L"secondary 00000000000000000000000000000000 C:\\x");
  say("secondary installer (RmJoinSession): exit code 0x%lx%s",
      (unsigned long)code, code == 0 ? "" : " (the stub aborted it)");
  CHECK(code != 0);
  return failures ? 1 : 0;
}

/* }===== */

int wmain(int argc, wchar_t **argv) {
  const char *dir = getenv("RM_TEST_BIN"), *other = getenv("RM_TEST_OTHER_BIN");
  int rc;
  if (argc == 4 && wcscmp(argv[1], L"secondary") == 0)
    return run_secondary(argv[2], argv[3]);
  if (argc == 4 && wcscmp(argv[1], L"console") == 0)
    return run_console_stop(argv[2], wcstoul(argv[3], NULL, 10));
  if (!dir || argc != 2) {
    say("usage: RM_TEST_BIN=DIR [RM_TEST_OTHER_BIN=DIR] rm_rstrtmgr_client "
        "dropin|stub|wow64");
    return 2;
  }
  windows_dir(bin, dir);
  swprintf(work, MAX_PATH, L"%ls\\rstrtmgr-client-%ls", bin, argv[1]);
  CreateDirectoryW(work, NULL);
  if (wcscmp(argv[1], L"dropin") == 0) rc = run_dropin();
  else if (wcscmp(argv[1], L"stub") == 0) rc = run_stub();
  else if (wcscmp(argv[1], L"wow64") == 0 && other) {
    WCHAR other_bin[MAX_PATH];
    windows_dir(other_bin, other);
    rc = run_wow64(other_bin);
  } else rc = 2;
  kill_children();
  say("%s: %s", rc == 0 ? "PASS" : "FAIL", failures ? "see above" : "all checks");
  return rc;
}
