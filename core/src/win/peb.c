/* SPDX-License-Identifier: MIT */
/*
 * peb.c: another process's start parameters (image path, command line,
 * current directory, environment block), read from its PEB, whatever the
 * bitness of the caller and of the target.
 *
 * The parameters hang off the PEB (ProcessParameters), in a layout that
 * depends on the PEB's bitness: 32-bit pointers in a 32-bit PEB, 64-bit
 * ones in a 64-bit PEB.  Where each is found:
 *
 *   caller   target   PEB read
 *   64-bit   64-bit   ProcessBasicInformation, ReadProcessMemory
 *   64-bit   32-bit   the 32-bit PEB, whose address ProcessWow64Information
 *                     gives (it is what 32-bit code keeps current); Wine
 *                     (8.0) answers 1 there instead of an address, and
 *                     then the target's 64-bit PEB is read, which Wine
 *                     fills as well
 *   32-bit   32-bit   ProcessBasicInformation (a WOW64 caller gets the
 *                     target's 32-bit PEB), ReadProcessMemory
 *   32-bit   64-bit   (WOW64 caller) NtWow64QueryInformationProcess64 and
 *                     NtWow64ReadVirtualMemory64, the 64-bit PEB above
 *                     the caller's 4 GB; Wine 8.0's 32-bit ntdll has no
 *                     NtWow64QueryInformationProcess64 and answers a null
 *                     PEB, so there a 32-bit caller cannot read a 64-bit
 *                     process's parameters at all (rm__win_params_reachable
 *                     says so, and such an application is not restartable
 *                     where the library's own rule applies: classify.c)
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ENV_BYTES (4u * 1024 * 1024)


/* The target, and how its memory is read: read64 is set for a 32-bit
 * caller reading a 64-bit process. */
typedef struct target {
  HANDLE h;
  rm__nt_read64_fn read64;
} target;

static int read_mem(const target *t, uint64_t addr, void *buf, size_t n) {
  if (addr == 0) return 0;
  if (t->read64) {
    ULONG64 got = 0;
    return t->read64(t->h, addr, buf, n, &got) >= 0 && got == n;
  } else {
    SIZE_T got = 0;
    if (addr != (uint64_t)(uintptr_t)addr) return 0;   /* beyond our reach */
    return ReadProcessMemory(t->h, (const void *)(uintptr_t)addr, buf, n,
                             &got) && got == n;
  }
}

/* A pointer-sized field of the target (width 4 or 8 bytes). */
static int read_ptr(const target *t, uint64_t addr, int width, uint64_t *out) {
  uint32_t v32 = 0;
  *out = 0;
  if (width == 8) return read_mem(t, addr, out, 8);
  if (!read_mem(t, addr, &v32, 4)) return 0;
  *out = v32;
  return 1;
}

/* {===== Where the parameters are */

/* Finds the target's process parameters: their address and the width of
 * its pointers.  0 when they cannot be reached from this caller. */
static int locate(HANDLE h, target *t, uint64_t *params, int *width) {
  const rm__ntdll *nt = rm__win_ntdll();
  rm__nt_query_process_fn q = nt->query_information_process;
  ULONG_PTR wow = 0;
  struct {
    LONG exit_status;
    void *peb;
    ULONG_PTR affinity, priority, pid, parent;
  } basic;
  t->h = h;
  t->read64 = NULL;
  *params = 0;
  if (!q) return 0;
  if (q(h, 26 /* ProcessWow64Information */, &wow, sizeof wow, NULL) < 0)
    wow = 0;
  if (rm__win_caller_is_wow64() && !wow) {
    /* A 64-bit target seen from WOW64: through the 64-bit calls. */
    rm__nt_query_process_fn q64 = nt->wow64_query_information_process64;
    struct {
      LONG exit_status, pad;
      ULONG64 peb, affinity, priority, pid, parent;
    } basic64;
    t->read64 = nt->wow64_read_virtual_memory64;
    memset(&basic64, 0, sizeof basic64);
    if (!q64 || !t->read64 ||
        q64(h, 0 /* ProcessBasicInformation */, &basic64, sizeof basic64,
            NULL) < 0)
      return 0;
    *width = 8;
    return read_ptr(t, basic64.peb + 0x20, 8, params) && *params;
  }
  if (sizeof(void *) == 8 && wow > 1) {
    *width = 4;                          /* the 32-bit PEB of a WOW64 target */
    return read_ptr(t, wow + 0x10, 4, params) && *params;
  }
  /* The PEB of the caller's own bitness (for a 64-bit caller and a WOW64
   * target under Wine, the target's 64-bit PEB). */
  memset(&basic, 0, sizeof basic);
  if (q(h, 0 /* ProcessBasicInformation */, &basic, sizeof basic, NULL) < 0)
    return 0;
  *width = (int)sizeof(void *);
  return read_ptr(t, (uint64_t)(uintptr_t)basic.peb + (*width == 8 ? 0x20 : 0x10),
                  *width, params) &&
         *params;
}

int rm__win_params_reachable(HANDLE process) {
  target t;
  uint64_t params;
  int width;
  return locate(process, &t, &params, &width);
}

/* }=====
 * {===== The parameters */

/* A UNICODE_STRING of the target (at addr, in the given width) as a
 * NUL-terminated copy.  NULL on failure. */
static wchar_t *read_ustring(const target *t, uint64_t addr, int width) {
  uint16_t bytes = 0;
  uint64_t buffer = 0;
  wchar_t *w;
  if (!read_mem(t, addr, &bytes, 2) ||
      !read_ptr(t, addr + (width == 8 ? 8 : 4), width, &buffer) || bytes % 2)
    return NULL;
  w = malloc((size_t)bytes + sizeof *w);
  if (!w) return NULL;
  if (bytes && !read_mem(t, buffer, w, bytes)) {
    free(w);
    return NULL;
  }
  w[bytes / sizeof *w] = 0;
  return w;
}

/* The environment block, read a page at a time until its double NUL (a
 * page beyond the block may be unmapped). */
static wchar_t *read_environment(const target *t, uint64_t addr) {
  size_t cap = 0, len = 0;
  char *buf = NULL;
  while (len < MAX_ENV_BYTES) {
    size_t chunk = 4096 - (size_t)((addr + len) % 4096), i;
    char *bigger;
    if (len + chunk + 4 > cap) {
      cap = (len + chunk + 4) * 2;
      bigger = realloc(buf, cap);
      if (!bigger) break;
      buf = bigger;
    }
    if (!read_mem(t, addr + len, buf + len, chunk)) break;
    len += chunk;
    for (i = 0; i + 3 < len; i += 2)
      if (!buf[i] && !buf[i + 1] && !buf[i + 2] && !buf[i + 3])
        return (wchar_t *)(void *)buf;
  }
  if (buf && len + 4 <= cap) {           /* cut short: terminate it */
    memset(buf + (len & ~(size_t)1), 0, 4);
    return (wchar_t *)(void *)buf;
  }
  free(buf);
  return NULL;
}

int rm__win_read_params(HANDLE process, rm__win_params *p) {
  /* Offsets in RTL_USER_PROCESS_PARAMETERS, 32-bit and 64-bit layout:
   * CurrentDirectory.DosPath, ImagePathName, CommandLine, Environment. */
  static const unsigned cwd_at[2] = { 0x24, 0x38 }, image_at[2] = { 0x38, 0x60 },
                        command_at[2] = { 0x40, 0x70 }, env_at[2] = { 0x48, 0x80 };
  target t;
  uint64_t params, env = 0;
  int width, w;
  memset(p, 0, sizeof *p);
  if (!locate(process, &t, &params, &width)) return 0;
  w = width == 8;
  p->cwd = read_ustring(&t, params + cwd_at[w], width);
  p->image = read_ustring(&t, params + image_at[w], width);
  p->command = read_ustring(&t, params + command_at[w], width);
  if (read_ptr(&t, params + env_at[w], width, &env))
    p->env = read_environment(&t, env);
  return p->cwd && p->image && p->command && p->env;
}

int rm__win_has_console(HANDLE process) {
  target t;
  uint64_t params, console = 0;
  int width;
  /* ConsoleHandle is at 0x10 in both layouts; NULL when the process has
   * no console (DETACHED_PROCESS, or FreeConsole). */
  return locate(process, &t, &params, &width) &&
         read_ptr(&t, params + 0x10, width, &console) && console != 0;
}

void rm__win_params_free(rm__win_params *p) {
  free(p->image);
  free(p->command);
  free(p->cwd);
  free(p->env);
  memset(p, 0, sizeof *p);
}

/* }===== */
