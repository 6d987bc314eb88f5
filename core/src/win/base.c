/* SPDX-License-Identifier: MIT */
/*
 * base.c: the small OS services of the Win32 backend: UTF-8/UTF-16
 * conversion at the Win32 edge, paths, time, randomness, the global lock
 * and the environment.
 *
 * Paths: the API takes UTF-8 with "/" or "\" separators.  Absolute means
 * what PathIsRelative calls not relative: a drive-absolute path ("C:\x"),
 * a UNC or device path ("\\server\share", "\\?\C:\x"), or a path rooted
 * on the current drive ("\x", "/x").  Drive-relative paths ("C:x") and
 * relative paths are refused.  Long paths get the "\\?\" prefix before
 * they reach the wide file APIs, so MAX_PATH never truncates them.
 */
#define _GNU_SOURCE
#include "win.h"

#include <bcrypt.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* {===== Strings */

wchar_t *rm__win_wide(const char *utf8) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
  wchar_t *w;
  if (n <= 0) return NULL;
  w = malloc((size_t)n * sizeof *w);
  if (!w) return NULL;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, w, n) != n) {
    free(w);
    return NULL;
  }
  return w;
}

char *rm__win_utf8(const wchar_t *w, int len) {
  int n;
  char *s;
  if (len < 0) len = (int)wcslen(w);
  if (len == 0) {
    s = malloc(1);
    if (s) s[0] = 0;
    return s;
  }
  n = WideCharToMultiByte(CP_UTF8, 0, w, len, NULL, 0, NULL, NULL);
  if (n <= 0) return NULL;
  s = malloc((size_t)n + 1);
  if (!s) return NULL;
  if (WideCharToMultiByte(CP_UTF8, 0, w, len, s, n, NULL, NULL) != n) {
    free(s);
    return NULL;
  }
  s[n] = 0;
  return s;
}

void rm__win_utf8_copy(char *dst, size_t cap, const wchar_t *w) {
  char *s = rm__win_utf8(w, -1);
  if (cap == 0) {
    free(s);
    return;
  }
  rm__utf8_copy(dst, cap, s ? s : "");
  free(s);
}

int rm__win_ieq(const wchar_t *a, const wchar_t *b) {
  return CompareStringOrdinal(a, -1, b, -1, TRUE) == CSTR_EQUAL;
}

const wchar_t *rm__win_basename(const wchar_t *path) {
  const wchar_t *base = path, *p;
  for (p = path; *p; p++)
    if (*p == L'\\' || *p == L'/') base = p + 1;
  return base;
}

/* }=====
 * {===== Paths */

static int is_slash(char c) { return c == '/' || c == '\\'; }

int rm__os_path_absolute(const char *path) {
  char c = path[0];
  if (((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) && path[1] == ':')
    return is_slash(path[2]);             /* "C:\x"; "C:x" is relative */
  if (is_slash(c) && is_slash(path[1]))
    return path[2] != 0 && !is_slash(path[2]);   /* \\server, \\?\ */
  return is_slash(c);                     /* rooted on the current drive */
}

/* Long paths need "\\?\", which also turns off every normalisation, so
 * the path is made full first (GetFullPathNameW resolves "." and ".."). */
wchar_t *rm__win_path(const char *utf8) {
  wchar_t *w = rm__win_wide(utf8), *full, *out;
  DWORD n;
  size_t i, len;
  if (!w) return NULL;
  for (i = 0; w[i]; i++)
    if (w[i] == L'/') w[i] = L'\\';
  len = i;
  if (len < MAX_PATH - 12 || wcsncmp(w, L"\\\\?\\", 4) == 0) return w;
  n = GetFullPathNameW(w, 0, NULL, NULL);
  full = n ? malloc(((size_t)n + 8) * sizeof *full) : NULL;
  if (!full || GetFullPathNameW(w, n, full, NULL) == 0) {
    free(full);
    return w;                             /* let the caller's open fail */
  }
  free(w);
  out = malloc(((size_t)n + 16) * sizeof *out);
  if (!out) {
    free(full);
    return NULL;
  }
  if (full[0] == L'\\' && full[1] == L'\\') {
    wcscpy(out, L"\\\\?\\UNC\\");
    wcscat(out, full + 2);
  } else {
    wcscpy(out, L"\\\\?\\");
    wcscat(out, full);
  }
  free(full);
  return out;
}

/* }=====
 * {===== Time, randomness, the global lock */

uint64_t rm__os_now_ms(void) { return GetTickCount64(); }

void rm__os_sleep_ms(unsigned ms) { Sleep(ms); }

uint32_t rm__os_random(void *buf, size_t n) {
  unsigned char *b = buf;
  while (n > 0) {
    ULONG chunk = n > 0x10000000u ? 0x10000000u : (ULONG)n;
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, b, chunk,
                                        BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
      return RM_ERROR_WRITE_FAULT;
    b += chunk;
    n -= chunk;
  }
  return RM_OK;
}

static SRWLOCK global_lock = SRWLOCK_INIT;

void rm__os_global_lock(void) { AcquireSRWLockExclusive(&global_lock); }
void rm__os_global_unlock(void) { ReleaseSRWLockExclusive(&global_lock); }

/* }=====
 * {===== Environment */

/* Values handed out by rm__os_getenv stay valid for the life of the
 * process: each distinct value is kept once, so a variable that changes
 * costs one small string per value it ever had. */
typedef struct env_value {
  struct env_value *next;
  char text[1];
} env_value;

static env_value *env_values;
static SRWLOCK env_lock = SRWLOCK_INIT;

static const char *intern(const char *s) {
  env_value *v;
  size_t n = strlen(s);
  AcquireSRWLockExclusive(&env_lock);
  for (v = env_values; v; v = v->next)
    if (strcmp(v->text, s) == 0) break;
  if (!v) {
    v = malloc(sizeof *v + n);
    if (v) {
      memcpy(v->text, s, n + 1);
      v->next = env_values;
      env_values = v;
    }
  }
  ReleaseSRWLockExclusive(&env_lock);
  return v ? v->text : NULL;
}

const char *rm__os_getenv(const char *name) {
  wchar_t *wname = rm__win_wide(name), *value;
  DWORD n;
  char *utf8;
  const char *out = NULL;
  if (!wname) return NULL;
  n = GetEnvironmentVariableW(wname, NULL, 0);
  value = n ? malloc((size_t)n * sizeof *value) : NULL;
  if (value && GetEnvironmentVariableW(wname, value, n) < n) {
    utf8 = rm__win_utf8(value, -1);
    if (utf8) out = intern(utf8);
    free(utf8);
  }
  free(value);
  free(wname);
  return out;
}

/* }===== */
