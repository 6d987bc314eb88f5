/* SPDX-License-Identifier: MIT */
/*
 * sd_test.h: what the systemd test files share: the run's directory and
 * rm_unitd copy, systemctl (system or --user) with outcomes read from the
 * unit's properties, units written and removed, sessions and the one
 * service entry they should list.
 *
 * sd_harness.c          these helpers
 * test_systemd.c        main; the unit rule, stop and start cases
 * sd_critical_user_nginx.c  critical units, a user's own manager, Debian's
 *                       nginx
 * sd_host_view.c        the container seen from the host
 * sd_hostile.c          a user's runsv named like a system unit
 * sd_relaunch_scope.c   a user's program relaunched into its own scope
 */
#ifndef RM_SD_TEST_H
#define RM_SD_TEST_H

#include "test_shutdown_common.h"
#include "linux/services.h"

#define UNIT_DIR "/etc/systemd/system"
#define SYSTEMCTL "/usr/bin/systemctl"

extern char base[600];          /* this run's dir under /run */
extern char unitd[700];         /* rm_unitd, copied there */
/* The manager the helpers talk to: 0 the system's, 1 the caller's user
 * manager (systemctl --user). */
extern int as_user;

/* Runs argv (argv[0] a path) with its stdout into out[cap]; the exit
 * status, or -1. */
int run_capture(char *out, size_t cap, char *const argv[]);
/* systemctl with up to 3 arguments; its exit status. */
int ctl(const char *a1, const char *a2, const char *a3);
/* One property of a unit ("ActiveState", ...), as systemctl shows it
 * (static storage, 4 slots). */
const char *prop(const char *unit, const char *name);
uint32_t main_pid(const char *unit);
/* "ActiveState/SubState". */
const char *state(const char *unit);
/* The pids of the unit's cgroup, at most cap; how many. */
size_t unit_pids(const char *unit, uint32_t *pids, size_t cap);
/* Writes NAME.service with a printf body to UNIT_DIR and reloads. */
void write_unit(const char *name, const char *fmt, ...);
/* Starts a unit, checks it is active/running with a live main pid (when
 * want_pid); returns MainPID. */
uint32_t start_unit(const char *name, int want_pid);
/* Stops (whatever it ignores or refuses: SIGKILL) and removes a unit. */
void remove_unit(const char *name);
/* 1 when pid is gone within timeout_ms. */
int gone_within(uint32_t pid, unsigned timeout_ms);
/* A fresh session store of its own for each case. */
void fresh_store(void);
/* A file under the run's directory (units with PrivateTmp= see no /tmp). */
const char *held_file(const char *name);
/* A started session with one service registered by name. */
uint32_t session_by_name(const char *service, unsigned svc_ms);
/* The list has exactly one entry, the service's (its main pid), with this
 * status, restartable, no reason. */
void one_service_entry(uint32_t h, const char *short_name, uint32_t pid,
                       uint32_t status);
/* rm_shutdown then rm_restart of a session whose only entry is the unit. */
void shutdown_and_restart(uint32_t h, const char *unit, uint32_t pid);

/* sd_relaunch_scope.c */
void user_program_relaunched_into_its_scope(void);

/* sd_host_view.c: the cases run on the host (--child host-view). */
int host_view_main(void);

/* sd_critical_user_nginx.c */
int user_child(const char *uid_text, const char *store);
void user_unit_of_a_non_root_caller(void);
void refuse_manual_stop_is_critical(void);
void known_critical_units(void);
void debian_nginx(void);

/* sd_hostile.c */
void users_runsv_named_like_a_unit(void);
/* sd_in_place.c */
void socket_activated_unit_stops_by_its_process(void);
void restart_in_place_in_dependency_order(void);
void restart_in_place_of_a_unit_failing_its_stop(void);

#endif
