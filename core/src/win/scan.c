/*
 * scan.c: rm__os_scan on Windows: who uses the registered files, processes
 * and services.
 *
 * A process uses a registered file when the file is its executable image,
 * one of its loaded modules, a file it has mapped (MEM_MAPPED views), or a
 * file it holds an open handle to.  Everything is compared by file
 * identity (volume serial, file index) through a sorted table of the
 * registered files' identities, never by path text: a module path is only
 * opened to learn its identity, once per distinct path per scan.
 *
 * Where each comes from:
 *  - processes, their creation times and sessions: the system process list
 *    (procs.c), so identity needs no rights on the process;
 *  - image, modules and mapped views: QueryFullProcessImageName,
 *    EnumProcessModulesEx and VirtualQueryEx/GetMappedFileName on the
 *    process (PROCESS_QUERY_INFORMATION | PROCESS_VM_READ);
 *  - open handles: the system handle table (NtQuerySystemInformation,
 *    SystemExtendedHandleInformation); each file handle of an inspected
 *    process is duplicated, and only disk files (GetFileType) are asked
 *    for their identity, so pipes, whose queries can block, are never
 *    touched;
 *  - where the file system supports it (Windows, not Wine), the kernel's
 *    own list of processes that have a registered file open
 *    (FileProcessIdsUsingFileInformation), which also covers processes the
 *    caller may not inspect: those are reported, and classify.c gives them
 *    PERMISSION_DENIED.
 * A process the caller cannot inspect and that the kernel list does not
 * name is not reported: nothing says it uses the files.
 *
 * Registered processes are affected while alive with the registered start
 * time; registered services while the SCM reports them running.  A
 * process hosting services gives one record per service (classify.c).
 */
#define _GNU_SOURCE
#include "win.h"

#include <psapi.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* {===== Tables */

typedef struct reg_entry {
  rm__file_id id;
  size_t file;                     /* index into rm__scan_input.files */
} reg_entry;

typedef struct pid_file {
  uint32_t pid;
  size_t file;
} pid_file;

typedef struct file_handle {
  uint32_t pid;
  ULONG_PTR value;
} file_handle;

typedef struct path_slot {
  wchar_t *path;                   /* NULL: empty slot */
  rm__file_id id;
  int ok;
} path_slot;

typedef struct use_list {
  rm__use *v;
  size_t n, cap;
} use_list;

typedef struct scan {
  const rm__scan_input *in;
  reg_entry *reg;
  size_t n_reg;
  pid_file *holders;               /* from the kernel's per-file lists */
  size_t n_holders;
  file_handle *handles;            /* file handles, sorted by pid */
  size_t n_handles;
  path_slot *cache;
  size_t cache_cap, cache_n;
  rm__win_procs procs;
  rm__win_services services;
  rm__win_context ctx;
  rm__found *found;
  size_t n_found, cap_found;
} scan;

static int cmp_id(const rm__file_id *a, const rm__file_id *b) {
  if (a->dev != b->dev) return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino) return a->ino < b->ino ? -1 : 1;
  return 0;
}

static int by_id(const void *a, const void *b) {
  return cmp_id(&((const reg_entry *)a)->id, &((const reg_entry *)b)->id);
}

static int by_pid_file(const void *a, const void *b) {
  const pid_file *x = a, *y = b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_pid_handle(const void *a, const void *b) {
  const file_handle *x = a, *y = b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The first registered entry with this identity, or n_reg. */
static size_t find_reg(const scan *s, const rm__file_id *id) {
  size_t lo = 0, hi = s->n_reg;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp_id(&s->reg[mid].id, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->n_reg && cmp_id(&s->reg[lo].id, id) == 0 ? lo : s->n_reg;
}

static int add_use(use_list *u, size_t file, uint32_t how) {
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
static int match(const scan *s, const rm__file_id *id, uint32_t how,
                 use_list *u) {
  size_t i;
  for (i = find_reg(s, id); i < s->n_reg && cmp_id(&s->reg[i].id, id) == 0; i++)
    if (!add_use(u, s->reg[i].file, how)) return 0;
  return 1;
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

/* The identity of the file at path through the cache.  1 when known. */
static int path_id(scan *s, const wchar_t *path, rm__file_id *id) {
  size_t i;
  if (s->cache_n * 2 >= s->cache_cap) {
    size_t cap = s->cache_cap ? s->cache_cap * 2 : 1024, k;
    path_slot *v = calloc(cap, sizeof *v);
    if (!v) return 0;
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
    if (rm__win_ieq(s->cache[i].path, path)) {
      *id = s->cache[i].id;
      return s->cache[i].ok;
    }
    i = (i + 1) & (s->cache_cap - 1);
  }
  s->cache[i].path = _wcsdup(path);
  if (!s->cache[i].path) return 0;
  s->cache[i].ok = rm__win_path_id(path, &s->cache[i].id, NULL) == RM_OK;
  s->cache_n++;
  *id = s->cache[i].id;
  return s->cache[i].ok;
}

/* An NT path from GetMappedFileName ("\Device\HarddiskVolume2\x", or
 * "\??\C:\x" under Wine) as a path CreateFileW opens.  malloc'd. */
static wchar_t *win32_path(const wchar_t *nt) {
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
static int add_holders(scan *s, HANDLE h, size_t file) {
  typedef LONG (NTAPI *query_fn)(HANDLE, void *, void *, ULONG, int);
  static query_fn query;
  struct {
    ULONG_PTR status_pointer, information;
  } io;
  ULONG_PTR *buf = NULL;
  ULONG size = 4096;
  LONG st;
  size_t i, count;
  if (!query)
    query = (query_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationFile");
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
    pid_file *v = realloc(s->holders, (s->n_holders + 1) * sizeof *v);
    if (!v) {
      free(buf);
      return 0;
    }
    s->holders = v;
    s->holders[s->n_holders].pid = (uint32_t)buf[1 + i];
    s->holders[s->n_holders].file = file;
    s->n_holders++;
  }
  free(buf);
  return 1;
}

/* Identities of the registered files.  RM_ERROR_ACCESS_DENIED for a
 * directory; missing files match nothing. */
static uint32_t load_registered(scan *s) {
  size_t i;
  s->reg = calloc(s->in->n_files + 1, sizeof *s->reg);
  if (!s->reg) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < s->in->n_files; i++) {
    wchar_t *path = rm__win_path(s->in->files[i]);
    rm__file_id id;
    int dir = 0;
    HANDLE h;
    if (!path) continue;
    if (rm__win_path_id(path, &id, &dir) != RM_OK) {
      free(path);
      continue;
    }
    if (dir) {
      free(path);
      return RM_ERROR_ACCESS_DENIED;
    }
    s->reg[s->n_reg].id = id;
    s->reg[s->n_reg].file = i;
    s->n_reg++;
    h = CreateFileW(path, FILE_READ_ATTRIBUTES,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(path);
    if (h != INVALID_HANDLE_VALUE) {
      int ok = add_holders(s, h, i);
      CloseHandle(h);
      if (!ok) return RM_ERROR_OUTOFMEMORY;
    }
  }
  qsort(s->reg, s->n_reg, sizeof *s->reg, by_id);
  qsort(s->holders, s->n_holders, sizeof *s->holders, by_pid_file);
  return RM_OK;
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
static uint32_t load_handles(scan *s) {
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
  if (rm__win_query_system(SYSTEM_EXTENDED_HANDLE_INFORMATION, &buf, &len) < 0) {
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

/* }=====
 * {===== One process */

static int scan_handles(scan *s, HANDLE process, uint32_t pid, use_list *u) {
  size_t lo = 0, hi = s->n_handles, i;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->handles[mid].pid < pid) lo = mid + 1;
    else hi = mid;
  }
  for (i = lo; i < s->n_handles && s->handles[i].pid == pid; i++) {
    HANDLE dup;
    rm__file_id id;
    int ok;
    if (!DuplicateHandle(process, (HANDLE)s->handles[i].value,
                         GetCurrentProcess(), &dup, 0, FALSE,
                         DUPLICATE_SAME_ACCESS))
      continue;
    ok = GetFileType(dup) != FILE_TYPE_DISK || !rm__win_handle_id(dup, &id) ||
         match(s, &id, RM_USE_OPEN_FILE, u);
    CloseHandle(dup);
    if (!ok) return 0;
  }
  return 1;
}

static int scan_modules(scan *s, HANDLE process, const rm__found *f,
                        use_list *u) {
  HMODULE small[256], *mods = small;
  DWORD need = 0, n, i;
  wchar_t *path = malloc(32768 * sizeof *path);
  int ok = 1;
  if (!path) return 0;
  if (!EnumProcessModulesEx(process, small, sizeof small, &need,
                            LIST_MODULES_ALL)) {
    free(path);
    return 1;
  }
  if (need > sizeof small) {
    mods = malloc(need);
    if (!mods ||
        !EnumProcessModulesEx(process, mods, need, &need, LIST_MODULES_ALL)) {
      ok = mods != NULL;               /* a failed listing finds nothing */
      free(mods);
      free(path);
      return ok;
    }
  }
  n = need / sizeof *mods;
  for (i = 0; i < n && ok; i++) {
    rm__file_id id;
    if (!GetModuleFileNameExW(process, mods[i], path, 32768)) continue;
    if (!path_id(s, path, &id)) continue;
    ok = match(s, &id,
               f->has_exe && cmp_id(&id, &f->exe) == 0 ? RM_USE_EXECUTABLE
                                                       : RM_USE_MAPPING,
               u);
  }
  if (mods != small) free(mods);
  free(path);
  return ok;
}

/* Files mapped as data (MEM_MAPPED views), one query per view. */
static int scan_views(scan *s, HANDLE process, use_list *u) {
  MEMORY_BASIC_INFORMATION mbi;
  unsigned char *addr = NULL;
  wchar_t *nt = malloc(32768 * sizeof *nt);
  int ok = 1;
  if (!nt) return 0;
  while (ok && VirtualQueryEx(process, addr, &mbi, sizeof mbi) == sizeof mbi) {
    unsigned char *next = (unsigned char *)mbi.BaseAddress + mbi.RegionSize;
    if (mbi.Type == MEM_MAPPED && mbi.BaseAddress == mbi.AllocationBase &&
        GetMappedFileNameW(process, mbi.BaseAddress, nt, 32768)) {
      wchar_t *path = win32_path(nt);
      rm__file_id id;
      if (!path) ok = 0;
      else if (path_id(s, path, &id)) ok = match(s, &id, RM_USE_MAPPING, u);
      free(path);
    }
    if (next <= addr) break;
    addr = next;
  }
  free(nt);
  return ok;
}

/* What a process holds of the registered files.  0 when out of memory. */
static int inspect(scan *s, const rm__win_proc *p, rm__found *f, use_list *u) {
  DWORD access = PROCESS_QUERY_INFORMATION | PROCESS_VM_READ;
  uint64_t start;
  wchar_t *image;
  int ok = 1, full = 1;
  HANDLE h = OpenProcess(access | (s->n_handles ? PROCESS_DUP_HANDLE : 0),
                         FALSE, p->pid);
  if (!h) h = OpenProcess(access, FALSE, p->pid);
  if (!h) {
    full = 0;
    h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, p->pid);
  }
  if (!h) return 1;
  if (!rm__win_process_start(h, &start) || start != p->start_time) {
    CloseHandle(h);                     /* the pid was reused meanwhile */
    return 1;
  }
  image = rm__win_image_path(h);
  if (image && path_id(s, image, &f->exe)) {
    f->has_exe = 1;
    ok = match(s, &f->exe, RM_USE_EXECUTABLE, u);
  }
  free(image);
  if (ok && full) ok = scan_modules(s, h, f, u) && scan_views(s, h, u);
  if (ok && s->n_handles) ok = scan_handles(s, h, p->pid, u);
  CloseHandle(h);
  return ok;
}

/* }=====
 * {===== Records */

static rm__found *find_record(scan *s, uint32_t pid, const char *svc) {
  size_t i;
  for (i = 0; i < s->n_found; i++)
    if (s->found[i].info.process.pid == pid &&
        strcmp(s->found[i].info.service_short_name, svc) == 0)
      return &s->found[i];
  return NULL;
}

/* Adds (or merges into) the record of a process, or of one service it
 * hosts. */
static int add_record(scan *s, const rm__found *proto, const use_list *u,
                      const rm__win_service *svc) {
  rm__found f = *proto, *have;
  size_t k;
  f.uses = NULL;
  f.n_uses = 0;
  rm__win_classify(&s->ctx, &f, svc);
  have = find_record(s, f.info.process.pid, f.info.service_short_name);
  if (!have) {
    if (s->n_found == s->cap_found) {
      size_t cap = s->cap_found ? s->cap_found * 2 : 16;
      rm__found *v = realloc(s->found, cap * sizeof *v);
      if (!v) return 0;
      s->found = v;
      s->cap_found = cap;
    }
    have = &s->found[s->n_found++];
    *have = f;
  }
  have->registered |= proto->registered;
  for (k = 0; k < u->n; k++) {
    use_list l;
    l.v = have->uses;
    l.n = have->n_uses;
    l.cap = have->n_uses;
    if (!add_use(&l, u->v[k].file, u->v[k].how)) return 0;
    have->uses = l.v;
    have->n_uses = l.n;
  }
  return 1;
}

/* A record per hosted service, or one for the process. */
static int add_process(scan *s, const rm__found *proto, const use_list *u) {
  size_t i;
  int hosts = 0;
  for (i = 0; i < s->services.n; i++) {
    const rm__win_service *svc = &s->services.v[i];
    if (svc->pid != proto->info.process.pid) continue;
    hosts = 1;
    if (!add_record(s, proto, u, svc)) return 0;
  }
  return hosts || add_record(s, proto, u, NULL);
}

static int is_registered(const rm__scan_input *in, const rm__win_proc *p) {
  size_t i;
  for (i = 0; i < in->n_procs; i++)
    if (in->procs[i].pid == p->pid && in->procs[i].start_time == p->start_time)
      return 1;
  return 0;
}

static int scan_processes(scan *s) {
  size_t i, k;
  for (i = 0; i < s->procs.n; i++) {
    const rm__win_proc *p = &s->procs.v[i];
    rm__found proto;
    use_list u;
    int ok = 1;
    if (s->in->cancel && *s->in->cancel) return -1;
    if (p->pid == 0) continue;
    memset(&proto, 0, sizeof proto);
    memset(&u, 0, sizeof u);
    proto.info.process.pid = p->pid;
    proto.info.process.start_time = p->start_time;
    proto.registered = is_registered(s->in, p);
    if (s->n_reg) ok = inspect(s, p, &proto, &u);
    for (k = 0; ok && k < s->n_holders; k++)
      if (s->holders[k].pid == p->pid)
        ok = add_use(&u, s->holders[k].file, RM_USE_OPEN_FILE);
    if (ok && (u.n || proto.registered)) ok = add_process(s, &proto, &u);
    free(u.v);
    if (!ok) return 0;
  }
  return 1;
}

/* Registered services that run, by name (without case). */
static int scan_services(scan *s) {
  size_t i, k;
  for (i = 0; i < s->in->n_services; i++) {
    wchar_t *name = rm__win_wide(s->in->services[i]);
    if (!name) return 0;
    for (k = 0; k < s->services.n; k++) {
      const rm__win_service *svc = &s->services.v[k];
      const rm__win_proc *p;
      rm__found proto;
      use_list none;
      if (svc->pid == 0 || !rm__win_ieq(svc->name, name)) continue;
      p = rm__win_procs_find(&s->procs, svc->pid);
      if (!p) continue;
      memset(&proto, 0, sizeof proto);
      memset(&none, 0, sizeof none);
      proto.info.process.pid = p->pid;
      proto.info.process.start_time = p->start_time;
      proto.registered = 1;
      if (!add_record(s, &proto, &none, svc)) {
        free(name);
        return 0;
      }
    }
    free(name);
  }
  return 1;
}

/* }===== */

static void scan_free(scan *s) {
  size_t i;
  free(s->reg);
  free(s->holders);
  free(s->handles);
  for (i = 0; i < s->cache_cap; i++) free(s->cache[i].path);
  free(s->cache);
  rm__win_procs_free(&s->procs);
  rm__win_services_free(&s->services);
  rm__win_context_free(&s->ctx);
}

uint32_t rm__os_scan(const rm__scan_input *in, rm__found **out, size_t *n_out) {
  scan s;
  DWORD session;
  uint32_t rc;
  int ok;

  memset(&s, 0, sizeof s);
  s.in = in;
  rc = load_registered(&s);
  if (rc == RM_OK) rc = rm__win_procs_snapshot(&s.procs);
  if (rc == RM_OK) rc = rm__win_services_snapshot(&s.services);
  if (rc == RM_OK) rc = rm__win_context_windows(&s.ctx);
  if (rc == RM_OK && s.n_reg) rc = load_handles(&s);
  if (rc != RM_OK) {
    scan_free(&s);
    return rc;
  }
  s.ctx.procs = &s.procs;
  s.ctx.services = &s.services;
  s.ctx.self_session = ProcessIdToSessionId(GetCurrentProcessId(), &session)
                           ? session : RM_INVALID_SESSION_ID;
  ok = scan_processes(&s);
  if (ok > 0) ok = scan_services(&s);
  scan_free(&s);
  if (ok <= 0) {
    rm__found_free(s.found, s.n_found);
    return ok < 0 ? RM_ERROR_CANCELLED : RM_ERROR_OUTOFMEMORY;
  }
  *out = s.found;
  *n_out = s.n_found;
  return RM_OK;
}
