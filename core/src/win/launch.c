/* SPDX-License-Identifier: MIT */
/*
 * launch.c: what it takes to start an application again, and starting it.
 *
 * rm__os_capture reads the target's process parameters from its PEB
 * (peb.c): the image path, the command line exactly as the process
 * received it, the current directory and the environment block.  A
 * Windows program parses its own command line, so it is kept whole
 * rather than split into words: on
 * Windows rm__launch.argv holds exactly two strings, the image path and
 * the raw command line.  An application registered with
 * RegisterApplicationRestart is started again with the command line it
 * registered instead, as Windows does (restartreg.c).  uid and gid are
 * unused (0).
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

/* {===== Capture */

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
  rm__win_params pr;
  wchar_t *image, *args = NULL, *registered = NULL;
  int ok;
  (void)reg;
  if (!h)
    return GetLastError() == ERROR_ACCESS_DENIED ? RM_ERROR_ACCESS_DENIED
                                                  : RM_ERROR_FILE_NOT_FOUND;
  ok = rm__win_read_params(h, &pr);
  /* The loader's image path can be an NT path; the running image's Win32
   * path is what CreateProcessW wants. */
  image = ok ? rm__win_image_path(h) : NULL;
  if (ok && rm__win_restart_registration(h, &args) == RM__WIN_REGISTERED) {
    registered = rm__win_restart_command(image ? image : pr.image, args);
    free(args);
    if (!registered) {
      CloseHandle(h);
      free(image);
      rm__win_params_free(&pr);
      return RM_ERROR_OUTOFMEMORY;
    }
  }
  CloseHandle(h);
  if (!ok) {
    rm__win_params_free(&pr);
    return RM_ERROR_ACCESS_DENIED;
  }
  memset(out, 0, sizeof *out);
  out->argv = calloc(3, sizeof *out->argv);
  if (out->argv) {
    /* The image as this caller must name it to start the same file (a
     * 32-bit caller reaches a 64-bit System32 program through Sysnative). */
    wchar_t *mine = rm__win_in_caller_view(image ? image : pr.image, 0);
    out->argv[0] = mine ? rm__win_utf8(mine, -1) : NULL;
    free(mine);
    out->argv[1] = rm__win_utf8(registered ? registered : pr.command, -1);
  }
  out->cwd = rm__win_utf8(pr.cwd, -1);
  out->envp = env_to_utf8(pr.env);
  free(image);
  free(registered);
  rm__win_params_free(&pr);
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

/* Windows has no settle time to wait out: begin does the whole launch. */
uint32_t rm__os_launch_begin(const rm__launch *l, rm__launching *run,
                             rm_restart_outcome *outcome) {
  memset(run, 0, sizeof *run);
  run->waiter = -1;
  run->info_fd = run->report_fd = -1;
  return rm__os_launch(l, &run->app, outcome);
}

uint32_t rm__os_launch_end(rm__launching *run, rm_unique_process *started,
                           rm_restart_outcome *outcome) {
  if (outcome->failure) return RM_ERROR_FAIL_RESTART;
  *started = run->app;
  return RM_OK;
}

void rm__os_launch_begin_all(const rm__launch *const *l, size_t n,
                             rm__launching *runs,
                             rm_restart_outcome *const *outcomes,
                             uint32_t *rcs, int *begun,
                             const volatile int *cancel) {
  size_t i;
  for (i = 0; i < n; i++) {
    begun[i] = !*cancel;
    if (begun[i]) rcs[i] = rm__os_launch_begin(l[i], &runs[i], outcomes[i]);
  }
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
