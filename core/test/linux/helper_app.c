/* SPDX-License-Identifier: MIT */
/*
 * helper_app.c (rm_app): an application for the shutdown and restart
 * tests, whose behaviour the arguments choose:
 *
 *   --hold PATH        open PATH read-only and keep it open (repeatable)
 *   --ignore-term      ignore SIGTERM (a hung app: only SIGKILL ends it)
 *   --ignore-int       ignore SIGINT (a console app that needs SIGTERM)
 *   --exit-after MS    exit by itself after MS milliseconds
 *   --report PATH      write what it was started with to PATH (atomically):
 *                      pid, ppid, sid, pgid, tty (as found at start, before
 *                      anything below), the targets of fds 0-2, cwd, each
 *                      argument and each environment entry, one per line
 *   --ctty             get a controlling terminal: a new pty, in a new
 *                      session (a console app)
 *   --pdeathsig        die with SIGKILL when the parent dies (a service
 *                      under a runsv the test may have to kill)
 *   --keep-session     do not start a new session (by default it calls
 *                      setsid(), dropping any terminal the test runs in)
 *   --log PATH LABEL   append "start LABEL" to PATH as it sets up, and
 *                      "term LABEL" when SIGTERM ends it (order checks)
 *
 * Prints "ready" on stdout once set up, then waits for signals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int log_fd = -1;
static char term_line[128];

/* Logs the SIGTERM, then dies of it as if there were no handler. */
static void on_term(int sig) {
  if (write(log_fd, term_line, strlen(term_line)) < 0) {}
  signal(sig, SIG_DFL);
  raise(sig);
}

static void die(const char *what) {
  printf("error: %s: %s\n", what, strerror(errno));
  fflush(stdout);
  exit(2);
}

/* Field 7 (tty_nr) of /proc/self/stat. */
static long own_tty(void) {
  char buf[1024], *p;
  int field;
  FILE *f = fopen("/proc/self/stat", "r");
  size_t n;
  if (!f) return -1;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  p = strrchr(buf, ')');
  if (!p) return -1;
  for (field = 2; field < 7 && p; field++) p = strchr(p + 1, ' ');
  return p ? strtol(p + 1, NULL, 10) : -1;
}

static void fd_target(int fd, char *out, size_t cap) {
  char path[64];
  ssize_t n;
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  n = readlink(path, out, cap - 1);
  if (n < 0) n = 0;
  out[n] = 0;
}

static void write_report(const char *path, int argc, char **argv) {
  char tmp[4200], buf[4096];
  FILE *f;
  int i;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "w");
  if (!f) die("report");
  fprintf(f, "pid %ld\nppid %ld\nsid %ld\npgid %ld\ntty %ld\n", (long)getpid(),
          (long)getppid(), (long)getsid(0), (long)getpgrp(), own_tty());
  for (i = 0; i < 3; i++) {
    fd_target(i, buf, sizeof buf);
    fprintf(f, "fd%d %s\n", i, buf);
  }
  if (!getcwd(buf, sizeof buf)) buf[0] = 0;
  fprintf(f, "cwd %s\n", buf);
  for (i = 0; i < argc; i++) fprintf(f, "arg %s\n", argv[i]);
  for (i = 0; environ[i]; i++) fprintf(f, "env %s\n", environ[i]);
  if (fclose(f) != 0 || rename(tmp, path) != 0) die("report");
}

static void get_ctty(void) {
  int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
    die("pty");
  slave = open(ptsname(master), O_RDWR);
  if (slave < 0) die("pty slave");
  if (ioctl(slave, TIOCSCTTY, 0) != 0) die("TIOCSCTTY");
  /* Both ends stay open for the life of the process. */
}

int main(int argc, char **argv) {
  const char *report = NULL;
  long exit_after = -1;
  int i, ctty = 0, keep_session = 0;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--report") == 0 && i + 1 < argc) report = argv[++i];
    else if (strcmp(argv[i], "--keep-session") == 0) keep_session = 1;
  }
  if (report) write_report(report, argc, argv);
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--ctty") == 0) ctty = 1;
    else if (strcmp(argv[i], "--exit-after") == 0 && i + 1 < argc)
      exit_after = strtol(argv[++i], NULL, 10);
  }
  if (!keep_session || ctty) {
    if (setsid() < 0 && errno != EPERM) die("setsid");
  }
  if (ctty) get_ctty();
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
      if (open(argv[++i], O_RDONLY | O_CLOEXEC) < 0) die("open");
    } else if (strcmp(argv[i], "--ignore-term") == 0) {
      signal(SIGTERM, SIG_IGN);
    } else if (strcmp(argv[i], "--ignore-int") == 0) {
      signal(SIGINT, SIG_IGN);
    } else if (strcmp(argv[i], "--log") == 0 && i + 2 < argc) {
      char line[128];
      log_fd = open(argv[i + 1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                    0644);
      if (log_fd < 0) die("log");
      snprintf(term_line, sizeof term_line, "term %s\n", argv[i + 2]);
      snprintf(line, sizeof line, "start %s\n", argv[i + 2]);
      if (write(log_fd, line, strlen(line)) < 0) die("log");
      signal(SIGTERM, on_term);
      i += 2;
    } else if (strcmp(argv[i], "--pdeathsig") == 0) {
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("pdeathsig");
      if (getppid() == 1) exit(3);
    }
  }
  printf("ready\n");
  fflush(stdout);
  if (exit_after >= 0) {
    struct timespec ts;
    ts.tv_sec = exit_after / 1000;
    ts.tv_nsec = (exit_after % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    return 0;
  }
  for (;;) pause();
}
