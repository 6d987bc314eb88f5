/* SPDX-License-Identifier: MIT */
/*
 * scanviews.c: the files a process has mapped as data (MEM_MAPPED views),
 * found by walking its address space (see scan.h).
 *
 * The walk asks VirtualQueryEx for one region after the other and names
 * each view it starts (GetMappedFileName).  Under Wine every
 * VirtualQueryEx on another process is carried out by that process
 * itself (an APC the server queues and the target answers), so one walk
 * is a few hundred round trips through two other processes and costs
 * 50 ms on an idle machine, seconds on a loaded one; a query that reaches
 * a process exactly as it exits never returns.  Hence:
 *
 *  - each walk runs on a worker thread that only collects the views' NT
 *    paths into memory it owns; the scan waits at most VIEWS_MS from the
 *    walk's start and otherwise abandons it (the job is freed by
 *    whichever side lets go last);
 *  - walks run ahead of the scan, MAX_WALKS at a time, in the order the
 *    scan inspects processes: while the scan reads one process's modules
 *    and handles, the next ones are being walked, so the waits for the
 *    targets overlap instead of adding up (docs/performance.md, Listing
 *    under Wine);
 *  - an image (a loaded module, the executable) is passed over in two
 *    requests, not one per section (image_end): images were two thirds
 *    of the regions;
 *  - a walk is bounded in regions and address.
 *
 * A walk opens the process itself and checks its creation time, so a pid
 * reused since the process list was taken is not walked.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <psapi.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define MAX_REGIONS 262144
#define VIEWS_MS 3000u
#define MAX_WALKS 8
#define WALKER_STACK (64u * 1024)

struct rm__win_walk {
  volatile LONG refs;             /* the scan and the worker */
  HANDLE process;                 /* owned by the job */
  HANDLE worker;                  /* the thread, the scan's handle */
  uint64_t started;               /* GetTickCount64 at launch */
  wchar_t **paths;                /* NT paths of the views' files */
  size_t n, cap;
};

static void walk_release(rm__win_walk *j) {
  size_t i;
  if (InterlockedDecrement(&j->refs) != 0) return;
  for (i = 0; i < j->n; i++) free(j->paths[i]);
  free(j->paths);
  CloseHandle(j->process);
  free(j);
}

/* Where the image view that starts at base ends, taken in two requests
 * instead of one per section: the size the image's header in the
 * target's memory gives (SizeOfImage, at the same place in PE32 and
 * PE32+ headers), then one query of the last page of that size, which
 * must belong to the same allocation.  A view is contiguous, so nothing
 * else lies in between whatever the header says.  NULL when the header
 * cannot be read or its size is not confirmed: the walk then goes on
 * region by region. */
static unsigned char *image_end(HANDLE process, unsigned char *base,
                                const unsigned char *top, DWORD page) {
  unsigned char head[1024];
  MEMORY_BASIC_INFORMATION last;
  SIZE_T got = 0;
  DWORD lfanew, size;
  uintptr_t end;
  if (!ReadProcessMemory(process, base, head, sizeof head, &got) ||
      got != sizeof head || head[0] != 'M' || head[1] != 'Z')
    return NULL;
  memcpy(&lfanew, head + 0x3c, sizeof lfanew);
  if (lfanew > sizeof head - 84 || memcmp(head + lfanew, "PE\0\0", 4) != 0)
    return NULL;
  memcpy(&size, head + lfanew + 80, sizeof size);
  end = (uintptr_t)base + (((uintptr_t)size + page - 1) & ~(uintptr_t)(page - 1));
  if (size == 0 || end <= (uintptr_t)base || end > (uintptr_t)top + 1 ||
      VirtualQueryEx(process, (void *)(end - 1), &last, sizeof last) !=
          sizeof last ||
      last.AllocationBase != base || last.Type != MEM_IMAGE)
    return NULL;
  return (unsigned char *)last.BaseAddress + last.RegionSize;
}

static DWORD WINAPI walk_views(void *arg) {
  rm__win_walk *j = arg;
  MEMORY_BASIC_INFORMATION mbi;
  SYSTEM_INFO si;
  unsigned char *addr = NULL, *top;
  wchar_t *nt = malloc(32768 * sizeof *nt);
  unsigned regions = 0;
  GetSystemInfo(&si);
  top = si.lpMaximumApplicationAddress;
  while (nt && addr < top && regions++ < MAX_REGIONS &&
         VirtualQueryEx(j->process, addr, &mbi, sizeof mbi) == sizeof mbi) {
    unsigned char *next = (unsigned char *)mbi.BaseAddress + mbi.RegionSize;
    if (mbi.Type == MEM_MAPPED && mbi.BaseAddress == mbi.AllocationBase &&
        GetMappedFileNameW(j->process, mbi.BaseAddress, nt, 32768)) {
      if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 16;
        wchar_t **v = realloc(j->paths, cap * sizeof *v);
        if (!v) break;
        j->paths = v;
        j->cap = cap;
      }
      if (!(j->paths[j->n] = _wcsdup(nt))) break;
      j->n++;
    }
    if (mbi.Type == MEM_IMAGE && mbi.BaseAddress == mbi.AllocationBase) {
      unsigned char *end = image_end(j->process, mbi.BaseAddress, top,
                                     si.dwPageSize);
      if (end) next = end;
    }
    if (next <= addr) break;
    addr = next;
  }
  free(nt);
  walk_release(j);
  return 0;
}

/* Starts the walk of process i, when it can be opened as the process the
 * list names.  Nothing is started otherwise (the scan then finds no
 * views there, as it could not inspect the process either). */
static void launch(rm__win_scan *s, size_t i) {
  const rm__win_proc *p = &s->procs.v[i];
  rm__win_walk *j;
  uint64_t start;
  HANDLE h;
  if (p->pid == 0) return;
  h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, p->pid);
  if (!h) return;
  if (!rm__win_process_start(h, &start) || start != p->start_time ||
      !(j = calloc(1, sizeof *j))) {
    CloseHandle(h);
    return;
  }
  j->process = h;
  j->refs = 2;
  j->started = GetTickCount64();
  j->worker = CreateThread(NULL, WALKER_STACK, walk_views, j,
                           STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
  if (!j->worker) {
    j->refs = 1;
    walk_release(j);
    return;
  }
  s->walks[i] = j;
}

/* Keeps MAX_WALKS walks ahead of process i (the one inspected now). */
static void run_ahead(rm__win_scan *s, size_t i) {
  while (s->next_walk < s->procs.n && s->next_walk < i + MAX_WALKS)
    launch(s, s->next_walk++);
}

uint32_t rm__win_walks_start(rm__win_scan *s) {
  if (!s->procs.n) return RM_OK;
  s->walks = calloc(s->procs.n, sizeof *s->walks);
  if (!s->walks) return RM_ERROR_OUTOFMEMORY;
  run_ahead(s, 0);
  return RM_OK;
}

/* Lets go of walk i: an unfinished worker keeps the job alive. */
static void drop(rm__win_scan *s, size_t i) {
  rm__win_walk *j = s->walks[i];
  if (!j) return;
  s->walks[i] = NULL;
  CloseHandle(j->worker);
  walk_release(j);
}

int rm__win_walk_match(rm__win_scan *s, size_t i, rm__win_uses *u) {
  rm__win_walk *j;
  uint64_t now;
  DWORD wait;
  size_t k;
  int ok = 1;
  if (!s->walks) return 1;
  run_ahead(s, i);
  j = s->walks[i];
  if (!j) return 1;
  now = GetTickCount64();
  wait = now - j->started >= VIEWS_MS ? 0
                                      : (DWORD)(j->started + VIEWS_MS - now);
  if (WaitForSingleObject(j->worker, wait) == WAIT_OBJECT_0) {
    for (k = 0; k < j->n && ok; k++) {
      /* A view's NT path names the real file: native. */
      wchar_t *win32 = rm__win_nt_to_win32(j->paths[k]);
      wchar_t *path = win32 ? rm__win_in_caller_view(win32, 0) : NULL;
      rm__file_id id;
      free(win32);
      if (!path) ok = 0;
      else if (rm__win_cached_candidate(s, path, &id))
        ok = rm__win_match(s, &id, RM_USE_MAPPING, u);
      free(path);
    }
  }
  drop(s, i);
  run_ahead(s, i + 1);
  return ok;
}

void rm__win_walks_skip(rm__win_scan *s, size_t i) {
  if (!s->walks) return;
  drop(s, i);
  run_ahead(s, i + 1);
}

void rm__win_walks_free(rm__win_scan *s) {
  size_t i;
  if (!s->walks) return;
  for (i = 0; i < s->procs.n; i++) drop(s, i);
  free(s->walks);
  s->walks = NULL;
}
