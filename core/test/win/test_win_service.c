/* SPDX-License-Identifier: MIT */
/*
 * test_win_service.c: services on the Win32 backend, with real services
 * (helper rm_winsvc) created in the Service Control Manager for the test:
 * found by name and through a file their process holds, stopped through
 * the SCM together with a dependent service, and started again.  The
 * services are stopped and deleted at exit, also when a case fails.
 */
#include "test.h"

#include <windows.h>

static wchar_t svc_name[64], dep_name[64];
static char svc_name8[64], log_path[600], held[600];

/* {===== The test services */

static void stop_and_delete(const wchar_t *name) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS), svc;
  SERVICE_STATUS st;
  int i;
  if (!scm) return;
  svc = OpenServiceW(scm, name, SERVICE_ALL_ACCESS);
  if (svc) {
    ControlService(svc, SERVICE_CONTROL_STOP, &st);
    for (i = 0; i < 100 && QueryServiceStatus(svc, &st) &&
                st.dwCurrentState != SERVICE_STOPPED;
         i++)
      Sleep(50);
    DeleteService(svc);
    CloseServiceHandle(svc);
  }
  CloseServiceHandle(scm);
}

static void delete_services(void) {
  stop_and_delete(dep_name);
  stop_and_delete(svc_name);
}

static void create(const wchar_t *name, const wchar_t *display,
                   const char *hold, const wchar_t *depends_on) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS), svc;
  wchar_t cmd[2048], deps[80];
  char cmd8[2048], name8[64];
  ASSERT(scm != NULL);
  WideCharToMultiByte(CP_UTF8, 0, name, -1, name8, sizeof name8, NULL, NULL);
  snprintf(cmd8, sizeof cmd8, "\"%s\" %s \"%s\"%s%s%s", rmt_helper("rm_winsvc"),
           name8, log_path, hold ? " \"" : "", hold ? hold : "", hold ? "\"" : "");
  MultiByteToWideChar(CP_UTF8, 0, cmd8, -1, cmd, 2048);
  if (depends_on) {
    size_t n = wcslen(depends_on);
    memcpy(deps, depends_on, (n + 1) * sizeof *deps);
    deps[n + 1] = 0;                      /* a double-NUL list */
  }
  svc = CreateServiceW(scm, name, display, SERVICE_ALL_ACCESS,
                       SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                       SERVICE_ERROR_IGNORE, cmd, NULL, NULL,
                       depends_on ? deps : NULL, NULL, NULL);
  ASSERT(svc != NULL);
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
}

/* State and process of a service. */
static DWORD service_state(const wchar_t *name, DWORD *pid) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc;
  SERVICE_STATUS_PROCESS st;
  DWORD need;
  ASSERT(scm != NULL);
  svc = OpenServiceW(scm, name, SERVICE_QUERY_STATUS);
  ASSERT(svc != NULL);
  ASSERT(QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&st,
                              sizeof st, &need));
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  if (pid) *pid = st.dwProcessId;
  return st.dwCurrentState;
}

static void start_service(const wchar_t *name) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc;
  int i;
  ASSERT(scm != NULL);
  svc = OpenServiceW(scm, name, SERVICE_START);
  ASSERT(svc != NULL);
  ASSERT(StartServiceW(svc, 0, NULL));
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  for (i = 0; i < 200 && service_state(name, NULL) != SERVICE_RUNNING; i++)
    rmt_sleep_ms(50);
  ASSERT_EQ(SERVICE_RUNNING, service_state(name, NULL));
}

static void setup(void) {
  const char *dir = rmt_tempdir();
  snprintf(log_path, sizeof log_path, "%s\\service.log", dir);
  snprintf(held, sizeof held, "%s\\held-by-service.txt", dir);
  ASSERT_EQ(0, rmt_write_file(held, "held\n"));
  create(svc_name, L"restartmgr test service", held, NULL);
  create(dep_name, L"restartmgr dependent test service", NULL, svc_name);
  start_service(svc_name);
  start_service(dep_name);
}

/* }=====
 * {===== Cases */

static void found_by_name_and_by_file(void) {
  char key[33];
  uint32_t h;
  const char *names[1];
  const char *files[1];
  rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
  DWORD pid;

  setup();
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  names[0] = svc_name8;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, names));
  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ(0, reasons);
  service_state(svc_name, &pid);
  ASSERT_EQ(pid, apps[0].info.process.pid);
  ASSERT_EQ(RM_APP_SERVICE, apps[0].info.app_type);
  ASSERT_STR_EQ(svc_name8, apps[0].info.service_short_name);
  ASSERT_STR_EQ("restartmgr test service", apps[0].info.app_name);
  ASSERT_EQ(1, apps[0].info.restartable);
  ASSERT_EQ(0, apps[0].n_files);
  rm_free_list(apps, n);
  ASSERT_OK(rm_end_session(h));

  /* The same service through the file its process holds. */
  ASSERT_OK(rm_start_session(&h, 0, key));
  files[0] = held;
  ASSERT_OK(rm_register_resources(h, 1, files, 0, NULL, 0, NULL));
  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ(RM_APP_SERVICE, apps[0].info.app_type);
  ASSERT_STR_EQ(svc_name8, apps[0].info.service_short_name);
  ASSERT_EQ(1, apps[0].n_files);
  ASSERT_EQ(RM_USE_OPEN_FILE, apps[0].files[0].how);
  rm_free_list(apps, n);
  ASSERT_OK(rm_end_session(h));
  delete_services();
}

static void stopped_with_dependents_and_started_again(void) {
  char key[33], text[4096];
  uint32_t h, reasons;
  const char *names[1];
  DWORD old_pid, new_pid, dep_pid;
  unsigned needed = 0, n = 2;
  rm_process_info info[2];
  FILE *f;
  size_t len;

  setup();
  service_state(svc_name, &old_pid);
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  names[0] = svc_name8;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, names));
  ASSERT_OK(rm_set_timeouts(h, 20000, 20000));
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_EQ(SERVICE_STOPPED, service_state(svc_name, NULL));
  ASSERT_EQ(SERVICE_STOPPED, service_state(dep_name, NULL));  /* with it */
  ASSERT_OK(rm_get_list(h, &needed, &n, info, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ(RM_STATUS_STOPPED, info[0].app_status);

  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_EQ(SERVICE_RUNNING, service_state(svc_name, &new_pid));
  ASSERT_EQ(SERVICE_RUNNING, service_state(dep_name, &dep_pid));
  ASSERT(new_pid != old_pid);
  n = 2;
  ASSERT_OK(rm_get_list(h, &needed, &n, info, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ(new_pid, info[0].process.pid);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            info[0].app_status);
  ASSERT_OK(rm_end_session(h));

  /* The service itself saw: start, stop (through the SCM), start. */
  f = fopen(log_path, "rb");
  ASSERT(f != NULL);
  len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  {
    char want[256];
    snprintf(want, sizeof want, "start %lu", (unsigned long)old_pid);
    ASSERT(strstr(text, want) == text);
    snprintf(want, sizeof want, "stop %lu", (unsigned long)old_pid);
    ASSERT(strstr(text, want) != NULL);
    snprintf(want, sizeof want, "start %lu", (unsigned long)new_pid);
    ASSERT(strstr(text, want) != NULL);
  }
  delete_services();
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  swprintf(svc_name, 64, L"rmtest_%lu", (unsigned long)GetCurrentProcessId());
  swprintf(dep_name, 64, L"rmtestdep_%lu", (unsigned long)GetCurrentProcessId());
  WideCharToMultiByte(CP_UTF8, 0, svc_name, -1, svc_name8, sizeof svc_name8,
                      NULL, NULL);
  atexit(delete_services);
  RUN(found_by_name_and_by_file);
  RUN(stopped_with_dependents_and_started_again);
  return rmt_finish();
}
