/* SPDX-License-Identifier: MIT */
/*
 * store.c: the session store directory on Windows.
 *
 * One directory per user: %RESTARTMGR_STATE_DIR% if set, else
 * %LOCALAPPDATA%\restartmgr.  It is created with a protected DACL that
 * gives the user, and nobody else, access.  An existing directory is
 * refused (RM_ERROR_WRITE_FAULT) when it is a reparse point (a symlink or
 * junction could steer the store elsewhere), when its owner is neither
 * the user nor the user's default owner (Administrators for an elevated
 * token), or when its DACL lets anyone but the user, SYSTEM or
 * Administrators write to it.  Files are checked the same way on every
 * read.
 *
 * Writes are atomic: a temp file is written, flushed (FlushFileBuffers)
 * and moved over the old one with MoveFileExW(REPLACE_EXISTING |
 * WRITE_THROUGH).  Readers open with FILE_SHARE_DELETE so a rename is not
 * refused because of them; where the file system still refuses it while a
 * reader holds the old file, the move is retried for up to a second.
 *
 * The cross-process lock is LockFileEx on the file "lock", polled until a
 * deadline (LockFileEx itself cannot time out); Windows releases it when
 * its holder exits.  A semaphore in front of it excludes the other threads
 * of this process, as on Linux.
 */
#define _GNU_SOURCE
#include "win.h"

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

struct rm__dir {
  wchar_t *path;
  HANDLE lock_file;       /* while locked, else INVALID_HANDLE_VALUE */
};

#define RETRY_MS 1000u

/* {===== The user's identity, once per process */

typedef struct token_sids {
  PSID user, owner;        /* owner: the token's default owner for new
                              objects (the user, or Administrators) */
} token_sids;

static token_sids sids;

static PSID token_sid(HANDLE token, TOKEN_INFORMATION_CLASS cls) {
  BYTE buf[512];
  DWORD len = 0;
  PSID src, copy;
  if (!GetTokenInformation(token, cls, buf, sizeof buf, &len)) return NULL;
  src = cls == TokenUser ? ((TOKEN_USER *)(void *)buf)->User.Sid
                         : ((TOKEN_OWNER *)(void *)buf)->Owner;
  len = GetLengthSid(src);
  copy = malloc(len);
  if (copy && !CopySid(len, copy, src)) {
    free(copy);
    copy = NULL;
  }
  return copy;
}

static BOOL CALLBACK load_sids(INIT_ONCE *once, void *param, void **ctx) {
  HANDLE token;
  (void)once; (void)param; (void)ctx;
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    sids.user = token_sid(token, TokenUser);
    sids.owner = token_sid(token, TokenOwner);
    CloseHandle(token);
  }
  return TRUE;
}

static const token_sids *my_sids(void) {
  static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
  InitOnceExecuteOnce(&once, load_sids, NULL, NULL);
  return &sids;
}

static int is_well_known(PSID sid, WELL_KNOWN_SID_TYPE type) {
  return IsWellKnownSid(sid, type) != 0;
}

/* }=====
 * {===== Ownership and DACL checks */

#define WRITE_RIGHTS                                                      \
  (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_DELETE_CHILD | \
   FILE_WRITE_ATTRIBUTES | DELETE | WRITE_DAC | WRITE_OWNER |              \
   GENERIC_WRITE | GENERIC_ALL)

static int trusted(PSID sid) {
  const token_sids *me = my_sids();
  return (me->user && EqualSid(sid, me->user)) ||
         (me->owner && EqualSid(sid, me->owner)) ||
         is_well_known(sid, WinLocalSystemSid) ||
         is_well_known(sid, WinBuiltinAdministratorsSid);
}

/* 1 when the object is owned by the user and only trusted SIDs may write
 * to it. */
static int safe_security(PSID owner, PACL dacl) {
  const token_sids *me = my_sids();
  WORD i;
  if (!owner || !me->user) return 0;
  if (!EqualSid(owner, me->user) && !(me->owner && EqualSid(owner, me->owner)))
    return 0;
  if (!dacl) return 0;                    /* a NULL DACL lets everyone in */
  for (i = 0; i < dacl->AceCount; i++) {
    ACE_HEADER *ace;
    if (!GetAce(dacl, i, (void **)&ace)) return 0;
    if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE) continue;
    if (ace->AceFlags & INHERIT_ONLY_ACE) continue;
    {
      ACCESS_ALLOWED_ACE *allowed = (ACCESS_ALLOWED_ACE *)ace;
      if ((allowed->Mask & WRITE_RIGHTS) && !trusted(&allowed->SidStart))
        return 0;
    }
  }
  return 1;
}

static int safe_handle(HANDLE h) {
  PSID owner = NULL;
  PACL dacl = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  int ok;
  if (GetSecurityInfo(h, SE_FILE_OBJECT,
                      OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                      &owner, NULL, &dacl, NULL, &sd) != ERROR_SUCCESS)
    return 0;
  ok = safe_security(owner, dacl);
  LocalFree(sd);
  return ok;
}

/* }=====
 * {===== Opening the store */

static wchar_t *join(const wchar_t *dir, const wchar_t *name) {
  size_t a = wcslen(dir), b = wcslen(name);
  wchar_t *p = malloc((a + b + 2) * sizeof *p);
  if (!p) return NULL;
  memcpy(p, dir, a * sizeof *p);
  p[a] = L'\\';
  memcpy(p + a + 1, name, (b + 1) * sizeof *p);
  return p;
}

static wchar_t *env_w(const wchar_t *name) {
  DWORD n = GetEnvironmentVariableW(name, NULL, 0);
  wchar_t *v = n ? malloc((size_t)n * sizeof *v) : NULL;
  if (v && (GetEnvironmentVariableW(name, v, n) >= n || v[0] == 0)) {
    free(v);
    v = NULL;
  }
  return v;
}

static wchar_t *store_location(void) {
  const char *dir = rm__os_getenv("RESTARTMGR_STATE_DIR");
  wchar_t *base, *path;
  if (dir && *dir) {
    if (!rm__os_path_absolute(dir)) return NULL;
    path = rm__win_path(dir);
  } else {
    base = env_w(L"LOCALAPPDATA");
    if (!base) return NULL;
    path = join(base, L"restartmgr");
    free(base);
  }
  if (path) {                             /* no trailing separator */
    size_t n = wcslen(path);
    while (n > 3 && path[n - 1] == L'\\') path[--n] = 0;
  }
  return path;
}

/* A directory only the user can use: owner the user, protected DACL with
 * one entry granting the user full control, inherited by its files. */
static int create_private_dir(const wchar_t *path) {
  const token_sids *me = my_sids();
  wchar_t *sid_text = NULL, sddl[256];
  SECURITY_ATTRIBUTES sa;
  PSECURITY_DESCRIPTOR sd = NULL;
  int ok;
  if (!me->user || !ConvertSidToStringSidW(me->user, &sid_text)) return 0;
  swprintf(sddl, sizeof sddl / sizeof *sddl, L"O:%lsD:P(A;OICI;FA;;;%ls)",
           sid_text, sid_text);
  LocalFree(sid_text);
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          sddl, SDDL_REVISION_1, &sd, NULL))
    return 0;
  sa.nLength = sizeof sa;
  sa.lpSecurityDescriptor = sd;
  sa.bInheritHandle = FALSE;
  ok = CreateDirectoryW(path, &sa) || GetLastError() == ERROR_ALREADY_EXISTS;
  LocalFree(sd);
  return ok;
}

uint32_t rm__os_store_open(rm__dir **out) {
  wchar_t *path = store_location();
  HANDLE h;
  BY_HANDLE_FILE_INFORMATION info;
  rm__dir *d;
  int ok;

  if (!path) return RM_ERROR_WRITE_FAULT;
  if (!create_private_dir(path)) {
    free(path);
    return RM_ERROR_WRITE_FAULT;
  }
  /* Opened without following a final reparse point, so a symlink or
   * junction in its place is seen as one. */
  h = CreateFileW(path, READ_CONTROL | FILE_READ_ATTRIBUTES,
                  FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                  OPEN_EXISTING,
                  FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                  NULL);
  if (h == INVALID_HANDLE_VALUE) {
    free(path);
    return RM_ERROR_WRITE_FAULT;
  }
  ok = GetFileInformationByHandle(h, &info) &&
       (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
       !(info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
       safe_handle(h);
  CloseHandle(h);
  if (!ok) {
    free(path);
    return RM_ERROR_WRITE_FAULT;
  }
  d = malloc(sizeof *d);
  if (!d) {
    free(path);
    return RM_ERROR_OUTOFMEMORY;
  }
  d->path = path;
  d->lock_file = INVALID_HANDLE_VALUE;
  *out = d;
  return RM_OK;
}

uint32_t rm__os_store_locate(char *path, size_t cap, uint32_t *skipped) {
  rm__dir *d;
  char *utf8;
  uint32_t rc = rm__os_store_open(&d);
  *skipped = 0;
  if (rc != RM_OK) return rc;
  utf8 = rm__win_utf8(d->path, -1);
  rm__os_store_close(d);
  if (!utf8) return RM_ERROR_OUTOFMEMORY;
  rc = strlen(utf8) < cap ? RM_OK : RM_ERROR_MORE_DATA;
  if (rc == RM_OK) memcpy(path, utf8, strlen(utf8) + 1);
  free(utf8);
  return rc;
}

void rm__os_store_close(rm__dir *d) {
  if (!d) return;
  if (d->lock_file != INVALID_HANDLE_VALUE) rm__os_store_unlock(d);
  free(d->path);
  free(d);
}

/* }=====
 * {===== The lock */

static HANDLE thread_gate;        /* a semaphore of one: this process */

static BOOL CALLBACK make_gate(INIT_ONCE *once, void *param, void **ctx) {
  (void)once; (void)param; (void)ctx;
  thread_gate = CreateSemaphoreW(NULL, 1, 1, NULL);
  return thread_gate != NULL;
}

uint32_t rm__os_store_lock(rm__dir *d, unsigned timeout_ms) {
  static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  wchar_t *path;
  HANDLE h;

  if (!InitOnceExecuteOnce(&once, make_gate, NULL, NULL))
    return RM_ERROR_WRITE_FAULT;
  if (WaitForSingleObject(thread_gate, timeout_ms) != WAIT_OBJECT_0)
    return RM_ERROR_SEM_TIMEOUT;
  path = join(d->path, L"lock");
  h = path ? CreateFileW(path, GENERIC_READ | GENERIC_WRITE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_ALWAYS, FILE_FLAG_OPEN_REPARSE_POINT, NULL)
           : INVALID_HANDLE_VALUE;
  free(path);
  if (h == INVALID_HANDLE_VALUE) {
    ReleaseSemaphore(thread_gate, 1, NULL);
    return RM_ERROR_WRITE_FAULT;
  }
  for (;;) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0,
                   1, 0, &ov))
      break;
    if (GetLastError() != ERROR_LOCK_VIOLATION &&
        GetLastError() != ERROR_IO_PENDING) {
      CloseHandle(h);
      ReleaseSemaphore(thread_gate, 1, NULL);
      return RM_ERROR_WRITE_FAULT;
    }
    if (rm__os_now_ms() >= deadline) {
      CloseHandle(h);
      ReleaseSemaphore(thread_gate, 1, NULL);
      return RM_ERROR_SEM_TIMEOUT;
    }
    Sleep(2);
  }
  d->lock_file = h;
  return RM_OK;
}

void rm__os_store_unlock(rm__dir *d) {
  OVERLAPPED ov;
  if (d->lock_file == INVALID_HANDLE_VALUE) return;
  memset(&ov, 0, sizeof ov);
  UnlockFileEx(d->lock_file, 0, 1, 0, &ov);
  CloseHandle(d->lock_file);
  d->lock_file = INVALID_HANDLE_VALUE;
  ReleaseSemaphore(thread_gate, 1, NULL);
}

/* }=====
 * {===== Files */

/* Errors a concurrent rename or delete causes for a moment. */
static int transient(DWORD err) {
  return err == ERROR_SHARING_VIOLATION || err == ERROR_ACCESS_DENIED ||
         err == ERROR_LOCK_VIOLATION;
}

static HANDLE open_retrying(const wchar_t *path, DWORD access, DWORD create) {
  uint64_t deadline = rm__os_now_ms() + RETRY_MS;
  for (;;) {
    HANDLE h = CreateFileW(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE |
                                             FILE_SHARE_DELETE,
                           NULL, create, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h != INVALID_HANDLE_VALUE || !transient(GetLastError()) ||
        rm__os_now_ms() >= deadline)
      return h;
    Sleep(5);
  }
}

uint32_t rm__os_store_read(rm__dir *d, const char *name, char **data,
                           size_t *len) {
  wchar_t *wname = rm__win_wide(name), *path;
  BY_HANDLE_FILE_INFORMATION info;
  HANDLE h;
  uint64_t size;
  char *buf;
  size_t total = 0;

  path = wname ? join(d->path, wname) : NULL;
  free(wname);
  if (!path) return RM_ERROR_OUTOFMEMORY;
  h = open_retrying(path, GENERIC_READ | READ_CONTROL, OPEN_EXISTING);
  free(path);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND
               ? RM_ERROR_FILE_NOT_FOUND
               : RM_ERROR_WRITE_FAULT;
  }
  if (!GetFileInformationByHandle(h, &info) ||
      (info.dwFileAttributes &
       (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) ||
      !safe_handle(h)) {
    CloseHandle(h);
    return RM_ERROR_WRITE_FAULT;
  }
  size = ((uint64_t)info.nFileSizeHigh << 32) | info.nFileSizeLow;
  if (size > 256u * 1024 * 1024) {
    CloseHandle(h);
    return RM_ERROR_WRITE_FAULT;
  }
  buf = malloc((size_t)size + 1);
  if (!buf) {
    CloseHandle(h);
    return RM_ERROR_OUTOFMEMORY;
  }
  while (total < size) {
    DWORD got = 0;
    if (!ReadFile(h, buf + total, (DWORD)(size - total), &got, NULL) ||
        got == 0)
      break;
    total += got;
  }
  CloseHandle(h);
  buf[total] = 0;
  *data = buf;
  *len = total;
  return RM_OK;
}

uint32_t rm__os_store_write(rm__dir *d, const char *name, const char *data,
                            size_t len) {
  wchar_t tmp_name[160], *wname = rm__win_wide(name), *tmp, *path;
  unsigned char rnd[6];
  size_t done = 0;
  uint64_t deadline;
  HANDLE h;
  int ok;

  if (!wname || rm__os_random(rnd, sizeof rnd) != RM_OK) {
    free(wname);
    return RM_ERROR_WRITE_FAULT;
  }
  swprintf(tmp_name, sizeof tmp_name / sizeof *tmp_name,
           L".%ls.%02x%02x%02x%02x%02x%02x.tmp", wname, rnd[0], rnd[1],
           rnd[2], rnd[3], rnd[4], rnd[5]);
  tmp = join(d->path, tmp_name);
  path = join(d->path, wname);
  free(wname);
  if (!tmp || !path) {
    free(tmp);
    free(path);
    return RM_ERROR_OUTOFMEMORY;
  }
  h = CreateFileW(tmp, GENERIC_WRITE, 0, NULL, CREATE_NEW,
                  FILE_ATTRIBUTE_NORMAL, NULL);
  ok = h != INVALID_HANDLE_VALUE;
  while (ok && done < len) {
    DWORD chunk = len - done > 0x40000000u ? 0x40000000u : (DWORD)(len - done);
    DWORD put = 0;
    ok = WriteFile(h, data + done, chunk, &put, NULL) && put > 0;
    done += put;
  }
  if (h != INVALID_HANDLE_VALUE) {
    ok = ok && FlushFileBuffers(h);
    ok = CloseHandle(h) && ok;
  }
  deadline = rm__os_now_ms() + RETRY_MS;
  while (ok && !MoveFileExW(tmp, path, MOVEFILE_REPLACE_EXISTING |
                                           MOVEFILE_WRITE_THROUGH)) {
    if (!transient(GetLastError()) || rm__os_now_ms() >= deadline) ok = 0;
    else Sleep(5);
  }
  if (!ok) DeleteFileW(tmp);
  free(tmp);
  free(path);
  return ok ? RM_OK : RM_ERROR_WRITE_FAULT;
}

uint32_t rm__os_store_append(rm__dir *d, const char *name, uint64_t offset,
                             const char *data, size_t len) {
  wchar_t *wname = rm__win_wide(name), *path;
  LARGE_INTEGER at, size;
  size_t done = 0;
  HANDLE h;
  int ok;
  path = wname ? join(d->path, wname) : NULL;
  free(wname);
  if (!path) return RM_ERROR_OUTOFMEMORY;
  h = open_retrying(path, GENERIC_WRITE | READ_CONTROL, OPEN_ALWAYS);
  free(path);
  if (h == INVALID_HANDLE_VALUE) return RM_ERROR_WRITE_FAULT;
  at.QuadPart = (LONGLONG)offset;
  ok = safe_handle(h) && GetFileSizeEx(h, &size) &&
       (uint64_t)size.QuadPart >= offset &&
       SetFilePointerEx(h, at, NULL, FILE_BEGIN) && SetEndOfFile(h);
  while (ok && done < len) {
    DWORD chunk = len - done > 0x40000000u ? 0x40000000u : (DWORD)(len - done);
    DWORD put = 0;
    ok = WriteFile(h, data + done, chunk, &put, NULL) && put > 0;
    done += put;
  }
  ok = ok && FlushFileBuffers(h);
  CloseHandle(h);
  return ok ? RM_OK : RM_ERROR_WRITE_FAULT;
}

uint32_t rm__os_store_remove(rm__dir *d, const char *name) {
  wchar_t *wname = rm__win_wide(name), *path;
  uint64_t deadline = rm__os_now_ms() + RETRY_MS;
  path = wname ? join(d->path, wname) : NULL;
  free(wname);
  if (!path) return RM_ERROR_OUTOFMEMORY;
  while (!DeleteFileW(path)) {
    DWORD err = GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) break;
    if (!transient(err) || rm__os_now_ms() >= deadline) {
      free(path);
      return RM_ERROR_WRITE_FAULT;
    }
    Sleep(5);
  }
  free(path);
  return RM_OK;
}

/* }===== */
