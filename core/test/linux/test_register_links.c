/* SPDX-License-Identifier: MIT */
/*
 * test_register_links.c: a registration's identity and symlinks
 * (docs/security.md, "Registration").  Root holds a library-like file
 * (rm_app --hold) and registers paths to it: through a distro's own
 * links (root's, in root's directories, or in sticky /tmp) it is found;
 * through a link that user nobody (65534) made, at the end or on the way,
 * or one of root's in nobody's directory, the path has no identity and
 * the holder is not listed, and neither while
 * nobody flips a path between nothing and such a link in a loop.
 * Root is required (CI runs as root); elsewhere the cases fail.
 */
#define _GNU_SOURCE
#include "test_shutdown_common.h"

#include <grp.h>
#include <sys/stat.h>

#define NOBODY 65534

static char base[600], root_dir[700], user_dir[700], target[800];
static rmt_child holder;
static rm_unique_process holder_id;

static const char *at(const char *dir, const char *name) {
  static char buf[8][900];
  static int next;
  char *b = buf[next++ % 8], joined[900];
  snprintf(joined, sizeof joined, "%s/%s", dir, name);  /* dir may be buf */
  memcpy(b, joined, sizeof joined);
  return b;
}

/* root_dir (root's, 0755) with the held target, user_dir (nobody's). */
static void setup(void) {
  ASSERT_EQ(0, (long)geteuid());
  rmt_fresh_store();
  snprintf(base, sizeof base, "%s", rmt_tempdir());
  ASSERT_EQ(0, chmod(base, 0755));
  snprintf(root_dir, sizeof root_dir, "%s/lib", base);
  ASSERT_EQ(0, mkdir(root_dir, 0755));
  snprintf(target, sizeof target, "%s/libfoo.so.1.2.3", root_dir);
  ASSERT_EQ(0, rmt_write_file(target, "library\n"));
  ASSERT_EQ(0, chmod(target, 0644));
  snprintf(user_dir, sizeof user_dir, "%s/home", base);
  ASSERT_EQ(0, mkdir(user_dir, 0755));
  ASSERT_EQ(0, chown(user_dir, NOBODY, NOBODY));
  APP(&holder, &holder_id, "--hold", target);
}

/* How many entries a fresh session that registers path lists. */
static unsigned listed(const char *path) {
  uint32_t h = session_with_file(path, 5000, 5000);
  listing l;
  list_now(h, &l);
  ASSERT_OK(rm_end_session(h));
  if (l.n)
    printf("  %s: pid %u (%s) type %d\n", path, (unsigned)l.v[0].process.pid,
           l.v[0].app_name, (int)l.v[0].app_type);
  return l.n;
}

/* The identity the registration records for path is want's; none when
 * want is NULL. */
static void identity_is(const char *path, const char *want) {
  rm__file_id id;
  struct stat st;
  if (!want) {
    ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm__os_file_id(path, &id));
    return;
  }
  ASSERT_OK(rm__os_file_id(path, &id));
  ASSERT_EQ(0, stat(want, &st));
  ASSERT_EQ((uint64_t)st.st_dev, id.dev);
  ASSERT_EQ((uint64_t)st.st_ino, id.ino);
}

static void users_link(const char *to, const char *path) {
  ASSERT_EQ(0, symlink(to, path));
  ASSERT_EQ(0, lchown(path, NOBODY, NOBODY));
}

/* {===== Cases */

/* libfoo.so.1 -> libfoo.so.1.2.3, root's, as a package installs it. */
static void distro_link_is_followed(void) {
  const char *link;
  setup();
  link = at(root_dir, "libfoo.so.1");
  ASSERT_EQ(0, symlink("libfoo.so.1.2.3", link));
  identity_is(link, target);
  ASSERT_EQ(1, listed(link));
  ASSERT_EQ(1, listed(target));
}

/* A root link in a sticky world-writable directory: only its owner could
 * have replaced it. */
static void root_link_in_sticky_dir_is_followed(void) {
  const char *sticky, *link;
  setup();
  sticky = at(base, "sticky");
  ASSERT_EQ(0, mkdir(sticky, 0755));
  ASSERT_EQ(0, chmod(sticky, 01777));
  link = at(sticky, "libfoo.so");
  ASSERT_EQ(0, symlink(target, link));
  identity_is(link, target);
  ASSERT_EQ(1, listed(link));
}

static void users_link_gives_no_identity(void) {
  const char *link;
  setup();
  link = at(user_dir, "libfoo.so");
  users_link(target, link);
  identity_is(link, NULL);
  ASSERT_EQ(0, listed(link));
}

static void users_directory_link_is_not_followed(void) {
  const char *dir;
  setup();
  dir = at(user_dir, "lib");
  users_link(root_dir, dir);
  identity_is(at(dir, "libfoo.so.1.2.3"), NULL);
  ASSERT_EQ(0, listed(at(dir, "libfoo.so.1.2.3")));
}

/* Root's link in nobody's directory: nobody may have put it there in
 * root's name (replaced it after root checked it). */
static void root_link_in_users_dir_is_not_followed(void) {
  const char *link;
  setup();
  link = at(user_dir, "root-made");
  ASSERT_EQ(0, symlink(target, link));
  identity_is(link, NULL);
  ASSERT_EQ(0, listed(link));
}

/* nobody flips a path between nothing and a link to the target while
 * root registers and lists it, 50 times. */
static void flipping_path_never_registers_the_target(void) {
  const char *flip;
  pid_t flipper;
  int i, status;
  setup();
  flip = at(user_dir, "libflip.so");
  flipper = fork();
  ASSERT(flipper >= 0);
  if (flipper == 0) {
    if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) != 0)
      _exit(126);
    for (;;) {
      if (symlink(target, flip) != 0 && errno != EEXIST) _exit(125);
      unlink(flip);
    }
  }
  for (i = 0; i < 50; i++) {
    unsigned n = listed(flip);
    if (n != 0) {
      kill(flipper, SIGKILL);
      waitpid(flipper, &status, 0);
    }
    ASSERT_EQ(0, n);
  }
  kill(flipper, SIGKILL);
  while (waitpid(flipper, &status, 0) < 0 && errno == EINTR) {}
  ASSERT(WIFSIGNALED(status));                  /* it flipped until killed */
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  RUN(distro_link_is_followed);
  RUN(root_link_in_sticky_dir_is_followed);
  RUN(users_link_gives_no_identity);
  RUN(users_directory_link_is_not_followed);
  RUN(root_link_in_users_dir_is_not_followed);
  RUN(flipping_path_never_registers_the_target);
  return rmt_finish();
}
