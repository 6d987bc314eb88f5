/* SPDX-License-Identifier: MIT */
/*
 * svc_systemd.h: what the two systemd files share.
 *
 * svc_systemd.c      cgroup → unit, the state of a scan's units read
 *                    once, lookups, the manager tables
 * svc_systemd_ctl.c  stop, start and restart in place through systemctl,
 *                    each verified on the processes the unit had
 * svc_systemd_show.c `systemctl show` of one unit or many
 * Each calls only the ones below it; all use pidwatch.c.
 */
#ifndef RM_LINUX_SVC_SYSTEMD_H
#define RM_LINUX_SVC_SYSTEMD_H

#include "services.h"

#define RM_SD_CTL_TIMEOUT_MS 15000u  /* bound on one systemctl invocation */
#define RM_SD_UNIT_MAX (RM_MAX_SVC_NAME + 16)

/* The properties of a unit the backend needs, from `systemctl show`. */
typedef struct rm__unit_props {
  char load[32], active[32], cgroup[1024];
  uint32_t main_pid;
  int refuse_stop;
} rm__unit_props;

/* "foo" → "foo.service"; a name with ".service" stays.  0, or -1 for a
 * name systemctl would take as a glob or an option, or too long. */
int rm__sd_unit_of(const char *name, char *unit, size_t cap);

/* "--system" or "--user" (argv text): which manager systemctl talks
 * to, the system's (user 0) or the caller's (user 1). */
char *rm__sd_scope_flag(int user);

/* `systemctl --system|--user show` of one unit, never from the cache.
 * 0, or -1 when it could not be read. */
int rm__sd_show(int user, const char *name, rm__unit_props *u);

/* The same for n units in one call: u[i] for names[i].  0, or -1 (then
 * nothing is filled). */
int rm__sd_show_many(int user, const char *const *names, size_t n,
                     rm__unit_props *u);


/* The control operations of svc_systemd_ctl.c, for the system manager
 * (user 0) or the caller's user manager (user 1). */
uint32_t rm__sd_stop(int user, const char *name, unsigned timeout_ms,
                     int force, const volatile int *cancel);
uint32_t rm__sd_start(int user, const char *name, unsigned timeout_ms);
void rm__sd_restart(int user, rm__svc_restart *v, size_t n,
                    unsigned timeout_ms, const volatile int *cancel);

#endif
