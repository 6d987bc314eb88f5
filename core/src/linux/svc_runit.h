/* SPDX-License-Identifier: MIT */
/*
 * svc_runit.h: which runit services are the system's (svc_runit_trust.c),
 * for the runit manager (svc_runit.c).  docs/security.md, "Services".
 */
#ifndef RM_LINUX_SVC_RUNIT_H
#define RM_LINUX_SVC_RUNIT_H

#include "services.h"

/* A service directory that passed the trust check: the path it was
 * reached by (with root's links resolved), and O_PATH fds of it and of
 * its supervise/ directory.  Everything in them is read and written
 * through these fds. */
typedef struct rm__runit_dir {
  char path[RM_PATH_MAX];
  int dir_fd, sup_fd;
} rm__runit_dir;

/* Opens path as a system service directory: it and its supervise/, and
 * every directory and link on the way to them, are root's and not
 * writable by others (a sticky directory on the way may be).  0 and
 * fills d, else -1. */
int rm__runit_open_dir(const char *path, rm__runit_dir *d);
void rm__runit_close_dir(rm__runit_dir *d);

/* 1 when pid is a runsv of the system: its executable is runit's runsv
 * (by identity), all its ids are root's, its parent is the system's
 * runsvdir (runit's runsvdir by identity, root's, whose parent is init or
 * which runs in a system service unit), and its working directory, the
 * service directory, passes rm__runit_open_dir.  Fills name with the
 * directory's name and, when d is not NULL, d (to be closed). */
int rm__runit_system_runsv(uint32_t pid, char *name, size_t cap,
                           rm__runit_dir *d);

/* Finds a system runsv whose service has this name; fills d. */
int rm__runit_find_runsv(const char *name, rm__runit_dir *d);

#endif
