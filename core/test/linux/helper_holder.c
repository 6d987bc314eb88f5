/* SPDX-License-Identifier: MIT */
/*
 * helper_holder.c (rm_holder): a process that holds files the way real
 * programs do, for the list tests.  Runs its arguments as a script of
 * actions, in order, then prints "ready" and sleeps until killed:
 *
 *   open PATH          open read-only and keep the fd
 *   open-at FD PATH    the same, at fd number FD (holes below stay)
 *   close FD           close an fd (makes a hole)
 *   bind PATH          a Unix stream socket bound at PATH, listening
 *   socket             an unbound Unix socket, kept open
 *   map PATH           open, mmap one page, close (held by the mapping)
 *   map-exec PATH      the same, mapped executable (as a shared library)
 *   memfd-exec         an executable mapping of a memfd (as JITs have)
 *   ptmx FILE          open the master side of a new pty and keep it (a
 *                      terminal host), writing the slave's path to FILE
 *   leader-exit        (last) the main thread exits, another one lives on
 *                      holding everything: /proc/PID shows a zombie
 *   write PATH TEXT    create or truncate a file with TEXT
 *   unlink PATH        remove a name
 *   ctty               acquire a controlling terminal (a new pty)
 *   loginuid UID       write /proc/self/loginuid: a new audit session
 *   drop UID           become UID/GID (as root), then exec itself again
 *                      with the remaining actions (so it is dumpable)
 *   unshare-tmpfs DIR  private mount namespace, a tmpfs over DIR
 *   unshare-bind SRC DIR  private mount namespace, SRC bind-mounted on DIR
 *
 * It always starts a new session first, so it has no controlling terminal
 * unless asked for one.  Any failure prints "error: ..." and exits 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what, const char *arg) {
  printf("error: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  fflush(stdout);
  exit(2);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) die("write", path);
}

static void acquire_tty(void) {
  int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
  const char *name;
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
    die("openpt", NULL);
  name = ptsname(master);
  if (!name) die("ptsname", NULL);
  slave = open(name, O_RDWR);        /* a session leader's first tty */
  if (slave < 0) die("open", name);
}

/* The thread that stays when the main thread exits (leader-exit). */
static void *live_on(void *arg) {
  (void)arg;
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
  return NULL;
}

static void private_namespace(void) {
  if (unshare(CLONE_NEWNS) != 0) die("unshare", NULL);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    die("make-private", "/");
}

/* Drops to uid (and gid = uid) and runs the rest of the script again from
 * a fresh exec, as a program started by that user would be. */
static void drop_and_exec(const char *uid_text, char **rest) {
  uid_t uid = (uid_t)strtoul(uid_text, NULL, 10);
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  char **argv;
  int count = 0, i;
  if (n <= 0) die("readlink", "/proc/self/exe");
  self[n] = 0;
  while (rest[count]) count++;
  argv = calloc((size_t)count + 3, sizeof *argv);
  if (!argv) die("calloc", NULL);
  argv[0] = self;
  argv[1] = (char *)(uintptr_t)"--no-setsid";
  for (i = 0; i < count; i++) argv[i + 2] = rest[i];
  if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
      setresuid(uid, uid, uid) != 0)
    die("drop", uid_text);
  execv(self, argv);
  die("exec", self);
}

int main(int argc, char **argv) {
  int i = 1;
  if (argc > 1 && strcmp(argv[1], "--no-setsid") == 0) i = 2;
  else if (setsid() < 0) die("setsid", NULL);
  for (; i < argc; i++) {
    const char *a = argv[i], *x = i + 1 < argc ? argv[i + 1] : NULL;
    const char *y = i + 2 < argc ? argv[i + 2] : NULL;
    if (strcmp(a, "open") == 0 && x) {
      if (open(x, O_RDONLY) < 0) die("open", x);
      i++;
    } else if (strcmp(a, "open-at") == 0 && x && y) {
      int fd = open(y, O_RDONLY);
      if (fd < 0) die("open", y);
      if (dup2(fd, atoi(x)) != atoi(x)) die("dup2", x);
      if (fd != atoi(x)) close(fd);
      i += 2;
    } else if (strcmp(a, "close") == 0 && x) {
      close(atoi(x));
      i++;
    } else if (strcmp(a, "bind") == 0 && x) {
      struct sockaddr_un addr;
      int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      memset(&addr, 0, sizeof addr);
      addr.sun_family = AF_UNIX;
      if (fd < 0 || strlen(x) >= sizeof addr.sun_path) die("socket", x);
      memcpy(addr.sun_path, x, strlen(x));
      if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
          listen(fd, 4) != 0)
        die("bind", x);
      i++;
    } else if (strcmp(a, "socket") == 0) {
      if (socket(AF_UNIX, SOCK_STREAM, 0) < 0) die("socket", NULL);
    } else if (strcmp(a, "map") == 0 && x) {
      int fd = open(x, O_RDONLY);
      if (fd < 0) die("open", x);
      if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
        die("mmap", x);
      close(fd);
      i++;
    } else if (strcmp(a, "map-exec") == 0 && x) {
      int fd = open(x, O_RDONLY);
      if (fd < 0) die("open", x);
      if (mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) ==
          MAP_FAILED)
        die("mmap", x);
      close(fd);
      i++;
    } else if (strcmp(a, "memfd-exec") == 0) {
      int fd = memfd_create("jit", 0);
      if (fd < 0 || ftruncate(fd, 4096) != 0 ||
          mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0) ==
              MAP_FAILED)
        die("memfd", NULL);
    } else if (strcmp(a, "ptmx") == 0 && x) {
      int master = posix_openpt(O_RDWR | O_NOCTTY);
      const char *name;
      if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
          !(name = ptsname(master)))
        die("openpt", NULL);
      write_file(x, name);
      i++;
    } else if (strcmp(a, "leader-exit") == 0) {
      pthread_t t;
      if (pthread_create(&t, NULL, live_on, NULL) != 0) die("thread", NULL);
      pthread_exit(NULL);
    } else if (strcmp(a, "write") == 0 && x && y) {
      write_file(x, y);
      i += 2;
    } else if (strcmp(a, "unlink") == 0 && x) {
      if (unlink(x) != 0) die("unlink", x);
      i++;
    } else if (strcmp(a, "ctty") == 0) {
      acquire_tty();
    } else if (strcmp(a, "loginuid") == 0 && x) {
      write_file("/proc/self/loginuid", x);
      i++;
    } else if (strcmp(a, "drop") == 0 && x) {
      drop_and_exec(x, argv + i + 2);
    } else if (strcmp(a, "unshare-tmpfs") == 0 && x) {
      private_namespace();
      if (mount("tmpfs", x, "tmpfs", 0, "size=1m") != 0) die("mount", x);
      i++;
    } else if (strcmp(a, "unshare-bind") == 0 && x && y) {
      private_namespace();
      if (mount(x, y, NULL, MS_BIND, NULL) != 0) die("bind", y);
      i += 2;
    } else {
      errno = EINVAL;
      die("bad action", a);
    }
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
