/* SPDX-License-Identifier: MIT */
/*
 * test_list_fds.c: fd tables and fd kinds the scan must see whole.
 *
 *  - sparse fd tables: holes low in the table and fds far above the rest
 *    (the scan probes fd numbers while the table is dense and lists the
 *    rest from where probing stopped: every fd must still be seen);
 *  - a registered Unix socket path: a real tmux server bound there is
 *    found through its socket:[inode] fd, both through sock_diag and
 *    through /proc/net/unix (RESTARTMGR_UNIX_SOCKETS=proc); a stale
 *    socket file nobody is bound to matches nothing;
 *  - /proc/net/unix prints bind paths raw: a socket bound at a name with a
 *    newline forges a line claiming another socket's inode for a
 *    registered path; the forged claim must be ignored.
 */
#define _GNU_SOURCE
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t session;

typedef struct listing {
  rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
} listing;

static void start(const char *const *files, unsigned n) {
  char key[RM_SESSION_KEY_CHARS + 1];
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&session, 0, key));
  ASSERT_OK(rm_register_resources(session, n, files, 0, NULL, 0, NULL));
}

static void list(listing *l) {
  ASSERT_OK(rm_get_list_alloc(session, &l->apps, &l->n, &l->reasons));
}

static void finish(listing *l) {
  rm_free_list(l->apps, l->n);
  ASSERT_OK(rm_end_session(session));
}

static const rm_app_info *find(const listing *l, long pid) {
  static rm_app_info none;            /* what a missing pid compares as */
  unsigned i;
  for (i = 0; i < l->n; i++)
    if (l->apps[i].info.process.pid == (uint32_t)pid) return &l->apps[i];
  rmt_fail(__FILE__, __LINE__, "pid not listed");
  return &none;
}

/* rm_holder with a NULL-terminated script, up to "ready". */
static void holder(rmt_child *c, const char *const script[]) {
  rmt_start_ready(c, rmt_helper("rm_holder"), script);
}

/* The entry holds exactly these registered files (in registration
 * order), each as an open fd. */
static void expect_files(const rm_app_info *a, const char *const *files,
                         unsigned n) {
  unsigned i;
  ASSERT_EQ(n, a->n_files);
  for (i = 0; i < n && i < a->n_files; i++) {
    const char *want = files[i], *got = a->files[i].file;
    if (strcmp(want, got) != 0) printf("want %s, got %s\n", want, got);
    ASSERT(strcmp(want, got) == 0);
    ASSERT_EQ(RM_USE_OPEN_FILE, a->files[i].how);
  }
}

static void sparse_fd_tables(void) {
  const char *dir = rmt_tempdir();
  const char *files[4];
  static rmt_child holes_low, far_apart;
  listing l;
  int i;
  char name[8];
  for (i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "f%d", i);
    files[i] = rmt_path(dir, name);
    ASSERT_EQ(0, rmt_write_file(files[i], "x\n"));
  }
  {
    /* fds 0-2, then holes 3..9 (every fd below 10 but 0-2 closed), then
     * f1 at 10 and f3 at 1000: probing stops at the holes, the listing
     * from there must still see 10 and 1000. */
    const char *low[] = { "open-at", "10", files[1], "open-at", "1000",
                          files[3], NULL };
    /* A dense run with one hole (a closed pipe, say) and one fd far
     * above: f0 at 3, hole at 4, f2 at 5, f3 at 700. */
    const char *apart[] = { "open-at", "3", files[0], "open-at", "5",
                            files[2], "open-at", "700", files[3], "close",
                            "4", NULL };
    holder(&holes_low, low);
    holder(&far_apart, apart);
  }
  start(files, 4);
  list(&l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(0, l.reasons);
  {
    const char *want_low[] = { files[1], files[3] };
    const char *want_apart[] = { files[0], files[2], files[3] };
    expect_files(find(&l, holes_low.pid), want_low, 2);
    expect_files(find(&l, far_apart.pid), want_apart, 3);
  }
  finish(&l);
  rmt_kill(&holes_low);
  rmt_kill(&far_apart);
}

/* A tmux server in the foreground (-D), bound at path; waits for the
 * socket file. */
static void start_tmux(rmt_child *c, const char *path) {
  char *argv[7];
  struct stat st;
  int waited;
  argv[0] = (char *)(uintptr_t)"/usr/bin/tmux";
  argv[1] = (char *)(uintptr_t)"-D";
  argv[2] = (char *)(uintptr_t)"-f";
  argv[3] = (char *)(uintptr_t)"/dev/null";
  argv[4] = (char *)(uintptr_t)"-S";
  argv[5] = (char *)(uintptr_t)path;
  argv[6] = NULL;
  ASSERT_EQ(0, access(argv[0], X_OK));     /* tmux is required */
  ASSERT_EQ(0, rmt_spawn(c, argv));
  for (waited = 0; waited < 10000; waited += 10) {
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) return;
    rmt_sleep_ms(10);
  }
  rmt_fail(__FILE__, __LINE__, "tmux did not bind its socket");
}

static void unix_socket_path(void) {
  const char *dir = rmt_tempdir(), *sock = rmt_path(dir, "tmux.sock");
  const char *other = rmt_path(dir, "plain.txt");
  const char *files[2];
  static rmt_child tmux, bystander;
  const char *const modes[] = { NULL, "proc" };
  listing l;
  size_t m;
  ASSERT_EQ(0, rmt_write_file(other, "x\n"));
  start_tmux(&tmux, sock);
  {
    const char *opens[] = { "open", other, NULL };
    holder(&bystander, opens);
  }
  files[0] = sock;
  files[1] = other;
  for (m = 0; m < 2; m++) {
    rmt_setenv("RESTARTMGR_UNIX_SOCKETS", modes[m]);
    start(files, 2);
    list(&l);
    ASSERT_EQ(2, l.n);
    ASSERT_EQ(0, l.reasons);
    expect_files(find(&l, tmux.pid), files, 1);
    ASSERT_STR_EQ("tmux", find(&l, tmux.pid)->info.app_name);
    expect_files(find(&l, bystander.pid), files + 1, 1);
    finish(&l);
  }
  /* Killed, it leaves the socket file behind, bound to nothing. */
  rmt_kill(&tmux);
  for (m = 0; m < 2; m++) {
    struct stat st;
    rmt_setenv("RESTARTMGR_UNIX_SOCKETS", modes[m]);
    ASSERT_EQ(0, stat(sock, &st));
    ASSERT(S_ISSOCK(st.st_mode));
    start(files, 1);
    list(&l);
    ASSERT_EQ(0, l.n);
    finish(&l);
  }
  rmt_setenv("RESTARTMGR_UNIX_SOCKETS", NULL);
  rmt_kill(&bystander);
}

/* The inode of the first socket:[N] among pid's fds, 0 if none. */
static unsigned long socket_inode(long pid) {
  char path[64], link[128];
  int fd;
  for (fd = 0; fd < 64; fd++) {
    ssize_t n;
    snprintf(path, sizeof path, "/proc/%ld/fd/%d", pid, fd);
    n = readlink(path, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = 0;
    if (strncmp(link, "socket:[", 8) == 0) return strtoul(link + 8, NULL, 10);
  }
  return 0;
}

static void forged_proc_net_unix_line(void) {
  const char *dir = rmt_tempdir(), *reg = rmt_path(dir, "r");
  static rmt_child bound, victim, forger;
  char forged[200];
  const char *files[1];
  const char *const modes[] = { NULL, "proc" };
  listing l;
  size_t m;
  {
    const char *binds[] = { "bind", reg, NULL };
    const char *plain[] = { "socket", NULL };
    holder(&bound, binds);                  /* really bound at reg */
    holder(&victim, plain);                 /* an unbound socket */
  }
  ASSERT(socket_inode(victim.pid) != 0);
  /* A name that makes /proc/net/unix show a second line: the victim's
   * socket "bound" at the registered path. */
  snprintf(forged, sizeof forged,
           "%s/a\n0000000000000000: 00000002 00000000 00010000 0001 01 "
           "%lu %s", dir, socket_inode(victim.pid), reg);
  ASSERT(strlen(forged) < 108);
  {
    /* Its slashes are directories: make them (below dir, removed with it). */
    char part[200];
    size_t k;
    for (k = strlen(dir) + 1; forged[k]; k++)
      if (forged[k] == '/') {
        memcpy(part, forged, k);
        part[k] = 0;
        ASSERT(mkdir(part, 0755) == 0 || errno == EEXIST);
      }
  }
  {
    const char *forges[] = { "bind", forged, NULL };
    holder(&forger, forges);
  }
  files[0] = reg;
  for (m = 0; m < 2; m++) {
    rmt_setenv("RESTARTMGR_UNIX_SOCKETS", modes[m]);
    start(files, 1);
    list(&l);
    ASSERT_EQ(1, l.n);                      /* the victim is not listed */
    expect_files(find(&l, bound.pid), files, 1);
    finish(&l);
  }
  rmt_setenv("RESTARTMGR_UNIX_SOCKETS", NULL);
  rmt_kill(&forger);
  rmt_kill(&victim);
  rmt_kill(&bound);
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("RESTARTMGR_UNIX_SOCKETS", NULL);
  RUN(sparse_fd_tables);
  RUN(unix_socket_path);
  RUN(forged_proc_net_unix_line);
  return rmt_finish();
}
