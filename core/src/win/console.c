/* SPDX-License-Identifier: MIT */
/*
 * console.c: Ctrl-C for a console application, the way a user at its
 * console window would send it.
 *
 * Windows delivers console control events only to processes attached to
 * the console they are generated on, so the caller has to be on the
 * target's console for a moment:
 *  - the target shares the caller's console: the event is generated there
 *    directly;
 *  - the caller has no console (a GUI installer, a service, a test run
 *    by ctest): it attaches to the target's console, generates the event,
 *    and detaches again (under Wine such a caller can still hold a console
 *    connection without a process list, which is left first);
 *  - the caller has a console of its own that other processes share (the
 *    usual shell window): it leaves it, does the above, and attaches back
 *    to it through one of those other processes, then reopens its standard
 *    handles that were console handles;
 *  - the caller is alone on its console: leaving would destroy the
 *    console, so no Ctrl-C is sent (the app then only stops by force).
 * The event reaches every process on the target's console, as Ctrl-C
 * typed there would, and also the caller while it is attached: a handler
 * installed here swallows it for a few seconds after each delivery (the
 * handler thread may run after the caller has detached).  The console
 * juggling is process-wide, so deliveries are serialised; other threads
 * of the caller should not use the console meanwhile.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>

#define SWALLOW_MS 5000u

static SRWLOCK console_lock = SRWLOCK_INIT;
static volatile LONG64 swallow_until;
static int handler_installed;

static BOOL WINAPI swallow(DWORD event) {
  return (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) &&
         (LONG64)GetTickCount64() < swallow_until;
}

/* The processes on the caller's console (0 when it has none), malloc'd. */
static DWORD console_processes(DWORD **out) {
  DWORD cap = 16, n;
  for (;;) {
    DWORD *list = malloc(cap * sizeof *list);
    if (!list) return 0;
    n = GetConsoleProcessList(list, cap);
    if (n <= cap) {
      *out = list;
      return n;
    }
    free(list);
    cap = n + 8;
  }
}

static int generate_on(DWORD pid) {
  int sent = 0;
  if (AttachConsole(pid) ||
      /* Attached to a console that has no process list (how Wine starts
       * programs whose stdin is not a terminal): leave it first. */
      (GetLastError() == ERROR_ACCESS_DENIED && FreeConsole() &&
       AttachConsole(pid))) {
    sent = GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) != 0;
    FreeConsole();
  }

  return sent;
}

/* Leaves the caller's shared console, delivers, and comes back. */
static int deliver_away(DWORD pid, const DWORD *others, DWORD n) {
  static const DWORD std_ids[3] = { STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
                                    STD_ERROR_HANDLE };
  int was_console[3], sent, back = 0, i;
  DWORD k, mode, self = GetCurrentProcessId();
  for (i = 0; i < 3; i++)
    was_console[i] = GetConsoleMode(GetStdHandle(std_ids[i]), &mode) != 0;
  FreeConsole();
  sent = generate_on(pid);
  for (k = 0; k < n && !back; k++)
    if (others[k] != self) back = AttachConsole(others[k]) != 0;
  if (!back) return sent;
  for (i = 0; i < 3; i++) {
    HANDLE h;
    if (!was_console[i]) continue;
    h = CreateFileW(i == 0 ? L"CONIN$" : L"CONOUT$",
                    GENERIC_READ | GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
                    NULL);
    if (h != INVALID_HANDLE_VALUE) SetStdHandle(std_ids[i], h);
  }
  return sent;
}

int rm__win_send_ctrl_c(DWORD pid) {
  static const DWORD std_ids[3] = { STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
                                    STD_ERROR_HANDLE };
  HANDLE saved[3];
  DWORD *list = NULL, n, k;
  int sent = 0, shared = 0, i;

  AcquireSRWLockExclusive(&console_lock);
  if (!handler_installed)
    handler_installed = SetConsoleCtrlHandler(swallow, TRUE);
  swallow_until = (LONG64)(GetTickCount64() + SWALLOW_MS);
  for (i = 0; i < 3; i++) saved[i] = GetStdHandle(std_ids[i]);

  n = console_processes(&list);
  for (k = 0; k < n; k++) shared |= list[k] == pid;
  if (shared) {
    sent = GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) != 0;
  } else if (n == 0) {
    sent = generate_on(pid);
    /* Attaching may have replaced the standard handles; put back the
     * caller's own (pipes, files or nothing). */
    for (i = 0; i < 3; i++) SetStdHandle(std_ids[i], saved[i]);
  } else if (n >= 2) {
    sent = deliver_away(pid, list, n);
  }
  free(list);
  swallow_until = (LONG64)(GetTickCount64() + SWALLOW_MS);
  ReleaseSRWLockExclusive(&console_lock);
  return sent;
}
