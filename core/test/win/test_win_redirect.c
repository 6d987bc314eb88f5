/* SPDX-License-Identifier: MIT */
/*
 * test_win_redirect.c: rm__win_redirect, WOW64's file-system redirector
 * as a pure function (docs/windows.md, Registration in the registrant's
 * view): exact input and output for each rule of Microsoft's "File System
 * Redirector" page, both directions, the exempt subdirectories, case,
 * "\\?\" paths, paths outside %windir%, and what a 32-bit process cannot
 * name at all.
 */
#include "test.h"
#include "win/win.h"

#include <stdlib.h>
#include <wchar.h>

#define ASSERT_TRUE(x) ASSERT_EQ(1, (x) ? 1 : 0)
#define N RM_WIN_VIEW_NATIVE
#define W RM_WIN_VIEW_WOW64

static void check(const wchar_t *windir, const wchar_t *in, uint32_t from,
                  uint32_t to, const wchar_t *want) {
  wchar_t *out = (wchar_t *)1;
  uint32_t rc = rm__win_redirect(in, windir, from, to, &out);
  if (!want) {
    if (rc != RM_ERROR_FILE_NOT_FOUND || out != NULL)
      fprintf(stderr, "  %ls (%u -> %u): rc %u, %ls; want no name\n", in,
              from, to, rc, out ? out : L"(null)");
    ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rc);
    ASSERT_TRUE(out == NULL);
    return;
  }
  ASSERT_OK(rc);
  ASSERT_TRUE(out != NULL);
  if (wcscmp(out, want) != 0)
    fprintf(stderr, "  %ls (%u -> %u): got %ls, want %ls\n", in, from, to,
            out, want);
  ASSERT_TRUE(wcscmp(out, want) == 0);
  free(out);
}

static const wchar_t *const win = L"C:\\Windows";

static void a_32bit_view_read_natively(void) {
  check(win, L"C:\\Windows\\System32\\oleaut32.dll", W, N,
        L"C:\\Windows\\SysWOW64\\oleaut32.dll");
  check(win, L"C:\\Windows\\System32", W, N, L"C:\\Windows\\SysWOW64");
  check(win, L"C:\\Windows\\System32\\", W, N, L"C:\\Windows\\SysWOW64\\");
  check(win, L"C:\\Windows\\System32\\wbem\\wmic.exe", W, N,
        L"C:\\Windows\\SysWOW64\\wbem\\wmic.exe");
  check(win, L"C:\\Windows\\lastgood\\system32\\x.dll", W, N,
        L"C:\\Windows\\lastgood\\SysWOW64\\x.dll");
  check(win, L"C:\\Windows\\regedit.exe", W, N,
        L"C:\\Windows\\SysWOW64\\regedit.exe");
  check(win, L"C:\\Windows\\Sysnative\\services.exe", W, N,
        L"C:\\Windows\\System32\\services.exe");
  /* Neither redirected nor redirecting. */
  check(win, L"C:\\Windows\\SysWOW64\\oleaut32.dll", W, N,
        L"C:\\Windows\\SysWOW64\\oleaut32.dll");
  check(win, L"C:\\Windows\\regedit.exe.bak", W, N,
        L"C:\\Windows\\regedit.exe.bak");
  check(win, L"C:\\Windows\\regedit.exe\\x", W, N,
        L"C:\\Windows\\regedit.exe\\x");
  check(win, L"C:\\Windows\\System32x\\a.dll", W, N,
        L"C:\\Windows\\System32x\\a.dll");
  check(win, L"C:\\Windows\\notepad.exe", W, N, L"C:\\Windows\\notepad.exe");
}

static void a_native_path_read_by_32bit(void) {
  check(win, L"C:\\Windows\\System32\\oleaut32.dll", N, W,
        L"C:\\Windows\\Sysnative\\oleaut32.dll");
  check(win, L"C:\\Windows\\SysWOW64\\oleaut32.dll", N, W,
        L"C:\\Windows\\SysWOW64\\oleaut32.dll");
  /* No name in a 32-bit process's view. */
  check(win, L"C:\\Windows\\lastgood\\system32\\x.dll", N, W, NULL);
  check(win, L"C:\\Windows\\regedit.exe", N, W, NULL);
  check(win, L"C:\\Windows\\Sysnative\\x.dll", N, W, NULL);
}

static void exempt_subdirectories(void) {
  static const wchar_t *const kept[] = {
    L"C:\\Windows\\System32\\catroot\\{F750E6C3}\\x.cat",
    L"C:\\Windows\\System32\\catroot2\\edb.log",
    L"C:\\Windows\\System32\\DriverStore\\FileRepository\\x.inf",
    L"C:\\Windows\\System32\\drivers\\etc\\hosts",
    L"C:\\Windows\\System32\\LogFiles\\x.log",
    L"C:\\Windows\\System32\\spool\\drivers\\x.dll",
    L"C:\\Windows\\System32\\spool",
    NULL
  };
  size_t i;
  for (i = 0; kept[i]; i++) {
    check(win, kept[i], W, N, kept[i]);
    check(win, kept[i], N, W, kept[i]);
  }
  /* Only those: drivers itself, and names that merely begin alike, are
   * redirected. */
  check(win, L"C:\\Windows\\System32\\drivers\\x.sys", W, N,
        L"C:\\Windows\\SysWOW64\\drivers\\x.sys");
  check(win, L"C:\\Windows\\System32\\drivers\\etcetera", W, N,
        L"C:\\Windows\\SysWOW64\\drivers\\etcetera");
  check(win, L"C:\\Windows\\System32\\catroot3\\x", W, N,
        L"C:\\Windows\\SysWOW64\\catroot3\\x");
  check(win, L"C:\\Windows\\System32\\spooler.dll", N, W,
        L"C:\\Windows\\Sysnative\\spooler.dll");
}

static void case_separators_and_prefixes(void) {
  check(win, L"c:\\WINDOWS\\system32\\OLEAUT32.DLL", W, N,
        L"C:\\Windows\\SysWOW64\\OLEAUT32.DLL");
  check(win, L"C:/Windows/System32/x.dll", W, N,
        L"C:\\Windows\\SysWOW64/x.dll");
  check(win, L"C:\\Windows\\SYSTEM32\\DRIVERS\\ETC\\hosts", W, N,
        L"C:\\Windows\\SYSTEM32\\DRIVERS\\ETC\\hosts");
  check(win, L"\\\\?\\C:\\Windows\\System32\\x.dll", W, N,
        L"\\\\?\\C:\\Windows\\SysWOW64\\x.dll");
  check(win, L"\\\\?\\c:\\windows\\system32\\x.dll", N, W,
        L"\\\\?\\C:\\Windows\\Sysnative\\x.dll");
  check(win, L"\\\\?\\C:\\Windows\\regedit.exe", N, W, NULL);
  /* The Windows directory as the system gives it: any case, a trailing
   * "\" or not, another drive. */
  check(L"c:\\windows\\", L"C:\\Windows\\System32\\x.dll", W, N,
        L"c:\\windows\\SysWOW64\\x.dll");
  check(L"D:\\WinNT", L"d:\\winnt\\system32\\x.dll", W, N,
        L"D:\\WinNT\\SysWOW64\\x.dll");
  check(L"D:\\WinNT", L"C:\\Windows\\System32\\x.dll", W, N,
        L"C:\\Windows\\System32\\x.dll");
}

static void outside_windir_and_same_views(void) {
  static const wchar_t *const paths[] = {
    L"C:\\Program Files\\App\\app.exe",
    L"C:\\Windowsx\\System32\\x.dll",
    L"C:\\Windows",
    L"D:\\Windows\\System32\\x.dll",
    L"\\\\server\\share\\Windows\\System32\\x.dll",
    L"\\\\?\\UNC\\server\\share\\x.dll",
    L"\\Windows\\System32\\x.dll",
    L"Z:\\tmp\\System32\\x.dll",
    NULL
  };
  size_t i;
  for (i = 0; paths[i]; i++) {
    check(win, paths[i], W, N, paths[i]);
    check(win, paths[i], N, W, paths[i]);
  }
  /* The same view: nothing changes, whatever the path. */
  check(win, L"C:\\Windows\\System32\\x.dll", W, W,
        L"C:\\Windows\\System32\\x.dll");
  check(win, L"C:\\Windows\\Sysnative\\x.dll", W, W,
        L"C:\\Windows\\Sysnative\\x.dll");
  check(win, L"C:\\Windows\\regedit.exe", N, N, L"C:\\Windows\\regedit.exe");
  /* A view this build does not know (a store from elsewhere): no name. */
  check(win, L"C:\\Windows\\System32\\x.dll", 2, N, NULL);
  check(win, L"C:\\x.dll", N, 7, NULL);
}

/* The caller's own view, and its Windows directory, as the system gives
 * them: the rules above applied to them. */
static void in_this_callers_view(void) {
  wchar_t windir[MAX_PATH], sys[MAX_PATH + 16], want[MAX_PATH + 32], *out;
  ASSERT_TRUE(GetSystemWindowsDirectoryW(windir, MAX_PATH) > 0);
  ASSERT_EQ(sizeof(void *) == 4 && rm__win_caller_is_wow64() ? W : N,
            rm__os_file_view());
  swprintf(sys, MAX_PATH + 16, L"%ls\\System32\\x.dll", windir);
  ASSERT_OK(rm__win_path_in_view(sys, rm__os_file_view(), &out));
  ASSERT_TRUE(wcscmp(out, sys) == 0);
  free(out);
  ASSERT_OK(rm__win_path_in_view(sys, rm__os_file_view() == N ? W : N, &out));
  swprintf(want, MAX_PATH + 32, L"%ls\\%ls\\x.dll", windir,
           rm__os_file_view() == N ? L"SysWOW64" : L"Sysnative");
  ASSERT_TRUE(wcscmp(out, want) == 0);
  free(out);
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(a_32bit_view_read_natively);
  RUN(a_native_path_read_by_32bit);
  RUN(exempt_subdirectories);
  RUN(case_separators_and_prefixes);
  RUN(outside_windir_and_same_views);
  RUN(in_this_callers_view);
  return rmt_finish();
}
