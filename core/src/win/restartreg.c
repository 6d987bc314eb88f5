/* SPDX-License-Identifier: MIT */
/*
 * restartreg.c: which applications Windows' Restart Manager restarts, and
 * with what command line.
 *
 * Windows restarts an application only when it registered for restart
 * with RegisterApplicationRestart (without RESTART_NO_PATCH, which means
 * "not after an update"), and it starts it again as "<image>" followed by
 * the command line the application registered, not the one it was
 * started with.  Services are always restartable (classify.c).  Another
 * process's registration is read with GetApplicationRestartSettings.
 *
 * Wine (8.0): RegisterApplicationRestart is a stub that returns S_OK and
 * records nothing, and GetApplicationRestartSettings returns E_NOTIMPL for
 * every process.  There the registration cannot be known, so the
 * library's own rule applies instead: an application of the caller's user
 * whose image is known is restartable, and is started again with the
 * command line it was started with (launch.c).  The decision is a pure
 * function of what the query returned, so tests check it with the values
 * Windows gives.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The longest command line RegisterApplicationRestart accepts, in
 * characters with the terminating NUL (RESTART_MAX_CMD_LINE). */
#define MAX_RESTART_CMD_LINE 1024

rm__win_restart_kind rm__win_restart_rule(HRESULT hr, DWORD flags) {
  if (hr == S_OK)
    return (flags & RESTART_NO_PATCH) ? RM__WIN_NOT_REGISTERED
                                      : RM__WIN_REGISTERED;
  if (hr == E_NOTIMPL || hr == HRESULT_FROM_WIN32(ERROR_CALL_NOT_IMPLEMENTED))
    return RM__WIN_UNKNOWABLE;
  /* HRESULT_FROM_WIN32(ERROR_NOT_FOUND): not registered; anything else
   * (access denied, a process gone) cannot be restarted as registered. */
  return RM__WIN_NOT_REGISTERED;
}

rm__win_restart_kind rm__win_restart_registration(HANDLE process,
                                                  wchar_t **args) {
  WCHAR buf[MAX_RESTART_CMD_LINE + 1];
  DWORD size = MAX_RESTART_CMD_LINE + 1, flags = 0;
  HRESULT hr;
  rm__win_restart_kind kind;
  if (args) *args = NULL;
  buf[0] = 0;
  hr = GetApplicationRestartSettings(process, buf, &size, &flags);
  kind = rm__win_restart_rule(hr, flags);
  if (kind == RM__WIN_REGISTERED && args) {
    buf[MAX_RESTART_CMD_LINE] = 0;
    *args = wcsdup(buf);
    if (!*args) return RM__WIN_NOT_REGISTERED;
  }
  return kind;
}

wchar_t *rm__win_restart_command(const wchar_t *image, const wchar_t *args) {
  size_t n = wcslen(image) + wcslen(args) + 4;
  wchar_t *cmd = malloc(n * sizeof *cmd);
  if (!cmd) return NULL;
  /* The image quoted, as the first word a program's parser expects. */
  swprintf(cmd, n, args[0] ? L"\"%ls\" %ls" : L"\"%ls\"", image, args);
  return cmd;
}
