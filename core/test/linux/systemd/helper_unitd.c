/*
 * helper_unitd.c (rm_unitd): the daemon the systemd tests run as their
 * units' ExecStart, its behaviour chosen by the arguments:
 *
 *   --hold PATH         open PATH read-only and keep it open (repeatable)
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
#include <sys/socket.h>
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
