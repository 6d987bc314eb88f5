/* SPDX-License-Identifier: MIT */
/*
 * scan.h: what the files of the Linux list scan share.
 *
 * regset.c    the registered files as hash sets: (dev, ino) -> file
 *             indices, the devices they live on, and their path texts
 *             (for older inodes, which only a path can name)
 * sockets.c   the sockfs inodes of the sockets bound at registered
 *             Unix socket paths, added to those sets
 * detect.c    which registered files one process holds, and how: its
 *             executable, open fds and memory mappings; pty masters
 * stale.c     deleted executable mappings by identity (rm__os_scan_stale),
 *             and paths looked up in a process's own view (its root)
 * scan.c      rm__os_scan: walks /proc (split over worker threads),
 *             detection, classification, services
 * classify.c  app type, name, session, reboot reasons of the processes
 *             that matched, and the critical-process list
 * svc_entries.c  one entry per service (its main process)
 * restartable.c  whether a matched process can be started again
 *
 * Only matched processes are classified; the scan itself reads nothing
 * but the fd directory, one statx per fd, the maps file and the exe.
 */
#ifndef RM_LINUX_SCAN_H
#define RM_LINUX_SCAN_H

#include "linux.h"

/* {===== regset.c */

typedef struct rm__id_slot {
  uint64_t dev, ino;
  size_t file;                 /* index into the registered files */
  int used;
  int older;                   /* the identity the path had when it was
                                  registered, no longer the path's now */
} rm__id_slot;

typedef struct rm__path_slot {
  char *text;                  /* owned; NULL = empty slot */
  size_t len;
  uint64_t hash;
  size_t file;
} rm__path_slot;

/* A registered path that is a Unix socket: processes hold not its inode
 * but the socket bound there (sockets.c). */
typedef struct rm__reg_socket {
  uint64_t dev, ino;           /* the socket file's identity */
  size_t file;
} rm__reg_socket;

/* The registered files, hashed.  Several slots may share a key (two
 * registered names of one inode); lookups report every one. */
typedef struct rm__regset {
  rm__id_slot *ids;
  size_t id_mask;              /* capacity - 1, capacity a power of two */
  size_t n_ids;
  rm__reg_socket *sockets;     /* the registered paths that are sockets */
  size_t n_sockets;
  rm__path_slot *paths;
  size_t path_mask;
  uint64_t *devs;              /* distinct devices of the registered paths */
  size_t n_devs;
  size_t n_files;
} rm__regset;

/* Per-process accumulator of uses: each file index at most once. */
typedef struct rm__uses {
  size_t *slot_of;             /* [n_files]: index into list, or SIZE_MAX */
  rm__use *list;
  size_t n, cap;
  int oom;
} rm__uses;

/* Builds the set from the registered paths (statx following symlinks) and
 * the identities they had when registered (ids: NULL or [n], {0, 0} for
 * none); a recorded identity the path no longer has matches as an older
 * inode.  The registered paths that are Unix sockets are only noted
 * (s->sockets): building does no netlink I/O, the scan adds their sockets
 * afterwards (rm__regset_add_sockets).  RM_OK, RM_ERROR_ACCESS_DENIED (a
 * path is a directory), RM_ERROR_OUTOFMEMORY. */
uint32_t rm__regset_build(rm__regset *s, const char *const *files,
                          const rm__file_id *ids, size_t n);
void rm__regset_free(rm__regset *s);

/* Adds an identity held for a registered file (a socket's sockfs inode);
 * 0, or -1 when out of memory. */
int rm__regset_add_id(rm__regset *s, uint64_t dev, uint64_t ino, size_t file);

/* 1 when dev holds one of the registered paths (or their directories). */
int rm__regset_has_dev(const rm__regset *s, uint64_t dev);

/* Adds (file, how) to u for every registered file with this identity, or
 * with this path text (how | RM_USE_OLDER_INODE for a registered file's
 * former identity); returns how many matched.  u may be NULL for
 * match_path: only counts. */
size_t rm__regset_match_id(const rm__regset *s, uint64_t dev, uint64_t ino,
                           rm__uses *u, uint32_t how);
size_t rm__regset_match_path(const rm__regset *s, const char *path,
                             size_t len, rm__uses *u, uint32_t how);

int rm__uses_init(rm__uses *u, size_t n_files);
void rm__uses_add(rm__uses *u, size_t file, uint32_t how);
/* Moves the accumulated list out, sorted by file index (malloc'd, NULL
 * when empty), and resets. */
rm__use *rm__uses_take(rm__uses *u, size_t *n);
void rm__uses_free(rm__uses *u);

/* }=====
 * {===== sockets.c */

/* Adds, for each registered socket file (s->sockets), the sockfs inodes
 * of the sockets bound at it, so that fds on them match.  RM_OK or
 * RM_ERROR_OUTOFMEMORY (sockets that cannot be looked up match nothing). */
uint32_t rm__regset_add_sockets(rm__regset *s);

/* }=====
 * {===== detect.c */

#define RM_DETECT_BUF (64 * 1024)  /* getdents64 and maps reads */

struct rm__older_entry;

/* One worker's detection state, reused from process to process. */
typedef struct rm__detector {
  const rm__regset *set;
  uint64_t mnt_ns;             /* the caller's mount namespace inode */
  rm__uses uses;               /* what the current process holds */
  int stale;                   /* also collect deleted executable mappings
                                  (rm__os_scan_stale) */
  uint64_t shm_dev;            /* the kernel's internal shmem device
                                  (memfd, SysV, shared anonymous): its
                                  "deleted" files are no upgrade's */
  rm__stale *stale_list;       /* the current process's, unsorted */
  size_t n_stale, cap_stale;
  int stale_oom;
  struct rm__older_entry *older;  /* deleted inodes already read */
  size_t older_mask, n_older;  /* capacity - 1 (0: none yet), count */
  char *buf;                   /* RM_DETECT_BUF bytes */
} rm__detector;

/* One process under detection. */
typedef struct rm__probe {
  int dirfd;                   /* its /proc/PID directory */
  int denied;                  /* out: fds, maps or exe refused */
  int same_ns;                 /* -1 unknown, else in the caller's mnt ns */
  uint64_t mnt_ns;             /* its ns/mnt inode when read, else 0 */
  int has_exe;                 /* out: its executable's identity */
  uint64_t exe_dev, exe_ino;
  uint32_t exe_mode;           /* out: and its st_mode (0: unknown) */
  int pty_master;              /* out: holds the master side of a pty */
  int hosts_tty;               /* out: ... of the caller's terminal */
  int pts_index;               /* in: the caller's pts number, or -1 */
  int root_state;              /* its /proc/PID/root and whom its view
                                  trusts: 0 not read, 1 read (rootfd,
                                  trust), -1 unreadable */
  int rootfd;
  rm__view_trust trust;        /* root, its user; its FUSE mounts */
} rm__probe;

/* 0, or -1 when out of memory. */
int rm__detector_init(rm__detector *d, const rm__regset *set,
                      uint64_t mnt_ns);
void rm__detector_free(rm__detector *d);

/* Each adds what it finds to d->uses.  rm__detect_exe returns -1 when the
 * process has no executable (a kernel thread or a zombie), else 0, and
 * must come first: mappings of the executable count as the executable. */
int rm__detect_exe(rm__detector *d, rm__probe *p);
void rm__detect_fds(rm__detector *d, rm__probe *p);
void rm__detect_maps(rm__detector *d, rm__probe *p);

/* 1 when sx (of an fd) is the pty multiplexer: the fd is a pty master. */
struct statx;
int rm__is_ptmx(const struct statx *sx);
/* 1 when the pty master fd fd_name of the process whose /proc directory
 * is dirfd is the one of pts number pts_index (its fdinfo's tty-index);
 * 0 otherwise or when pts_index is -1. */
int rm__pty_is_ours(int dirfd, const char *fd_name, int pts_index);

/* The inode number of a namespace, from the link dirfd/name ("ns/mnt"),
 * or 0 when unreadable. */
uint64_t rm__ns_inode(int dirfd, const char *name);

/* Decimal text of v into buf[11]. */
void rm__utoa(char *buf, uint32_t v);

/* }=====
 * {===== stale.c */

/* Records a mapping whose text (len bytes, as maps shows it, " (deleted)"
 * included) marks its inode deleted, unless that text in the process's
 * own view names this very (dev, ino): see stale.c. */
void rm__stale_note(rm__detector *d, rm__probe *p, uint64_t dev,
                    uint64_t ino, uint32_t how, const char *text,
                    size_t len);
/* Moves the collected records out, sorted by identity, each once
 * (malloc'd, NULL when none), and resets. */
rm__stale *rm__stale_take(rm__detector *d, size_t *n);
/* Moves from's records into into's; 0, or -1 when out of memory. */
int rm__stale_merge(rm__found *into, rm__found *from);
/* 1 when the directory of the absolute path[len] is, in the process's own
 * view (its root and mounts), the directory it is in ours. */
int rm__view_same_dir(rm__probe *p, const char *path, size_t len);
/* Closes what a probe opened for view lookups. */
void rm__probe_close(rm__probe *p);

/* }=====
 * {===== classify.c */

/* The caller, as the classification compares against it. */
typedef struct rm__self {
  uint32_t pid;
  uint32_t session_id;         /* RM_INVALID_SESSION_ID when unknown */
  uint64_t mnt_ns, pid_ns;     /* inodes of /proc/self/ns/{mnt,pid};
                                  0 when unknown */
  char **critical;             /* NULL-terminated critical process names */
  const rm__restart_reg *restarts;  /* registered restart commands */
  size_t n_restarts;
  int systemd;                 /* systemd is the service manager here (a
                                  machine.slice exists only under it) */
  rm_unique_process *keep;     /* never stopped: its ancestors and the
                                  session leader of its terminal */
  size_t n_keep;
  int pts_index;               /* its terminal's pts number, or -1 */
  char cgroup[1024];           /* its /proc/self/cgroup, "" when unread */
} rm__self;

/* Facts about one process, gathered on the worker thread that found it;
 * rm__classify_finish turns them into an entry on the main thread once
 * the service lookup is known. */
typedef struct rm__facts {
  uint32_t always;             /* reasons that apply even to services:
                                  CRITICAL_PROCESS, DETECTED_SELF, and
                                  SESSION_MISMATCH from a container */
  uint32_t as_app;             /* reasons for a plain app: PERMISSION_DENIED,
                                  SESSION_MISMATCH from the login session
                                  or a mount namespace of its own */
  int console;                 /* has a controlling terminal */
  int graphical;               /* DISPLAY or WAYLAND_DISPLAY in environ */
  int relaunch;                /* the library can start it again as it
                                  runs, or it registered how (see
                                  restartable.c) */
  uint32_t ppid;
  int uninspected;             /* its fds, maps or exe were refused */
  int terminal_host;           /* holds the master side of a pty */
  int hosts_our_tty;           /* ... of the caller's terminal */
  int own_mnt_ns;              /* a mount namespace other than ours */
  int leader_exited;           /* seen through a live thread */
} rm__facts;

/* What one process the scan reports carries until the end of the scan. */
typedef struct rm__item {
  rm__found found;
  rm__facts facts;
} rm__item;

uint32_t rm__self_init(rm__self *self);
void rm__self_free(rm__self *self);

/* Sets facts->terminal_host (and hosts_our_tty) from the fds of the
 * process whose /proc directory is dirfd, for one whose fds the
 * detection did not look at. */
void rm__classify_pty(const rm__self *self, int dirfd, rm__facts *facts);

/* Fills item's identity, name, session, exe (unless has_exe is already
 * set) and facts (all but graphical; terminal_host and hosts_our_tty are
 * the caller's to set) for the process whose /proc
 * directory is dirfd and whose stat is st; mnt_ns is the inode of its
 * ns/mnt when already known (else 0); x what is known of its exe (NULL:
 * nothing yet).  0, or -1 when it is gone. */
int rm__classify_probe(const rm__self *self, int dirfd, uint32_t pid,
                       const rm__pstat *st, uint64_t mnt_ns, rm__exe_seen *x,
                       rm__item *item);

/* What restartable.c found out about one executable for one set of
 * credentials (the checks of the file itself and of the path it runs
 * from), kept for the rest of one scan by one worker thread: the
 * holders of one program are often many. */
typedef struct rm__exe_verdict {
  int used, ok;
  uint64_t run_dev, run_ino;   /* the running inode (/proc/PID/exe) */
  char link[256];              /* the exe link's text */
  uint32_t uid, gid;           /* real ids (uniform, rule 1) */
  uint32_t groups[16];
  size_t n_groups;
  uint64_t present_dev, present_ino;   /* the file now at link */
} rm__exe_verdict;

typedef struct rm__exe_cache {
  rm__exe_verdict v[8];
  unsigned next;               /* the slot replaced next */
} rm__exe_cache;

/* For a plain app (service 0) without a terminal or a reboot reason, the
 * only entries whose type and restartable these decide: sets
 * facts.graphical (reading environ) and facts.relaunch (restartable.c,
 * with cache, which may be NULL). */
void rm__classify_plain_app(const rm__self *self, int dirfd, rm__item *item,
                            int service, rm__exe_seen *x,
                            rm__exe_cache *cache);

/* Sets app_type, reasons and restartable from the facts, as an app or,
 * when service is non-NULL, as that service. */
void rm__classify_finish(rm__item *item, const char *service);

/* }=====
 * {===== svc_entries.c */

/* Leaves one item per service name among the classified items: its main
 * process (added when only other processes of it were found), holding
 * the union of their uses and reasons.  RM_OK or RM_ERROR_OUTOFMEMORY. */
/* A new item for the service's main process pid, classified as that
 * service; 0, or -1 when it cannot be read (gone, a zombie). */
int rm__probe_service_main(const rm__self *self, int proc_fd, uint32_t pid,
                           const char *service, rm__item *item);

uint32_t rm__merge_service_items(const rm__self *self, int proc_fd,
                                 rm__item **items, size_t *n);

/* }=====
 * {===== restartable.c */

/* Whether the library can start the process again (facts->relaunch),
 * decided at list time: see restartable.c for the rule.  dirfd is its
 * /proc/PID directory, f its record with identity and exe filled, x what
 * classification saw of its exe, env its environ when already read (else
 * NULL).  A confinement a relaunch cannot reproduce sets *why
 * (RM_NOT_RESTARTABLE_*). */
int rm__relaunch_probe(const rm__self *self, int dirfd, const rm__found *f,
                       rm__exe_seen *x, const rm__environ *env,
                       rm__exe_cache *cache, uint32_t *why);

/* Marks workers: a found app that is not restartable itself, whose parent
 * is a found, restartable app (not a worker, not a service) running the
 * same executable, is restartable through that parent. */
void rm__mark_workers(rm__item *items, size_t n);

/* }===== */

#endif
