/* SPDX-License-Identifier: MIT */
/*
 * test_win_native.c: RESTARTMGR_BACKEND=native, which forwards every
 * public call to Windows' own Rstrtmgr.dll.
 *
 * The mode is decided once per process, so each case runs in a child
 * (this executable re-run) with the environment set.  The forced child
 * calls each function twice, through the library and directly through
 * Rstrtmgr.dll, and checks that the library returned what Windows did,
 * converted.  Under Wine, whose Rstrtmgr is a stub, that checks the
 * forwarding and the conversions, not Windows' behaviour; and the three
 * exports Wine leaves unimplemented (they abort the caller) are called
 * only on Windows.
 */
#include "test.h"

#include <windows.h>
#include <restartmanager.h>

typedef DWORD (WINAPI *start_fn)(DWORD *, DWORD, WCHAR *);
typedef DWORD (WINAPI *end_fn)(DWORD);
typedef DWORD (WINAPI *register_fn)(DWORD, UINT, LPCWSTR *, UINT,
                                    RM_UNIQUE_PROCESS *, UINT, LPCWSTR *);
typedef DWORD (WINAPI *get_list_fn)(DWORD, UINT *, UINT *, RM_PROCESS_INFO *,
                                    LPDWORD);
typedef DWORD (WINAPI *run_fn)(DWORD, ULONG, RM_WRITE_STATUS_CALLBACK);
typedef DWORD (WINAPI *add_filter_fn)(DWORD, LPCWSTR, RM_UNIQUE_PROCESS *,
                                      LPCWSTR, RM_FILTER_ACTION);
typedef DWORD (WINAPI *remove_filter_fn)(DWORD, LPCWSTR, RM_UNIQUE_PROCESS *,
                                         LPCWSTR);
typedef DWORD (WINAPI *join_fn)(DWORD *, const WCHAR *);
typedef DWORD (WINAPI *filter_list_fn)(DWORD, PBYTE, DWORD, LPDWORD);

static int under_wine(void) {
  return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
}

static FARPROC proc(HMODULE dll, const char *name) {
  FARPROC f = GetProcAddress(dll, name);
  ASSERT(f != NULL);
  return f;
}

#define FN(type, name) ((type)(void (*)(void))proc(dll, name))

static unsigned progress_values[64];
static int n_progress;

static void on_progress(unsigned percent, void *ctx) {
  (void)ctx;
  if (n_progress < 64) progress_values[n_progress++] = percent;
}

static void direct_progress(UINT percent) { (void)percent; }

/* The forced child: each call through the library and directly. */
static int forced_child(void) {
  HMODULE dll = LoadLibraryExW(L"rstrtmgr.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
  WCHAR wkey[CCH_RM_SESSION_KEY + 1];
  char key[RM_SESSION_KEY_CHARS + 1];
  DWORD dh = 0, rc, reasons = 0;
  uint32_t h = 0, our_reasons = 0;
  UINT need = 0, n = 0;
  unsigned our_need = 0, our_n = 0;
  const char *file = "C:\\windows\\caf\xc3\xa9.ini";
  LPCWSTR wfile[1] = { L"C:\\windows\\caf\u00e9.ini" };
  rm_unique_process p = { 4, 0x0102030405060708ull };
  RM_UNIQUE_PROCESS wp;
  int i;

  ASSERT(dll != NULL);
  ASSERT_STR_EQ("native", rm_backend());

  memset(wkey, 0, sizeof wkey);
  rc = FN(start_fn, "RmStartSession")(&dh, 0, wkey);
  memset(key, 0x7F, sizeof key);
  ASSERT_EQ(rc, rm_start_session(&h, 0, key));
  printf("RmStartSession -> %lu, handle %lu, key \"%ls\"\n", (unsigned long)rc,
         (unsigned long)dh, wkey);
  ASSERT(strlen(key) <= RM_SESSION_KEY_CHARS);   /* terminated regardless */
  if (under_wine()) {
    ASSERT_EQ(dh, h);                    /* the stub's fixed handle */
    ASSERT_STR_EQ("", key);              /* the stub writes no key */
  } else {
    for (i = 0; wkey[i]; i++) ASSERT_EQ(wkey[i] < 128 ? wkey[i] : 0, key[i]);
  }
  if (under_wine()) {
    /* Wine's stub accepts a NULL handle pointer, which the library itself
     * refuses: the answer is Windows' (Wine's) own. */
    rc = FN(start_fn, "RmStartSession")(NULL, 0, wkey);
    ASSERT_EQ(rc, rm_start_session(NULL, 0, key));
  }

  wp.dwProcessId = p.pid;
  wp.ProcessStartTime.dwLowDateTime = (DWORD)p.start_time;
  wp.ProcessStartTime.dwHighDateTime = (DWORD)(p.start_time >> 32);
  rc = FN(register_fn, "RmRegisterResources")(dh, 1, wfile, 1, &wp, 0, NULL);
  printf("RmRegisterResources -> %lu\n", (unsigned long)rc);
  ASSERT_EQ(rc, rm_register_resources(h, 1, &file, 1, &p, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,              /* checked before Windows */
            rm_register_resources(h, 1, NULL, 0, NULL, 0, NULL));
  {
    const char *bad[1] = { "C:\\bad\xff" };
    ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
              rm_register_resources(h, 1, bad, 0, NULL, 0, NULL));
  }

  need = 7;
  rc = FN(get_list_fn, "RmGetList")(dh, &need, &n, NULL, &reasons);
  printf("RmGetList -> %lu, needed %u, reasons %lu\n", (unsigned long)rc, need,
         (unsigned long)reasons);
  our_need = 7;
  ASSERT_EQ(rc, rm_get_list(h, &our_need, &our_n, NULL, &our_reasons));
  if (rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA) {
    ASSERT_EQ(need, our_need);
    ASSERT_EQ(reasons, our_reasons);
  }
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_get_list(h, NULL, &our_n, NULL, &our_reasons));
  {
    rm_app_info *apps = NULL;
    unsigned n_apps = 99;
    uint32_t r2 = 0;
    uint32_t got = rm_get_list_alloc(h, &apps, &n_apps, &r2);
    ASSERT_EQ(rc == ERROR_MORE_DATA ? ERROR_SUCCESS : rc, got);
    if (got == RM_OK) rm_free_list(apps, n_apps);
  }

  rc = FN(run_fn, "RmShutdown")(dh, RmForceShutdown, direct_progress);
  printf("RmShutdown -> %lu\n", (unsigned long)rc);
  n_progress = 0;
  ASSERT_EQ(rc, rm_shutdown(h, RM_FORCE_SHUTDOWN, on_progress, NULL));
  for (i = 1; i < n_progress; i++)
    ASSERT(progress_values[i] > progress_values[i - 1]);
  rc = FN(run_fn, "RmRestart")(dh, 0, direct_progress);
  printf("RmRestart -> %lu\n", (unsigned long)rc);
  ASSERT_EQ(rc, rm_restart(h, 0, on_progress, NULL));

  rc = FN(add_filter_fn, "RmAddFilter")(dh, NULL, &wp, NULL, RmNoRestart);
  printf("RmAddFilter -> %lu\n", (unsigned long)rc);
  ASSERT_EQ(rc, rm_add_filter(h, NULL, &p, NULL, RM_NO_RESTART));
  rc = FN(remove_filter_fn, "RmRemoveFilter")(dh, wfile[0], NULL, NULL);
  printf("RmRemoveFilter -> %lu\n", (unsigned long)rc);
  ASSERT_EQ(rc, rm_remove_filter(h, file, NULL, NULL));
  ASSERT_OK(rm_set_timeouts(h, 1, 1));   /* Windows keeps its own */

  if (!under_wine()) {
    DWORD fneed = 0, dj = 0;
    uint32_t our_fneed = 0, j = 0;
    rc = FN(filter_list_fn, "RmGetFilterList")(dh, NULL, 0, &fneed);
    ASSERT(rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA);
    ASSERT_EQ(rc, rm_get_filter_list(h, NULL, 0, &our_fneed));
    rc = FN(join_fn, "RmJoinSession")(&dj, wkey);
    ASSERT_EQ(rc, rm_join_session(&j, key));
    if (rc == ERROR_SUCCESS) {
      ASSERT_OK(rm_end_session(j));
      FN(end_fn, "RmEndSession")(dj);
    }
  }

  rc = FN(end_fn, "RmEndSession")(dh);
  printf("RmEndSession -> %lu\n", (unsigned long)rc);
  ASSERT_EQ(rc, rm_end_session(h));
  printf("forced ok\n");
  return 0;
}

static int child_main(char **args) {
  if (strcmp(args[0], "forced") == 0) return forced_child();
  if (strcmp(args[0], "fallback") == 0) {
    uint32_t h;
    char key[33];
    /* No usable Rstrtmgr (Wine's is a stub): the library's own runs. */
    printf("%s %u", rm_backend(), (unsigned)rm_start_session(&h, 0, key));
    printf(" %u\n", (unsigned)strlen(key));
    return 0;
  }
  return 2;
}

static void run_child(const char *mode, char *line, size_t cap) {
  rmt_child c;
  ASSERT_EQ(0, rmt_spawn_self(&c, mode, NULL, NULL));
  ASSERT_EQ(0, rmt_read_line(&c, line, cap, 30000));
}

static void library_is_used_without_the_variable(void) {
  ASSERT_STR_EQ("win32", rm_backend());
}

static void wine_falls_back_to_the_library(void) {
  char line[256];
  rmt_fresh_store();
  rmt_setenv("RESTARTMGR_BACKEND", "native");
  run_child("fallback", line, sizeof line);
  rmt_setenv("RESTARTMGR_BACKEND", NULL);
  if (under_wine()) ASSERT_STR_EQ("win32 0 32", line);
  else ASSERT_STR_EQ("native 0 32", line);
}

static void calls_are_forwarded_and_converted(void) {
  char line[512];
  rmt_child c;
  int done = 0;
  rmt_fresh_store();
  rmt_setenv("RESTARTMGR_BACKEND", "native");
  rmt_setenv("RESTARTMGR_NATIVE_ON_WINE", "1");
  ASSERT_EQ(0, rmt_spawn_self(&c, "forced", NULL, NULL));
  rmt_setenv("RESTARTMGR_BACKEND", NULL);
  rmt_setenv("RESTARTMGR_NATIVE_ON_WINE", NULL);
  while (rmt_read_line(&c, line, sizeof line, 30000) == 0) {
    printf("  child: %s\n", line);
    if (strcmp(line, "forced ok") == 0) done = 1;
    if (strncmp(line, "FAIL", 4) == 0) break;
  }
  ASSERT(done);
  ASSERT_EQ(0, rmt_wait(&c, 10000));
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) return child_main(rmt_child_args);
  RUN(library_is_used_without_the_variable);
  RUN(wine_falls_back_to_the_library);
  RUN(calls_are_forwarded_and_converted);
  return rmt_finish();
}
