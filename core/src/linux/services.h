/* SPDX-License-Identifier: MIT */
/*
 * services.h: the one internal service-manager interface of the Linux
 * backend, and the small process tools its implementations share.
 *
 * services.c     the dispatcher (which manager knows a name), the critical
 *                list
 * svc_run.c      finding and running sv/systemctl by fork/exec
 * svc_runit.c    runit: runsv supervises one service directory; control and
 *                status through `sv` and the supervise/ files
 * svc_systemd.c  systemd (only where /run/systemd/system exists): cgroup →
 *                unit, status through `systemctl show` (one call per
 *                scan); and, for a caller other than root, its own user
 *                manager (`systemctl --user`)
 * svc_systemd_ctl.c  stop, start and restart in place through `systemctl`
 * pidwatch.c     a unit's processes watched by pidfd until they exit
 * svc_entries.c  one list entry per service, however many of its
 *                processes the scan found
 *
 * A short name is what the list shows in service_short_name: the runit
 * service directory's name, or the systemd unit name without ".service"
 * (a service registered as "x.service" is listed as "x").
 */
#ifndef RM_LINUX_SERVICES_H
#define RM_LINUX_SERVICES_H

#include "linux.h"

/* What lookup says about a name. */
#define RM_SVC_UNKNOWN (-1)           /* this manager has no such service */
#define RM_SVC_DOWN 0                 /* known, not running */
#define RM_SVC_RUNNING 1              /* known and running, *pid set */

typedef struct rm__svc_manager {
  const char *name;
  /* 1 when this manager runs on this machine. */
  int (*present)(void);
  /* The short name of the service pid belongs to: 1 and fills name.  st
   * is the process's stat when the caller has it (NULL: read it). */
  int (*service_of)(uint32_t pid, const rm__pstat *st, char *name,
                    size_t cap);
  /* The short name a registered name is listed under: 1 and fills out. */
  int (*short_name)(const char *name, char *out, size_t cap);
  /* RM_SVC_UNKNOWN, RM_SVC_DOWN or RM_SVC_RUNNING (with its main pid). */
  int (*lookup)(const char *name, uint32_t *pid);
  /* 1 when the manager itself refuses manual stops of this service. */
  int (*refuses_stop)(const char *name);
  /* Stop and start through the manager, verified by reading its state:
   * the codes of rm__os_service_stop and rm__os_service_start. */
  uint32_t (*stop)(const char *name, unsigned timeout_ms, int force,
                   const volatile int *cancel);
  uint32_t (*start)(const char *name, unsigned timeout_ms);
  /* Restarts n services in place (rm__os_services_restart); NULL: the
   * dispatcher stops then starts each one. */
  void (*restart)(rm__svc_restart *v, size_t n, unsigned timeout_ms,
                  const volatile int *cancel);
  /* Reads the state of n services at once, for the lookups and
   * refuses_stop calls of the scan under way, until forget; NULL when
   * lookups are cheap anyway. */
  void (*prefetch)(const char *const *names, size_t n);
  void (*forget)(void);
} rm__svc_manager;

/* {===== svc_runit.c */

extern const rm__svc_manager rm__svc_runit;

/* }=====
 * {===== svc_systemd.c */

extern const rm__svc_manager rm__svc_systemd;
extern const rm__svc_manager rm__svc_systemd_user;

/* systemd's rule on a cgroup path ("/system.slice/ssh.service/..."):
 * skip the leading *.slice components; when the first other component is
 * a system ".service" unit (not the user manager user@UID.service), fill
 * name with it without ".service" and return 1; else 0 (scopes, the user
 * manager, the root, init.scope). */
int rm__linux_unit_of_cgroup(const char *cgroup, char *name, size_t cap);

/* The same on the whole text of a /proc/PID/cgroup file: the unified
 * "0::" line's path when it names a unit, else the v1 "name=systemd"
 * line's (legacy layouts, and the stale "name=systemd:/" a pure cgroup2
 * container on a hybrid host still shows).  1 and fills name, else 0. */
int rm__linux_unit_of_cgroup_text(const char *text, char *name, size_t cap);

/* The same as seen by the user manager of uid: a .service below
 * user@UID.service ("/user.slice/user-UID.slice/user@UID.service/
 * app.slice/U.service" is U). */
int rm__linux_user_unit_of_cgroup_text(const char *text, uint32_t uid,
                                       char *name, size_t cap);

/* 1 when the process whose /proc directory is dirfd sits under
 * /machine.slice (systemd-machined's containers and virtual machines). */
int rm__linux_in_machine_slice(int dirfd);

/* }=====
 * {===== services.c (the rest of its interface is in linux.h) */

/* Stop and start by short name through whichever manager knows it.
 * Critical services are never stopped (RM_ERROR_FAIL_SHUTDOWN). */
uint32_t rm__linux_service_stop(const char *name, unsigned timeout_ms,
                                int force, const volatile int *cancel);
uint32_t rm__linux_service_start(const char *name, unsigned timeout_ms);
/* rm__os_services_restart. */
void rm__linux_services_restart(rm__svc_restart *v, size_t n,
                                unsigned timeout_ms,
                                const volatile int *cancel);

/* }=====
 * {===== svc_run.c */

/* Absolute path of a program ("sv", "systemctl"): the usual system
 * directories first, then $PATH.  0 on success. */
int rm__linux_find_program(const char *prog, char *path, size_t cap);

/* Runs argv (argv[0] an absolute path) by fork/exec in directory cwd (NULL:
 * ours) with stdin and stderr on /dev/null and stdout into out[cap]
 * (NUL-terminated; NULL discards it), waiting at most timeout_ms (then the
 * child is killed and reaped).
 * Returns the exit status, -1 when it could not run or was killed, and
 * -2 when it ran but its status was reaped by someone else (SIGCHLD
 * ignored by the host program). */
int rm__linux_run(const char *cwd, char *const argv[], char *out, size_t cap,
                  unsigned timeout_ms);

/* 1 when the process with this pid exists and is not a zombie. */
int rm__linux_pid_alive(uint32_t pid);

/* }=====
 * {===== pidwatch.c: processes watched until they exit */

typedef struct rm__pidwatch {
  int *fd;                     /* pidfd; -1: polled in /proc; -2: exited */
  rm_unique_process *id;       /* identity when added */
  size_t n, cap;
} rm__pidwatch;

void rm__pidwatch_init(rm__pidwatch *w);
void rm__pidwatch_free(rm__pidwatch *w);
/* Adds a live process (a pid already gone, or a zombie, is not added).
 * 0, or -1 when out of memory. */
int rm__pidwatch_add(rm__pidwatch *w, uint32_t pid);
/* Adds every process of a systemd cgroup path ("/system.slice/x.service")
 * and of the cgroups below it.  0, or -1 when out of memory. */
int rm__pidwatch_add_cgroup(rm__pidwatch *w, const char *cgroup);
/* 1 when pid was added. */
int rm__pidwatch_has(const rm__pidwatch *w, uint32_t pid);
/* How many of the watched processes have not exited yet. */
size_t rm__pidwatch_alive(rm__pidwatch *w);
/* Sleeps until one process of ws[0..n) exits or ms pass. */
void rm__pidwatch_wait(rm__pidwatch *const *ws, size_t n, unsigned ms);

/* Where systemd keeps its cgroups: /sys/fs/cgroup when that is cgroup2
 * (*unified 1), else /sys/fs/cgroup/systemd when that is the v1
 * name=systemd hierarchy (hybrid, legacy: *unified 0); NULL when it is
 * neither.  unified may be NULL. */
const char *rm__linux_systemd_cgroup_root(int *unified);
/* The systemd path of the /proc/PID/cgroup line at *text ("0::PATH",
 * *unified 1, or "ID:...name=systemd...:PATH", *unified 0), copied into
 * line[cap]; NULL when the line has none or is longer than line.  *text
 * is moved past the line. */
const char *rm__linux_next_systemd_path(const char **text, char *line,
                                        size_t cap, int *unified);
/* 1 when cg is an absolute path without "." or ".." components. */
int rm__linux_plain_cgroup_path(const char *cg);
/* The first process of a systemd cgroup path (what stands for a unit
 * without a main pid), 0 when none. */
uint32_t rm__linux_first_cgroup_pid(const char *cgroup);

/* }===== */

#endif
