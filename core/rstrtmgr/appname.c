/* SPDX-License-Identifier: MIT */
/*
 * appname.c: what Windows' Restart Manager says about an application that
 * the engine's entry does not: its user-friendly name and whether it is
 * the shell (docs/windows.md, Use with Wine).
 *
 *  - strAppName is the FileDescription of the image's version resource,
 *    in the user's UI language when the resource has several (then the
 *    neutral language, then the first one listed), and the engine's name
 *    (the file name) when there is none;
 *  - the shell is the process that owns GetShellWindow()'s window (under
 *    Wine, where there is none, the desktop window's), compared by
 *    identity (pid and creation time), never by image path: any process
 *    may be called explorer.exe.
 * Both look at the live process, opened by identity, so a recycled pid
 * is never described by another program's resource.
 */
#include "appname.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The image path of the process with that identity, malloc'd, or NULL. */
static wchar_t *image_of(const rm_unique_process *p) {
  HANDLE h = rm__win_open_identity(p, PROCESS_QUERY_LIMITED_INFORMATION);
  wchar_t *path;
  DWORD n = 32768;
  if (!h) return NULL;
  path = malloc(n * sizeof *path);
  if (path && !QueryFullProcessImageNameW(h, 0, path, &n)) {
    free(path);
    path = NULL;
  }
  CloseHandle(h);
  return path;
}

/* The FileDescription for one language/code page, or NULL. */
static const wchar_t *description_in(void *block, WORD lang, WORD cp) {
  wchar_t key[64];
  void *value = NULL;
  UINT len = 0;
  swprintf(key, 64, L"\\StringFileInfo\\%04x%04x\\FileDescription",
           (unsigned)lang, (unsigned)cp);
  if (!VerQueryValueW(block, key, &value, &len) || len <= 1 || !value)
    return NULL;
  return value;
}

wchar_t *rm__dropin_friendly_name(const rm_unique_process *p) {
  struct lang_cp { WORD lang, cp; } *langs = NULL;
  wchar_t *image = image_of(p), *name = NULL;
  const wchar_t *found = NULL;
  void *block = NULL;
  UINT bytes = 0, i, n;
  DWORD size, ignored = 0;
  LANGID ui = GetUserDefaultUILanguage();
  if (!image) return NULL;
  size = GetFileVersionInfoSizeW(image, &ignored);
  if (size && (block = malloc(size)) &&
      GetFileVersionInfoW(image, 0, size, block) &&
      VerQueryValueW(block, L"\\VarFileInfo\\Translation", (void **)&langs,
                     &bytes) && langs) {
    n = bytes / sizeof *langs;
    for (i = 0; i < n && !found; i++)            /* the user's language */
      if (langs[i].lang == ui) found = description_in(block, langs[i].lang, langs[i].cp);
    for (i = 0; i < n && !found; i++)            /* same primary language */
      if (PRIMARYLANGID(langs[i].lang) == PRIMARYLANGID(ui))
        found = description_in(block, langs[i].lang, langs[i].cp);
    for (i = 0; i < n && !found; i++)            /* neutral */
      if (langs[i].lang == 0) found = description_in(block, 0, langs[i].cp);
    if (!found && n) found = description_in(block, langs[0].lang, langs[0].cp);
  }
  if (found) name = _wcsdup(found);
  free(block);
  free(image);
  return name;
}

int rm__dropin_is_shell(const rm_unique_process *p) {
  HWND shell = GetShellWindow();
  DWORD pid = 0;
  rm_unique_process id;
  /* Wine (8.0) sets no shell window in a prefix without a visible
   * desktop; its shell is the desktop process (explorer.exe /desktop),
   * which owns the desktop window.  On Windows csrss owns that window, so
   * this is asked only under Wine. */
  if (!shell && rm__win_ntdll()->wine_get_version) shell = GetDesktopWindow();
  if (!shell || !GetWindowThreadProcessId(shell, &pid) || pid != p->pid)
    return 0;
  return rm_get_process_identity(pid, &id) == RM_OK &&
         id.start_time == p->start_time;
}
