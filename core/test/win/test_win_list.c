/* SPDX-License-Identifier: MIT */
/*
 * test_win_list.c: rm_get_list on the Win32 backend, with real Windows
 * processes (helper rm_winapp) holding real files: an open handle, a
 * loaded DLL, a mapped view, the executable image; found by file identity
 * through hard links, non-ASCII and long paths; classified as console,
 * windowed, critical process, service, or the caller itself.
 */
#include "test.h"

#include <windows.h>

/* {===== Helpers */

static uint32_t start(char key[33]) {
  uint32_t h;
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  return h;
}

/* Starts rm_winapp with up to 6 arguments and waits for "ready PID". */
static void start_app(rmt_child *c, unsigned long flags, const char *a1,
                      const char *a2, const char *a3, const char *a4) {
  char *argv[8], line[128];
  unsigned long pid = 0;
  int n = 0;
  argv[n++] = (char *)(uintptr_t)rmt_helper("rm_winapp");
  if (a1) argv[n++] = (char *)(uintptr_t)a1;
  if (a2) argv[n++] = (char *)(uintptr_t)a2;
  if (a3) argv[n++] = (char *)(uintptr_t)a3;
  if (a4) argv[n++] = (char *)(uintptr_t)a4;
  argv[n] = NULL;
  ASSERT_EQ(0, rmt_spawn_win(c, argv, flags, NULL));
  ASSERT_EQ(0, rmt_read_line(c, line, sizeof line, 30000));
  ASSERT_EQ(1, sscanf(line, "ready %lu", &pid));
  ASSERT_EQ(c->pid, pid);
}

static void make_file(char *path, size_t cap, const char *dir,
                      const char *name) {
  snprintf(path, cap, "%s\\%s", dir, name);
  ASSERT_EQ(0, rmt_write_file(path, "restartmgr test file\n"));
}

/* The list as rm_get_list_alloc gives it. */
typedef struct listing {
  rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
} listing;

static void list(uint32_t h, listing *l) {
  ASSERT_OK(rm_get_list_alloc(h, &l->apps, &l->n, &l->reasons));
}

static const rm_app_info *entry(const listing *l, long pid) {
  unsigned i;
  for (i = 0; i < l->n; i++)
    if ((long)l->apps[i].info.process.pid == pid) return &l->apps[i];
  return NULL;
}

static void register_file(uint32_t h, const char *path) {
  const char *files[1];
  files[0] = path;
  ASSERT_OK(rm_register_resources(h, 1, files, 0, NULL, 0, NULL));
}

static uint32_t my_session(void) {
  DWORD s;
  ASSERT(ProcessIdToSessionId(GetCurrentProcessId(), &s));
  return s;
}

/* Checks the identity fields of an entry against the process. */
static void check_identity(const rm_app_info *a, long pid) {
  rm_unique_process id;
  ASSERT(a != NULL);
  ASSERT_OK(rm_get_process_identity((uint32_t)pid, &id));
  ASSERT_EQ(id.start_time, a->info.process.start_time);
  ASSERT_EQ(my_session(), a->info.session_id);
  ASSERT_EQ(RM_STATUS_RUNNING, a->info.app_status);
}

/* }=====
 * {===== Cases */

static void console_child_holding_a_file(void) {
  char key[33], file[600];
  uint32_t h = start(key), reasons = 9;
  rmt_child c;
  listing l;
  const rm_app_info *a;
  unsigned needed = 0, n = 0;
  rm_process_info info[2];

  make_file(file, sizeof file, rmt_tempdir(), "held.txt");
  start_app(&c, CREATE_NEW_CONSOLE, "--hold", file, NULL, NULL);
  register_file(h, file);
  /* The two-call protocol. */
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_list(h, &needed, &n, NULL, &reasons));
  ASSERT_EQ(1, needed);
  ASSERT_EQ(0, reasons);
  n = 2;
  ASSERT_OK(rm_get_list(h, &needed, &n, info, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ(c.pid, info[0].process.pid);
  ASSERT_EQ(RM_APP_CONSOLE, info[0].app_type);

  list(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(0, l.reasons);
  a = entry(&l, c.pid);
  check_identity(a, c.pid);
  ASSERT_EQ(RM_APP_CONSOLE, a->info.app_type);
  ASSERT_STR_EQ("rm_winapp.exe", a->info.app_name);
  ASSERT_STR_EQ("", a->info.service_short_name);
  ASSERT_EQ(1, a->info.restartable);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(file, a->files[0].file);
  ASSERT_EQ(RM_USE_OPEN_FILE, a->files[0].how);
  rm_free_list(l.apps, l.n);

  rmt_kill(&c);                         /* gone: nothing uses it any more */
  list(h, &l);
  ASSERT_EQ(0, l.n);
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_end_session(h));
}

static void loaded_dll_mapped_view_and_image(void) {
  char key[33], dll[600], data[600], exe[600];
  const char *dir = rmt_tempdir();
  uint32_t h = start(key);
  rmt_child d, m, e;
  listing l;
  const rm_app_info *a;

  snprintf(dll, sizeof dll, "%s\\copy.dll", dir);
  {
    /* rmt_helper names .exe files; the DLL is built beside them. */
    char src[1024];
    snprintf(src, sizeof src, "%s", rmt_helper("rmtestdll"));
    strcpy(src + strlen(src) - 4, ".dll");
    ASSERT(CopyFileA(src, dll, FALSE));
  }
  make_file(data, sizeof data, dir, "mapped.dat");
  snprintf(exe, sizeof exe, "%s\\app-copy.exe", dir);
  ASSERT(CopyFileA(rmt_helper("rm_winapp"), exe, FALSE));

  start_app(&d, 0, "--load", dll, NULL, NULL);
  start_app(&m, 0, "--map", data, NULL, NULL);
  {
    char *argv[2], line[64];
    argv[0] = exe;
    argv[1] = NULL;
    ASSERT_EQ(0, rmt_spawn_win(&e, argv, 0, NULL));
    ASSERT_EQ(0, rmt_read_line(&e, line, sizeof line, 30000));
  }
  {
    const char *files[3];
    files[0] = dll;
    files[1] = data;
    files[2] = exe;
    ASSERT_OK(rm_register_resources(h, 3, files, 0, NULL, 0, NULL));
  }
  list(h, &l);
  ASSERT_EQ(3, l.n);
  a = entry(&l, d.pid);
  check_identity(a, d.pid);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(dll, a->files[0].file);
  ASSERT_EQ(RM_USE_MAPPING, a->files[0].how);
  a = entry(&l, m.pid);
  check_identity(a, m.pid);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(data, a->files[0].file);
  ASSERT_EQ(RM_USE_MAPPING, a->files[0].how);  /* the handle was closed */
  a = entry(&l, e.pid);
  check_identity(a, e.pid);
  ASSERT_STR_EQ("app-copy.exe", a->info.app_name);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(exe, a->files[0].file);
  ASSERT_EQ(RM_USE_EXECUTABLE, a->files[0].how);
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_end_session(h));
}

static void identity_not_path_text(void) {
  char key[33], file[600], link[600], other_dir[600], other[600], fwd[600];
  const char *dir = rmt_tempdir();
  uint32_t h = start(key);
  rmt_child c;
  listing l;
  size_t i;

  make_file(file, sizeof file, dir, "orig.txt");
  snprintf(link, sizeof link, "%s\\hardlink.txt", dir);
  ASSERT(CreateHardLinkA(link, file, NULL));
  /* Same name, another file. */
  snprintf(other_dir, sizeof other_dir, "%s\\other", dir);
  ASSERT(CreateDirectoryA(other_dir, NULL));
  make_file(other, sizeof other, other_dir, "orig.txt");
  /* The held file written with forward slashes. */
  snprintf(fwd, sizeof fwd, "%s", file);
  for (i = 0; fwd[i]; i++)
    if (fwd[i] == '\\') fwd[i] = '/';

  start_app(&c, 0, "--hold", file, NULL, NULL);
  register_file(h, other);
  list(h, &l);
  ASSERT_EQ(0, l.n);                    /* same name, different file */
  rm_free_list(l.apps, l.n);
  register_file(h, link);
  register_file(h, fwd);
  list(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(c.pid, l.apps[0].info.process.pid);
  ASSERT_EQ(2, l.apps[0].n_files);      /* both names of the held file */
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_end_session(h));
}

static void non_ascii_and_long_paths(void) {
  static const char *name = "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt";
  char key[33], path[2048], hex[4096], deep[2048];
  const char *dir = rmt_tempdir();
  uint32_t h = start(key);
  wchar_t wpath[2048];
  rmt_child c, d;
  listing l;
  size_t i;
  HANDLE f;

  snprintf(path, sizeof path, "%s\\%s", dir, name);
  ASSERT(MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 2048) > 0);
  f = CreateFileW(wpath, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
  ASSERT(f != INVALID_HANDLE_VALUE);
  CloseHandle(f);
  for (i = 0; path[i]; i++) sprintf(hex + 2 * i, "%02x", (unsigned char)path[i]);
  start_app(&c, 0, "--hold-hex", hex, NULL, NULL);

  /* A path far beyond MAX_PATH, built one directory at a time. */
  snprintf(deep, sizeof deep, "\\\\?\\%s", dir);
  for (i = 0; i < 6; i++) {
    wchar_t wdeep[2048];
    strcat(deep, "\\a-directory-name-of-fifty-characters-long-enough");
    ASSERT(MultiByteToWideChar(CP_UTF8, 0, deep, -1, wdeep, 2048) > 0);
    ASSERT(CreateDirectoryW(wdeep, NULL));
  }
  strcat(deep, "\\deep.txt");
  ASSERT(strlen(deep) > 300);
  {
    wchar_t wdeep[2048];
    ASSERT(MultiByteToWideChar(CP_UTF8, 0, deep, -1, wdeep, 2048) > 0);
    f = CreateFileW(wdeep, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    ASSERT(f != INVALID_HANDLE_VALUE);
    CloseHandle(f);
    for (i = 0; deep[i]; i++) sprintf(hex + 2 * i, "%02x", (unsigned char)deep[i]);
    start_app(&d, 0, "--hold-hex", hex, NULL, NULL);
  }
  register_file(h, path);
  register_file(h, deep + 4);           /* registered without "\\?\" */
  list(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT(entry(&l, c.pid) != NULL);
  ASSERT_STR_EQ(path, entry(&l, c.pid)->files[0].file);
  ASSERT(entry(&l, d.pid) != NULL);
  ASSERT_STR_EQ(deep + 4, entry(&l, d.pid)->files[0].file);
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_end_session(h));
}

static void caller_itself_is_critical(void) {
  char key[33], file[600];
  uint32_t h = start(key);
  listing l;
  const rm_app_info *a;
  HANDLE f;

  make_file(file, sizeof file, rmt_tempdir(), "mine.txt");
  f = CreateFileA(file, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0,
                  NULL);
  ASSERT(f != INVALID_HANDLE_VALUE);
  register_file(h, file);
  list(h, &l);
  CloseHandle(f);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(RM_REBOOT_REASON_DETECTED_SELF, l.reasons);
  a = entry(&l, rmt_self_pid());
  check_identity(a, rmt_self_pid());
  ASSERT_EQ(RM_APP_CRITICAL, a->info.app_type);
  ASSERT_EQ(0, a->info.restartable);
  ASSERT_EQ(RM_USE_OPEN_FILE, a->files[0].how);
  rm_free_list(l.apps, l.n);
  /* Shutting down would stop the caller: nothing is done. */
  f = CreateFileA(file, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0,
                  NULL);
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT, rm_shutdown(h, 0, NULL, NULL));
  CloseHandle(f);
  ASSERT_OK(rm_end_session(h));
}

static void directories_and_missing_files(void) {
  char key[33], missing[600];
  const char *dir = rmt_tempdir();
  uint32_t h = start(key);
  listing l;
  snprintf(missing, sizeof missing, "%s\\no-such-file", dir);
  register_file(h, missing);
  list(h, &l);
  ASSERT_EQ(0, l.n);
  ASSERT_EQ(0, l.reasons);
  register_file(h, dir);
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_get_list_alloc(h, &l.apps, &l.n, &l.reasons));
  ASSERT_OK(rm_end_session(h));
}

static void registered_processes_by_identity(void) {
  char key[33];
  uint32_t h = start(key);
  rmt_child c;
  rm_unique_process p, wrong;
  listing l;
  const rm_app_info *a;

  start_app(&c, 0, NULL, NULL, NULL, NULL);
  ASSERT_OK(rm_get_process_identity((uint32_t)c.pid, &p));
  wrong = p;
  wrong.start_time += 1;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 1, &wrong, 0, NULL));
  list(h, &l);
  ASSERT_EQ(0, l.n);                    /* a reused pid matches nothing */
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_register_resources(h, 0, NULL, 1, &p, 0, NULL));
  list(h, &l);
  ASSERT_EQ(1, l.n);
  a = entry(&l, c.pid);
  check_identity(a, c.pid);
  ASSERT_EQ(0, a->n_files);
  rm_free_list(l.apps, l.n);
  rmt_kill(&c);
  list(h, &l);
  ASSERT_EQ(0, l.n);                    /* dead: no longer affected */
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_end_session(h));
}

static void windowed_child_is_main_window(void) {
  char key[33], file[600];
  uint32_t h = start(key);
  rmt_child c;
  listing l;
  make_file(file, sizeof file, rmt_tempdir(), "doc.txt");
  start_app(&c, 0, "--hold", file, "--window", "ok");
  register_file(h, file);
  list(h, &l);
  ASSERT_EQ(1, l.n);
  check_identity(entry(&l, c.pid), c.pid);
  ASSERT_EQ(RM_APP_MAIN_WINDOW, entry(&l, c.pid)->info.app_type);
  ASSERT_EQ(1, entry(&l, c.pid)->info.restartable);
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_end_session(h));
}

static void critical_processes_and_services(void) {
  char key[33], services_exe[MAX_PATH + 32];
  uint32_t h = start(key);
  const char *critical_svc[1] = { "plugplay" };   /* any case */
  listing l;
  unsigned i;
  BOOL wow64 = FALSE;
  UINT n = GetSystemDirectoryA(services_exe, MAX_PATH);
  ASSERT(n > 0);
  strcat(services_exe, "\\services.exe");
  ASSERT(IsWow64Process(GetCurrentProcess(), &wow64));
  if (wow64) {
    /* A 32-bit caller on a 64-bit system: file-system redirection makes
     * its System32 mean SysWOW64, which holds no services.exe, so the
     * registered path is nobody's file; Sysnative names the real
     * System32. */
    register_file(h, services_exe);
    list(h, &l);
    ASSERT_EQ(0, l.n);
    ASSERT_EQ(RM_REBOOT_REASON_NONE, l.reasons);
    rm_free_list(l.apps, l.n);
    ASSERT_OK(rm_end_session(h));
    h = start(key);
    n = GetWindowsDirectoryA(services_exe, MAX_PATH);
    ASSERT(n > 0);
    strcat(services_exe, "\\Sysnative\\services.exe");
  }
  register_file(h, services_exe);
  list(h, &l);
  ASSERT_EQ(1, l.n);                    /* the SCM's own process */
  ASSERT_EQ(RM_APP_CRITICAL, l.apps[0].info.app_type);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_PROCESS, l.reasons);
  ASSERT_STR_EQ("services.exe", l.apps[0].info.app_name);
  ASSERT_EQ(RM_USE_EXECUTABLE, l.apps[0].files[0].how);
  ASSERT_EQ(0, l.apps[0].info.restartable);
  rm_free_list(l.apps, l.n);
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT, rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT_OK(rm_end_session(h));

  h = start(key);
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, critical_svc));
  list(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_STR_EQ("PlugPlay", l.apps[0].info.service_short_name);
  ASSERT_EQ(RM_APP_CRITICAL, l.apps[0].info.app_type);
  ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_SERVICE, l.reasons);
  /* A configured critical process name works the same way. */
  rm_free_list(l.apps, l.n);
  ASSERT_OK(rm_end_session(h));

  {
    char file[600];
    rmt_child c;
    h = start(key);
    make_file(file, sizeof file, rmt_tempdir(), "x.txt");
    start_app(&c, 0, "--hold", file, NULL, NULL);
    register_file(h, file);
    rmt_setenv("RESTARTMGR_CRITICAL_PROCESSES", "other.exe;RM_WINAPP");
    list(h, &l);
    rmt_setenv("RESTARTMGR_CRITICAL_PROCESSES", NULL);
    ASSERT_EQ(1, l.n);
    ASSERT_EQ(RM_APP_CRITICAL, l.apps[0].info.app_type);
    ASSERT_EQ(RM_REBOOT_REASON_CRITICAL_PROCESS, l.reasons);
    for (i = 0; i < l.n; i++) ASSERT_EQ(0, l.apps[i].info.restartable);
    rm_free_list(l.apps, l.n);
    list(h, &l);
    ASSERT_EQ(RM_APP_CONSOLE, l.apps[0].info.app_type);
    rm_free_list(l.apps, l.n);
    ASSERT_OK(rm_end_session(h));
  }
}

static void a_set_that_grows_between_calls(void) {
  char key[33], file[600];
  uint32_t h = start(key), reasons;
  rmt_child a, b;
  unsigned needed = 0, n = 0;
  rm_process_info info[3];
  make_file(file, sizeof file, rmt_tempdir(), "shared.txt");
  start_app(&a, 0, "--hold", file, NULL, NULL);
  register_file(h, file);
  /* Each call scans: within its window the kept first answer would be
   * given again (docs/performance.md, The two-call loop), and whether b
   * starts within it depends on the machine's speed. */
  rmt_setenv("RESTARTMGR_LIST_REUSE_MS", "0");
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_list(h, &needed, &n, NULL, &reasons));
  ASSERT_EQ(1, needed);
  start_app(&b, 0, "--hold", file, NULL, NULL);
  n = needed;
  ASSERT_EQ(RM_ERROR_MORE_DATA, rm_get_list(h, &needed, &n, info, &reasons));
  ASSERT_EQ(2, needed);
  ASSERT_EQ(0, n);
  n = 3;
  ASSERT_OK(rm_get_list(h, &needed, &n, info, &reasons));
  ASSERT_EQ(2, n);
  rmt_setenv("RESTARTMGR_LIST_REUSE_MS", NULL);
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(console_child_holding_a_file);
  RUN(loaded_dll_mapped_view_and_image);
  RUN(identity_not_path_text);
  RUN(non_ascii_and_long_paths);
  RUN(caller_itself_is_critical);
  RUN(directories_and_missing_files);
  RUN(registered_processes_by_identity);
  RUN(windowed_child_is_main_window);
  RUN(critical_processes_and_services);
  RUN(a_set_that_grows_between_calls);
  return rmt_finish();
}
