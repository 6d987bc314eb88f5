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
 *
 * Under Wine (8.0) that path often does not reach the target: a program
 * started from a Unix shell has no console another process can attach to,
 * and a GUI caller's Ctrl-C, when it arrives, can take seconds.  Windows
 * itself delivers a control event by starting a thread in the target at
 * kernel32's CtrlRoutine, which runs the target's handlers (the default
 * one exits); under Wine the caller does the same with CreateRemoteThread,
 * and only falls back to the console when it cannot (another width, whose
 * kernel32 is elsewhere).  Only a process whose parameters name a
 * console gets it (a detached one gets no control events on Windows).  Measured and chosen in docs/windows.md,
 * Console applications under Wine.
 */
#define _GNU_SOURCE
#include "win.h"

#include <psapi.h>
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

/* 1 when the process has kernelbase.dll loaded at the caller's address
 * (same width, same mapping): only then is the caller's CtrlRoutine
 * address valid in it. */
static int shares_kernelbase(HANDLE process, HMODULE kernelbase) {
  HMODULE mods[512];
  DWORD need = 0, k;
  if (!EnumProcessModulesEx(process, mods, sizeof mods, &need,
                            LIST_MODULES_DEFAULT))
    return 0;
  if (need > sizeof mods) need = sizeof mods;
  for (k = 0; k < need / sizeof mods[0]; k++)
    if (mods[k] == kernelbase) return 1;
  return 0;
}

int rm__win_ctrl_routine_thread(DWORD pid, DWORD event) {
  const DWORD access = PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION |
                       PROCESS_VM_OPERATION | PROCESS_VM_READ |
                       PROCESS_VM_WRITE;
  HMODULE kernelbase = GetModuleHandleW(L"kernelbase.dll");
  FARPROC routine = kernelbase ? GetProcAddress(kernelbase, "CtrlRoutine")
                               : NULL;
  HANDLE process, thread = NULL;
  BOOL self_wow64 = FALSE, target_wow64 = TRUE;
  if (!routine) return 0;
  process = OpenProcess(access, FALSE, pid);
  if (!process) return 0;
  /* A process with no console gets no control events on Windows either. */
  if (rm__win_has_console(process) &&
      IsWow64Process(GetCurrentProcess(), &self_wow64) &&
      IsWow64Process(process, &target_wow64) && self_wow64 == target_wow64 &&
      shares_kernelbase(process, kernelbase))
    thread = CreateRemoteThread(process, NULL, 0,
                                (LPTHREAD_START_ROUTINE)(void (*)(void))routine,
                                (void *)(ULONG_PTR)event, 0, NULL);
  CloseHandle(process);
  if (!thread) return 0;
  CloseHandle(thread);
  return 1;
}

int rm__win_send_ctrl_c(DWORD pid) {
  static const DWORD std_ids[3] = { STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
                                    STD_ERROR_HANDLE };
  HANDLE saved[3];
  DWORD *list = NULL, n, k;
  int sent = 0, shared = 0, i;

  if (rm__win_ntdll()->wine_get_version &&
      rm__win_ctrl_routine_thread(pid, CTRL_C_EVENT))
    return 1;
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
