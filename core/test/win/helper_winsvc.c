/* SPDX-License-Identifier: MIT */
/*
 * helper_winsvc.c (rm_winsvc): a Win32 service for the service tests.
 *
 *   rm_winsvc NAME LOG [HOLD]
 *
 * Run by the Service Control Manager as service NAME (the test creates the
 * service with this command line).  Appends "start PID" to LOG when it
 * runs and "stop PID" when SERVICE_CONTROL_STOP arrives, then stops.  With
 * HOLD it keeps that file open while running, so a test can find the
 * service through a registered file.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

static wchar_t name[256];
static const char *log_path;
static SERVICE_STATUS_HANDLE status_handle;
static HANDLE stop_event;

static void append(const char *what) {
  char line[128];
  HANDLE h = CreateFileA(log_path, FILE_APPEND_DATA,
                         FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                         0, NULL);
  DWORD put;
  if (h == INVALID_HANDLE_VALUE) return;
  snprintf(line, sizeof line, "%s %lu\n", what, (unsigned long)GetCurrentProcessId());
  WriteFile(h, line, (DWORD)strlen(line), &put, NULL);
  CloseHandle(h);
}

static void set_state(DWORD state) {
  SERVICE_STATUS st;
  memset(&st, 0, sizeof st);
  st.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  st.dwCurrentState = state;
  st.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
  SetServiceStatus(status_handle, &st);
}

static DWORD WINAPI control(DWORD code, DWORD type, void *data, void *ctx) {
  (void)type; (void)data; (void)ctx;
  if (code == SERVICE_CONTROL_STOP) {
    append("stop");
    set_state(SERVICE_STOP_PENDING);
    SetEvent(stop_event);
  }
  return NO_ERROR;
}

static void WINAPI service_main(DWORD argc, wchar_t **argv) {
  (void)argc; (void)argv;
  status_handle = RegisterServiceCtrlHandlerExW(name, control, NULL);
  if (!status_handle) return;
  stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  set_state(SERVICE_RUNNING);
  append("start");
  WaitForSingleObject(stop_event, INFINITE);
  set_state(SERVICE_STOPPED);
}

int main(int argc, char **argv) {
  SERVICE_TABLE_ENTRYW table[2];
  if (argc < 3) return 2;
  MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, name, 256);
  log_path = argv[2];
  if (argc > 3 &&
      CreateFileA(argv[3], GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  NULL, OPEN_EXISTING, 0, NULL) == INVALID_HANDLE_VALUE)
    return 3;
  table[0].lpServiceName = name;
  table[0].lpServiceProc = service_main;
  table[1].lpServiceName = NULL;
  table[1].lpServiceProc = NULL;
  return StartServiceCtrlDispatcherW(table) ? 0 : 1;
}
