/* SPDX-License-Identifier: MIT */
/*
 * txfs.c: the transaction's file operations on Windows (os.h,
 * "Transaction files").
 *
 * Windows has no atomic exchange of two names, so a replacement takes the
 * engine's other road: the target renamed to its backup name (never
 * replacing), then the staged file renamed to the target (MoveFileExW,
 * MOVEFILE_WRITE_THROUGH).  The first rename fails, changing nothing,
 * while a process holds the target without FILE_SHARE_DELETE; the engine
 * then may schedule the staged file for the next boot
 * (rm__os_tx_at_reboot, MoveFileExW with MOVEFILE_DELAY_UNTIL_REBOOT,
 * which Windows keeps in the registry value PendingFileRenameOperations
 * and which needs an administrator).  rm__os_tx_clear_reboot drops the
 * pending entries that name a path, for recovery.  Names are never
 * followed: reparse points (links, junctions) are opened as themselves
 * (FILE_FLAG_OPEN_REPARSE_POINT) and staged files are created with
 * CREATE_NEW, which fails on any existing name.  Directory entries are
 * made durable by MOVEFILE_WRITE_THROUGH: there is no fsync of a
 * directory.  Ownership and ACLs: a staged file takes the DACL of the
 * file its metadata comes from (docs/windows.md, "Transactions").
 */
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t rm__os_tx_base(const char *path) {
  const char *a = strrchr(path, '/'), *b = strrchr(path, '\\');
  const char *s = a > b ? a : b;
  return s ? (size_t)(s - path) + 1 : 0;
}

static uint32_t code_of(DWORD e) {
  switch (e) {
  case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND:
    return RM_ERROR_FILE_NOT_FOUND;
  case ERROR_DISK_FULL: case ERROR_HANDLE_DISK_FULL: case ERROR_WRITE_FAULT:
    return RM_ERROR_WRITE_FAULT;
  case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY:
    return RM_ERROR_OUTOFMEMORY;
  default:
    return RM_ERROR_ACCESS_DENIED;
  }
}

/* Opens path itself (a reparse point as itself) for its attributes. */
static HANDLE open_self(const wchar_t *w, DWORD access) {
  return CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE |
                     FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                     FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS,
                     NULL);
}

uint32_t rm__os_tx_lstat(const char *path, uint32_t *type, rm__file_id *id,
                         int *err) {
  wchar_t *w = rm__win_path(path);
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE h;
  if (!w) {
    *err = ERROR_INVALID_NAME;
    return RM_ERROR_ACCESS_DENIED;
  }
  h = open_self(w, FILE_READ_ATTRIBUTES);
  free(w);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    *err = (int)e;
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) {
      *type = RM__TX_NONE;
      id->dev = id->ino = 0;
      return RM_OK;
    }
    return RM_ERROR_ACCESS_DENIED;
  }
  if (!GetFileInformationByHandle(h, &fi) || !rm__win_handle_id(h, id)) {
    *err = (int)GetLastError();
    CloseHandle(h);
    return RM_ERROR_ACCESS_DENIED;
  }
  CloseHandle(h);
  *type = (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? RM__TX_LINK
          : (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? RM__TX_DIR
          : RM__TX_FILE;
  return RM_OK;
}

uint32_t rm__os_tx_dir_safe(const char *dir, int *err) {
  wchar_t *w = rm__win_path(dir);
  DWORD a = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
  if (a == INVALID_FILE_ATTRIBUTES) {
    *err = w ? (int)GetLastError() : ERROR_INVALID_NAME;
    free(w);
    return code_of((DWORD)*err);
  }
  free(w);
  if (!(a & FILE_ATTRIBUTE_DIRECTORY)) {
    *err = ERROR_DIRECTORY;
    return RM_ERROR_ACCESS_DENIED;
  }
  return RM_OK;
}

uint32_t rm__os_tx_list(const char *dir, rm__strv *names, int *err) {
  size_t n = strlen(dir);
  char *pattern = malloc(n + 3);
  wchar_t *w;
  WIN32_FIND_DATAW fd;
  HANDLE h;
  if (!pattern) return RM_ERROR_OUTOFMEMORY;
  memcpy(pattern, dir, n);
  memcpy(pattern + n, "\\*", 3);
  w = rm__win_path(pattern);
  free(pattern);
  if (!w) return RM_ERROR_OUTOFMEMORY;
  h = FindFirstFileW(w, &fd);
  free(w);
  if (h == INVALID_HANDLE_VALUE) {
    *err = (int)GetLastError();
    return code_of((DWORD)*err);
  }
  do {
    char *name;
    if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
      continue;
    name = rm__win_utf8(fd.cFileName, -1);
    if (!name || rm__strv_push(names, name) != RM_OK) {
      free(name);
      FindClose(h);
      return RM_ERROR_OUTOFMEMORY;
    }
    free(name);
  } while (FindNextFileW(h, &fd));
  FindClose(h);
  return RM_OK;
}

/* {===== Copying */

static char *join(const char *a, const char *b) {
  size_t x = strlen(a), y = strlen(b);
  char *p = malloc(x + y + 2);
  if (!p) return NULL;
  memcpy(p, a, x);
  p[x] = '\\';
  memcpy(p + x + 1, b, y + 1);
  return p;
}

/* The DACL of meta onto path (both wide). */
static DWORD copy_dacl(const wchar_t *meta, const wchar_t *path) {
  DWORD need = 0;
  PSECURITY_DESCRIPTOR sd;
  DWORD e = 0;
  GetFileSecurityW(meta, DACL_SECURITY_INFORMATION, NULL, 0, &need);
  if (!need) return GetLastError();
  sd = malloc(need);
  if (!sd) return ERROR_OUTOFMEMORY;
  if (!GetFileSecurityW(meta, DACL_SECURITY_INFORMATION, sd, need, &need) ||
      !SetFileSecurityW(path, DACL_SECURITY_INFORMATION, sd))
    e = GetLastError();
  free(sd);
  return e;
}

static DWORD write_all(HANDLE out, const char *p, size_t n) {
  while (n > 0) {
    DWORD put = 0, chunk = n > 1u << 20 ? 1u << 20 : (DWORD)n;
    if (!WriteFile(out, p, chunk, &put, NULL) || put == 0)
      return GetLastError() ? GetLastError() : ERROR_WRITE_FAULT;
    p += put;
    n -= put;
  }
  return 0;
}

/* Stages source (or data) at staged; *culprit gets the failing path. */
static DWORD copy_one(const char *staged, const char *source,
                      const void *data, size_t len, const char *meta,
                      char **culprit, int depth) {
  wchar_t *ws = rm__win_path(staged), *wsrc = source ? rm__win_path(source)
                                                     : NULL;
  DWORD e = 0, a = source && wsrc ? GetFileAttributesW(wsrc) : 0;
  HANDLE in = INVALID_HANDLE_VALUE, out;
  if (!ws || (source && !wsrc)) {
    free(ws);
    free(wsrc);
    return ERROR_INVALID_NAME;
  }
  if (source && a == INVALID_FILE_ATTRIBUTES) {
    e = GetLastError();
    *culprit = rm__strdup(source);
  } else if (source && (a & FILE_ATTRIBUTE_DIRECTORY)) {
    rm__strv names = { NULL, 0, 0 };
    int ignored;
    size_t i;
    if (depth > 64 || !CreateDirectoryW(ws, NULL)) {
      e = depth > 64 ? ERROR_CANT_RESOLVE_FILENAME : GetLastError();
      *culprit = rm__strdup(staged);
    } else if (rm__os_tx_list(source, &names, &ignored) != RM_OK) {
      e = (DWORD)ignored;
      *culprit = rm__strdup(source);
    }
    for (i = 0; !e && i < names.n; i++) {
      char *s = join(source, names.v[i]), *d = join(staged, names.v[i]);
      e = s && d ? copy_one(d, s, NULL, 0, NULL, culprit, depth + 1)
                 : ERROR_OUTOFMEMORY;
      free(s);
      free(d);
    }
    rm__strv_free(&names);
  } else {
    out = CreateFileW(ws, GENERIC_WRITE, 0, NULL, CREATE_NEW,
                      FILE_ATTRIBUTE_NORMAL, NULL);
    if (out == INVALID_HANDLE_VALUE) {
      e = GetLastError();
      *culprit = rm__strdup(staged);
    } else {
      if (source) {
        in = CreateFileW(wsrc, GENERIC_READ, FILE_SHARE_READ |
                         FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                         OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
        if (in == INVALID_HANDLE_VALUE) {
          e = GetLastError();
          *culprit = rm__strdup(source);
        }
        while (!e) {
          char buf[65536];
          DWORD got = 0;
          if (!ReadFile(in, buf, sizeof buf, &got, NULL)) {
            e = GetLastError();
            *culprit = rm__strdup(source);
          } else if (got == 0) {
            break;
          } else if ((e = write_all(out, buf, got)) != 0) {
            *culprit = rm__strdup(staged);
          }
        }
        if (in != INVALID_HANDLE_VALUE) CloseHandle(in);
      } else {
        e = write_all(out, data, len);
        if (e) *culprit = rm__strdup(staged);
      }
      if (!e && !FlushFileBuffers(out)) {
        e = GetLastError();
        *culprit = rm__strdup(staged);
      }
      CloseHandle(out);
    }
  }
  if (!e && (meta || source)) {
    wchar_t *wm = rm__win_path(meta ? meta : source);
    e = wm ? copy_dacl(wm, ws) : ERROR_OUTOFMEMORY;
    /* A file system without ACLs (FAT) keeps what it has. */
    if (e == ERROR_NOT_SUPPORTED || e == ERROR_INVALID_FUNCTION) e = 0;
    if (e) *culprit = rm__strdup(staged);
    free(wm);
  }
  free(ws);
  free(wsrc);
  return e;
}

uint32_t rm__os_tx_copy(const char *staged, const char *source,
                        const void *data, size_t len, const char *meta,
                        rm__file_id *id, int *err, char **culprit) {
  uint32_t type;
  int ignored;
  DWORD e = copy_one(staged, source, data, len, meta, culprit, 0);
  if (!e && rm__os_tx_lstat(staged, &type, id, &ignored) != RM_OK)
    e = (DWORD)ignored;
  if (!e) return RM_OK;
  (void)rm__os_tx_remove(staged, &ignored);
  *err = (int)e;
  return code_of(e);
}

int rm__os_tx_same(const char *a, const char *b) {
  wchar_t *wa = rm__win_path(a), *wb = rm__win_path(b);
  HANDLE ha = INVALID_HANDLE_VALUE, hb = INVALID_HANDLE_VALUE;
  int same = 0;
  if (wa && wb) {
    ha = CreateFileW(wa, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE |
                     FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    hb = CreateFileW(wb, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE |
                     FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
  }
  if (ha != INVALID_HANDLE_VALUE && hb != INVALID_HANDLE_VALUE) {
    same = 1;
    while (same) {
      char x[16384], y[16384];
      DWORD nx = 0, ny = 0;
      if (!ReadFile(ha, x, sizeof x, &nx, NULL) ||
          !ReadFile(hb, y, sizeof y, &ny, NULL) || nx != ny ||
          memcmp(x, y, nx) != 0)
        same = 0;
      if (nx == 0) break;
    }
  }
  if (ha != INVALID_HANDLE_VALUE) CloseHandle(ha);
  if (hb != INVALID_HANDLE_VALUE) CloseHandle(hb);
  free(wa);
  free(wb);
  return same;
}

/* }=====
 * {===== Renames, links, removal */

uint32_t rm__os_tx_exchange(const char *a, const char *b, int *err) {
  (void)a;
  (void)b;
  *err = ERROR_NOT_SUPPORTED;
  return RM__TX_UNSUPPORTED;
}

/* No second name for the old file on Windows: a hard link to a file a
 * process holds without FILE_SHARE_DELETE can be made but not removed
 * again, so a failed swap would leave it behind.  The engine renames the
 * target to its backup name instead, which fails at once, changing
 * nothing, while such a process holds it. */
uint32_t rm__os_tx_link(const char *from, const char *to, int *err) {
  (void)from;
  (void)to;
  *err = ERROR_NOT_SUPPORTED;
  return RM__TX_UNSUPPORTED;
}

uint32_t rm__os_tx_rename(const char *from, const char *to, int noreplace,
                          int *err) {
  wchar_t *wf = rm__win_path(from), *wt = rm__win_path(to);
  BOOL ok = wf && wt &&
            MoveFileExW(wf, wt, MOVEFILE_WRITE_THROUGH |
                                    (noreplace ? 0 : MOVEFILE_REPLACE_EXISTING));
  *err = ok ? 0 : (int)GetLastError();
  free(wf);
  free(wt);
  return ok ? RM_OK : RM_ERROR_ACCESS_DENIED;
}

static DWORD remove_w(const char *path, int depth) {
  wchar_t *w = rm__win_path(path);
  DWORD a, e = 0;
  if (!w) return ERROR_OUTOFMEMORY;
  a = GetFileAttributesW(w);
  if (a == INVALID_FILE_ATTRIBUTES) {
    e = GetLastError();
    free(w);
    return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? 0 : e;
  }
  if ((a & FILE_ATTRIBUTE_DIRECTORY) && !(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
    rm__strv names = { NULL, 0, 0 };
    int ignored;
    size_t i;
    if (depth > 64) e = ERROR_CANT_RESOLVE_FILENAME;
    else if (rm__os_tx_list(path, &names, &ignored) != RM_OK)
      e = (DWORD)ignored;
    for (i = 0; !e && i < names.n; i++) {
      char *c = join(path, names.v[i]);
      e = c ? remove_w(c, depth + 1) : ERROR_OUTOFMEMORY;
      free(c);
    }
    rm__strv_free(&names);
    if (!e && !RemoveDirectoryW(w)) e = GetLastError();
  } else if (a & FILE_ATTRIBUTE_DIRECTORY) {
    if (!RemoveDirectoryW(w)) e = GetLastError();   /* the junction only */
  } else {
    if (a & FILE_ATTRIBUTE_READONLY)
      SetFileAttributesW(w, a & ~(DWORD)FILE_ATTRIBUTE_READONLY);
    if (!DeleteFileW(w)) e = GetLastError();
  }
  free(w);
  return e;
}

uint32_t rm__os_tx_remove(const char *path, int *err) {
  DWORD e = remove_w(path, 0);
  *err = (int)e;
  return e ? RM_ERROR_ACCESS_DENIED : RM_OK;
}

void rm__os_tx_sync_parent(const char *path) {
  (void)path;                    /* MOVEFILE_WRITE_THROUGH did it */
}

void rm__os_tx_die(void) {
  TerminateProcess(GetCurrentProcess(), 9);
}

const char *rm__os_tx_strerror(int err) {
  static char buf[256];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
                               FORMAT_MESSAGE_IGNORE_INSERTS,
                           NULL, (DWORD)err, 0, buf, sizeof buf, NULL);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                   buf[n - 1] == '.'))
    buf[--n] = 0;
  if (n == 0) snprintf(buf, sizeof buf, "Windows error %d", err);
  return buf;
}

/* }=====
 * {===== Replacing at the next boot */

uint32_t rm__os_tx_at_reboot(const char *from, const char *to, int *err) {
  wchar_t *wf = rm__win_path(from), *wt = rm__win_path(to);
  BOOL ok = wf && wt &&
            MoveFileExW(wf, wt, MOVEFILE_DELAY_UNTIL_REBOOT |
                                    MOVEFILE_REPLACE_EXISTING);
  *err = ok ? 0 : (int)GetLastError();
  free(wf);
  free(wt);
  return ok ? RM_OK : RM_ERROR_ACCESS_DENIED;
}

#define PENDING_KEY L"SYSTEM\\CurrentControlSet\\Control\\Session Manager"
#define PENDING_VALUE L"PendingFileRenameOperations"

/* 1 when a pending entry ("\??\C:\dir\file", "!\??\..." for a
 * destination that is replaced, or "" for a deletion)
 * names path (wide, "\\?\"-prefixed or not). */
static int names_path(const wchar_t *entry, const wchar_t *path) {
  if (*entry == L'!') entry++;             /* a destination to replace */
  if (wcsncmp(entry, L"\\??\\", 4) == 0) entry += 4;
  if (wcsncmp(path, L"\\\\?\\", 4) == 0) path += 4;
  return *entry && rm__win_ieq(entry, path);
}

uint32_t rm__os_tx_clear_reboot(const char *path, unsigned *cleared) {
  HKEY key;
  DWORD type = 0, size = 0;
  wchar_t *data, *out, *w = rm__win_path(path);
  size_t i = 0, o = 0, n;
  *cleared = 0;
  if (!w) return RM_ERROR_OUTOFMEMORY;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, PENDING_KEY, 0,
                    KEY_QUERY_VALUE | KEY_SET_VALUE, &key) != ERROR_SUCCESS) {
    free(w);
    return RM_OK;                /* not an administrator: nothing ours */
  }
  if (RegQueryValueExW(key, PENDING_VALUE, NULL, &type, NULL, &size) !=
          ERROR_SUCCESS || type != REG_MULTI_SZ || size < 2 * sizeof *data) {
    RegCloseKey(key);
    free(w);
    return RM_OK;
  }
  data = calloc(size / sizeof *data + 2, sizeof *data);
  out = calloc(size / sizeof *data + 2, sizeof *data);
  if (!data || !out ||
      RegQueryValueExW(key, PENDING_VALUE, NULL, &type, (BYTE *)data,
                       &size) != ERROR_SUCCESS) {
    free(data);
    free(out);
    RegCloseKey(key);
    free(w);
    return data && out ? RM_ERROR_ACCESS_DENIED : RM_ERROR_OUTOFMEMORY;
  }
  n = size / sizeof *data;
  /* Pairs of strings: source, destination ("" to delete). */
  while (i < n && data[i]) {
    const wchar_t *src = data + i, *dst;
    size_t a = wcslen(src) + 1, b;
    if (i + a >= n) break;
    dst = src + a;
    b = wcslen(dst) + 1;
    if (names_path(src, w) || names_path(dst, w)) {
      (*cleared)++;
    } else {
      memcpy(out + o, src, (a + b) * sizeof *out);
      o += a + b;
    }
    i += a + b;
  }
  if (*cleared) {
    out[o++] = 0;
    if (o <= 1) RegDeleteValueW(key, PENDING_VALUE);
    else RegSetValueExW(key, PENDING_VALUE, 0, REG_MULTI_SZ, (BYTE *)out,
                        (DWORD)(o * sizeof *out));
  }
  free(data);
  free(out);
  RegCloseKey(key);
  free(w);
  return RM_OK;
}

/* }===== */
