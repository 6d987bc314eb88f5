/* SPDX-License-Identifier: MIT */
/*
 * helper_context.c (rm_context): a process for the relaunch context tests
 * (test_restart_context.c).  Setup options, applied in order:
 *
 *   --cgroup DIR         as root: move into the cgroup directory DIR
 *   --as UID GID         as root: no supplementary groups, then setresgid,
 *                        setresuid (skipped when not root)
 *   --own-keyring        join a new session keyring of its own
 *   --nice N             setpriority
 *   --umask OCTAL
 *   --nofile N           RLIMIT_NOFILE soft and hard N
 *   --oom N              /proc/self/oom_score_adj
 *   --personality HEX
 *   --nnp                no_new_privs
 *   --seccomp            a seccomp filter that allows everything
 *   --stdout FILE        stdout and stderr appended to FILE
 *   --open FILE          open FILE and keep it (inherited across exec)
 *   --report DIR KEYID   last: exec itself as "ARGV0 --report DIR KEYID"
 *
 * Run as "rm_context --report DIR KEYID" (what a relaunch starts again),
 * it writes DIR/report.PID (atomically) with what it runs with:
 *
 *   keyring ID           its session keyring's serial
 *   key 0|1              whether it can read key KEYID (0: no)
 *   nice N / umask OCTAL / nnp 0|1 / nofile CUR MAX / oom N
 *   personality HEX / seccomp N / uid N
 *
 * then prints "hello PID" on stdout and sleeps until killed.  Failures
 * print "error: ..." on stderr and exit 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEYCTL_GET_KEYRING_ID 0
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_READ 11
#define SESSION_KEYRING_ID (-3)

static void die(const char *what, const char *arg) __attribute__((noreturn));
static void report(const char *dir, const char *key_text)
    __attribute__((noreturn));

static void die(const char *what, const char *arg) {
  fprintf(stderr, "error: %s %s: %s\n", what, arg ? arg : "",
          strerror(errno));
  exit(2);
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    die("write", path);
  close(fd);
}

/* The number after "Key:" in /proc/self/status, or -1. */
static long status_value(const char *key) {
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0 && line[n] == ':')
      v = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return v;
}

static void report(const char *dir, const char *key_text) {
  char path[4096], tmp[4200], buf[256], oom[32] = "?";
  long key = strtol(key_text, NULL, 10);
  struct rlimit nofile;
  mode_t mask = umask(0);
  FILE *f;
  int fd;
  umask(mask);
  fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t got = read(fd, oom, sizeof oom - 1);
    oom[got > 0 ? got : 0] = 0;
    oom[strcspn(oom, "\n")] = 0;
    close(fd);
  }
  getrlimit(RLIMIT_NOFILE, &nofile);
  snprintf(path, sizeof path, "%s/report.%ld", dir, (long)getpid());
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "w");
  if (!f) die("create", tmp);
  fprintf(f, "keyring %ld\n",
          (long)syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
                        SESSION_KEYRING_ID, 0));
  fprintf(f, "key %d\n",
          syscall(SYS_keyctl, KEYCTL_READ, key, buf, sizeof buf) >= 0);
  errno = 0;
  fprintf(f, "nice %d\n", getpriority(PRIO_PROCESS, 0));
  fprintf(f, "umask %03o\n", (unsigned)mask);
  fprintf(f, "nnp %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  fprintf(f, "nofile %llu %llu\n", (unsigned long long)nofile.rlim_cur,
          (unsigned long long)nofile.rlim_max);
  fprintf(f, "oom %s\n", oom);
  fprintf(f, "personality %x\n", (unsigned)personality(0xffffffff));
  fprintf(f, "seccomp %ld\n", status_value("Seccomp"));
  fprintf(f, "uid %u\n", (unsigned)getuid());
  if (fclose(f) != 0 || rename(tmp, path) != 0) die("rename", path);
  printf("hello %ld\n", (long)getpid());
  fflush(stdout);
  for (;;) pause();
}

static void allow_all_filter(void) {
  struct sock_filter allow[] = {
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
  };
  struct sock_fprog prog;
  prog.len = 1;
  prog.filter = allow;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
    die("seccomp", NULL);
}

int main(int argc, char **argv) {
  int i;
  if (argc == 4 && strcmp(argv[1], "--report") == 0) report(argv[2], argv[3]);
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--cgroup") == 0 && v) {
      char procs[4096];
      snprintf(procs, sizeof procs, "%s/cgroup.procs", v);
      write_file(procs, "0\n");
      i++;
    } else if (strcmp(a, "--as") == 0 && i + 2 < argc) {
      uid_t uid = (uid_t)strtoul(argv[i + 1], NULL, 10);
      gid_t gid = (gid_t)strtoul(argv[i + 2], NULL, 10);
      if (geteuid() == 0 &&
          (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
           setresuid(uid, uid, uid) != 0))
        die("become", argv[i + 1]);
      i += 2;
    } else if (strcmp(a, "--own-keyring") == 0) {
      if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
        die("keyctl", NULL);
    } else if (strcmp(a, "--nice") == 0 && v) {
      if (setpriority(PRIO_PROCESS, 0, atoi(v)) != 0) die("nice", v);
      i++;
    } else if (strcmp(a, "--umask") == 0 && v) {
      umask((mode_t)strtoul(v, NULL, 8));
      i++;
    } else if (strcmp(a, "--nofile") == 0 && v) {
      struct rlimit r;
      r.rlim_cur = r.rlim_max = (rlim_t)strtoull(v, NULL, 10);
      if (setrlimit(RLIMIT_NOFILE, &r) != 0) die("nofile", v);
      i++;
    } else if (strcmp(a, "--oom") == 0 && v) {
      write_file("/proc/self/oom_score_adj", v);
      i++;
    } else if (strcmp(a, "--personality") == 0 && v) {
      if (personality(strtoul(v, NULL, 16)) < 0) die("personality", v);
      i++;
    } else if (strcmp(a, "--nnp") == 0) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("nnp", NULL);
    } else if (strcmp(a, "--seccomp") == 0) {
      allow_all_filter();
    } else if (strcmp(a, "--stdout") == 0 && v) {
      int fd = open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) die("stdout", v);
      close(fd);
      i++;
    } else if (strcmp(a, "--open") == 0 && v) {
      if (open(v, O_RDONLY) < 0) die("open", v);
      i++;
    } else if (strcmp(a, "--report") == 0 && i + 2 < argc) {
      char *again[] = { argv[0], (char *)(uintptr_t)"--report", argv[i + 1],
                        argv[i + 2], NULL };
      execv(argv[0], again);
      die("exec", argv[0]);
    } else {
      errno = EINVAL;
      die("usage", a);
    }
  }
  errno = EINVAL;
  die("usage: no --report", NULL);
  return 2;
}
