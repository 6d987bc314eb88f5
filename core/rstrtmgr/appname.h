/* SPDX-License-Identifier: MIT */
/* appname.h: the drop-in's user-friendly names and shell test (appname.c). */
#ifndef RM_DROPIN_APPNAME_H
#define RM_DROPIN_APPNAME_H

#include "win/win.h"

/* The FileDescription of the process's image, in the user's language
 * where there are several; malloc'd, NULL when there is none (or the
 * process is gone). */
wchar_t *rm__dropin_friendly_name(const rm_unique_process *p);

/* 1 when the process owns the shell window (GetShellWindow). */
int rm__dropin_is_shell(const rm_unique_process *p);

#endif
