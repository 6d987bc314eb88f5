/* SPDX-License-Identifier: MIT */
/*
 * redirect.c: the views of paths under WOW64's file-system redirector
 * (docs/windows.md, "Registration in the registrant's view").
 *
 * A 32-bit x86 process on 64-bit Windows does not see the file system as
 * a native one does: what it names %windir%\System32 is SysWOW64 (except
 * the subdirectories catroot, catroot2, driverstore, drivers\etc,
 * logfiles and spool), %windir%\lastgood\system32 is lastgood\SysWOW64,
 * %windir%\regedit.exe is SysWOW64\regedit.exe, and it reaches the native
 * System32 as %windir%\Sysnative, a name only it has.  Microsoft's "File
 * System Redirector" page lists exactly these rules.
 *
 * So a path is a file only together with the view it was named in.  A
 * registered path keeps its registrant's view (rm__os_file_view); a path
 * another process reported keeps that process's; either is rewritten into
 * the caller's view before the caller opens it: first into the native
 * view, then into the caller's.  A native path that a 32-bit process
 * cannot name (lastgood\system32, %windir%\regedit.exe) has no spelling
 * in its view.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

static wchar_t lower(wchar_t c) {
  return c >= L'A' && c <= L'Z' ? (wchar_t)(c - L'A' + L'a') : c;
}

/* The rest of path after the directory dir (no trailing separator),
 * compared without case, "\" and "/" alike: "" for dir itself, "\..."
 * below it; NULL when path is neither. */
static const wchar_t *below(const wchar_t *path, const wchar_t *dir) {
  for (; *dir; path++, dir++) {
    if (is_sep(*dir) ? !is_sep(*path) : lower(*path) != lower(*dir))
      return NULL;
  }
  return *path == 0 || is_sep(*path) ? path : NULL;
}

/* Subdirectories of System32 the redirector leaves alone. */
static const wchar_t *const exempt[] = {
  L"\\catroot", L"\\catroot2", L"\\driverstore", L"\\drivers\\etc",
  L"\\logfiles", L"\\spool", NULL
};

static int is_exempt(const wchar_t *rest) {
  size_t i;
  for (i = 0; exempt[i]; i++)
    if (below(rest, exempt[i])) return 1;
  return 0;
}

/* prefix + windir + dir + rest, malloc'd. */
static wchar_t *join(const wchar_t *prefix, const wchar_t *windir,
                     const wchar_t *dir, const wchar_t *rest) {
  size_t n = wcslen(prefix) + wcslen(windir) + wcslen(dir) + wcslen(rest) + 1;
  wchar_t *out = malloc(n * sizeof *out);
  if (!out) return NULL;
  wcscpy(out, prefix);
  wcscat(out, windir);
  wcscat(out, dir);
  wcscat(out, rest);
  return out;
}

uint32_t rm__win_redirect(const wchar_t *path, const wchar_t *windir,
                          uint32_t from, uint32_t to, wchar_t **out) {
  const wchar_t *prefix = L"", *rel, *rest;
  wchar_t dir[MAX_PATH];
  size_t n = wcslen(windir);
  *out = NULL;
  if (from > RM_WIN_VIEW_WOW64 || to > RM_WIN_VIEW_WOW64)
    return RM_ERROR_FILE_NOT_FOUND;                 /* a view not known */
  if (n == 0 || n >= MAX_PATH) return RM_ERROR_FILE_NOT_FOUND;
  wcscpy(dir, windir);
  while (n > 0 && is_sep(dir[n - 1])) dir[--n] = 0;  /* "C:\" as "C:" */
  if (wcsncmp(path, L"\\\\?\\", 4) == 0) prefix = L"\\\\?\\";
  rel = below(path + wcslen(prefix), dir);
  if (from == to || !rel || !*rel) goto same;
  rel++;                                            /* after "\" */
  if (from == RM_WIN_VIEW_WOW64) {                  /* 32-bit -> native */
    if ((rest = below(rel, L"system32")) != NULL) {
      if (is_exempt(rest)) goto same;
      *out = join(prefix, dir, L"\\SysWOW64", rest);
    } else if ((rest = below(rel, L"lastgood\\system32")) != NULL) {
      *out = join(prefix, dir, L"\\lastgood\\SysWOW64", rest);
    } else if ((rest = below(rel, L"regedit.exe")) != NULL && !*rest) {
      *out = join(prefix, dir, L"\\SysWOW64\\regedit.exe", L"");
    } else if ((rest = below(rel, L"sysnative")) != NULL) {
      *out = join(prefix, dir, L"\\System32", rest);
    } else {
      goto same;
    }
  } else {                                          /* native -> 32-bit */
    if ((rest = below(rel, L"system32")) != NULL) {
      if (is_exempt(rest)) goto same;
      *out = join(prefix, dir, L"\\Sysnative", rest);
    } else if (below(rel, L"lastgood\\system32") ||
               ((rest = below(rel, L"regedit.exe")) != NULL && !*rest) ||
               below(rel, L"sysnative")) {
      return RM_ERROR_FILE_NOT_FOUND;               /* no name there */
    } else {
      goto same;
    }
  }
  return *out ? RM_OK : RM_ERROR_OUTOFMEMORY;
same:
  *out = _wcsdup(path);
  return *out ? RM_OK : RM_ERROR_OUTOFMEMORY;
}

int rm__win_caller_is_wow64(void) {
  static int known = -1;
  BOOL wow = FALSE;
  if (known < 0)
    known = sizeof(void *) == 4 && IsWow64Process(GetCurrentProcess(), &wow) && wow;
  return known;
}

/* The redirector works per thread and can be switched off
 * (Wow64DisableWow64FsRedirection); a registrant that does so is taken to
 * be in its process's view, which it is in again once it switches back. */
uint32_t rm__os_file_view(void) {
  return rm__win_caller_is_wow64() ? RM_WIN_VIEW_WOW64 : RM_WIN_VIEW_NATIVE;
}

uint32_t rm__win_path_in_view(const wchar_t *path, uint32_t from,
                              wchar_t **out) {
  wchar_t windir[MAX_PATH];
  UINT n = GetSystemWindowsDirectoryW(windir, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) {
    *out = _wcsdup(path);
    return *out ? RM_OK : RM_ERROR_OUTOFMEMORY;
  }
  return rm__win_redirect(path, windir, from, rm__os_file_view(), out);
}

wchar_t *rm__win_in_caller_view(const wchar_t *path, int seen_by_32bit) {
  wchar_t *out = NULL;
  /* A 32-bit view exists only on a 64-bit system: there every 32-bit
   * process is in WOW64 (a 32-bit system has the native view only). */
  uint32_t from = seen_by_32bit && (sizeof(void *) == 8 ||
                                    rm__win_caller_is_wow64())
                      ? RM_WIN_VIEW_WOW64 : RM_WIN_VIEW_NATIVE;
  uint32_t rc = rm__win_path_in_view(path, from, &out);
  if (rc == RM_ERROR_FILE_NOT_FOUND) return _wcsdup(path);
  return out;
}
