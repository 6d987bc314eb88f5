/*
 * linux.h: declarations shared by the files of the Linux backend.
 *
 * proc.c      /proc readers, identity, time, randomness, the global mutex
 * store.c     the session store directory (flock, atomic writes)
 * scan.c      rm__os_scan: who uses the registered files
 * classify.c  app type, name, session, reboot reasons of a found process
 * stop.c      rm__os_stop_apps: pidfd signalling and waiting
 * launch.c    rm__os_capture, rm__os_launch
 * services.c  the service-manager interface and its runit and systemd
 *             implementations
 */
#ifndef RM_LINUX_H
#define RM_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../internal.h"

/* The fields of /proc/PID/stat the backend uses. */
typedef struct rm__pstat {
  char comm[64];
  char state;
  int ppid;
  int session;              /* process session id */
  int tty_nr;               /* controlling terminal, 0 if none */
  unsigned flags;           /* PF_* (PF_KTHREAD = 0x00200000) */
  uint64_t start_ticks;     /* field 22, clock ticks since boot */
} rm__pstat;

#define RM_PF_KTHREAD 0x00200000u

/* Parses /proc/PID/stat (after the last ')').  dirfd is an open /proc/PID
 * directory, or -1 to open by pid.  0 on success, -1 with errno. */
int rm__linux_read_stat(int dirfd, uint32_t pid, rm__pstat *out);

/* Clock ticks since boot → 100 ns units. */
uint64_t rm__linux_ticks_to_100ns(uint64_t ticks);

/* Reads a small /proc file relative to dirfd into buf (NUL-terminated).
 * Returns bytes read or -1 with errno. */
ssize_t rm__linux_read_small(int dirfd, const char *name, char *buf,
                             size_t cap);

/* {===== services.c: one interface over the service managers present */

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

/* 1 when the service must never be stopped (critical list, systemd's
 * RefuseManualStop). */
int rm__linux_service_critical(const char *name);

/* }===== */

#endif
