/* SPDX-License-Identifier: MIT */
/*
 * scanfiles.c: the half of the Win32 scan that comes before processes
 * are inspected (see scan.h): the registered files' identities, sorted
 * for binary search; the kernel's own list of processes holding each
 * (FileProcessIdsUsingFileInformation, where the file system has it);
 * the system handle table, reduced to file handles sorted by pid; and the
 * path -> identity cache for module and image paths.
 *
 * Identities are compared in two steps: the file index first, and the
 * volume serial only when a registered file has that index
 * (rm__win_candidate_id).  Under Wine the volume query goes through the
 * mount manager in winedevice.exe (a request there and back, about 8
 * wineserver requests), and a list asked it for every module, view and
 * open file of every process: about a hundred times per scan.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* {===== Tables */

static int cmp_id(const rm__file_id *a, const rm__file_id *b) {
  if (a->dev != b->dev) return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino) return a->ino < b->ino ? -1 : 1;
  return 0;
}

static int by_id(const void *a, const void *b) {
  return cmp_id(&((const rm__win_reg *)a)->id, &((const rm__win_reg *)b)->id);
}

static int by_pid_file(const void *a, const void *b) {
  const rm__win_pid_file *x = a, *y = b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_pid_handle(const void *a, const void *b) {
  const rm__win_file_handle *x = a, *y = b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The first registered entry with this identity, or n_reg. */
static size_t find_reg(const rm__win_scan *s, const rm__file_id *id) {
  size_t lo = 0, hi = s->n_reg;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp_id(&s->reg[mid].id, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->n_reg && cmp_id(&s->reg[lo].id, id) == 0 ? lo : s->n_reg;
}

int rm__win_add_use(rm__win_uses *u, size_t file, uint32_t how) {
  size_t i;
  for (i = 0; i < u->n; i++)
    if (u->v[i].file == file) {
      u->v[i].how |= how;
      return 1;
    }
  if (u->n == u->cap) {
    size_t cap = u->cap ? u->cap * 2 : 4;
    rm__use *v = realloc(u->v, cap * sizeof *v);
    if (!v) return 0;
    u->v = v;
    u->cap = cap;
  }
  u->v[u->n].file = file;
  u->v[u->n].how = how;
  u->n++;
  return 1;
}

/* Records a use of every registered file with this identity. */
int rm__win_match(const rm__win_scan *s, const rm__file_id *id, uint32_t how,
                 rm__win_uses *u) {
  size_t i;
  for (i = find_reg(s, id); i < s->n_reg && cmp_id(&s->reg[i].id, id) == 0; i++)
    if (!rm__win_add_use(u, s->reg[i].file, how | s->reg[i].older)) return 0;
  return 1;
}

int rm__win_same_id(const rm__file_id *a, const rm__file_id *b) {
  return cmp_id(a, b) == 0;
}

/* }=====
 * {===== Path → identity, once per distinct path */

static size_t path_hash(const wchar_t *p) {
  size_t h = 2166136261u;
  for (; *p; p++) {
    wchar_t c = *p;
    if (c >= L'A' && c <= L'Z') c = (wchar_t)(c - L'A' + L'a');
    h = (h ^ (size_t)c) * 16777619u;
  }
  return h;
}

/* The path's slot in the cache, added (ID_UNSET) when new.  NULL when
 * out of memory. */
static rm__win_path_slot *slot_for(rm__win_scan *s, const wchar_t *path) {
  size_t i;
  if (s->cache_n * 2 >= s->cache_cap) {
    size_t cap = s->cache_cap ? s->cache_cap * 2 : 1024, k;
    rm__win_path_slot *v = calloc(cap, sizeof *v);
    if (!v) return NULL;
    for (k = 0; k < s->cache_cap; k++) {
      if (!s->cache[k].path) continue;
      i = path_hash(s->cache[k].path) & (cap - 1);
      while (v[i].path) i = (i + 1) & (cap - 1);
      v[i] = s->cache[k];
    }
    free(s->cache);
    s->cache = v;
    s->cache_cap = cap;
  }
  i = path_hash(path) & (s->cache_cap - 1);
  while (s->cache[i].path) {
    if (rm__win_ieq(s->cache[i].path, path)) return &s->cache[i];
    i = (i + 1) & (s->cache_cap - 1);
  }
  s->cache[i].path = _wcsdup(path);
  if (!s->cache[i].path) return NULL;
  s->cache[i].state = RM__WIN_ID_UNSET;
  s->cache_n++;
  return &s->cache[i];
}

int rm__win_cached_id(rm__win_scan *s, const wchar_t *path, rm__file_id *id) {
  rm__win_path_slot *slot = slot_for(s, path);
  if (!slot) return 0;
  if (slot->state == RM__WIN_ID_UNSET || slot->state == RM__WIN_ID_INDEX)
    slot->state = rm__win_path_id(path, &slot->id, NULL) == RM_OK
                      ? RM__WIN_ID_FULL : RM__WIN_ID_NONE;
  *id = slot->id;
  return slot->state == RM__WIN_ID_FULL;
}

/* 1 when a registered file has this file index. */
static int registered_index(const rm__win_scan *s, uint64_t ino) {
  size_t lo = 0, hi = s->n_reg;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->reg_ino[mid] < ino) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->n_reg && s->reg_ino[lo] == ino;
}

int rm__win_candidate_id(const rm__win_scan *s, HANDLE h, rm__file_id *id) {
  return rm__win_handle_index(h, &id->ino) && registered_index(s, id->ino) &&
         rm__win_handle_volume(h, &id->dev);
}

int rm__win_cached_candidate(rm__win_scan *s, const wchar_t *path,
                             rm__file_id *id) {
  rm__win_path_slot *slot = slot_for(s, path);
  if (!slot) return 0;
  if (slot->state == RM__WIN_ID_UNSET) {
    HANDLE h = CreateFileW(path, 0,
                           FILE_SHARE_READ | FILE_SHARE_WRITE |
                               FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
                           NULL);
    slot->state = RM__WIN_ID_NONE;
    if (h != INVALID_HANDLE_VALUE) {
      if (rm__win_handle_index(h, &slot->id.ino))
        slot->state = !registered_index(s, slot->id.ino) ? RM__WIN_ID_INDEX
                      : rm__win_handle_volume(h, &slot->id.dev)
                          ? RM__WIN_ID_FULL : RM__WIN_ID_NONE;
      CloseHandle(h);
    }
  }
  *id = slot->id;
  return slot->state == RM__WIN_ID_FULL && registered_index(s, slot->id.ino);
}

/* An NT path from GetMappedFileName ("\Device\HarddiskVolume2\x", or
 * "\??\C:\x" under Wine) as a path CreateFileW opens.  malloc'd. */
wchar_t *rm__win_nt_to_win32(const wchar_t *nt) {
  size_t n = wcslen(nt);
  wchar_t *p = malloc((n + 16) * sizeof *p);
  if (!p) return NULL;
  if (wcsncmp(nt, L"\\??\\", 4) == 0) {
    wcscpy(p, L"\\\\?\\");
    wcscat(p, nt + 4);
  } else if (wcsncmp(nt, L"\\Device\\", 8) == 0) {
    wcscpy(p, L"\\\\?\\GLOBALROOT");
    wcscat(p, nt);
  } else {
    wcscpy(p, nt);
  }
  return p;
}

/* }=====
 * {===== The registered files */

#define FILE_PROCESS_IDS_USING_FILE 47

/* Asks the file system which processes have the file open (Windows 7 and
 * later; Wine does not implement it, and then this adds nothing). */
static int add_holders(rm__win_scan *s, HANDLE h, size_t file, uint32_t how) {
  rm__nt_query_file_fn query = rm__win_ntdll()->query_information_file;
  rm__io_status io;
  ULONG_PTR *buf = NULL;
  ULONG size = 4096;
  LONG st;
  size_t i, count;
  if (!query) return 1;
  for (;;) {
    free(buf);
    buf = malloc(size);
    if (!buf) return 0;
    st = query(h, &io, buf, size, FILE_PROCESS_IDS_USING_FILE);
    if (st != (LONG)0xC0000004L || size >= (1u << 24)) break;
    size *= 4;                               /* STATUS_INFO_LENGTH_MISMATCH */
  }
  if (st < 0) {
    free(buf);
    return 1;
  }
  count = (size_t)(ULONG)buf[0];
  if (count > size / sizeof *buf - 1) count = size / sizeof *buf - 1;
  for (i = 0; i < count; i++) {
    rm__win_pid_file *v = realloc(s->holders, (s->n_holders + 1) * sizeof *v);
    if (!v) {
      free(buf);
      return 0;
    }
    s->holders = v;
    s->holders[s->n_holders].pid = (uint32_t)buf[1 + i];
    s->holders[s->n_holders].file = file;
    s->holders[s->n_holders].how = how;
    s->n_holders++;
  }
  free(buf);
  return 1;
}

/* s->reg has room for two entries per registered file. */
static void add_reg(rm__win_scan *s, const rm__file_id *id, size_t file,
                    uint32_t older) {
  s->reg[s->n_reg].id = *id;
  s->reg[s->n_reg].file = file;
  s->reg[s->n_reg].older = older;
  s->n_reg++;
}

/* The file a registration named, opened by its file index for the
 * kernel's list of its users: a file replaced at a path (by rename, as
 * installers do) lives on, under another name or none, on the volume of
 * the directory that held it, so that directory is the volume hint
 * OpenFileById needs.  What opens is checked to be that identity. */
static HANDLE open_by_id(const wchar_t *path, const rm__file_id *id) {
  wchar_t *dir = _wcsdup(path);
  HANDLE d, h = INVALID_HANDLE_VALUE;
  rm__file_id got;
  FILE_ID_DESCRIPTOR fid;
  size_t n;
  if (!dir) return h;
  n = (size_t)(rm__win_basename(dir) - dir);
  dir[n] = 0;                                 /* keeps the last "\" */
  d = n ? CreateFileW(dir, 0,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL)
        : INVALID_HANDLE_VALUE;
  free(dir);
  if (d == INVALID_HANDLE_VALUE) return h;
  if (rm__win_handle_id(d, &got) && got.dev == id->dev) {
    memset(&fid, 0, sizeof fid);
    fid.dwSize = sizeof fid;
    fid.Type = FileIdType;
    fid.FileId.QuadPart = (LONGLONG)id->ino;
    h = OpenFileById(d, &fid, FILE_READ_ATTRIBUTES,
                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                     NULL, FILE_FLAG_BACKUP_SEMANTICS);
    if (h != INVALID_HANDLE_VALUE &&
        (!rm__win_handle_id(h, &got) || cmp_id(&got, id) != 0)) {
      CloseHandle(h);
      h = INVALID_HANDLE_VALUE;
    }
  }
  CloseHandle(d);
  return h;
}

/* One registered file: the file its path names now, read in the view it
 * was registered in (docs/windows.md, "Registration in the registrant's
 * view"), and the file it named when registered where that is another
 * (RM_USE_OLDER_INODE), each with the kernel's list of its users.
 * RM_OK, RM_ERROR_ACCESS_DENIED (a directory), RM_ERROR_OUTOFMEMORY. */
static uint32_t load_one(rm__win_scan *s, size_t i) {
  const rm__scan_input *in = s->in;
  uint32_t view = in->file_views ? in->file_views[i] : RM_WIN_VIEW_NATIVE;
  const rm__file_id *then = in->file_ids ? &in->file_ids[i] : NULL;
  wchar_t *named = rm__win_path(in->files[i]), *path = NULL;
  rm__file_id now;
  int exists = 0, dir = 0, ok = 1;
  uint32_t rc;
  HANDLE h;
  if (!named) return RM_OK;                   /* not UTF-8: matches nothing */
  rc = rm__win_path_in_view(named, view, &path);
  if (rc == RM_ERROR_OUTOFMEMORY) {
    free(named);
    return rc;
  }
  if (path) exists = rm__win_path_id(path, &now, &dir) == RM_OK;
  if (exists && dir) {
    free(named);
    free(path);
    return RM_ERROR_ACCESS_DENIED;
  }
  if (exists) {
    add_reg(s, &now, i, 0);
    h = CreateFileW(path, FILE_READ_ATTRIBUTES,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h != INVALID_HANDLE_VALUE)
      ok = add_holders(s, h, i, RM_USE_OPEN_FILE);
    if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
  }
  if (ok && then && (then->dev || then->ino) &&
      !(exists && cmp_id(then, &now) == 0)) {
    add_reg(s, then, i, RM_USE_OLDER_INODE);
    h = open_by_id(path ? path : named, then);
    if (h != INVALID_HANDLE_VALUE) {
      ok = add_holders(s, h, i, RM_USE_OPEN_FILE | RM_USE_OLDER_INODE);
      CloseHandle(h);
    }
  }
  free(named);
  free(path);
  return ok ? RM_OK : RM_ERROR_OUTOFMEMORY;
}

static int by_ino(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The registered files' indexes, sorted (rm__win_candidate_id). */
static uint32_t index_registered(rm__win_scan *s) {
  size_t i;
  s->reg_ino = malloc((s->n_reg + 1) * sizeof *s->reg_ino);
  if (!s->reg_ino) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < s->n_reg; i++) s->reg_ino[i] = s->reg[i].id.ino;
  qsort(s->reg_ino, s->n_reg, sizeof *s->reg_ino, by_ino);
  return RM_OK;
}

/* Identities of the registered files.  RM_ERROR_ACCESS_DENIED for a
 * directory; missing files match nothing. */
uint32_t rm__win_load_registered(rm__win_scan *s) {
  size_t i;
  uint32_t rc = RM_OK;
  s->reg = malloc((2 * s->in->n_files + 1) * sizeof *s->reg);
  if (!s->reg) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < s->in->n_files && rc == RM_OK; i++) rc = load_one(s, i);
  if (rc != RM_OK) return rc;
  qsort(s->reg, s->n_reg, sizeof *s->reg, by_id);
  qsort(s->holders, s->n_holders, sizeof *s->holders, by_pid_file);
  return index_registered(s);
}

/* }=====
 * {===== The system handle table */

/* SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX and its table. */
typedef struct sys_handle {
  void *object;
  ULONG_PTR pid;
  ULONG_PTR value;
  ULONG access;
  USHORT backtrace;
  USHORT type;
  ULONG attributes;
  ULONG reserved;
} sys_handle;

typedef struct sys_handles {
  ULONG_PTR count;
  ULONG_PTR reserved;
  sys_handle h[1];
} sys_handles;

#define SYSTEM_EXTENDED_HANDLE_INFORMATION 64

/* Keeps the file handles of the table, sorted by pid.  The object type
 * number of files is learnt from a handle this function opens itself. */
uint32_t rm__win_load_handles(rm__win_scan *s) {
  wchar_t self_path[MAX_PATH + 1];
  void *buf = NULL;
  ULONG len = 0;
  sys_handles *t;
  HANDLE probe;
  ULONG_PTR i, count;
  USHORT file_type = 0;
  int type_known = 0;
  DWORD self = GetCurrentProcessId();

  if (!GetModuleFileNameW(NULL, self_path, MAX_PATH)) return RM_OK;
  self_path[MAX_PATH] = 0;
  probe = CreateFileW(self_path, 0,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      NULL, OPEN_EXISTING, 0, NULL);
  if (probe == INVALID_HANDLE_VALUE) return RM_OK;
  if (rm__win_query_system(SYSTEM_EXTENDED_HANDLE_INFORMATION, &buf,
                           &len) < 0) {
    CloseHandle(probe);
    free(buf);
    return RM_OK;                      /* no handle table: modules only */
  }
  t = buf;
  count = t->count;
  if (count > (len - 2 * sizeof(ULONG_PTR)) / sizeof(sys_handle))
    count = (len - 2 * sizeof(ULONG_PTR)) / sizeof(sys_handle);
  for (i = 0; i < count; i++)
    if (t->h[i].pid == self && t->h[i].value == (ULONG_PTR)probe) {
      file_type = t->h[i].type;
      type_known = 1;
      break;
    }
  if (type_known) {
    s->handles = malloc((count + 1) * sizeof *s->handles);
    if (!s->handles) {
      CloseHandle(probe);
      free(buf);
      return RM_ERROR_OUTOFMEMORY;
    }
    for (i = 0; i < count; i++) {
      const sys_handle *e = &t->h[i];
      if (e->type != file_type || e->pid == 0) continue;
      if (e->pid == self && e->value == (ULONG_PTR)probe) continue;
      s->handles[s->n_handles].pid = (uint32_t)e->pid;
      s->handles[s->n_handles].value = e->value;
      s->n_handles++;
    }
    qsort(s->handles, s->n_handles, sizeof *s->handles, by_pid_handle);
  }
  CloseHandle(probe);
  free(buf);
  return RM_OK;
}

/* }===== */
