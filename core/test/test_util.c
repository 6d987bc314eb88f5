/* SPDX-License-Identifier: MIT */
/*
 * test_util.c: assertions, temp dirs and child processes for the C tests.
 * The one test file allowed to branch on the OS: it is what lets the same
 * portable tests run on Linux and, cross-built, under Wine.
 */
#ifndef _WIN32
#define _GNU_SOURCE
#endif
#include "test.h"

#include <errno.h>

#ifdef _WIN32
#include <windows.h>
#include <direct.h>
#include <wchar.h>
#include <io.h>
#include <process.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

int rmt_failed_cases, rmt_passed_cases;
char **rmt_child_args;
static const char *self_path;
static char temp_dirs[16][512];
#ifndef _WIN32
/* Helpers also run as other users (tests drop to uid 65534 and 65533).
 * A checkout may sit under a directory they cannot enter (root's 0700
 * home, say): then each helper is copied, once per case, into a temp dir
 * anyone can reach, and that copy is what rmt_helper names. */
static char shared_bin[512];          /* "" until a case needs it */
#endif
static int n_temp_dirs;
static rmt_child *children[256];
static int n_children;
static const char *current_case = "?";

void rmt_init(int argc, char **argv) {
  self_path = argv[0];
#ifdef _WIN32
  {
    /* argv[0] may be relative or lack ".exe"; the module path is exact. */
    static char module[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, module, sizeof module);
    if (n > 0 && n < sizeof module) self_path = module;
  }
#endif
  if (argc >= 2 && strcmp(argv[1], "--child") == 0) rmt_child_args = argv + 2;
  setvbuf(stdout, NULL, _IONBF, 0);
}

long rmt_self_pid(void) {
#ifdef _WIN32
  return (long)GetCurrentProcessId();
#else
  return (long)getpid();
#endif
}

void rmt_sleep_ms(unsigned ms) {
#ifdef _WIN32
  Sleep(ms);
#else
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
#endif
}

#ifdef _WIN32
/* Native, not "cmd /c rmdir": no shell per case; wide and "\\?\" so that
 * non-ASCII names and paths beyond MAX_PATH a test made go too; read-only
 * files are made writable first. */
static void remove_tree_w(const wchar_t *path) {
  size_t n = wcslen(path);
  wchar_t *pattern, *sub;
  WIN32_FIND_DATAW fd;
  HANDLE h;
  DWORD attr = GetFileAttributesW(path);
  if (attr == INVALID_FILE_ATTRIBUTES) return;
  if (!(attr & FILE_ATTRIBUTE_DIRECTORY) || (attr & FILE_ATTRIBUTE_REPARSE_POINT)) {
    SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
    if (!DeleteFileW(path)) RemoveDirectoryW(path);
    return;
  }
  pattern = malloc((n + 3) * sizeof *pattern);
  sub = malloc((n + MAX_PATH + 2) * sizeof *sub);
  if (pattern && sub) {
    swprintf(pattern, n + 3, L"%ls\\*", path);
    h = FindFirstFileW(pattern, &fd);
    if (h != INVALID_HANDLE_VALUE) {
      do {
        if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L"..")) continue;
        swprintf(sub, n + MAX_PATH + 2, L"%ls\\%ls", path, fd.cFileName);
        remove_tree_w(sub);
      } while (FindNextFileW(h, &fd));
      FindClose(h);
    }
  }
  free(pattern);
  free(sub);
  RemoveDirectoryW(path);
}
#endif

void rmt_remove_tree(const char *path) {
#ifdef _WIN32
  wchar_t w[1024];
  wcscpy(w, L"\\\\?\\");
  if (MultiByteToWideChar(CP_ACP, 0, path, -1, w + 4, 1000) > 0) remove_tree_w(w);
#else
  DIR *d = opendir(path);
  struct dirent *e;
  char sub[4096];
  struct stat st;
  if (!d) { unlink(path); return; }
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
      chmod(sub, 0700);
      rmt_remove_tree(sub);
    } else {
      unlink(sub);
    }
  }
  closedir(d);
  rmdir(path);
#endif
}

typedef struct cleanup_hook {
  void (*fn)(void *);
  void *arg;
  long pid;                          /* the process that registered it */
} cleanup_hook;
static cleanup_hook hooks[16];
static int n_hooks;

void rmt_at_cleanup(void (*fn)(void *), void *arg) {
  if (n_hooks == 16) rmt_fail(__FILE__, __LINE__, "too many cleanups");
  hooks[n_hooks].fn = fn;
  hooks[n_hooks].arg = arg;
  hooks[n_hooks].pid = rmt_self_pid();
  n_hooks++;
}

void rmt_cleanup(void) {
  int i;
  for (i = n_children - 1; i >= 0; i--) rmt_kill(children[i]);
  n_children = 0;
  while (n_hooks > 0) {
    cleanup_hook h = hooks[--n_hooks];  /* popped first: a hook that fails */
    if (h.pid == rmt_self_pid()) h.fn(h.arg);      /* is not run again */
  }
  for (i = 0; i < n_temp_dirs; i++) rmt_remove_tree(temp_dirs[i]);
  n_temp_dirs = 0;
#ifndef _WIN32
  shared_bin[0] = 0;
#endif
}

void rmt_fail(const char *file, int line, const char *what) {
  printf("FAIL %s: %s:%d: %s\n", current_case, file, line, what);
  rmt_cleanup();
  printf("%d passed, %d failed\n", rmt_passed_cases, rmt_failed_cases + 1);
  exit(1);
}

void rmt_fail_str(const char *file, int line, const char *want_expr,
                  const char *got_expr, const char *want, const char *got) {
  printf("FAIL %s: %s:%d: %s == %s: want \"%s\", got \"%s\"\n",
         current_case, file, line, want_expr, got_expr,
         want ? want : "(null)", got ? got : "(null)");
  rmt_fail(file, line, "strings differ");
}

void rmt_run(const char *name, void (*fn)(void)) {
  current_case = name;
  fn();
  rmt_cleanup();
  rmt_passed_cases++;
  printf("ok %s\n", name);
}

int rmt_finish(void) {
  rmt_cleanup();
  printf("%d passed, %d failed\n", rmt_passed_cases, rmt_failed_cases);
  return rmt_failed_cases ? 1 : 0;
}

void rmt_setenv(const char *name, const char *value) {
#ifdef _WIN32
  _putenv_s(name, value ? value : "");
#else
  if (value) setenv(name, value, 1); else unsetenv(name);
#endif
}

const char *rmt_tempdir(void) {
  char *slot;
  if (n_temp_dirs == 16) rmt_fail(__FILE__, __LINE__, "too many temp dirs");
  slot = temp_dirs[n_temp_dirs];
#ifdef _WIN32
  {
    char base[MAX_PATH];
    static unsigned counter;
    int tries, made = 0;
    GetTempPathA(sizeof base, base);
    /* Pids are reused (quickly, under Wine): skip names a killed earlier
     * run left behind. */
    for (tries = 0; !made && tries < 10000; tries++) {
      snprintf(slot, 512, "%srmtest-%lu-%u", base,
               (unsigned long)GetCurrentProcessId(), counter++);
      made = _mkdir(slot) == 0;
      if (!made && errno != EEXIST) break;
    }
    if (!made) rmt_fail(__FILE__, __LINE__, "mkdir temp");
  }
#else
  {
    const char *base = getenv("TMPDIR");
    snprintf(slot, 512, "%s/rmtest-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(slot)) rmt_fail(__FILE__, __LINE__, "mkdtemp");
  }
#endif
  n_temp_dirs++;
  return slot;
}

const char *rmt_fresh_store(void) {
  static char store[600];
  const char *dir = rmt_tempdir();
  snprintf(store, sizeof store, "%s/store", dir);
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  return store;
}

int rmt_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f) == 0 ? 0 : -1;
}

const char *rmt_path(const char *dir, const char *name) {
  static char buf[8][1024];
  static int next;
  char *b = buf[next++ % 8];
  snprintf(b, 1024, "%s/%s", dir, name);
  return b;
}

void rmt_copy_exe(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  char buf[65536];
  size_t n;
  ASSERT(in && out);
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    ASSERT_EQ(n, fwrite(buf, 1, n, out));
  fclose(in);
  ASSERT_EQ(0, fclose(out));
  ASSERT_EQ(0, chmod(to, 0755));
}

#ifndef _WIN32

static int reachable_by_others(const char *dir) {
  char path[1024], *slash;
  struct stat st;
  snprintf(path, sizeof path, "%s", dir);
  for (;;) {
    if (stat(path, &st) != 0 || !(st.st_mode & S_IXOTH)) return 0;
    slash = strrchr(path, '/');
    if (!slash || slash == path) break;
    *slash = 0;
  }
  return 1;
}

static int copy_executable(const char *from, const char *to) {
  char buf[65536];
  ssize_t got;
  int in = open(from, O_RDONLY | O_CLOEXEC), out, ok = 1;
  if (in < 0) return -1;
  out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (out < 0) {
    close(in);
    return errno == EEXIST ? 0 : -1;
  }
  while ((got = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)got) != got) ok = 0;
  if (got < 0) ok = 0;
  close(in);
  if (fchmod(out, 0755) != 0) ok = 0;
  if (close(out) != 0) ok = 0;
  return ok ? 0 : -1;
}
#endif

const char *rmt_helper(const char *name) {
  static char buf[8][1024];
  static int next;
  char *b = buf[next++ % 8];
  const char *dir = getenv("RM_TEST_BIN");
#ifdef _WIN32
  /* Under Wine, ctest hands over a Unix path: the same place is Z:. */
  snprintf(b, 1024, "%s%s\\%s.exe", dir && dir[0] == '/' ? "Z:" : "",
           dir ? dir : ".", name);
#else
  static int reachable = -1;
  snprintf(b, 1024, "%s/%s", dir ? dir : ".", name);
  if (reachable < 0) reachable = dir && dir[0] == '/' && reachable_by_others(dir);
  if (!reachable) {
    char copy[1100];
    if (!shared_bin[0]) {
      snprintf(shared_bin, sizeof shared_bin, "%s", rmt_tempdir());
      if (chmod(shared_bin, 0755) != 0)
        rmt_fail(__FILE__, __LINE__, "chmod shared helper dir");
    }
    snprintf(copy, sizeof copy, "%s/%s", shared_bin, name);
    if (strlen(copy) >= 1024 || copy_executable(b, copy) != 0)
      rmt_fail(__FILE__, __LINE__, "copy helper for other users");
    memcpy(b, copy, strlen(copy) + 1);
  }
#endif
  return b;
}

static void track(rmt_child *c) {
  if (n_children < 256) children[n_children++] = c;
}

static void untrack(rmt_child *c) {
  int i;
  for (i = 0; i < n_children; i++) {
    if (children[i] == c) {
      children[i] = children[--n_children];
      return;
    }
  }
}

void rmt_forget(rmt_child *c) { untrack(c); }

#ifdef _WIN32
int rmt_spawn(rmt_child *c, char *const argv[]) {
  return rmt_spawn_win(c, argv, 0, NULL);
}

int rmt_adopt(rmt_child *c, unsigned long pid) {
  HANDLE h = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE |
                         PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (!h) return -1;
  c->pid = (long)pid;
  c->os = h;
  c->out_fd = -1;
  track(c);
  return 0;
}

int rmt_spawn_win(rmt_child *c, char *const argv[], unsigned long flags,
                  const char *cwd) {
  char cmd[4096] = "";
  size_t i;
  SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
  HANDLE rd, wr, nul;
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  for (i = 0; argv[i]; i++) {
    strncat(cmd, "\"", sizeof cmd - strlen(cmd) - 1);
    strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 1);
    strncat(cmd, "\" ", sizeof cmd - strlen(cmd) - 1);
  }
  if (!CreatePipe(&rd, &wr, &sa, 0)) return -1;
  SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
  nul = CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, NULL);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = nul;
  si.hStdOutput = wr;
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, flags, NULL, cwd, &si, &pi)) {
    CloseHandle(rd); CloseHandle(wr); CloseHandle(nul);
    return -1;
  }
  CloseHandle(wr); CloseHandle(nul); CloseHandle(pi.hThread);
  c->pid = (long)pi.dwProcessId;
  c->os = pi.hProcess;
  c->out_fd = _open_osfhandle((intptr_t)rd, 0);
  track(c);
  return 0;
}

int rmt_read_line(rmt_child *c, char *buf, size_t cap, unsigned timeout_ms) {
  size_t n = 0;
  DWORD start = GetTickCount();
  HANDLE h = (HANDLE)_get_osfhandle(c->out_fd);
  while (n + 1 < cap) {
    DWORD avail = 0, got = 0;
    char ch;
    if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) return -1;
    if (avail == 0) {
      if (GetTickCount() - start > timeout_ms) return -1;
      Sleep(5);
      continue;
    }
    if (!ReadFile(h, &ch, 1, &got, NULL) || got != 1) return -1;
    if (ch == '\n') break;
    if (ch != '\r') buf[n++] = ch;
  }
  buf[n] = 0;
  return 0;
}

int rmt_wait(rmt_child *c, unsigned timeout_ms) {
  DWORD code = 0;
  if (!c->os) return -1;
  if (WaitForSingleObject(c->os, timeout_ms) != WAIT_OBJECT_0) {
    rmt_kill(c);
    return -1;
  }
  GetExitCodeProcess(c->os, &code);
  CloseHandle(c->os);
  c->os = NULL;
  if (c->out_fd >= 0) { _close(c->out_fd); c->out_fd = -1; }
  untrack(c);
  return (int)code;
}

void rmt_kill(rmt_child *c) {
  if (c->os) {
    TerminateProcess(c->os, 9);
    WaitForSingleObject(c->os, 5000);
    CloseHandle(c->os);
    c->os = NULL;
  }
  if (c->out_fd >= 0) { _close(c->out_fd); c->out_fd = -1; }
  untrack(c);
}
#else
int rmt_spawn(rmt_child *c, char *const argv[]) {
  int p[2];
  pid_t pid, parent = getpid();
  if (pipe(p) != 0) return -1;
  pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); return -1; }
  if (pid == 0) {
    int nul = open("/dev/null", O_RDONLY);
    /* A test that dies before its clean-up (a sanitizer's abort, a
     * signal) takes its children with it: left running, they would keep
     * ctest's output pipe open, and ctest waits for it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(127);
    if (nul >= 0) { dup2(nul, 0); close(nul); }
    dup2(p[1], 1);
    close(p[0]); close(p[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(p[1]);
  c->pid = pid;
  c->os = NULL;
  c->out_fd = p[0];
  track(c);
  return 0;
}

int rmt_read_line(rmt_child *c, char *buf, size_t cap, unsigned timeout_ms) {
  size_t n = 0;
  struct pollfd pfd;
  pfd.fd = c->out_fd;
  pfd.events = POLLIN;
  while (n + 1 < cap) {
    char ch;
    ssize_t got;
    int r = poll(&pfd, 1, (int)timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got = read(c->out_fd, &ch, 1);
    if (got != 1) return -1;
    if (ch == '\n') break;
    buf[n++] = ch;
  }
  buf[n] = 0;
  return 0;
}

int rmt_wait(rmt_child *c, unsigned timeout_ms) {
  unsigned waited = 0;
  int status;
  if (c->pid <= 0) return -1;
  for (;;) {
    pid_t r = waitpid((pid_t)c->pid, &status, WNOHANG);
    if (r == (pid_t)c->pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (waited >= timeout_ms) { rmt_kill(c); return -1; }
    rmt_sleep_ms(5);
    waited += 5;
  }
  c->pid = 0;
  if (c->out_fd >= 0) { close(c->out_fd); c->out_fd = -1; }
  untrack(c);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void rmt_kill(rmt_child *c) {
  if (c->pid > 0) {
    kill((pid_t)c->pid, SIGKILL);
    while (waitpid((pid_t)c->pid, NULL, 0) < 0 && errno == EINTR) {}
    c->pid = 0;
  }
  if (c->out_fd >= 0) { close(c->out_fd); c->out_fd = -1; }
  untrack(c);
}
#endif

int rmt_spawn_self(rmt_child *c, const char *a1, const char *a2, const char *a3) {
  char *argv[6];
  argv[0] = (char *)(uintptr_t)self_path;
  argv[1] = (char *)(uintptr_t)"--child";
  argv[2] = (char *)(uintptr_t)a1;
  argv[3] = (char *)(uintptr_t)a2;
  argv[4] = (char *)(uintptr_t)a3;
  argv[5] = NULL;
  if (!a2) argv[3] = NULL;
  else if (!a3) argv[4] = NULL;
  return rmt_spawn(c, argv);
}

void rmt_start_ready(rmt_child *c, const char *exe, const char *const args[]) {
  char *argv[32], line[256];
  size_t i;
  argv[0] = (char *)(uintptr_t)exe;
  for (i = 0; args && args[i]; i++) {
    ASSERT(i + 2 < sizeof argv / sizeof *argv);
    argv[i + 1] = (char *)(uintptr_t)args[i];
  }
  argv[i + 1] = NULL;
  ASSERT_EQ(0, rmt_spawn(c, argv));
  ASSERT_EQ(0, rmt_read_line(c, line, sizeof line, 10000));
  ASSERT_STR_EQ("ready", line);
}
