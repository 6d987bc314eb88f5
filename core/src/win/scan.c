/* SPDX-License-Identifier: MIT */
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
 *    process (PROCESS_QUERY_INFORMATION | PROCESS_VM_READ); each module
 *    is named by the file the system mapped at its base
 *    (GetMappedFileName: one request, where GetModuleFileNameEx walks the
 *    target's loader list from its head for every module, reads that grow
 *    with the square of the modules); the views are walked ahead of the
 *    scan, a few processes at a time (scanviews.c);
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
 * What is prepared before processes are inspected is in scanfiles.c.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <psapi.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* {===== One process: handles and modules */

static int scan_handles(rm__win_scan *s, HANDLE process, uint32_t pid,
                        rm__win_uses *u) {
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
    ok = GetFileType(dup) != FILE_TYPE_DISK ||
         !rm__win_candidate_id(s, dup, &id) ||
         rm__win_match(s, &id, RM_USE_OPEN_FILE, u);
    CloseHandle(dup);
    if (!ok) return 0;
  }
  return 1;
}

/* A module's mapped file name is the real file's NT path.  A path from
 * the loader list (the fallback) is as the target sees it: a 32-bit
 * target's System32 is SysWOW64 (rm__win_in_caller_view). */
static int scan_modules(rm__win_scan *s, HANDLE process, const rm__found *f,
                        rm__win_uses *u) {
  HMODULE small[256], *mods = small;
  DWORD need = 0, n, i;
  wchar_t *path = malloc(32768 * sizeof *path);
  BOOL wow64 = FALSE;
  int ok = 1;
  if (!path) return 0;
  if (!IsWow64Process(process, &wow64)) wow64 = FALSE;
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
    wchar_t *mine;
    int known;
    if (GetMappedFileNameW(process, mods[i], path, 32768)) {
      wchar_t *win32 = rm__win_nt_to_win32(path);   /* the real file */
      mine = win32 ? rm__win_in_caller_view(win32, 0) : NULL;
      free(win32);
    } else if (GetModuleFileNameExW(process, mods[i], path, 32768)) {
      mine = rm__win_in_caller_view(path, wow64);
    } else {
      continue;
    }
    if (!mine) {
      ok = 0;
      break;
    }
    known = rm__win_cached_candidate(s, mine, &id);
    free(mine);
    if (!known) continue;
    ok = rm__win_match(s, &id,
               f->has_exe && rm__win_same_id(&id, &f->exe) ? RM_USE_EXECUTABLE
                                                       : RM_USE_MAPPING,
               u);
  }
  if (mods != small) free(mods);
  free(path);
  return ok;
}

/* }=====
 * {===== One process */

/* What a process holds of the registered files.  0 when out of memory. */
static int inspect(rm__win_scan *s, size_t i, rm__found *f, rm__win_uses *u) {
  const rm__win_proc *p = &s->procs.v[i];
  DWORD access = PROCESS_QUERY_INFORMATION | PROCESS_VM_READ;
  uint64_t start;
  wchar_t *image;
  DWORD code;
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
  if (GetExitCodeProcess(h, &code) && code != STILL_ACTIVE) {
    CloseHandle(h);                     /* exited meanwhile */
    return 1;
  }
  image = rm__win_image_path(h);
  if (image) {               /* the image path is native: in our view */
    wchar_t *mine = rm__win_in_caller_view(image, 0);
    free(image);
    image = mine;
  }
  if (image && rm__win_cached_id(s, image, &f->exe)) {
    f->has_exe = 1;
    ok = rm__win_match(s, &f->exe, RM_USE_EXECUTABLE, u);
  }
  free(image);
  if (ok && full) ok = scan_modules(s, h, f, u);
  if (ok && full) ok = rm__win_walk_match(s, i, u);
  if (ok && s->n_handles) ok = scan_handles(s, h, p->pid, u);
  CloseHandle(h);
  return ok;
}

/* }=====
 * {===== Records */

static rm__found *find_record(rm__win_scan *s, uint32_t pid, const char *svc) {
  size_t i;
  for (i = 0; i < s->n_found; i++)
    if (s->found[i].info.process.pid == pid &&
        strcmp(s->found[i].info.service_short_name, svc) == 0)
      return &s->found[i];
  return NULL;
}

/* Adds (or merges into) the record of a process, or of one service it
 * hosts. */
static int add_record(rm__win_scan *s, const rm__found *proto,
                      const rm__win_uses *u, const rm__win_service *svc) {
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
    rm__win_uses l;
    l.v = have->uses;
    l.n = have->n_uses;
    l.cap = have->n_uses;
    if (!rm__win_add_use(&l, u->v[k].file, u->v[k].how)) return 0;
    have->uses = l.v;
    have->n_uses = l.n;
  }
  return 1;
}

/* A record per hosted service, or one for the process. */
static int add_process(rm__win_scan *s, const rm__found *proto,
                       const rm__win_uses *u) {
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

static int scan_processes(rm__win_scan *s) {
  size_t i, k;
  for (i = 0; i < s->procs.n; i++) {
    const rm__win_proc *p = &s->procs.v[i];
    rm__found proto;
    rm__win_uses u;
    int ok = 1;
    if (s->in->cancel && *s->in->cancel) return -1;
    if (p->pid == 0) continue;
    memset(&proto, 0, sizeof proto);
    memset(&u, 0, sizeof u);
    proto.info.process.pid = p->pid;
    proto.info.process.start_time = p->start_time;
    proto.registered = is_registered(s->in, p);
    if (s->n_reg) ok = inspect(s, i, &proto, &u);
    rm__win_walks_skip(s, i);
    for (k = 0; ok && k < s->n_holders; k++)
      if (s->holders[k].pid == p->pid)
        ok = rm__win_add_use(&u, s->holders[k].file, s->holders[k].how);
    if (ok && (u.n || proto.registered)) ok = add_process(s, &proto, &u);
    free(u.v);
    if (!ok) return 0;
  }
  return 1;
}

/* Registered services that run, by name (without case). */
static int scan_services(rm__win_scan *s) {
  size_t i, k;
  for (i = 0; i < s->in->n_services; i++) {
    wchar_t *name = rm__win_wide(s->in->services[i]);
    if (!name) return 0;
    for (k = 0; k < s->services.n; k++) {
      const rm__win_service *svc = &s->services.v[k];
      const rm__win_proc *p;
      rm__found proto;
      rm__win_uses none;
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

static void scan_free(rm__win_scan *s) {
  size_t i;
  free(s->reg);
  free(s->reg_ino);
  free(s->holders);
  free(s->handles);
  for (i = 0; i < s->cache_cap; i++) free(s->cache[i].path);
  free(s->cache);
  rm__win_walks_free(s);
  rm__win_procs_free(&s->procs);
  rm__win_services_free(&s->services);
  rm__win_context_free(&s->ctx);
}

uint32_t rm__os_scan(const rm__scan_input *in, rm__found **out, size_t *n_out) {
  rm__win_scan s;
  DWORD session;
  uint32_t rc;
  int ok;

  memset(&s, 0, sizeof s);
  s.in = in;
  rc = rm__win_load_registered(&s);
  if (rc == RM_OK) rc = rm__win_procs_snapshot(&s.procs);
  /* The walks first: they run while the rest is prepared. */
  if (rc == RM_OK && s.n_reg) rc = rm__win_walks_start(&s);
  if (rc == RM_OK) rc = rm__win_services_snapshot(&s.services);
  if (rc == RM_OK) rc = rm__win_context_windows(&s.ctx);
  if (rc == RM_OK && s.n_reg) rc = rm__win_load_handles(&s);
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

/* Windows keeps a running image and its loaded modules open: they cannot
 * be deleted, and replacing one goes through a rename that the scan of
 * registered files already follows by identity.  There is no deleted
 * mapping to find, so the stale list is empty. */
uint32_t rm__os_scan_stale(const volatile int *cancel, rm__found **out,
                           size_t *n_out, size_t *n_uninspected) {
  *out = NULL;
  *n_out = 0;
  *n_uninspected = 0;
  return *cancel ? RM_ERROR_CANCELLED : RM_OK;
}
