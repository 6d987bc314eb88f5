/*
 * launch.c: what it takes to start an application again, and starting it.
 *
 * rm__os_capture reads the target's process parameters from its PEB
 * (NtQueryInformationProcess, then ReadProcessMemory): the image path,
 * the command line exactly as the process received it, the current
 * directory and the environment block.  A Windows program parses its own
 * command line, so it is kept whole rather than split into words: on
 * Windows rm__launch.argv holds exactly two strings, the image path and
 * the raw command line.  An application registered with
 * RegisterApplicationRestart is started again with the command line it
 * registered instead, as Windows does (restartreg.c).  32-bit processes
 * are read through their 32-bit PEB.  uid and gid are unused (0).
 *
 * rm__os_launch starts it with CreateProcessW as the caller's user: the
 * captured environment and directory, no inherited handles, a new console
 * for console programs (as Windows' Restart Manager restarts them), and
 * out of the caller's job when the job allows it, so the application does
 * not die with the installer.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define MAX_ENV_BYTES (4u * 1024 * 1024)

typedef LONG (NTAPI *query_process_fn)(HANDLE, int, void *, ULONG, ULONG *);

static query_process_fn query_process(void) {
  static query_process_fn fn;
  if (!fn)
    fn = (query_process_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationProcess");
  return fn;
}

/* {===== Reading the target's memory */

static int read_mem(HANDLE h, uint64_t addr, void *buf, size_t n) {
  SIZE_T got = 0;
  return addr != 0 &&
         ReadProcessMemory(h, (const void *)(uintptr_t)addr, buf, n, &got) &&
         got == n;
}

/* A UNICODE_STRING of the target (buffer address and byte length) as a
 * NUL-terminated copy.  NULL on failure. */
static wchar_t *read_ustring(HANDLE h, uint64_t buffer, size_t bytes) {
  wchar_t *w;
  if (bytes > 65534 || bytes % 2) return NULL;
  w = malloc(bytes + sizeof *w);
  if (!w) return NULL;
  if (bytes && !read_mem(h, buffer, w, bytes)) {
    free(w);
    return NULL;
  }
  w[bytes / sizeof *w] = 0;
  return w;
}

/* The environment block, read a page at a time until its double NUL (a
 * page beyond the block may be unmapped). */
static wchar_t *read_environment(HANDLE h, uint64_t addr) {
  size_t cap = 0, len = 0;
  char *buf = NULL;
  while (len < MAX_ENV_BYTES) {
    size_t chunk = 4096 - (size_t)((addr + len) % 4096), i;
    char *bigger;
    if (len + chunk + 4 > cap) {
      cap = (len + chunk + 4) * 2;
      bigger = realloc(buf, cap);
      if (!bigger) break;
      buf = bigger;
    }
    if (!read_mem(h, addr + len, buf + len, chunk)) break;
    len += chunk;
    for (i = 0; i + 3 < len; i += 2)
      if (!buf[i] && !buf[i + 1] && !buf[i + 2] && !buf[i + 3])
        return (wchar_t *)(void *)buf;
  }
  if (buf && len + 4 <= cap) {           /* cut short: terminate it */
    memset(buf + (len & ~(size_t)1), 0, 4);
    return (wchar_t *)(void *)buf;
  }
  free(buf);
  return NULL;
}

typedef struct params {
  wchar_t *image, *command, *cwd, *env;
} params;

/* The process parameters through the native (64-bit or 32-bit) PEB. */
static int read_params(HANDLE h, params *p) {
  query_process_fn q = query_process();
  ULONG_PTR peb32 = 0;
  struct {
    LONG exit_status;
    void *peb;
    ULONG_PTR affinity, priority, pid, parent;
  } basic;
  memset(p, 0, sizeof *p);
  if (!q) return 0;
  if (q(h, 26 /* ProcessWow64Information */, &peb32, sizeof peb32, NULL) < 0)
    peb32 = 0;
  if (peb32) {
    uint32_t pp = 0;
    unsigned char raw[0x50];
    uint16_t cwd_len, image_len, cmd_len;
    uint32_t cwd_buf, image_buf, cmd_buf, env;
    if (!read_mem(h, peb32 + 0x10, &pp, 4) || !read_mem(h, pp, raw, sizeof raw))
      return 0;
    memcpy(&cwd_len, raw + 0x24, 2);
    memcpy(&cwd_buf, raw + 0x28, 4);
    memcpy(&image_len, raw + 0x38, 2);
    memcpy(&image_buf, raw + 0x3C, 4);
    memcpy(&cmd_len, raw + 0x40, 2);
    memcpy(&cmd_buf, raw + 0x44, 4);
    memcpy(&env, raw + 0x48, 4);
    p->cwd = read_ustring(h, cwd_buf, cwd_len);
    p->image = read_ustring(h, image_buf, image_len);
    p->command = read_ustring(h, cmd_buf, cmd_len);
    p->env = read_environment(h, env);
  } else {
    uint64_t pp = 0, cwd_buf, image_buf, cmd_buf, env;
    unsigned char raw[0x88];
    uint16_t cwd_len, image_len, cmd_len;
    if (q(h, 0 /* ProcessBasicInformation */, &basic, sizeof basic, NULL) < 0 ||
        !read_mem(h, (uint64_t)(uintptr_t)basic.peb + 0x20, &pp, 8) ||
        !read_mem(h, pp, raw, sizeof raw))
      return 0;
    memcpy(&cwd_len, raw + 0x38, 2);
    memcpy(&cwd_buf, raw + 0x40, 8);
    memcpy(&image_len, raw + 0x60, 2);
    memcpy(&image_buf, raw + 0x68, 8);
    memcpy(&cmd_len, raw + 0x70, 2);
    memcpy(&cmd_buf, raw + 0x78, 8);
    memcpy(&env, raw + 0x80, 8);
    p->cwd = read_ustring(h, cwd_buf, cwd_len);
    p->image = read_ustring(h, image_buf, image_len);
    p->command = read_ustring(h, cmd_buf, cmd_len);
    p->env = read_environment(h, env);
  }
  return p->cwd && p->image && p->command && p->env;
}

static void params_free(params *p) {
  free(p->image);
  free(p->command);
  free(p->cwd);
  free(p->env);
}

/* }=====
 * {===== Capture */

/* The environment block as a NULL-terminated array of UTF-8 strings. */
static char **env_to_utf8(const wchar_t *env) {
  const wchar_t *e;
  size_t n = 0, i = 0;
  char **v;
  for (e = env; *e; e += wcslen(e) + 1) n++;
  v = calloc(n + 1, sizeof *v);
  if (!v) return NULL;
  for (e = env; *e; e += wcslen(e) + 1) {
    v[i] = rm__win_utf8(e, -1);
    if (!v[i++]) {
      rm__argv_free(v);
      return NULL;
    }
  }
  return v;
}

/* A library restart registration (reg) is not used by this backend:
 * Windows applications register with the system's
 * RegisterApplicationRestart, which is read below. */
uint32_t rm__os_capture(const rm_unique_process *p, const rm__restart_reg *reg,
                        rm__launch *out) {
  HANDLE h = rm__win_open_identity(p, PROCESS_QUERY_INFORMATION |
                                          PROCESS_VM_READ);
  params pr;
  wchar_t *image, *args = NULL, *registered = NULL;
  int ok;
  (void)reg;
  if (!h)
    return GetLastError() == ERROR_ACCESS_DENIED ? RM_ERROR_ACCESS_DENIED
                                                  : RM_ERROR_FILE_NOT_FOUND;
  ok = read_params(h, &pr);
  /* The loader's image path can be an NT path; the running image's Win32
   * path is what CreateProcessW wants. */
  image = ok ? rm__win_image_path(h) : NULL;
  if (ok && rm__win_restart_registration(h, &args) == RM__WIN_REGISTERED) {
    registered = rm__win_restart_command(image ? image : pr.image, args);
    free(args);
    if (!registered) {
      CloseHandle(h);
      free(image);
      params_free(&pr);
      return RM_ERROR_OUTOFMEMORY;
    }
  }
  CloseHandle(h);
  if (!ok) {
    params_free(&pr);
    return RM_ERROR_ACCESS_DENIED;
  }
  memset(out, 0, sizeof *out);
  out->argv = calloc(3, sizeof *out->argv);
  if (out->argv) {
    out->argv[0] = rm__win_utf8(image ? image : pr.image, -1);
    out->argv[1] = rm__win_utf8(registered ? registered : pr.command, -1);
  }
  out->cwd = rm__win_utf8(pr.cwd, -1);
  out->envp = env_to_utf8(pr.env);
  free(image);
  free(registered);
  params_free(&pr);
  if (!out->argv || !out->argv[0] || !out->argv[1] || !out->cwd || !out->envp) {
    rm__launch_free(out);
    return RM_ERROR_OUTOFMEMORY;
  }
  return RM_OK;
}

/* }=====
 * {===== Launch */

/* The UTF-16 environment block for CreateProcessW, malloc'd. */
static wchar_t *env_block(char *const *envp) {
  size_t total = 1, i, at = 0;
  wchar_t *block, **wide;
  for (i = 0; envp && envp[i]; i++) {}
  wide = calloc(i + 1, sizeof *wide);
  if (!wide) return NULL;
  for (i = 0; envp && envp[i]; i++) {
    wide[i] = rm__win_wide(envp[i]);
    if (!wide[i]) goto fail;
    total += wcslen(wide[i]) + 1;
  }
  block = malloc((total + 1) * sizeof *block);
  if (!block) goto fail;
  for (i = 0; wide[i]; i++) {
    size_t n = wcslen(wide[i]) + 1;
    memcpy(block + at, wide[i], n * sizeof *block);
    at += n;
    free(wide[i]);
  }
  block[at++] = 0;
  if (at == 1) block[at++] = 0;         /* an empty block has two NULs */
  free(wide);
  return block;
fail:
  for (i = 0; wide[i]; i++) free(wide[i]);
  free(wide);
  return NULL;
}

uint32_t rm__os_launch(const rm__launch *l, rm_unique_process *started,
                       rm_restart_outcome *outcome) {
  wchar_t *image = NULL, *command = NULL, *cwd = NULL, *env = NULL;
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  DWORD flags = CREATE_UNICODE_ENVIRONMENT | CREATE_DEFAULT_ERROR_MODE;
  uint32_t rc = RM_ERROR_FAIL_RESTART;
  BOOL ok;

  memset(outcome, 0, sizeof *outcome);
  if (!l->argv || !l->argv[0] || !l->argv[1]) {
    outcome->failure = RM_RESTART_FAILED_NO_EXECUTABLE;
    return RM_ERROR_FAIL_RESTART;
  }
  outcome->failure = RM_RESTART_FAILED_LAUNCH;   /* until it started */
  image = rm__win_path(l->argv[0]);
  command = rm__win_wide(l->argv[1]);
  if (l->cwd && strcmp(l->cwd, "/") != 0) cwd = rm__win_wide(l->cwd);
  env = env_block(l->envp);
  if (!image || !command || !env || (l->cwd && strcmp(l->cwd, "/") && !cwd))
    goto out;
  if (rm__win_image_is_console(image)) flags |= CREATE_NEW_CONSOLE;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  ok = CreateProcessW(image, command, NULL, NULL, FALSE,
                      flags | CREATE_BREAKAWAY_FROM_JOB, env, cwd, &si, &pi);
  if (!ok && GetLastError() == ERROR_ACCESS_DENIED)  /* the job forbids it */
    ok = CreateProcessW(image, command, NULL, NULL, FALSE, flags, env, cwd,
                        &si, &pi);
  if (!ok) {
    outcome->failure = RM_RESTART_FAILED_EXEC;
    outcome->error = (int32_t)GetLastError();
    goto out;
  }
  outcome->failure = RM_RESTART_FAILED_NONE;
  started->pid = pi.dwProcessId;
  if (!rm__win_process_start(pi.hProcess, &started->start_time))
    started->start_time = 0;
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  rc = RM_OK;
out:
  free(image);
  free(command);
  free(cwd);
  free(env);
  return rc;
}

/* Only a process's own registration is accepted here: telling whether
 * another process belongs to the caller's user needs its token, which
 * this backend does not read yet. */
uint32_t rm__os_may_register(const rm_unique_process *p) {
  rm_unique_process self;
  rm__os_self(&self);
  if (!rm__os_alive(p)) return RM_ERROR_FILE_NOT_FOUND;
  return p->pid == self.pid && p->start_time == self.start_time
             ? RM_OK
             : RM_ERROR_ACCESS_DENIED;
}

/* }===== */
