/* SPDX-License-Identifier: MIT */
/*
 * services.c: the service-manager dispatcher of the Linux backend.
 *
 * Three managers sit behind one interface (services.h): the caller's own
 * systemd user manager (a caller other than root whose manager runs),
 * systemd, consulted only where it runs (/run/systemd/system exists), and
 * runit.  A process
 * belongs to the service the first present manager names for it; a short
 * name resolves through the first manager that runs such a service, else
 * the first that knows it.
 *
 * Critical services are never stopped: a built-in list of what a machine
 * cannot lose without losing its users' sessions (D-Bus, login managers,
 * gettys, display managers, network plumbing), extended by the
 * space-, comma- or colon-separated shell patterns of
 * $RESTARTMGR_CRITICAL_SERVICES, plus whatever the manager itself refuses
 * to stop (systemd's RefuseManualStop=yes).
 *
 * sv and systemctl are run by fork/exec, never through a shell, with a
 * bounded wait; the child is ended by pid if it hangs.
 */
#define _GNU_SOURCE
#include "services.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* {===== The managers */

/* The caller's user manager first: for a caller other than root its own
 * units are the ones it can stop, and a name it shares with a system
 * unit means the user's. */
static const rm__svc_manager *const managers[] = {
  &rm__svc_systemd_user, &rm__svc_systemd, &rm__svc_runit
};
#define N_MANAGERS (sizeof managers / sizeof managers[0])

/* The manager that handles a name: one that runs it, else one that knows
 * it, else NULL. */
static const rm__svc_manager *manager_for(const char *name, uint32_t *pid) {
  const rm__svc_manager *known = NULL;
  size_t i;
  for (i = 0; i < N_MANAGERS; i++) {
    uint32_t p = 0;
    int state;
    if (!managers[i]->present()) continue;
    state = managers[i]->lookup(name, &p);
    if (state == RM_SVC_RUNNING) {
      if (pid) *pid = p;
      return managers[i];
    }
    if (state == RM_SVC_DOWN && !known) known = managers[i];
  }
  return known;
}

unsigned rm__linux_services_present(void) {
  unsigned present = 0;
  size_t i;
  for (i = 0; i < N_MANAGERS; i++)
    if (managers[i]->present()) present |= 1u << i;
  return present;
}

int rm__linux_service_of_stat(uint32_t pid, const rm__pstat *st,
                              unsigned present, char *name, size_t cap) {
  size_t i;
  for (i = 0; i < N_MANAGERS; i++)
    if ((present & (1u << i)) && managers[i]->service_of(pid, st, name, cap))
      return 1;
  return 0;
}

int rm__linux_service_of(uint32_t pid, char *name, size_t cap) {
  return rm__linux_service_of_stat(pid, NULL, rm__linux_services_present(),
                                   name, cap);
}

int rm__linux_service_pid(const char *name, uint32_t *pid) {
  uint32_t p = 0;
  const rm__svc_manager *m = manager_for(name, &p);
  if (!m || p == 0) return 0;
  *pid = p;
  return 1;
}

int rm__linux_service_find(const char *name, uint32_t *pid, char *short_name,
                           size_t cap) {
  uint32_t p = 0;
  const rm__svc_manager *m = manager_for(name, &p);
  *pid = 0;
  if (!m || !m->short_name(name, short_name, cap)) {
    if ((size_t)snprintf(short_name, cap, "%s", name) >= cap) short_name[0] = 0;
    return 0;
  }
  *pid = p;
  return p != 0;
}

/* }=====
 * {===== Critical services */

static const char *const critical_patterns[] = {
  "dbus", "dbus-broker", "dbus-daemon", "elogind", "logind",
  "systemd-*", "user@*", "user-runtime-dir@*", "init", "runit", "runsvdir",
  "getty*", "*-getty*", "agetty*", "serial-getty@*", "autovt@*", "mingetty*",
  "display-manager", "gdm", "gdm3", "sddm", "lightdm", "xdm", "lxdm",
  "slim", "greetd", "ly",
  "NetworkManager", "network-manager", "networking", "wpa_supplicant",
  "ModemManager", "connman", "iwd", "udev", "udevd", "eudev",
  "polkit", "polkitd", "emergency", "rescue", "container-getty@*"
};

/* 1 when name matches one of the space/comma/colon separated patterns of
 * list. */
static int matches_list(const char *name, const char *list) {
  char pattern[256];
  while (list && *list) {
    size_t n = strcspn(list, " ,:\t\n");
    if (n > 0 && n < sizeof pattern) {
      memcpy(pattern, list, n);
      pattern[n] = 0;
      if (fnmatch(pattern, name, 0) == 0) return 1;
    }
    list += n;
    if (*list) list++;
  }
  return 0;
}

int rm__linux_service_critical(const char *name) {
  char bare[RM_MAX_SVC_NAME + 1];
  size_t i, n = strlen(name);
  /* "x.service" and "x" are the same service for the list. */
  if (n >= 8 && strcmp(name + n - 8, ".service") == 0 && n - 8 < sizeof bare) {
    memcpy(bare, name, n - 8);
    bare[n - 8] = 0;
  } else {
    snprintf(bare, sizeof bare, "%s", name);
  }
  for (i = 0; i < sizeof critical_patterns / sizeof *critical_patterns; i++)
    if (fnmatch(critical_patterns[i], bare, 0) == 0) return 1;
  if (matches_list(bare, getenv("RESTARTMGR_CRITICAL_SERVICES"))) return 1;
  for (i = 0; i < N_MANAGERS; i++)
    if (managers[i]->present() && managers[i]->refuses_stop(name)) return 1;
  return 0;
}

uint32_t rm__linux_service_stop(const char *name, unsigned timeout_ms,
                                int force, const volatile int *cancel) {
  const rm__svc_manager *m;
  if (rm__linux_service_critical(name)) return RM_ERROR_FAIL_SHUTDOWN;
  m = manager_for(name, NULL);
  if (!m) return RM_ERROR_FAIL_SHUTDOWN;
  return m->stop(name, timeout_ms, force, cancel);
}

uint32_t rm__linux_service_start(const char *name, unsigned timeout_ms) {
  const rm__svc_manager *m = manager_for(name, NULL);
  if (!m) return RM_ERROR_FAIL_RESTART;
  return m->start(name, timeout_ms);
}

/* }=====
 * {===== Running sv and systemctl */

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

/* }===== */
