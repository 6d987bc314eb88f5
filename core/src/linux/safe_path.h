/* SPDX-License-Identifier: MIT */
/*
 * safe_path.h: resolving and opening paths that other users may control
 * (docs/security.md, "Paths other users control").
 *
 * safe_path.c   the walk: one component at a time with
 *               openat(O_PATH | O_NOFOLLOW), following a symlink only when
 *               nobody but root and one trusted user could have made it;
 *               the identity of a registered path; opening a file for
 *               reading or writing that refuses FIFOs, devices and links
 */
#ifndef RM_LINUX_SAFE_PATH_H
#define RM_LINUX_SAFE_PATH_H

#include "linux.h"

#include <sys/stat.h>

/* Every component (and every followed link) must be owned by root or the
 * trusted user, and not writable by group or others; a directory on the
 * way (not the last) may be world-writable when it is sticky (/tmp). */
#define RM_WALK_STRICT 1u

/* Walks path (absolute, or relative to the directory at) and returns an
 * O_PATH fd of what it names, with its stat in *st; -1 with errno EPERM
 * when a component breaks the rule, ELOOP after 40 links, or the error of
 * the failing openat.  A symlink is followed only when it is owned by
 * root or trusted_uid and sits in a directory owned by one of them that
 * nobody else can write (or that is sticky: only an entry's owner may
 * replace it). */
int rm__linux_walk(int at, const char *path, uint32_t trusted_uid,
                   unsigned flags, struct stat *st);

/* The identity a path is registered under, for the calling user: the
 * walk above without RM_WALK_STRICT.  A link nobody but root and the
 * caller made is followed; through any other link (a last one too) the
 * path has no identity: -1 with errno EPERM.  A link's own inode is never
 * an identity: nothing holds it, and once removed its number is soon
 * another file's.  A path without any link costs one openat2
 * (RESOLVE_NO_SYMLINKS) and one fstat.  Returns the O_PATH fd (the caller
 * closes it) or -1. */
int rm__linux_open_identity(const char *path, struct stat *st);

/* Opens name under the directory dirfd for reading (O_RDONLY) or writing
 * (O_WRONLY) without following a final symlink and without blocking,
 * and returns the fd only when the file is of type want (S_IFREG,
 * S_IFIFO); -1 otherwise (errno EINVAL for another type). */
int rm__linux_open_typed(int dirfd, const char *name, int how, mode_t want);

#endif
