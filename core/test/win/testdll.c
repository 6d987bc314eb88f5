/* SPDX-License-Identifier: MIT */
/*
 * testdll.c: rmtestdll.dll, a DLL with one export, which helper rm_dll_user
 * loads so that a test can look for the processes that have it loaded.
 */
#include <windows.h>

__declspec(dllexport) int rm_testdll_answer(void);

int rm_testdll_answer(void) { return 42; }
