/* SPDX-License-Identifier: MIT */
/*
 * ident.c: identities of files and processes on Windows.
 *
 * A file is (volume serial number, file index), read through
 * NtQueryVolumeInformationFile and NtQueryInformationFile, which need no
 * access rights on the handle: the same two numbers GetFileInformation-
 * ByHandle reports, but also for handles duplicated from other processes
 * with whatever access they happened to have.  Files are opened with no
 * access at all, which no sharing mode can refuse.
 *
 * A process is (pid, creation FILETIME), the RM_UNIQUE_PROCESS pair.  When
 * the caller may not open a process, its creation time still comes from
 * the system process list, so identity never needs more rights than
 * listing processes does.
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <string.h>

#define STATUS_BUFFER_OVERFLOW ((rm__ntstatus)0x80000005L)

/* {===== Files */

int rm__win_handle_index(HANDLE h, uint64_t *ino) {
  rm__io_status io;
  LARGE_INTEGER index;
  const rm__ntdll *nt = rm__win_ntdll();
  if (!nt->query_information_file ||
      nt->query_information_file(h, &io, &index, sizeof index,
                                 6 /* FileInternalInformation */) < 0)
    return 0;
  *ino = (uint64_t)index.QuadPart;
  return 1;
}

int rm__win_handle_volume(HANDLE h, uint64_t *dev) {
  rm__io_status io;
  union {
    struct {
      LARGE_INTEGER created;
      ULONG serial;
    } v;
    unsigned char raw[512];          /* room for the volume label */
  } vol;
  const rm__ntdll *nt = rm__win_ntdll();
  rm__ntstatus st;
  if (!nt->query_volume_information_file) return 0;
  st = nt->query_volume_information_file(h, &io, &vol, sizeof vol,
                                         1 /* FileFsVolumeInformation */);
  if (st < 0 && st != STATUS_BUFFER_OVERFLOW) return 0;
  *dev = vol.v.serial;
  return 1;
}

int rm__win_handle_id(HANDLE h, rm__file_id *out) {
  return rm__win_handle_index(h, &out->ino) &&
         rm__win_handle_volume(h, &out->dev);
}

uint32_t rm__win_path_id(const wchar_t *path, rm__file_id *out, int *is_dir) {
  struct {
    LARGE_INTEGER allocation, end;
    ULONG links;
    BOOLEAN delete_pending, directory;
  } standard;
  rm__io_status io;
  HANDLE h = CreateFileW(path, 0,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
  int ok;
  if (h == INVALID_HANDLE_VALUE) return RM_ERROR_FILE_NOT_FOUND;
  ok = rm__win_handle_id(h, out);
  if (ok && is_dir) {
    *is_dir = 0;
    if (rm__win_ntdll()->query_information_file(
            h, &io, &standard, sizeof standard,
            5 /* FileStandardInformation */) >= 0)
      *is_dir = standard.directory != 0;
  }
  CloseHandle(h);
  return ok ? RM_OK : RM_ERROR_FILE_NOT_FOUND;
}

uint32_t rm__os_file_id(const char *path, rm__file_id *out) {
  wchar_t *w = rm__win_path(path);
  uint32_t rc;
  if (!w) return RM_ERROR_FILE_NOT_FOUND;
  rc = rm__win_path_id(w, out, NULL);
  free(w);
  return rc;
}

void rm__os_file_ids(const char *const *paths, size_t n, rm__file_id *ids) {
  size_t i;
  for (i = 0; i < n; i++)
    if (rm__os_file_id(paths[i], &ids[i]) != RM_OK) ids[i].dev = ids[i].ino = 0;
}

/* The subsystem field of the PE optional header: the same offset in PE32
 * and PE32+. */
int rm__win_image_is_console(const wchar_t *path) {
  unsigned char head[4096];
  DWORD got = 0;
  uint32_t pe;
  HANDLE h = CreateFileW(path, GENERIC_READ,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_EXISTING, 0, NULL);
  if (h == INVALID_HANDLE_VALUE) return 0;
  if (!ReadFile(h, head, sizeof head, &got, NULL)) got = 0;
  CloseHandle(h);
  if (got < 0x40 || head[0] != 'M' || head[1] != 'Z') return 0;
  memcpy(&pe, head + 0x3C, 4);
  if (pe >= sizeof head || pe + 4 + 20 + 70 > got ||
      memcmp(head + pe, "PE\0\0", 4) != 0)
    return 0;
  return head[pe + 4 + 20 + 68] == IMAGE_SUBSYSTEM_WINDOWS_CUI &&
         head[pe + 4 + 20 + 69] == 0;
}

/* }=====
 * {===== Processes */

int rm__win_process_start(HANDLE process, uint64_t *out) {
  FILETIME created, exited, kernel, user;
  if (!GetProcessTimes(process, &created, &exited, &kernel, &user)) return 0;
  *out = ((uint64_t)created.dwHighDateTime << 32) | created.dwLowDateTime;
  return 1;
}

/* 1 while the process runs.  Exit code 259 (STILL_ACTIVE) is ambiguous, so
 * a handle that can be waited on is asked that way. */
static int running(HANDLE process) {
  DWORD code;
  DWORD w = WaitForSingleObject(process, 0);
  if (w == WAIT_TIMEOUT) return 1;
  if (w == WAIT_OBJECT_0) return 0;
  return GetExitCodeProcess(process, &code) && code == STILL_ACTIVE;
}

static HANDLE open_process(uint32_t pid, DWORD access) {
  HANDLE h = OpenProcess(access | PROCESS_QUERY_LIMITED_INFORMATION |
                             SYNCHRONIZE, FALSE, pid);
  if (!h && GetLastError() == ERROR_ACCESS_DENIED)
    h = OpenProcess(access | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  return h;
}

HANDLE rm__win_open_identity(const rm_unique_process *p, DWORD access) {
  uint64_t start;
  HANDLE h;
  if (p->pid == 0) {
    SetLastError(ERROR_NOT_FOUND);
    return NULL;
  }
  h = open_process(p->pid, access);
  if (!h) return NULL;
  if (!running(h) || !rm__win_process_start(h, &start) ||
      start != p->start_time) {
    CloseHandle(h);
    SetLastError(ERROR_NOT_FOUND);
    return NULL;
  }
  return h;
}

/* Identity from the system process list, for processes the caller may not
 * open.  RM_OK or RM_ERROR_FILE_NOT_FOUND. */
static uint32_t listed_identity(uint32_t pid, rm_unique_process *out) {
  rm__win_procs procs;
  const rm__win_proc *p;
  uint32_t rc = rm__win_procs_snapshot(&procs);
  if (rc != RM_OK) return rc;
  p = rm__win_procs_find(&procs, pid);
  rc = RM_ERROR_FILE_NOT_FOUND;
  if (p) {
    out->pid = pid;
    out->start_time = p->start_time;
    rc = RM_OK;
  }
  rm__win_procs_free(&procs);
  return rc;
}

uint32_t rm__os_identity(uint32_t pid, rm_unique_process *out) {
  uint64_t start;
  int alive;
  HANDLE h;
  if (pid == 0) return RM_ERROR_FILE_NOT_FOUND;      /* the idle process */
  h = open_process(pid, 0);
  if (!h) {
    DWORD err = GetLastError();
    if (err == ERROR_ACCESS_DENIED) {
      uint32_t rc = listed_identity(pid, out);
      return rc == RM_ERROR_FILE_NOT_FOUND ? RM_ERROR_FILE_NOT_FOUND : rc;
    }
    return RM_ERROR_FILE_NOT_FOUND;
  }
  alive = running(h) && rm__win_process_start(h, &start);
  CloseHandle(h);
  if (!alive) return RM_ERROR_FILE_NOT_FOUND;
  out->pid = pid;
  out->start_time = start;
  return RM_OK;
}

const rm_unique_process *rm__win_self(void) {
  static rm_unique_process self;
  static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
  BOOL pending = FALSE;
  if (InitOnceBeginInitialize(&once, 0, &pending, NULL) && pending) {
    self.pid = GetCurrentProcessId();
    if (!rm__win_process_start(GetCurrentProcess(), &self.start_time))
      self.start_time = 0;
    InitOnceComplete(&once, 0, NULL);
  }
  return &self;
}

void rm__os_self(rm_unique_process *out) { *out = *rm__win_self(); }

int rm__os_alive(const rm_unique_process *p) {
  HANDLE h;
  rm_unique_process listed;
  if (p->pid == 0) return 0;
  h = rm__win_open_identity(p, 0);
  if (h) {
    CloseHandle(h);
    return 1;
  }
  if (GetLastError() != ERROR_ACCESS_DENIED) return 0;
  return listed_identity(p->pid, &listed) == RM_OK &&
         listed.start_time == p->start_time;
}

wchar_t *rm__win_image_path(HANDLE process) {
  DWORD cap = 512;
  for (;;) {
    wchar_t *buf = malloc((size_t)cap * sizeof *buf);
    DWORD n = cap;
    if (!buf) return NULL;
    if (QueryFullProcessImageNameW(process, 0, buf, &n)) return buf;
    free(buf);
    if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || cap >= 32768)
      return NULL;
    cap *= 4;
  }
}

/* }===== */
