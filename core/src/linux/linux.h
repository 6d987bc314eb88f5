/* SPDX-License-Identifier: MIT */
/*
 * linux.h: declarations shared by the files of the Linux backend.
 *
 * proc.c      /proc readers, identity, time, randomness, the global mutex
 * store.c     the session store directory (lock, atomic writes, sweep)
 * store_path.c where the store is, and the checks of its path
 * scan.c      rm__os_scan: who uses the registered files, with regset.c,
 *             detect.c, sockets.c, classify.c and svc_entries.c (scan.h);
 *             rm__os_scan_stale, with stale.c
 * stop.c      rm__os_stop_apps: pidfd signalling and waiting
 * restartable.c  whether a found process can be started again (list
 *             time; scan.h)
 * credcheck.c the credential and executable checks shared by
 *             restartable.c and the launchers, rm__os_may_register
 * launch.c    rm__os_capture
 * relaunch.c  the launcher, intermediate and application of a relaunch:
 *             credentials, cwd, executable by identity
 * relaunch_all.c  rm__os_launch*: the caller's side, many starts at once
 * context.c   a relaunch's context (limits, nice, keyring, ...), and what
 *             confinement cannot be reproduced
 * placement.c the relaunched program's cgroup
 * relaunch_env.c  the variables root drops relaunching root
 * services.c  the service-manager dispatcher; svc_runit.c,
 *             svc_systemd.c and svc_systemd_ctl.c behind its interface,
 *             pidwatch.c (services.h)
 * native.c    no native Restart Manager to forward to
 * txfs.c      the transaction's renames, exchanges, links and removal;
 *             txcopy.c its staged copies with their metadata
 */
#ifndef RM_LINUX_H
#define RM_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../internal.h"

/* {===== proc.c */

/* The fields of /proc/PID/stat the backend uses. */
typedef struct rm__pstat {
  char comm[64];
  char state;
  int ppid;
  int session;              /* process session id */
  int tty_nr;               /* controlling terminal, 0 if none */
  unsigned flags;           /* PF_* (PF_KTHREAD = 0x00200000) */
  uint64_t start_ticks;     /* field 22, clock ticks since boot */
  uint32_t live_tid;        /* the leader has exited (pthread_exit) but
                               this thread of its group lives: state is
                               then 'S', not the leader's 'Z' */
} rm__pstat;

#define RM_PF_KTHREAD 0x00200000u

/* Parses /proc/PID/stat (after the last ')').  dirfd is an open /proc/PID
 * directory, or -1 to open by pid.  0 on success, -1 with errno. */
int rm__linux_read_stat(int dirfd, uint32_t pid, rm__pstat *out);

/* A live thread (not the leader, not a zombie) of thread group pid, from
 * its task directory (dirfd an open /proc/PID directory, or -1 to open by
 * pid); 0 when there is none. */
uint32_t rm__linux_live_thread(int dirfd, uint32_t pid);

/* 1 when dirfd (an open /proc/PID directory) is still the live (not
 * zombie) process with identity p. */
int rm__linux_same_identity(int dirfd, const rm_unique_process *p);

/* pidfd_open(pid) by its system call (glibc has the wrapper only since
 * 2.36): an fd, or -1 with errno (ENOSYS where the kernel or the headers
 * have none). */
int rm__linux_pidfd_open(uint32_t pid);

/* pidfd_send_signal(pidfd, sig) by its system call: 0, or -1 with errno
 * (ENOSYS as above). */
int rm__linux_pidfd_signal(int pidfd, int sig);

/* Clock ticks since boot → 100 ns units. */
uint64_t rm__linux_ticks_to_100ns(uint64_t ticks);

/* Reads a small /proc file relative to dirfd into buf (NUL-terminated).
 * Returns bytes read or -1 with errno. */
ssize_t rm__linux_read_small(int dirfd, const char *name, char *buf,
                             size_t cap);

/* The same with a single read(2): small /proc files are generated whole
 * on the first read, so the second read that would only see the end is
 * skipped (this runs for every matched process).  Bytes read or -1. */
ssize_t rm__linux_read_once(int dirfd, const char *name, char *buf,
                            size_t cap);

/* Reads a whole file (a /proc file of any size) relative to dirfd, at
 * most max bytes.  RM_OK (*buf malloc'd, with a NUL after *len bytes),
 * RM_ERROR_ACCESS_DENIED, RM_ERROR_FILE_NOT_FOUND, RM_ERROR_OUTOFMEMORY. */
uint32_t rm__linux_read_whole(int dirfd, const char *name, size_t max,
                              char **buf, size_t *len);

/* A process's initial environment (/proc/PID/environ), read once for
 * everything that asks of it during one classification. */
typedef struct rm__environ {
  char *buf;                        /* NUL-separated entries, or NULL */
  size_t len;
} rm__environ;

/* Reads it, at most 1 MiB; an unreadable one is empty.  Free with
 * rm__environ_free. */
void rm__linux_read_environ(int dirfd, rm__environ *env);
void rm__environ_free(rm__environ *env);

/* The value of name in env (*len bytes, not NUL-terminated), or NULL. */
const char *rm__environ_value(const rm__environ *env, const char *name,
                              size_t *len);

/* What classifying one process learns of its executable and hands on
 * (the name, then the restartable rule), so each is asked once: the exe
 * link's text, read when first needed, and the running inode's mode from
 * the detection's statx.  Lives on the stack for one process. */
typedef struct rm__exe_seen {
  int link_state;              /* 0 unread, 1 read, -1 unreadable */
  char link[RM_PATH_MAX + 16]; /* raw text, " (deleted)" included */
  uint32_t mode;               /* st_mode of the running inode; 0 unknown */
} rm__exe_seen;

/* The exe link's text (read once into x), or NULL when unreadable. */
const char *rm__exe_link(int dirfd, rm__exe_seen *x);

/* }=====
 * {===== credcheck.c */

#define RM_MAX_GROUPS 1024

/* A process's credentials from /proc/PID/status. */
typedef struct rm__creds {
  uint32_t uid[4], gid[4];          /* real, effective, saved, filesystem */
  uint32_t groups[RM_MAX_GROUPS];   /* supplementary */
  size_t n_groups;
} rm__creds;

/* Parses the Uid:, Gid: and Groups: lines of a status text.  0, or -1
 * when one is missing or malformed (or there are too many groups). */
int rm__linux_parse_creds(const char *status, rm__creds *out);

/* 1 when all four uids are equal and all four gids are equal. */
int rm__linux_creds_uniform(const rm__creds *c);

/* 1 when the caller runs with exactly these credentials itself: real and
 * effective uid and gid, and the same set of supplementary groups. */
int rm__linux_is_caller(uint32_t uid, uint32_t gid, const uint32_t *groups,
                        size_t n_groups);

/* 1 when the caller can start a program with exactly these credentials:
 * it is root, or it has them itself (rm__linux_is_caller). */
int rm__linux_can_become(const rm__creds *c);

/* 0 when st (of the file itself) is a plain executable: a regular file
 * with an execute bit, neither setuid nor setgid.  xattr_path names the
 * same file for the file-capability check ("security.capability"), or is
 * NULL to skip it.  Else -1 with errno (EACCES: not executable, EPERM:
 * setuid, setgid or capabilities). */
struct stat;
int rm__linux_plain_executable(const struct stat *st, const char *xattr_path);

/* Strips a trailing " (deleted)" from an exe link text in place. */
void rm__linux_strip_deleted(char *link);

/* }=====
 * {===== view_path.c, scripts.c, kernel.c */

/* Who may control what a path a process named means: root and, when its
 * uids all agree, the process's user. */
typedef struct rm__view_trust {
  uint32_t uids[2];
  size_t n_uids;
  uint64_t *unsafe;                 /* mount ids on FUSE in its view */
  size_t n_unsafe;
} rm__view_trust;

/* Fills t->unsafe from /proc/PID/mountinfo (proc_dir): the mounts a
 * user's server answers for (FUSE), where a lookup could wait forever.
 * RM_OK (free t->unsafe), or the codes of rm__linux_read_whole. */
uint32_t rm__view_unsafe_mounts(int proc_dir, rm__view_trust *t);

/* A path resolved in a process's view. */
typedef struct rm__view_file {
  int fd;                           /* O_PATH fd of the file, or -1 */
  struct stat st;                   /* its fstat, when fd >= 0 */
  char canon[4096];                 /* the absolute path it resolved to,
                                       for display (a missing one: up to
                                       where it stopped, then the rest) */
} rm__view_file;

/* Looks path up from the process's root (rootfd, an absolute path) or
 * cwd (cwdfd with cwd_text, its link text, for a relative one), one
 * component at a time, following only links that t's users own, through
 * directories only they can change, to a regular file only they can
 * change (view_path.c has the rule).  0: found (out->fd open); 1: a
 * component is missing (out->canon says where); -1: not decided. */
int rm__view_resolve(const rm__view_trust *t, int rootfd, int cwdfd,
                     const char *cwd_text, const char *path,
                     rm__view_file *out);

/* The index in argv[0..argc) of the script an interpreter runs, or -1
 * when exe (the executable's path) is no interpreter known or there is
 * no script file (-e, -c, -m, stdin).  *label gets the family. */
int rm__script_arg(const char *exe, const char *const *argv, int argc,
                   const char **label);

/* CLOCK_REALTIME at boot, in ns: a start time (since boot) plus this is
 * the wall-clock time file timestamps are kept in.  Taken once per scan. */
int64_t rm__linux_boot_wall_ns(void);

/* Whether the process at dirfd (/proc/PID, opened O_PATH or not) runs a
 * script replaced after it started: 1 and *out filled (out->path
 * malloc'd), else 0.  boot_wall is rm__linux_boot_wall_ns().  A whole
 * scan (rm__os_stale_scripts) calls it once per process; another scan
 * may too. */
int rm__script_check(int dirfd, uint32_t pid, int64_t boot_wall,
                     rm__script_verdict *out);

/* rm_get_kernel_info against a given running release (tests name one). */
uint32_t rm__linux_kernel_pick(const char *root, const char *running,
                               rm_kernel_info *out);

/* }=====
 * {===== context.c: a relaunch's context */

/* Why a process's confinement cannot be reproduced by a relaunch:
 * RM_NOT_RESTARTABLE_* bits from its status text (Seccomp:) and its LSM
 * label (dirfd/attr/current); 0 when nothing stands in the way. */
uint32_t rm__linux_unreproducible(int dirfd, const char *status);

/* Reads the context of the process open as dirfd (status its status
 * text).  RM_OK, RM_ERROR_ACCESS_DENIED (unreproducible, or its limits
 * unreadable), RM_ERROR_FILE_NOT_FOUND, RM_ERROR_OUTOFMEMORY. */
uint32_t rm__linux_capture_context(int dirfd, uint32_t pid,
                                   const char *status, rm__launch_ctx *x);

/* In the new process (async-signal-safe), before it takes on its user's
 * credentials: nice, oom score adjustment, limits, capability bounding
 * set.  0 or an errno. */
int rm__linux_apply_context_caller(const rm__launch_ctx *x);

/* ... and after: a session keyring of its own, umask, personality,
 * no_new_privs, stdout/stderr files reopened as the user.  0 or an
 * errno. */
int rm__linux_apply_context_user(const rm__launch_ctx *x);

/* }=====
 * {===== placement.c: the relaunched program's cgroup */

/* The cgroup of the process open as dirfd into x->cgroup/cgroup_id
 * (left NULL when there is no tracking hierarchy).  0, -1 out of
 * memory. */
int rm__linux_capture_cgroup(int dirfd, rm__launch_ctx *x);

/* Puts the new process pid (of user uid) back into its captured cgroup,
 * else a scope or cgroup of its own (placement.c).  0, or -1 when it
 * stays with the caller. */
int rm__linux_place(const rm__launch_ctx *x, uint32_t uid, uint32_t pid);

/* }=====
 * {===== relaunch_env.c */

/* 1 when an environment entry ("NAME=value") is one root drops when it
 * relaunches a root process (docs/security.md, "Relaunch environment"). */
int rm__linux_env_dropped(const char *entry);

/* }=====
 * {===== store_path.c */

/* The store directory by the location rule: its path
 * (into path[cap]), the RM_STORE_SKIPPED_* candidates passed over, and an
 * open fd of it.  RM_OK or RM_ERROR_WRITE_FAULT. */
uint32_t rm__linux_store_find(char *path, size_t cap, uint32_t *skipped,
                              int *fd_out);

/* }=====
 * {===== services.c: one interface over the service managers present */

/* The short name of the service a process belongs to (runit: the process
 * is supervised by runsv, the name is its service directory's; systemd:
 * the unit from the process's cgroup by systemd's rule).  1 and fills
 * name[RM_MAX_SVC_NAME + 1] when it is a service's, 0 otherwise. */
int rm__linux_service_of(uint32_t pid, char *name, size_t cap);

/* The same for a scan: present is rm__linux_services_present(), taken
 * once per scan (which managers run is a fact of the system, not of each
 * process), and st the process's stat when the caller has it (else
 * NULL). */
unsigned rm__linux_services_present(void);
int rm__linux_service_of_stat(uint32_t pid, const rm__pstat *st,
                              unsigned present, char *name, size_t cap);

/* The main pid of a running service, by short name.  1 and fills *pid when
 * the service exists and runs, 0 otherwise. */
int rm__linux_service_pid(const char *name, uint32_t *pid);

/* The same, and the short name the list shows for the registered name
 * (systemd: without ".service"; the name itself when no manager knows
 * it).  1 when it runs (*pid set), else 0 (*pid 0). */
int rm__linux_service_find(const char *name, uint32_t *pid, char *short_name,
                           size_t cap);

/* 1 when the service must never be stopped (critical list, systemd's
 * RefuseManualStop). */
int rm__linux_service_critical(const char *name);

/* One `systemctl show` for every service of a scan: the managers read
 * the state of all the names at once (prefetch), and lookups until the
 * matching forget use it.  Calls nest (concurrent scans). */
void rm__linux_services_prefetch(const char *const *names, size_t n);
void rm__linux_services_forget(void);

/* }===== */

#endif
