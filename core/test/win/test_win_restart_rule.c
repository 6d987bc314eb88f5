/* SPDX-License-Identifier: MIT */
/*
 * test_win_restart_rule.c: which applications the Win32 backend restarts,
 * as Windows decides it (restartreg.c): registered with
 * RegisterApplicationRestart, not with RESTART_NO_PATCH, restarted with
 * the registered command line.
 *
 * The decision is checked with the values Windows' query returns (Wine
 * cannot produce them: its GetApplicationRestartSettings answers E_NOTIMPL
 * for every process), and the real query on this process after a real
 * registration is checked for what the system in hand does: on Wine, that
 * the registration is reported as unknowable (so the library's own rule
 * applies); on Windows, that it comes back with its command line.
 */
#include "test.h"

#include <windows.h>
#include <wchar.h>

#include "win/win.h"

static int under_wine(void) {
  return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
}

static void the_rule_follows_windows(void) {
  ASSERT(rm__win_restart_rule(S_OK, 0) == RM__WIN_REGISTERED);
  ASSERT(rm__win_restart_rule(S_OK, RESTART_NO_CRASH | RESTART_NO_HANG) ==
         RM__WIN_REGISTERED);
  ASSERT(rm__win_restart_rule(S_OK, RESTART_NO_PATCH) == RM__WIN_NOT_REGISTERED);
  ASSERT(rm__win_restart_rule(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), 0) ==
         RM__WIN_NOT_REGISTERED);
  ASSERT(rm__win_restart_rule(E_INVALIDARG, 0) == RM__WIN_NOT_REGISTERED);
  ASSERT(rm__win_restart_rule(HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED), 0) ==
         RM__WIN_NOT_REGISTERED);
  ASSERT(rm__win_restart_rule(E_NOTIMPL, 0) == RM__WIN_UNKNOWABLE);
  ASSERT(rm__win_restart_rule(HRESULT_FROM_WIN32(ERROR_CALL_NOT_IMPLEMENTED),
                              0) == RM__WIN_UNKNOWABLE);
}

static void the_command_line_is_image_then_registered_arguments(void) {
  wchar_t *c = rm__win_restart_command(L"C:\\Program Files\\a b.exe",
                                       L"--restarted /x");
  ASSERT(c && wcscmp(c, L"\"C:\\Program Files\\a b.exe\" --restarted /x") == 0);
  free(c);
  c = rm__win_restart_command(L"C:\\x.exe", L"");
  ASSERT(c && wcscmp(c, L"\"C:\\x.exe\"") == 0);
  free(c);
}

static void a_real_registration(void) {
  wchar_t *args = NULL;
  rm__win_restart_kind kind;
  ASSERT(RegisterApplicationRestart(L"--again", 0) == S_OK);
  kind = rm__win_restart_registration(GetCurrentProcess(), &args);
  if (under_wine()) {
    /* Wine 8.0: the registration is not kept, the query not implemented. */
    ASSERT(kind == RM__WIN_UNKNOWABLE);
    ASSERT(args == NULL);
  } else {
    ASSERT(kind == RM__WIN_REGISTERED);
    ASSERT(args && wcscmp(args, L"--again") == 0);
  }
  free(args);
  UnregisterApplicationRestart();
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(the_rule_follows_windows);
  RUN(the_command_line_is_image_then_registered_arguments);
  RUN(a_real_registration);
  return rmt_finish();
}
