/* SPDX-License-Identifier: MIT */
/*
 * test_scripts.c: replaced scripts and the kernel (docs/linux.md,
 * Replaced scripts and The kernel), with real interpreters:
 *
 *  - which argument is the script, for each family's options;
 *  - Debian's version order on tricky versions, checked against dpkg
 *    --compare-versions where dpkg is installed;
 *  - real perl, python3 and sh processes whose scripts are replaced by
 *    rename, written in place, or deleted while held: rm_get_stale_scripts
 *    lists exactly those, and never an untouched one;
 *  - what the path walk trusts: root's own symlink and "..", never a
 *    directory another group can write nor a file anyone can write;
 *  - a hostile user (uid 65533, as root) flipping a symlink in a loop:
 *    root's own perl, whether its script is unrelated or reached through
 *    her directory, is never listed;
 *  - a FUSE server (bindfs) stopped under a user's script never blocks
 *    the scan;
 *  - the newest installed kernel in a tree of real-looking kernel file
 *    names (fault injection: this machine may have no /boot at all).
 *
 * Every process is killed by pid and reaped, every tree removed, also on
 * failure.
 */
#define _GNU_SOURCE
#include "test.h"
#include "linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MALLORY 65533u

/* {===== Helpers */

static int script_of(const char *exe, const char *const *argv) {
  int argc = 0;
  while (argv[argc]) argc++;
  return rm__script_arg(exe, argv, argc, NULL);
}

/* The verdict rm_get_stale_scripts gives pid: 0 when not listed. */
static uint32_t verdict_of(long pid, char *path, size_t cap) {
  rm_stale_script *v;
  unsigned n, i;
  uint32_t why = 0;
  ASSERT_OK(rm_get_stale_scripts(&v, &n));
  for (i = 0; i < n; i++)
    if (v[i].process.pid == (uint32_t)pid) {
      why = v[i].why;
      if (path) snprintf(path, cap, "%s", v[i].path);
    }
  rm_free_stale_scripts(v, n);
  return why;
}

/* Waits until pid has exec'd the interpreter (its exe is not ours). */
static void wait_exec(long pid, const char *name) {
  char link[64], exe[4096];
  int tries;
  snprintf(link, sizeof link, "/proc/%ld/exe", pid);
  for (tries = 0; tries < 500; tries++) {
    ssize_t n = readlink(link, exe, sizeof exe - 1);
    if (n > 0) {
      exe[n] = 0;
      if (strstr(exe, name)) return;
    }
    rmt_sleep_ms(10);
  }
  ASSERT(!"the interpreter did not start");
}

static void spawn_interp(rmt_child *c, const char *exe, const char *opt,
                         const char *script) {
  char *argv[4];
  int i = 0;
  argv[i++] = (char *)(uintptr_t)exe;
  if (opt) argv[i++] = (char *)(uintptr_t)opt;
  argv[i++] = (char *)(uintptr_t)script;
  argv[i] = NULL;
  ASSERT_EQ(0, rmt_spawn(c, argv));
  wait_exec(c->pid, strrchr(exe, '/') + 1);
  rmt_sleep_ms(50);          /* past the tick the start time is cut to */
}

/* Replaces path by rename with new text (a new inode). */
static void replace(const char *path, const char *text) {
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  ASSERT_EQ(0, rmt_write_file(tmp, text));
  ASSERT_EQ(0, rename(tmp, path));
}

/* Writes text into path in place (same inode). */
static void rewrite(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_APPEND);
  ASSERT(fd >= 0);
  ASSERT_EQ((ssize_t)strlen(text), write(fd, text, strlen(text)));
  close(fd);
}

static const char perl_loop[] = "sleep 1 while 1;\n";
static const char python_loop[] = "import time\nwhile True: time.sleep(1)\n";

/* }=====
 * {===== Which argument is the script */

static void the_script_argument_of_each_family(void) {
  const char *perl[] = { "perl", "-w", "-I", "/lib", "-Mstrict", "-T",
                         "/s.pl", "arg", NULL };
  const char *perl_e[] = { "perl", "-we", "print 1", "/s.pl", NULL };
  const char *perl_cluster[] = { "perl", "-wI/x", "/s.pl", NULL };
  const char *perl_S[] = { "perl", "-S", "s.pl", NULL };
  const char *perl_dd[] = { "perl", "--", "-odd.pl", NULL };
  const char *py[] = { "python3", "-u", "-W", "error", "-X", "dev", "-E",
                       "/s.py", "-c", NULL };
  const char *py_m[] = { "python3", "-u", "-m", "http.server", NULL };
  const char *py_c[] = { "python3", "-Bc", "pass", "/s.py", NULL };
  const char *py_long[] = { "python3", "--check-hash-based-pycs", "always",
                            "s.py", NULL };
  const char *py_stdin[] = { "python3", "-", "/s.py", NULL };
  const char *rb[] = { "ruby", "-w", "-I", "lib", "-r", "json", "app.rb",
                       NULL };
  const char *rb_C[] = { "ruby", "-C", "/srv", "app.rb", NULL };
  const char *js[] = { "node", "--require", "x", "--inspect=9229",
                       "server.js", NULL };
  const char *js_e[] = { "node", "-pe", "1+1", NULL };
  const char *lua[] = { "lua5.4", "-e", "x=1", "-l", "mod", "s.lua", NULL };
  const char *lua_stdin[] = { "lua5.4", "-", NULL };
  const char *sh[] = { "bash", "-euo", "pipefail", "+x", "/s.sh", NULL };
  const char *sh_c[] = { "dash", "-c", "sleep 1", "/s.sh", NULL };
  const char *sh_login[] = { "-bash", NULL };
  const char *sh_dash[] = { "sh", "-", "/s.sh", NULL };
  const char *sh_rc[] = { "bash", "--rcfile", "/rc", "/s.sh", NULL };
  const char *title[] = { "perl", "", "", NULL };    /* $0 rewritten */
  const char *label = NULL;

  ASSERT_EQ(6, script_of("/usr/bin/perl", perl));
  ASSERT_EQ(6, script_of("/usr/bin/perl5.36.0", perl));
  ASSERT_EQ(-1, script_of("/usr/bin/perl", perl_e));
  ASSERT_EQ(2, script_of("/usr/bin/perl", perl_cluster));
  ASSERT_EQ(-1, script_of("/usr/bin/perl", perl_S));
  ASSERT_EQ(2, script_of("/usr/bin/perl", perl_dd));
  ASSERT_EQ(7, script_of("/usr/bin/python3.11", py));
  ASSERT_EQ(-1, script_of("/usr/bin/python3.11", py_m));
  ASSERT_EQ(-1, script_of("/usr/bin/python3.11", py_c));
  ASSERT_EQ(3, script_of("/usr/local/bin/python3.12", py_long));
  ASSERT_EQ(-1, script_of("/usr/bin/python3", py_stdin));
  ASSERT_EQ(6, script_of("/usr/bin/ruby3.1", rb));
  ASSERT_EQ(-1, script_of("/usr/bin/ruby3.1", rb_C));
  ASSERT_EQ(4, script_of("/usr/bin/node", js));
  ASSERT_EQ(-1, script_of("/usr/bin/node", js_e));
  ASSERT_EQ(5, script_of("/usr/bin/lua5.4", lua));
  ASSERT_EQ(-1, script_of("/usr/bin/lua5.4", lua_stdin));
  ASSERT_EQ(4, script_of("/usr/bin/bash", sh));
  ASSERT_EQ(-1, script_of("/usr/bin/dash", sh_c));
  ASSERT_EQ(-1, script_of("/usr/bin/bash", sh_login));
  ASSERT_EQ(2, script_of("/usr/bin/dash", sh_dash));
  ASSERT_EQ(3, script_of("/usr/bin/bash", sh_rc));
  ASSERT_EQ(-1, script_of("/usr/bin/perl", title));
  /* Not interpreters: other names, however close. */
  ASSERT_EQ(-1, script_of("/usr/bin/sha256sum", sh_rc));
  ASSERT_EQ(-1, script_of("/usr/bin/perldoc", perl));
  ASSERT_EQ(-1, script_of("/usr/bin/shutdown", sh_rc));
  ASSERT_EQ(-1, script_of("/usr/bin/sleep", perl));
  ASSERT_EQ(-1, rm__script_arg("/usr/bin/luajit-2.1", lua_stdin, 1, &label));
  ASSERT_STR_EQ("lua", label);
}

/* }=====
 * {===== Debian's version order */

static const struct { const char *a, *b; int cmp; } versions[] = {
  { "1.0", "1.0", 0 },          { "1.0", "1.0-0", 0 },
  { "1.0~rc1", "1.0", -1 },     { "1.0~~", "1.0~", -1 },
  { "1.0~", "1.0", -1 },        { "1.0", "1.0+b1", -1 },
  { "1.0a", "1.0", 1 },         { "1.0a", "1.0+", -1 },
  { "1.0.1", "1.0a", 1 },        { "1:0.9", "2.0", 1 },
  { "0:2.0", "2.0", 0 },        { "10", "9", 1 },
  { "1.010", "1.9", 1 },        { "1.001", "1.1", 0 },
  { "2.0-1", "2.0-1ubuntu1", -1 }, { "2.0-10", "2.0-9", 1 },
  { "6.1.0-28-amd64", "6.1.0-29-amd64", -1 },
  { "6.1.0-9-amd64", "6.1.0-10-amd64", -1 },
  { "6.12.9+bpo-amd64", "6.1.0-28-amd64", 1 },
  { "5.10.0-0.deb10.16-amd64", "5.10.0-20-amd64", -1 },
  { "6.1.0-28-amd64", "6.1.0-28-amd64", 0 },
  { "4.19.0-0.bpo.9-amd64", "4.19.0-9-amd64", -1 },
  { "6.8.0-45-generic", "6.8.0-100-generic", -1 },
  { "1.2-3-4", "1.2-3-5", -1 },     /* revision after the last '-' */
  { "a:1", "b:1", -1 },             /* not an epoch: upstream text */
};

static void debian_version_order(void) {
  size_t i;
  int have_dpkg = access("/usr/bin/dpkg", X_OK) == 0;
  for (i = 0; i < sizeof versions / sizeof versions[0]; i++) {
    int got = rm_compare_versions(versions[i].a, versions[i].b);
    int back = rm_compare_versions(versions[i].b, versions[i].a);
    got = got < 0 ? -1 : got > 0;
    back = back < 0 ? -1 : back > 0;
    if (got != versions[i].cmp) printf("%s vs %s\n", versions[i].a,
                                       versions[i].b);
    ASSERT_EQ(versions[i].cmp, got);
    ASSERT_EQ(-versions[i].cmp, back);
    if (have_dpkg && strchr(versions[i].a, ':') == NULL) {
      char cmd[300];
      int st;
      snprintf(cmd, sizeof cmd,
               "dpkg --compare-versions '%s' lt '%s' 2>/dev/null",
               versions[i].a, versions[i].b);
      st = system(cmd);
      ASSERT_EQ(versions[i].cmp < 0, WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
  }
  ASSERT_EQ(0, rm_compare_versions(NULL, NULL));
  ASSERT(rm_compare_versions(NULL, "1") < 0);
  ASSERT(rm_compare_versions("1", NULL) > 0);
}

/* }=====
 * {===== Real interpreters */

static void replaced_and_rewritten_scripts_are_listed(void) {
  static rmt_child perl_renamed, perl_rewritten, py_renamed, py_rewritten,
      untouched, sh_deleted;
  const char *dir = rmt_tempdir();
  const char *p1 = rmt_path(dir, "renamed.pl"), *p2 = rmt_path(dir,
                                                               "written.pl");
  const char *p3 = rmt_path(dir, "renamed.py"), *p4 = rmt_path(dir,
                                                               "written.py");
  const char *p5 = rmt_path(dir, "untouched.pl"), *p6 = rmt_path(dir,
                                                                 "gone.sh");
  char shown[4096];
  ASSERT_EQ(0, rmt_write_file(p1, perl_loop));
  ASSERT_EQ(0, rmt_write_file(p2, perl_loop));
  ASSERT_EQ(0, rmt_write_file(p3, python_loop));
  ASSERT_EQ(0, rmt_write_file(p4, python_loop));
  ASSERT_EQ(0, rmt_write_file(p5, perl_loop));
  ASSERT_EQ(0, rmt_write_file(p6, "while :; do sleep 1; done\n"));
  spawn_interp(&perl_renamed, "/usr/bin/perl", "-w", p1);
  spawn_interp(&perl_rewritten, "/usr/bin/perl", NULL, p2);
  spawn_interp(&py_renamed, "/usr/bin/python3", "-u", p3);
  spawn_interp(&py_rewritten, "/usr/bin/python3", NULL, p4);
  spawn_interp(&untouched, "/usr/bin/perl", NULL, p5);
  spawn_interp(&sh_deleted, "/bin/sh", NULL, p6);

  ASSERT_EQ(0, verdict_of(perl_renamed.pid, NULL, 0));
  ASSERT_EQ(0, verdict_of(py_rewritten.pid, NULL, 0));
  ASSERT_EQ(0, verdict_of(sh_deleted.pid, NULL, 0));

  replace(p1, "sleep 2 while 1;\n");
  rewrite(p2, "# changed\n");
  replace(p3, python_loop);
  rewrite(p4, "# changed\n");
  ASSERT_EQ(0, unlink(p6));
  ASSERT_EQ(RM_SCRIPT_CHANGED, verdict_of(perl_renamed.pid, shown,
                                          sizeof shown));
  ASSERT_STR_EQ(p1, shown);
  ASSERT_EQ(RM_SCRIPT_CHANGED, verdict_of(perl_rewritten.pid, NULL, 0));
  ASSERT_EQ(RM_SCRIPT_CHANGED, verdict_of(py_renamed.pid, shown,
                                          sizeof shown));
  ASSERT_STR_EQ(p3, shown);
  ASSERT_EQ(RM_SCRIPT_CHANGED, verdict_of(py_rewritten.pid, NULL, 0));
  ASSERT_EQ(RM_SCRIPT_DELETED, verdict_of(sh_deleted.pid, shown,
                                          sizeof shown));
  ASSERT_STR_EQ(p6, shown);
  ASSERT_EQ(0, verdict_of(untouched.pid, NULL, 0));
}

/* A relative script is looked up from the process's cwd; its path is
 * shown absolute. */
static void a_relative_script_from_its_cwd(void) {
  static rmt_child c;
  const char *dir = rmt_tempdir();
  char shown[4096], here[4096];
  ASSERT_EQ(0, rmt_write_file(rmt_path(dir, "rel.pl"), perl_loop));
  ASSERT(getcwd(here, sizeof here) != NULL);
  ASSERT_EQ(0, chdir(dir));
  spawn_interp(&c, "/usr/bin/perl", NULL, "./rel.pl");
  ASSERT_EQ(0, chdir(here));
  ASSERT_EQ(0, verdict_of(c.pid, NULL, 0));
  replace(rmt_path(dir, "rel.pl"), perl_loop);
  ASSERT_EQ(RM_SCRIPT_CHANGED, verdict_of(c.pid, shown, sizeof shown));
  ASSERT_STR_EQ(rmt_path(dir, "rel.pl"), shown);
}

/* What the walk trusts: root's own symlink and ".." are followed; a
 * directory another group can write, and a file anyone can write, decide
 * nothing, however surely the script changed. */
static void what_the_path_walk_trusts(void) {
  static rmt_child via_link, via_dots, group_dir, world_file;
  const char *dir = rmt_tempdir();
  char shown[4096], dots[600], shared[600];
  if (geteuid() != 0) {
    printf("skip: needs root (a directory of group users)\n");
    return;
  }
  ASSERT_EQ(0, mkdir(rmt_path(dir, "sub"), 0755));
  ASSERT_EQ(0, rmt_write_file(rmt_path(dir, "target.pl"), perl_loop));
  ASSERT_EQ(0, symlink(rmt_path(dir, "target.pl"), rmt_path(dir, "link.pl")));
  ASSERT_EQ(0, rmt_write_file(rmt_path(dir, "dots.pl"), perl_loop));
  snprintf(dots, sizeof dots, "%s/sub/../dots.pl", dir);
  snprintf(shared, sizeof shared, "%s/shared", dir);
  ASSERT_EQ(0, mkdir(shared, 0775));
  ASSERT_EQ(0, chown(shared, 0, 100));            /* group "users" */
  ASSERT_EQ(0, chmod(shared, 0775));
  ASSERT_EQ(0, rmt_write_file(rmt_path(shared, "g.pl"), perl_loop));
  ASSERT_EQ(0, rmt_write_file(rmt_path(dir, "w.pl"), perl_loop));
  ASSERT_EQ(0, chmod(rmt_path(dir, "w.pl"), 0666));
  spawn_interp(&via_link, "/usr/bin/perl", NULL, rmt_path(dir, "link.pl"));
  spawn_interp(&via_dots, "/usr/bin/perl", NULL, dots);
  spawn_interp(&group_dir, "/usr/bin/perl", NULL, rmt_path(shared, "g.pl"));
  spawn_interp(&world_file, "/usr/bin/perl", NULL, rmt_path(dir, "w.pl"));
  replace(rmt_path(dir, "target.pl"), perl_loop);
  replace(rmt_path(dir, "dots.pl"), perl_loop);
  replace(rmt_path(shared, "g.pl"), perl_loop);
  rewrite(rmt_path(dir, "w.pl"), "# changed\n");
  ASSERT_EQ(RM_SCRIPT_CHANGED, verdict_of(via_link.pid, shown, sizeof shown));
  ASSERT_STR_EQ(rmt_path(dir, "target.pl"), shown);
  ASSERT_EQ(RM_SCRIPT_CHANGED, verdict_of(via_dots.pid, shown, sizeof shown));
  ASSERT_STR_EQ(rmt_path(dir, "dots.pl"), shown);
  ASSERT_EQ(0, verdict_of(group_dir.pid, NULL, 0));
  ASSERT_EQ(0, verdict_of(world_file.pid, NULL, 0));
}

/* }=====
 * {===== A hostile user */

static char mallory_dir[64];

static void remove_mallory_dir(void *arg) {
  (void)arg;
  if (mallory_dir[0]) rmt_remove_tree(mallory_dir);
  mallory_dir[0] = 0;
}

/* Forks a child that becomes MALLORY and execs argv. */
static long as_mallory(char *const argv[]) {
  long pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    if (setgroups(0, NULL) != 0 || setresgid(MALLORY, MALLORY, MALLORY) ||
        setresuid(MALLORY, MALLORY, MALLORY))
      _exit(126);
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void end(long pid) {
  if (pid <= 0) return;
  kill((pid_t)pid, SIGKILL);
  waitpid((pid_t)pid, NULL, 0);
}

static long flipper_pid, mallory_perl_pid;
static void end_mallory(void *arg) {
  (void)arg;
  end(flipper_pid);
  end(mallory_perl_pid);
  flipper_pid = mallory_perl_pid = 0;
}

static void a_flipping_symlink_never_touches_roots_processes(void) {
  static rmt_child roots, through;
  const char *dir = rmt_tempdir();
  char link[128], mine[128], flip[2048], other[128];
  int round, listed_mallory = 0;
  if (geteuid() != 0) {
    printf("skip: needs root (a second user)\n");
    return;
  }
  snprintf(mallory_dir, sizeof mallory_dir, "/tmp/rmt-mallory-XXXXXX");
  ASSERT(mkdtemp(mallory_dir) != NULL);
  rmt_at_cleanup(remove_mallory_dir, NULL);
  ASSERT_EQ(0, chmod(mallory_dir, 0755));
  snprintf(mine, sizeof mine, "%s/mine.pl", mallory_dir);
  snprintf(other, sizeof other, "%s/other.pl", mallory_dir);
  snprintf(link, sizeof link, "%s/link.pl", mallory_dir);
  ASSERT_EQ(0, rmt_write_file(mine, perl_loop));
  ASSERT_EQ(0, rmt_write_file(other, perl_loop));
  ASSERT_EQ(0, symlink(mine, link));
  ASSERT_EQ(0, lchown(link, MALLORY, MALLORY));
  ASSERT_EQ(0, chown(mine, MALLORY, MALLORY));
  ASSERT_EQ(0, chown(other, MALLORY, MALLORY));
  ASSERT_EQ(0, chown(mallory_dir, MALLORY, MALLORY));
  ASSERT_EQ(0, chmod(dir, 0755));
  ASSERT_EQ(0, rmt_write_file(rmt_path(dir, "root.pl"), perl_loop));

  /* Root's unrelated perl, and root's perl reached through her link. */
  spawn_interp(&roots, "/usr/bin/perl", NULL, rmt_path(dir, "root.pl"));
  spawn_interp(&through, "/usr/bin/perl", NULL, link);
  rmt_at_cleanup(end_mallory, NULL);
  {
    char *argv[] = { (char *)(uintptr_t)"/usr/bin/perl", link, NULL };
    mallory_perl_pid = as_mallory(argv);
  }
  wait_exec(mallory_perl_pid, "perl");
  rmt_sleep_ms(50);
  /* She flips link between her file, root's script and a fresh file of
   * hers, as fast as she can. */
  snprintf(flip, sizeof flip,
           "while :; do ln -sfn '%s' '%s'; ln -sfn '%s' '%s'; "
           "echo x >> '%s'; ln -sfn '%s' '%s'; done",
           rmt_path(dir, "root.pl"), link, other, link, other, mine, link);
  {
    char *argv[] = { (char *)(uintptr_t)"/bin/sh", (char *)(uintptr_t)"-c",
                     flip, NULL };
    flipper_pid = as_mallory(argv);
  }
  for (round = 0; round < 40; round++) {
    rm_stale_script *v;
    unsigned n, i;
    int roots_listed = 0;
    ASSERT_OK(rm_get_stale_scripts(&v, &n));   /* one scan a round */
    for (i = 0; i < n; i++) {
      long pid = (long)v[i].process.pid;
      if (pid == roots.pid || pid == through.pid) roots_listed = 1;
      if (pid == mallory_perl_pid) listed_mallory++;
    }
    rm_free_stale_scripts(v, n);
    ASSERT_EQ(0, roots_listed);
  }
  /* Her own perl may be listed (she changed what it runs): it is hers. */
  printf("mallory's perl listed in %d of 40 rounds\n", listed_mallory);
  end_mallory(NULL);
  /* Root's perl through her directory stays undecided even when what it
   * names surely changed. */
  ASSERT_EQ(0, verdict_of(through.pid, NULL, 0));
}

/* A FUSE server that stops answering (SIGSTOP; any user can run one)
 * under a script of a user's process never blocks root's scan: nothing is
 * looked up or statted there, so her process is simply not decided.
 * bindfs is the real server; it runs as root here only because this
 * machine's /dev/fuse is root's, with allow_other, in her directory. */
static char fuse_mnt[160];
static long bindfs_pid, fuse_perl_pid;

static void end_fuse(void *arg) {
  (void)arg;
  if (bindfs_pid > 0) kill((pid_t)bindfs_pid, SIGCONT);
  end(fuse_perl_pid);
  if (fuse_mnt[0]) umount2(fuse_mnt, MNT_DETACH);
  end(bindfs_pid);
  bindfs_pid = fuse_perl_pid = 0;
  fuse_mnt[0] = 0;
}

static void a_stopped_fuse_server_never_blocks_the_scan(void) {
  const char *dir = rmt_tempdir();
  char src[600], script[300], probe[300];
  struct stat st;
  int tries, status = -1;
  long child;
  if (geteuid() != 0 || access("/usr/bin/bindfs", X_OK) != 0 ||
      access("/dev/fuse", F_OK) != 0) {
    printf("skip: needs root, /dev/fuse and bindfs (a FUSE server)\n");
    return;
  }
  snprintf(mallory_dir, sizeof mallory_dir, "/tmp/rmt-mallory-XXXXXX");
  ASSERT(mkdtemp(mallory_dir) != NULL);
  rmt_at_cleanup(remove_mallory_dir, NULL);
  snprintf(fuse_mnt, sizeof fuse_mnt, "%s/mnt", mallory_dir);
  ASSERT_EQ(0, mkdir(fuse_mnt, 0755));
  ASSERT_EQ(0, chown(fuse_mnt, MALLORY, MALLORY));
  ASSERT_EQ(0, chown(mallory_dir, MALLORY, MALLORY));
  ASSERT_EQ(0, chmod(mallory_dir, 0755));
  ASSERT_EQ(0, chmod(dir, 0755));
  snprintf(src, sizeof src, "%s/src", dir);
  ASSERT_EQ(0, mkdir(src, 0755));
  ASSERT_EQ(0, rmt_write_file(rmt_path(src, "x.pl"), perl_loop));
  rmt_at_cleanup(end_fuse, NULL);
  bindfs_pid = fork();
  if (bindfs_pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execl("/usr/bin/bindfs", "bindfs", "-f", "-o",
          "allow_other,attr_timeout=0,entry_timeout=0", src, fuse_mnt,
          (char *)NULL);
    _exit(127);
  }
  snprintf(probe, sizeof probe, "%s/x.pl", fuse_mnt);
  for (tries = 0; tries < 500 && stat(probe, &st) != 0; tries++)
    rmt_sleep_ms(10);
  ASSERT_EQ(0, stat(probe, &st));
  snprintf(script, sizeof script, "%s", probe);
  {
    char *argv[] = { (char *)(uintptr_t)"/usr/bin/perl", script, NULL };
    fuse_perl_pid = as_mallory(argv);
  }
  wait_exec(fuse_perl_pid, "perl");
  rmt_sleep_ms(100);
  ASSERT_EQ(0, kill((pid_t)bindfs_pid, SIGSTOP));
  /* The scan in a child, so that a hang is a failure, not a stuck test. */
  child = fork();
  if (child == 0) {
    rm_stale_script *v;
    unsigned n, i;
    if (rm_get_stale_scripts(&v, &n) != RM_OK) _exit(2);
    for (i = 0; i < n; i++)
      if (v[i].process.pid == (uint32_t)fuse_perl_pid) _exit(3);
    _exit(0);
  }
  for (tries = 0; tries < 1000; tries++) {
    if (waitpid((pid_t)child, &status, WNOHANG) == (pid_t)child) break;
    rmt_sleep_ms(10);
  }
  if (tries == 1000) {
    kill((pid_t)child, SIGKILL);
    waitpid((pid_t)child, &status, 0);
    ASSERT(!"the scan waited on the stopped FUSE server");
  }
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(0, WEXITSTATUS(status));
  end_fuse(NULL);
}

/* }=====
 * {===== The kernel */

static void make(const char *root, const char *rel, int dir) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  if (dir) ASSERT_EQ(0, mkdir(path, 0755));
  else ASSERT_EQ(0, rmt_write_file(path, "image\n"));
}

static void the_newest_installed_kernel(void) {
  const char *root = rmt_tempdir();
  rm_kernel_info k;
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_get_kernel_info("relative", &k));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_get_kernel_info(NULL, NULL));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_get_kernel_info("/nonexistent", &k));
  /* Nothing installed: nothing to compare. */
  ASSERT_OK(rm__linux_kernel_pick(root, "6.1.0-28-amd64", &k));
  ASSERT_STR_EQ("6.1.0-28-amd64", k.running);
  ASSERT_STR_EQ("", k.newest);
  ASSERT_EQ(0, k.reboot_required);

  make(root, "boot", 1);
  make(root, "boot/vmlinuz-6.1.0-28-amd64", 0);
  make(root, "boot/config-6.1.0-28-amd64", 0);
  make(root, "boot/vmlinuz-6.1.0-9-amd64", 0);
  make(root, "boot/vmlinuz-6.1.0-30-cloud-amd64", 0);   /* another flavour */
  make(root, "boot/vmlinuz-6.1.0-31-amd64.dpkg-new", 0);
  ASSERT_OK(rm__linux_kernel_pick(root, "6.1.0-28-amd64", &k));
  ASSERT_STR_EQ("6.1.0-28-amd64", k.newest);
  ASSERT_EQ(0, k.reboot_required);

  make(root, "lib", 1);
  make(root, "lib/modules", 1);
  make(root, "lib/modules/6.1.0-40-amd64", 1);        /* no modules.dep */
  ASSERT_OK(rm__linux_kernel_pick(root, "6.1.0-28-amd64", &k));
  ASSERT_STR_EQ("6.1.0-28-amd64", k.newest);
  make(root, "lib/modules/6.1.0-29-amd64", 1);
  make(root, "lib/modules/6.1.0-29-amd64/modules.dep", 0);
  ASSERT_OK(rm__linux_kernel_pick(root, "6.1.0-28-amd64", &k));
  ASSERT_STR_EQ("6.1.0-29-amd64", k.newest);
  ASSERT_EQ(1, k.reboot_required);
  make(root, "boot/vmlinuz-6.1.0-100-amd64", 0);
  ASSERT_OK(rm__linux_kernel_pick(root, "6.1.0-28-amd64", &k));
  ASSERT_STR_EQ("6.1.0-100-amd64", k.newest);
  ASSERT_EQ(1, k.reboot_required);
  /* The cloud kernel is weighed against its own flavour only. */
  ASSERT_OK(rm__linux_kernel_pick(root, "6.1.0-30-cloud-amd64", &k));
  ASSERT_STR_EQ("6.1.0-30-cloud-amd64", k.newest);
  ASSERT_EQ(0, k.reboot_required);
  /* A custom kernel of no installed flavour: against every one. */
  ASSERT_OK(rm__linux_kernel_pick(root, "6.18.44-fc-v1272", &k));
  ASSERT_STR_EQ("6.1.0-100-amd64", k.newest);
  ASSERT_EQ(0, k.reboot_required);
  /* The running kernel, whatever it is: the call itself. */
  ASSERT_OK(rm_get_kernel_info(root, &k));
  ASSERT(k.running[0] != 0);
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(the_script_argument_of_each_family);
  RUN(debian_version_order);
  RUN(replaced_and_rewritten_scripts_are_listed);
  RUN(a_relative_script_from_its_cwd);
  RUN(what_the_path_walk_trusts);
  RUN(a_flipping_symlink_never_touches_roots_processes);
  RUN(a_stopped_fuse_server_never_blocks_the_scan);
  RUN(the_newest_installed_kernel);
  return rmt_finish();
}
