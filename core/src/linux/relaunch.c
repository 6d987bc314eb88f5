/* SPDX-License-Identifier: MIT */
/*
 * relaunch.c: the processes that start a captured application again:
 * the launcher, the intermediate and the application itself (the
 * caller's side, rm__os_launch*, is relaunch_all.c).
 *
 * Safety first (docs/linux.md, Restart):
 *
 *  - Credentials before paths.  The new process takes on the target's
 *    whole credential set (supplementary groups, then gid, then uid, all
 *    of real/effective/saved) before it touches any path, so every path
 *    after that (its cwd, its executable) is resolved with the target's
 *    rights, never the caller's.  A caller that is not root can only
 *    start programs with exactly its own credentials; root never starts
 *    as root what did not run as root (it drops to the captured user,
 *    and checks that the drop cannot be undone).
 *  - Its directory, as that user: the captured cwd, else the user's home
 *    (RM_RESTART_NOTE_CWD_HOME), else "/" (RM_RESTART_NOTE_CWD_ROOT).  A
 *    cwd swapped for a symlink into a directory the user may not enter
 *    therefore fails and falls back; it is never entered with root's
 *    rights.
 *  - The executable by identity: opened (O_PATH, as the user) at the
 *    captured path and checked with fstat: the captured inode, or the file
 *    that replaced it there (an upgrade, RM_RESTART_NOTE_UPGRADED); it
 *    must be a plain executable (no setuid, setgid or file capabilities).
 *    That very file is executed with fexecve, never a name looked up in
 *    PATH, never argv[0].  (A script, which the kernel cannot run from a
 *    close-on-exec descriptor, is executed by path after re-checking
 *    that the path still names the checked inode.)
 *  - The environment is the captured one, except when root relaunches a
 *    root process: then every variable that makes the loader or an
 *    interpreter load code is removed first (relaunch_env.c,
 *    RM_RESTART_NOTE_ENV_SANITIZED), because a root daemon's initial
 *    environment may have been handed to it by a less trusted user.
 *  - Its context, not the caller's (context.c, placement.c): limits,
 *    nice, oom score adjustment and bounding set before the credentials,
 *    a session keyring of its own, umask, personality, no_new_privs and
 *    its stdout/stderr files after them, and its cgroup, set by the
 *    caller before the go byte.  A launch without a captured context is
 *    not started (RM_RESTART_FAILED_CONTEXT).
 *
 * How it runs (docs/performance.md, Restart and the whole cycle): the
 * caller (relaunch_all.c) prepares every application of a batch, then
 * forks one launcher (or one per CPU; async-signal-safe calls only from
 * there on).  The
 * launcher, single-threaded, forks (_Fork: no fork handlers to run, no
 * malloc locks to take and release), per application, an
 * intermediate process that makes itself a child subreaper and starts
 * the application with a vfork-style clone (CLONE_VM | CLONE_VFORK: no
 * copy of the address space; the intermediate sleeps until the
 * application has exec'd or died, so the application alone runs in that
 * memory).  The application reports its own pid on its socket, sets
 * itself up (session, stdio on /dev/null, credentials, cwd, executable),
 * then waits for a go byte on that socket so that the caller reads its
 * identity and places it before it can exec; any setup or exec failure
 * goes back the same way.  The intermediate then watches the
 * application for the settle time (200 ms, RESTARTMGR_RESTART_SETTLE_MS)
 * from its exec: still running is success; an exit with status 0 that
 * left exactly one process behind (a daemon that forked into the
 * background, whose orphans the subreaper collects) is success with the
 * entry following that process (RM_RESTART_NOTE_DAEMONIZED); anything
 * else is RM_RESTART_FAILED_EXITED.  The intermediate then exits, so the
 * application is not the caller's child (no zombie, no SIGCHLD), and the
 * launcher exits once every intermediate has.
 */
#define _GNU_SOURCE
#include "relaunch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The application's stack while it shares the intermediate's memory
 * (it needs a few KB: become_app and the context calls). */
#define APP_STACK (256u * 1024u)

/* {===== The application's side (async-signal-safe only) */

static void send_msg(int fd, int32_t kind, uint32_t failure, int error,
                     uint32_t notes, int32_t value) {
  rm__relaunch_msg m;
  memset(&m, 0, sizeof m);
  m.kind = kind;
  m.failure = failure;
  m.error = error;
  m.notes = notes;
  m.value = value;
  /* A socket: a caller that went away is EPIPE, not a SIGPIPE. */
  if (send(fd, &m, sizeof m, MSG_NOSIGNAL) < 0) {}
}

static void report(int fd, uint32_t failure, int error, uint32_t notes) {
  send_msg(fd, RM__MSG_REPORT, failure, error, notes, 0);
}

/* "/proc/self/fd/N" into buf[32]. */
static void fd_path(char *buf, int fd) {
  static const char prefix[] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  memcpy(buf, prefix, sizeof prefix - 1);
  do digits[n++] = (char)('0' + fd % 10); while ((fd /= 10) > 0);
  buf += sizeof prefix - 1;
  while (n) *buf++ = digits[--n];
  *buf = 0;
}

/* The application: sock is its end of the socket (close-on-exec). */
static void become_app(const rm__relaunch_plan *pl, int sock) {
  const rm__launch *l = pl->l;
  struct sigaction dfl;
  struct stat st;
  sigset_t none;
  char go, xattr_path[32];
  uint32_t notes = pl->notes;
  int sig, exe_fd, fd, err;
  ssize_t got;

  /* Who we are, first: the caller places us by this pid. */
  send_msg(sock, RM__MSG_PID, 0, 0, 0, (int32_t)getpid());
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  dup2(pl->null_fd, 0);
  dup2(pl->null_fd, 1);
  dup2(pl->null_fd, 2);

  /* 0. The context that needs the caller's privilege. */
  if ((err = rm__linux_apply_context_caller(&l->ctx)) != 0) {
    report(sock, RM_RESTART_FAILED_CONTEXT, err, notes);
    _exit(127);
  }
  /* 1. Credentials, before any path. */
  if (pl->as_root) {
    uid_t r, e, s;
    if (setgroups(l->n_groups, pl->groups) != 0 ||
        setresgid((gid_t)l->gid, (gid_t)l->gid, (gid_t)l->gid) != 0 ||
        setresuid((uid_t)l->uid, (uid_t)l->uid, (uid_t)l->uid) != 0) {
      report(sock, RM_RESTART_FAILED_CREDENTIALS, errno, notes);
      _exit(127);
    }
    if (getresuid(&r, &e, &s) != 0 || r != l->uid || e != l->uid ||
        s != l->uid || (l->uid != 0 && setuid(0) == 0)) {
      report(sock, RM_RESTART_FAILED_CREDENTIALS, EPERM, notes);
      _exit(127);
    }
  }
  /* 1b. The rest of its context, as its user. */
  if ((err = rm__linux_apply_context_user(&l->ctx)) != 0) {
    report(sock, RM_RESTART_FAILED_CONTEXT, err, notes);
    _exit(127);
  }
  /* 2. Its directory, as its user. */
  if (chdir(l->cwd) != 0) {
    if (pl->home && chdir(pl->home) == 0) {
      notes |= RM_RESTART_NOTE_CWD_HOME;
    } else if (chdir("/") == 0) {
      notes |= RM_RESTART_NOTE_CWD_ROOT;
    } else {
      report(sock, RM_RESTART_FAILED_LAUNCH, errno, notes);
      _exit(127);
    }
  }
  /* 3. The executable, checked by identity. */
  exe_fd = open(l->exe, O_PATH | O_CLOEXEC);
  if (exe_fd < 0 || fstat(exe_fd, &st) != 0) {
    report(sock, RM_RESTART_FAILED_NO_EXECUTABLE, errno, notes);
    _exit(127);
  }
  fd_path(xattr_path, exe_fd);
  if (rm__linux_plain_executable(&st, xattr_path) != 0) {
    report(sock, RM_RESTART_FAILED_NO_EXECUTABLE, errno, notes);
    _exit(127);
  }
  if ((l->exe_id.dev || l->exe_id.ino) &&
      ((uint64_t)st.st_dev != l->exe_id.dev ||
       (uint64_t)st.st_ino != l->exe_id.ino))
    notes |= RM_RESTART_NOTE_UPGRADED;

  /* Wait until the caller has our identity; no go byte, no exec. */
  while ((got = read(sock, &go, 1)) < 0 && errno == EINTR) {}
  if (got != 1) _exit(127);
  /* Keep stdio, the socket as 3 and the executable as 4. */
  sock = fcntl(sock, F_DUPFD_CLOEXEC, 5);
  exe_fd = fcntl(exe_fd, F_DUPFD_CLOEXEC, 5);
  if (sock < 0 || exe_fd < 0 || dup3(sock, 3, O_CLOEXEC) < 0 ||
      dup3(exe_fd, 4, O_CLOEXEC) < 0)
    _exit(127);
  sock = 3;
  exe_fd = 4;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 5u, ~0u, 0u) != 0)
#endif
    for (fd = 5; fd < 1024; fd++) close(fd);
  report(sock, 0, 0, notes);
  fexecve(exe_fd, l->argv, pl->envp);
  if (errno == ENOENT) {
    /* A script: the interpreter cannot open a close-on-exec descriptor,
     * so exec the path, once it is known to still be the checked file. */
    struct stat again;
    if (stat(l->exe, &again) == 0 && again.st_dev == st.st_dev &&
        again.st_ino == st.st_ino)
      execve(l->exe, l->argv, pl->envp);
  }
  report(sock, RM_RESTART_FAILED_EXEC, errno, notes);
  _exit(127);
}

/* clone's entry point: the plan, and the socket in the intermediate. */
typedef struct app_start {
  const rm__relaunch_plan *pl;
  int sock;
} app_start;

static int app_main(void *arg) {
  const app_start *a = arg;
  become_app(a->pl, a->sock);
  return 127;
}

/* }=====
 * {===== The intermediate (async-signal-safe only) */

/* The first pid in /proc/self/task/TID/children, or 0. */
static pid_t first_child(void) {
  char path[64], buf[64];
  static const char prefix[] = "/proc/self/task/";
  pid_t tid = getpid(), v = 0;
  char digits[12];
  int n = 0, fd;
  size_t k = sizeof prefix - 1;
  ssize_t got;
  memcpy(path, prefix, k);
  do digits[n++] = (char)('0' + tid % 10); while ((tid /= 10) > 0);
  while (n) path[k++] = digits[--n];
  memcpy(path + k, "/children", 10);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  got = read(fd, buf, sizeof buf - 1);
  close(fd);
  for (n = 0; n < got && buf[n] >= '0' && buf[n] <= '9'; n++)
    v = v * 10 + (buf[n] - '0');
  return v;
}

/* Closes [first, last], nothing when first > last. */
static void close_between(int first, int last) {
  int fd;
  if (first > last || first < 0) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, 0u) == 0)
    return;
#endif
  for (fd = first; fd <= last && fd < 1024; fd++) close(fd);
}

static void be_intermediate(const rm__relaunch_plan *pl) {
  struct sigaction dfl;
  app_start start;
  uint64_t began;
  int32_t kind, value = 0;
  int status = 0, exited = 0, lo, hi, children = 1;
  sigset_t chld;
  void *stack;
  pid_t app;
  /* Only this application's socket and /dev/null stay open. */
  lo = pl->app_end < pl->null_fd ? pl->app_end : pl->null_fd;
  hi = pl->app_end < pl->null_fd ? pl->null_fd : pl->app_end;
  close_between(3, lo - 1);
  close_between(lo + 1, hi - 1);
  close_between(hi + 1, 0x7fffffff);
  /* The caller may ignore SIGCHLD, which would reap the app unseen. */
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &dfl, NULL);
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  start.pl = pl;
  start.sock = pl->app_end;
  /* Sharing our memory, the app returns to us once it has exec'd or died
   * (CLONE_VFORK).  Once it has dropped to its user, that user may
   * ptrace it only where fs.suid_dumpable is 1 (the kernel makes a
   * process that changed credentials undumpable otherwise): there it
   * gets memory of its own, or it could write into ours. */
  if (pl->own_memory) {
    app = _Fork();
    if (app == 0) become_app(pl, pl->app_end);
  } else {
    stack = mmap(NULL, APP_STACK, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) _exit(1);
    app = clone(app_main, (char *)stack + APP_STACK,
                CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  }
  if (app < 0) _exit(1);        /* no pid message: the caller's EOF */
  /* Asleep until a child changes state or the time is up: SIGCHLD is
   * blocked here (the launcher's mask), so it waits as pending. */
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  began = rm__os_now_ms();
  for (;;) {
    int st;
    uint64_t now;
    struct timespec left;
    /* With no child left none can come (orphans come from children). */
    pid_t r = children ? waitpid(-1, &st, WNOHANG) : 0;
    if (r == app) {
      exited = 1;
      status = st;
    }
    if (r > 0) continue;
    if (r < 0) children = 0;
    now = rm__os_now_ms();
    if (now - began >= pl->settle_ms) break;
    left.tv_sec = (time_t)((pl->settle_ms - (now - began)) / 1000u);
    left.tv_nsec = (long)((pl->settle_ms - (now - began)) % 1000u) * 1000000L;
    sigtimedwait(&chld, NULL, &left);
  }
  if (!exited) {
    kind = RM__MSG_RUNNING;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
             (value = (int32_t)first_child()) > 0) {
    kind = RM__MSG_DAEMON;
  } else {
    kind = RM__MSG_EXITED;
    value = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  send_msg(pl->app_end, kind, 0, 0, 0, value);
  _exit(0);
}

/* }=====
 * {===== The launcher (async-signal-safe only) */

void rm__relaunch_launcher(rm__relaunch_plan *plans, size_t n, int which,
                           const int *keep, size_t n_keep) {
  size_t i;
  int prev = 2;
  /* Every signal is blocked here (the caller forked with all blocked).
   * Nothing of the caller's stays open here: no lock, no socket. */
  for (i = 0; i < n_keep; i++) {
    close_between(prev + 1, keep[i] - 1);
    if (keep[i] > prev) prev = keep[i];
  }
  close_between(prev + 1, 0x7fffffff);
  for (i = 0; i < n; i++) {
    pid_t mid;
    if (plans[i].app_end < 0 || plans[i].launcher != which) continue;
    mid = _Fork();
    if (mid == 0) be_intermediate(&plans[i]);
    /* Only its intermediate holds it now: its EOF is theirs. */
    close(plans[i].app_end);
  }
  while (waitpid(-1, NULL, 0) > 0) {}
  _exit(0);
}

/* }===== */
