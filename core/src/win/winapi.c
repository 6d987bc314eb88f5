/* SPDX-License-Identifier: MIT */
/*
 * winapi.c: every ntdll entry point the Win32 backend calls, resolved in
 * one place, once.
 *
 * The SDK keeps these functions out of the import libraries (or a Windows
 * version or Wine may lack one), so they are looked up with GetProcAddress.
 * The lookup runs under InitOnceExecuteOnce on the first call from any
 * thread: the list scan runs on several threads, and a pointer written
 * lazily without it would be a data race.  A missing entry point is left
 * NULL and each caller says what it does without it.
 */
#include "win.h"

#include <stdlib.h>

static rm__ntdll ntdll;

#define RESOLVE(field, type, name) \
  (ntdll.field = (type)(void (*)(void))GetProcAddress(nt, name))

static BOOL CALLBACK resolve_ntdll(INIT_ONCE *once, void *param, void **ctx) {
  HMODULE nt = GetModuleHandleW(L"ntdll.dll");
  (void)once; (void)param; (void)ctx;
  if (!nt) return TRUE;
  RESOLVE(query_information_file, rm__nt_query_file_fn,
          "NtQueryInformationFile");
  RESOLVE(query_volume_information_file, rm__nt_query_file_fn,
          "NtQueryVolumeInformationFile");
  RESOLVE(query_system_information, rm__nt_query_system_fn,
          "NtQuerySystemInformation");
  RESOLVE(query_information_process, rm__nt_query_process_fn,
          "NtQueryInformationProcess");
  RESOLVE(wow64_query_information_process64, rm__nt_query_process_fn,
          "NtWow64QueryInformationProcess64");
  RESOLVE(wow64_read_virtual_memory64, rm__nt_read64_fn,
          "NtWow64ReadVirtualMemory64");
  ntdll.wine_get_version = GetProcAddress(nt, "wine_get_version");
  return TRUE;
}

const rm__ntdll *rm__win_ntdll(void) {
  static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
  InitOnceExecuteOnce(&once, resolve_ntdll, NULL, NULL);
  return &ntdll;
}

#define STATUS_INFO_LENGTH_MISMATCH ((rm__ntstatus)0xC0000004L)
#define STATUS_BUFFER_TOO_SMALL ((rm__ntstatus)0xC0000023L)

rm__ntstatus rm__win_query_system(ULONG info_class, void **buf, ULONG *len) {
  rm__ntstatus st;
  rm__nt_query_system_fn query_system =
      rm__win_ntdll()->query_system_information;
  if (!query_system) return (rm__ntstatus)0xC0000002L;   /* not implemented */
  if (!*buf) {
    *len = 256 * 1024;
    *buf = malloc(*len);
    if (!*buf) return (rm__ntstatus)0xC0000017L;        /* no memory */
  }
  for (;;) {
    ULONG need = 0;
    void *bigger;
    st = query_system((int)info_class, *buf, *len, &need);
    if (st != STATUS_INFO_LENGTH_MISMATCH && st != STATUS_BUFFER_TOO_SMALL)
      return st;
    if (*len >= 512u * 1024 * 1024) return st;
    *len = need > *len ? need + 64 * 1024 : *len * 2;
    bigger = realloc(*buf, *len);
    if (!bigger) return (rm__ntstatus)0xC0000017L;
    *buf = bigger;
  }
}
