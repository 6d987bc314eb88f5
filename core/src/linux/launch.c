/*
 * launch.c: capturing an application before it is stopped, and starting
 * it again afterwards.
 *
 * Capture reads /proc/PID/{stat,cmdline,environ,cwd,status} through one
 * directory fd opened on /proc/PID, after checking the start time through
 * that same fd: if the pid was recycled the reads fail or the check does,
 * so what is captured is always the recorded process's.  The real uid and
 * gid come from the "Uid:" and "Gid:" lines.
 *
 * Launch starts the program detached, the way a daemon is started: a
 * short-lived intermediate child forks the application and exits, so the
 * application is not the caller's child (no zombie in the installer, no
 * SIGCHLD), and the application calls setsid() so it leads a new session
 * with no controlling terminal.  Its stdio is /dev/null, its cwd, argv and
 * environment the captured ones (cwd "/" when the old one is gone), and
 * every other descriptor of the caller is closed.  When the caller is
 * root and the captured user differs, it drops to that uid/gid first.
 * The application waits on a pipe until the caller has read its identity,
 * so the identity is taken before the program could exit; a close-on-exec
 * pipe then tells whether execve succeeded.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_PATH \
  "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

/* {===== Capture */

/* Reads a whole /proc file of any size.  0 on success (*buf malloc'd, one
 * extra NUL byte after *len), else an RM_* code. */
static uint32_t read_all(int dirfd, const char *name, char **buf,
                         size_t *len) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap + 1);
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (!b || fd < 0) {
    uint32_t rc = !b                                  ? RM_ERROR_OUTOFMEMORY
                  : errno == EACCES || errno == EPERM ? RM_ERROR_ACCESS_DENIED
                                                      : RM_ERROR_FILE_NOT_FOUND;
    free(b);
    if (fd >= 0) close(fd);
    return rc;
  }
  for (;;) {
    ssize_t got;
    if (n == cap) {
      char *bigger = realloc(b, cap * 2 + 1);
      if (!bigger) {
        free(b);
        close(fd);
        return RM_ERROR_OUTOFMEMORY;
      }
      b = bigger;
      cap *= 2;
    }
    got = read(fd, b + n, cap - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      uint32_t rc = errno == EACCES || errno == EPERM
                        ? RM_ERROR_ACCESS_DENIED
                        : RM_ERROR_FILE_NOT_FOUND;
      free(b);
      close(fd);
      return rc;
    }
    if (got == 0) break;
    n += (size_t)got;
  }
  close(fd);
  b[n] = 0;
  *buf = b;
  *len = n;
  return RM_OK;
}

/* Splits NUL-separated strings into a NULL-terminated vector. */
static char **split_nul(const char *buf, size_t len) {
  size_t count = 0, i, k = 0;
  char **v;
  for (i = 0; i < len; i++)
    if (buf[i] == 0) count++;
  if (len > 0 && buf[len - 1] != 0) count++;
  v = calloc(count + 1, sizeof *v);
  if (!v) return NULL;
  for (i = 0; i < len && k < count; k++) {
    v[k] = rm__strdup(buf + i);
    if (!v[k]) {
      rm__argv_free(v);
      return NULL;
    }
    i += strlen(buf + i) + 1;
  }
  return v;
}

/* The first number after "Key:" in /proc/PID/status. */
static int status_field(const char *status, const char *key, uint32_t *out) {
  const char *p = strstr(status, key);
  if (!p) return -1;
  *out = (uint32_t)strtoul(p + strlen(key), NULL, 10);
  return 0;
}

/* 1 when dirfd is still the process with this identity. */
static int same_identity(int dirfd, const rm_unique_process *p) {
  rm__pstat st;
  return rm__linux_read_stat(dirfd, p->pid, &st) == 0 && st.state != 'Z' &&
         rm__linux_ticks_to_100ns(st.start_ticks) == p->start_time;
}

uint32_t rm__os_capture(const rm_unique_process *p, rm__launch *out) {
  char path[32], cwd[RM_PATH_MAX + 16], status[4096];
  char *cmd = NULL, *env = NULL;
  size_t cmd_len = 0, env_len = 0;
  ssize_t n;
  rm__launch l;
  uint32_t rc;
  int dirfd;

  memset(&l, 0, sizeof l);
  snprintf(path, sizeof path, "/proc/%u", (unsigned)p->pid);
  dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return RM_ERROR_FILE_NOT_FOUND;
  if (!same_identity(dirfd, p)) {
    close(dirfd);
    return RM_ERROR_FILE_NOT_FOUND;
  }
  rc = read_all(dirfd, "cmdline", &cmd, &cmd_len);
  if (rc == RM_OK && cmd_len == 0) rc = RM_ERROR_FILE_NOT_FOUND;
  if (rc == RM_OK) rc = read_all(dirfd, "environ", &env, &env_len);
  if (rc == RM_OK) {
    n = readlinkat(dirfd, "cwd", cwd, sizeof cwd - 1);
    if (n < 0)
      rc = errno == EACCES || errno == EPERM ? RM_ERROR_ACCESS_DENIED
                                             : RM_ERROR_FILE_NOT_FOUND;
    else
      cwd[n] = 0;
  }
  if (rc == RM_OK &&
      (rm__linux_read_small(dirfd, "status", status, sizeof status) <= 0 ||
       status_field(status, "\nUid:", &l.uid) != 0 ||
       status_field(status, "\nGid:", &l.gid) != 0))
    rc = RM_ERROR_FILE_NOT_FOUND;
  /* Everything read through dirfd belongs to the process it was opened
   * on; make sure that is still the recorded one. */
  if (rc == RM_OK && !same_identity(dirfd, p)) rc = RM_ERROR_FILE_NOT_FOUND;
  close(dirfd);
  if (rc == RM_OK) {
    l.argv = split_nul(cmd, cmd_len);
    l.envp = split_nul(env, env_len);
    l.cwd = rm__strdup(cwd);
    if (!l.argv || !l.envp || !l.cwd) rc = RM_ERROR_OUTOFMEMORY;
  }
  free(cmd);
  free(env);
  if (rc != RM_OK) {
    rm__launch_free(&l);
    return rc;
  }
  *out = l;
  return RM_OK;
}

/* }=====
 * {===== Launch */

/* The program to exec: argv[0] when it has a slash (relative to the
 * captured cwd), else searched in the captured PATH. */
static int resolve_program(const rm__launch *l, char *prog, size_t cap) {
  const char *name = l->argv[0], *path = NULL;
  size_t i;
  if (strchr(name, '/')) {
    if (name[0] == '/')
      return (size_t)snprintf(prog, cap, "%s", name) < cap ? 0 : -1;
    return (size_t)snprintf(prog, cap, "%s/%s", l->cwd, name) < cap ? 0 : -1;
  }
  for (i = 0; l->envp && l->envp[i]; i++)
    if (strncmp(l->envp[i], "PATH=", 5) == 0) path = l->envp[i] + 5;
  if (!path) path = DEFAULT_PATH;
  while (*path) {
    size_t n = strcspn(path, ":");
    const char *dir = n ? path : ".";
    int len = n ? (int)n : 1;
    if ((size_t)snprintf(prog, cap, "%.*s/%s", len, dir, name) < cap &&
        access(prog, X_OK) == 0)
      return 0;
    path += n;
    if (*path) path++;
  }
  return -1;
}

/* The application's side, after the second fork: only async-signal-safe
 * calls.  Never returns. */
static void become_app(const rm__launch *l, const char *prog, int go_fd,
                       int info_fd) {
  struct sigaction dfl;
  sigset_t none;
  char go;
  int sig, nul, err;
  ssize_t got;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  nul = open("/dev/null", O_RDWR);
  if (nul < 0) goto fail;
  dup2(nul, 0);
  dup2(nul, 1);
  dup2(nul, 2);
  if (nul > 2) close(nul);
  if (chdir(l->cwd) != 0 && chdir("/") != 0) goto fail;
  if (getuid() == 0 && (l->uid != 0 || l->gid != 0)) {
    gid_t gid = (gid_t)l->gid;
    if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid((uid_t)l->uid, (uid_t)l->uid, (uid_t)l->uid) != 0)
      goto fail;
  }
  /* Wait until the caller has our identity; no go byte, no exec. */
  while ((got = read(go_fd, &go, 1)) < 0 && errno == EINTR) {}
  if (got != 1) _exit(127);
  close(go_fd);
  /* Keep only stdio and the exec-status pipe (close-on-exec, fd 3). */
  if (info_fd != 3) {
    if (dup3(info_fd, 3, O_CLOEXEC) < 0) goto fail;
    close(info_fd);
    info_fd = 3;
  }
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0)
#endif
  {
    int fd;
    for (fd = 4; fd < 1024; fd++) close(fd);
  }
  execve(prog, l->argv, l->envp);
fail:
  err = errno;
  if (write(info_fd, &err, sizeof err) < 0) {}
  _exit(127);
}

/* Three pipes: the intermediate child reports the application's pid on
 * pid_pipe, the caller releases the application through go, and the
 * application's close-on-exec end of info tells whether execve worked. */
uint32_t rm__os_launch(const rm__launch *l, rm_unique_process *started) {
  char prog[RM_PATH_MAX + 16];
  int info[2], go[2], pid_pipe[2], status;
  uint32_t app_pid = 0;
  int32_t exec_err = 0;
  pid_t mid;
  ssize_t got;
  uint32_t rc;

  if (!l->argv || !l->argv[0] || !l->cwd) return RM_ERROR_FAIL_RESTART;
  if (getuid() != 0 && l->uid != (uint32_t)getuid())
    return RM_ERROR_FAIL_RESTART;
  if (resolve_program(l, prog, sizeof prog) != 0) return RM_ERROR_FAIL_RESTART;
  if (pipe2(info, O_CLOEXEC) != 0) return RM_ERROR_FAIL_RESTART;
  /* A socket, so that a release sent to an app that already died is
   * EPIPE, not a SIGPIPE in the caller. */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0) {
    close(info[0]);
    close(info[1]);
    return RM_ERROR_FAIL_RESTART;
  }
  if (pipe2(pid_pipe, O_CLOEXEC) != 0) {
    close(info[0]);
    close(info[1]);
    close(go[0]);
    close(go[1]);
    return RM_ERROR_FAIL_RESTART;
  }
  mid = fork();
  if (mid == 0) {
    pid_t app;
    close(info[0]);
    close(go[1]);
    close(pid_pipe[0]);
    app = fork();
    if (app == 0) {
      close(pid_pipe[1]);
      become_app(l, prog, go[0], info[1]);
    }
    if (app > 0) {
      uint32_t v = (uint32_t)app;
      if (write(pid_pipe[1], &v, sizeof v) < 0) {}
    }
    _exit(app > 0 ? 0 : 1);
  }
  close(info[1]);
  close(go[0]);
  close(pid_pipe[1]);
  if (mid < 0) {
    close(info[0]);
    close(go[1]);
    close(pid_pipe[0]);
    return RM_ERROR_FAIL_RESTART;
  }
  while ((got = read(pid_pipe[0], &app_pid, sizeof app_pid)) < 0 &&
         errno == EINTR) {}
  close(pid_pipe[0]);
  while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {}
  rc = got == (ssize_t)sizeof app_pid ? RM_OK : RM_ERROR_FAIL_RESTART;
  /* The application waits for the go byte (or died already trying to set
   * itself up, which the info pipe reports), so its identity is its own. */
  if (rc == RM_OK && rm__os_identity(app_pid, started) != RM_OK)
    rc = RM_ERROR_FAIL_RESTART;
  if (rc == RM_OK && send(go[1], "g", 1, MSG_NOSIGNAL) != 1)
    rc = RM_ERROR_FAIL_RESTART;
  close(go[1]);              /* without the go byte, the app exits */
  while ((got = read(info[0], &exec_err, sizeof exec_err)) < 0 &&
         errno == EINTR) {}
  if (got != 0) rc = RM_ERROR_FAIL_RESTART;    /* setup or execve failed */
  close(info[0]);
  return rc;
}

/* }===== */
