/* SPDX-License-Identifier: MIT */
/*
 * svc_run.c: the process tools the service managers share (services.h):
 * finding sv and systemctl, running them, asking whether a pid lives.
 *
 * sv and systemctl are run by fork/exec, never through a shell, with a
 * bounded wait; the child is ended by pid if it hangs.
 */
#define _GNU_SOURCE
#include "services.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


int rm__linux_find_program(const char *prog, char *path, size_t cap) {
  static const char *const dirs[] = {
    "/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin",
    "/usr/local/sbin"
  };
  const char *p = getenv("PATH");
  size_t i;
  for (i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    if ((size_t)snprintf(path, cap, "%s/%s", dirs[i], prog) < cap &&
        access(path, X_OK) == 0)
      return 0;
  }
  while (p && *p) {
    size_t n = strcspn(p, ":");
    if (n > 0 &&
        (size_t)snprintf(path, cap, "%.*s/%s", (int)n, p, prog) < cap &&
        path[0] == '/' && access(path, X_OK) == 0)
      return 0;
    p += n;
    if (*p) p++;
  }
  return -1;
}

int rm__linux_pid_alive(uint32_t pid) {
  rm__pstat st;
  if (pid == 0 || rm__linux_read_stat(-1, pid, &st) != 0) return 0;
  return st.state != 'Z' && st.state != 'X';
}

/* The child side of rm__linux_run: only async-signal-safe calls. */
static void run_child(const char *cwd, char *const argv[], int out_fd,
                      int null_fd) {
  sigset_t none;
  int fd;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  dup2(null_fd, 0);
  dup2(out_fd >= 0 ? out_fd : null_fd, 1);
  dup2(null_fd, 2);
  if (cwd && chdir(cwd) != 0) _exit(127);
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
    for (fd = 3; fd < 1024; fd++) close(fd);
  execv(argv[0], argv);
  _exit(127);
}

int rm__linux_run(const char *cwd, char *const argv[], char *out, size_t cap,
                  unsigned timeout_ms) {
  int pipefd[2] = { -1, -1 }, null_fd, status = 0, result = -1;
  size_t len = 0;
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  pid_t pid;

  if (out && cap) out[0] = 0;
  null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return -1;
  if (out && pipe2(pipefd, O_CLOEXEC) != 0) {
    close(null_fd);
    return -1;
  }
  pid = fork();
  if (pid == 0) run_child(cwd, argv, pipefd[1], null_fd);
  close(null_fd);
  if (pipefd[1] >= 0) close(pipefd[1]);
  if (pid < 0) {
    if (pipefd[0] >= 0) close(pipefd[0]);
    return -1;
  }
  /* Collect its output until EOF or the deadline. */
  while (pipefd[0] >= 0) {
    struct pollfd pfd;
    uint64_t now = rm__os_now_ms();
    char sink[256];
    ssize_t got;
    if (now >= deadline) break;
    pfd.fd = pipefd[0];
    pfd.events = POLLIN;
    if (poll(&pfd, 1, (int)(deadline - now)) <= 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (len + 1 < cap) got = read(pipefd[0], out + len, cap - 1 - len);
    else got = read(pipefd[0], sink, sizeof sink);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (len + 1 < cap) {
      len += (size_t)got;
      out[len] = 0;
    }
  }
  if (pipefd[0] >= 0) close(pipefd[0]);
  /* Reap it, ending it by its pid (our own child) at the deadline. */
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (r < 0 && errno == ECHILD) {
      result = -2;
      break;
    }
    if (rm__os_now_ms() >= deadline) {
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
      result = -1;
      break;
    }
    rm__os_sleep_ms(5);
  }
  return result;
}
