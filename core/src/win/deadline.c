/* SPDX-License-Identifier: MIT */
/*
 * deadline.c: the watchdog behind a command's time limit (os.h,
 * rm__os_exit_after): a thread that ends the process with ExitProcess
 * when the deadline passes, started at the first arming.  The module it
 * runs in is pinned first (a Lua program unloads the module as it exits,
 * and the thread must not run on in unmapped code).
 */
#include "win.h"

#include <stdio.h>
#include <string.h>

static CRITICAL_SECTION lock;
static INIT_ONCE lock_once = INIT_ONCE_STATIC_INIT;
static int started;
static ULONGLONG deadline_ms;         /* 0: disarmed */
static char message[512];
static int exit_code;

static BOOL CALLBACK init_lock(PINIT_ONCE once, PVOID arg, PVOID *ctx) {
  (void)once;
  (void)arg;
  (void)ctx;
  InitializeCriticalSection(&lock);
  return TRUE;
}

static DWORD WINAPI watch(LPVOID arg) {
  (void)arg;
  for (;;) {
    ULONGLONG now = GetTickCount64(), until;
    EnterCriticalSection(&lock);
    until = deadline_ms;
    if (until && now >= until) {
      fprintf(stderr, "%s\n", message);
      fflush(stderr);
      ExitProcess((UINT)exit_code);
    }
    LeaveCriticalSection(&lock);
    Sleep(50);
  }
  return 0;
}

uint32_t rm__os_exit_after(unsigned seconds, const char *text, int code) {
  uint32_t rc = RM_OK;
  InitOnceExecuteOnce(&lock_once, init_lock, NULL, NULL);
  EnterCriticalSection(&lock);
  if (!started && seconds) {
    HMODULE self;
    HANDLE t;
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                           GET_MODULE_HANDLE_EX_FLAG_PIN,
                       (LPCWSTR)(uintptr_t)watch, &self);
    t = CreateThread(NULL, 0, watch, NULL, 0, NULL);
    if (t) {
      CloseHandle(t);
      started = 1;
    } else {
      rc = RM_ERROR_OUTOFMEMORY;
    }
  }
  if (rc == RM_OK && started) {
    snprintf(message, sizeof message, "%s", text ? text : "");
    exit_code = code;
    deadline_ms = seconds ? GetTickCount64() + (ULONGLONG)seconds * 1000u : 0;
  }
  LeaveCriticalSection(&lock);
  return rc;
}
