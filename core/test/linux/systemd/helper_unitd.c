/* SPDX-License-Identifier: MIT */
/*
 * helper_unitd.c (rm_unitd): the daemon the systemd tests run as their
 * units' ExecStart, its behaviour chosen by the arguments:
 *
 *   --hold PATH         open PATH read-only and keep it open (repeatable)
 *   --map PATH          map PATH executable (r-x, like a shared library)
 *                       and close the fd: only the mapping holds it
 *   --log-term FILE     on SIGTERM append "PID SIGTERM from SENDER\n" to
 *                       FILE (SENDER: si_pid, 1 when systemd stops the
 *                       unit, the killer's pid when something else does)
 *                       and exit 0
 *   --ignore-term       ignore SIGTERM (only SIGKILL ends it)
 *   --workers N         fork N worker processes, which inherit the open
 *                       files (a master and its workers)
 *   --daemon PIDFILE    the classic double fork: the started process
 *                       forks, the child calls setsid() and forks again,
 *                       the grandchild writes its pid to PIDFILE ("-":
 *                       none) and the started process exits only then
 *                       (Type=forking)
 *
 * Once set up (files open, workers forked) it tells systemd READY=1 on
 * $NOTIFY_SOCKET when that is set (Type=notify), then waits for signals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "rm_unitd: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* sd_notify("READY=1") without libsystemd: one datagram to the socket
 * systemd named ("@..." is an abstract address). */
static void notify_ready(void) {
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un addr;
  size_t n;
  socklen_t len;
  int fd;
  if (!path || !path[0]) return;
  n = strlen(path);
  if (n >= sizeof addr.sun_path) return;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, n);
  if (path[0] == '@') addr.sun_path[0] = 0;
  len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&addr, len) < 0)
    die("sendto NOTIFY_SOCKET");
  close(fd);
}

/* --map: the whole file, read and execute, private; the fd is closed so
 * only the mapping keeps the inode (what a process that loaded a shared
 * library has). */
static void map_file(const char *path) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) die(path);
  if (st.st_size <= 0) {
    errno = EINVAL;
    die(path);
  }
  if (mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd,
           0) == MAP_FAILED)
    die(path);
  close(fd);
}

/* --log-term: who sent SIGTERM, written from the handler with
 * async-signal-safe calls only. */
static int term_log_fd = -1;

static size_t put_number(char *out, long v) {
  char digits[24];
  size_t n = 0, i;
  if (v < 0) v = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (i = 0; i < n; i++) out[i] = digits[n - 1 - i];
  return n;
}

static void on_term(int sig, siginfo_t *info, void *context) {
  static const char middle[] = " SIGTERM from ";
  char line[80];
  size_t n;
  (void)sig;
  (void)context;
  n = put_number(line, (long)getpid());
  memcpy(line + n, middle, sizeof middle - 1);
  n += sizeof middle - 1;
  n += put_number(line + n, (long)info->si_pid);
  line[n++] = '\n';
  if (write(term_log_fd, line, n) != (ssize_t)n) _exit(1);
  _exit(0);
}

static void log_term(const char *path) {
  struct sigaction sa;
  term_log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (term_log_fd < 0) die(path);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_term;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGTERM, &sa, NULL) != 0) die("sigaction");
}

static void wait_forever(void) {
  for (;;) pause();
}

/* The double fork of a traditional daemon; returns in the grandchild. */
static void daemonize(const char *pidfile) {
  int pipefd[2];
  char c;
  pid_t pid;
  if (pipe(pipefd) != 0) die("pipe");
  pid = fork();
  if (pid < 0) die("fork");
  if (pid > 0) {
    /* The started process: exit once the daemon is set up. */
    close(pipefd[1]);
    while (read(pipefd[0], &c, 1) < 0 && errno == EINTR) {}
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(pipefd[0]);
  if (setsid() < 0) die("setsid");
  pid = fork();
  if (pid < 0) die("fork");
  if (pid > 0) _exit(0);
  if (strcmp(pidfile, "-") != 0) {
    char text[32];
    FILE *f = fopen(pidfile, "w");
    if (!f) die(pidfile);
    snprintf(text, sizeof text, "%ld\n", (long)getpid());
    fputs(text, f);
    if (fclose(f) != 0) die(pidfile);
  }
  if (write(pipefd[1], "x", 1) != 1) die("write");
  close(pipefd[1]);
}

int main(int argc, char **argv) {
  const char *pidfile = NULL;
  int workers = 0, i;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
      if (open(argv[++i], O_RDONLY) < 0) die(argv[i]);
    } else if (strcmp(argv[i], "--map") == 0 && i + 1 < argc) {
      map_file(argv[++i]);
    } else if (strcmp(argv[i], "--log-term") == 0 && i + 1 < argc) {
      log_term(argv[++i]);
    } else if (strcmp(argv[i], "--ignore-term") == 0) {
      signal(SIGTERM, SIG_IGN);
    } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      workers = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--daemon") == 0 && i + 1 < argc) {
      pidfile = argv[++i];
    } else {
      fprintf(stderr, "rm_unitd: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  for (i = 0; i < workers; i++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) wait_forever();
  }
  if (pidfile) daemonize(pidfile);
  else notify_ready();
  wait_forever();
  return 0;
}
