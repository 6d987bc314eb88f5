/* SPDX-License-Identifier: MIT */
/*
 * kernel.c: whether the running kernel is older than the newest one
 * installed, so that only a reboot finishes the upgrade (docs/linux.md,
 * The kernel).
 *
 * Installed kernels are named by their files: /boot/vmlinuz-RELEASE,
 * /boot/vmlinux-RELEASE (architectures that boot an uncompressed image)
 * and /lib/modules/RELEASE holding a modules.dep (a kernel package's
 * postinst makes it, its removal deletes it, so a directory left behind
 * by out-of-tree modules does not count).  Releases compare in Debian's
 * version order (version.c).  Only kernels of the running one's flavour
 * (its trailing dash-separated words that start with a letter: "amd64",
 * "cloud-amd64", "rt-arm64") are weighed against it, so installing a
 * cloud kernel beside the generic one asks for no reboot; when none of
 * that flavour is installed, every installed kernel is.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Characters of a kernel release (what a package can name one with). */
static int release_ok(const char *r) {
  size_t n = strlen(r);
  const char *p;
  if (n == 0 || n > RM_MAX_KERNEL_RELEASE || !(*r >= '0' && *r <= '9'))
    return 0;
  for (p = r; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
          (*p >= 'A' && *p <= 'Z') || strchr(".+~_-", *p)))
      return 0;
  /* dpkg's leftovers during an unpack (vmlinuz-X.dpkg-new) are not
   * kernels. */
  return strstr(r, ".dpkg-") == NULL;
}

/* Where r's flavour starts: its trailing dash-separated words that start
 * with a letter ("6.1.0-28-cloud-amd64" -> "cloud-amd64"); "" when it
 * has none. */
static const char *flavour_of(const char *r) {
  const char *p, *flavour = r + strlen(r);
  for (p = r + strlen(r); p > r; p--)
    if (p[-1] == '-') {
      if (*p >= '0' && *p <= '9') break;
      flavour = p;
    }
  return flavour;
}

/* The candidate newest so far of the running flavour and of any. */
typedef struct pick {
  const char *running_flavour;
  char same[RM_MAX_KERNEL_RELEASE + 1];
  char any[RM_MAX_KERNEL_RELEASE + 1];
} pick;

static void consider(pick *k, const char *release) {
  if (!release_ok(release)) return;
  if (!k->any[0] || rm__version_compare(release, k->any) > 0)
    strcpy(k->any, release);
  if (strcmp(flavour_of(release), k->running_flavour) == 0 &&
      (!k->same[0] || rm__version_compare(release, k->same) > 0))
    strcpy(k->same, release);
}

/* Every entry of dir (under root) named prefix RELEASE that is a regular
 * file, or (want_dep) a directory holding modules.dep. */
static void scan_dir(int rootfd, const char *dir, const char *prefix,
                     int want_dep, pick *k) {
  size_t plen = strlen(prefix);
  struct dirent *e;
  DIR *d;
  int fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    if (strncmp(e->d_name, prefix, plen) != 0 || e->d_name[0] == '.')
      continue;
    if (want_dep) {
      char dep[NAME_MAX + 16];
      if (strlen(e->d_name) > NAME_MAX) continue;
      strcpy(dep, e->d_name);
      strcat(dep, "/modules.dep");
      if (fstatat(dirfd(d), dep, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode))
        continue;
    } else if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
               !S_ISREG(st.st_mode)) {
      continue;
    }
    consider(k, e->d_name + plen);
  }
  closedir(d);
}

uint32_t rm__linux_kernel_pick(const char *root, const char *running,
                               rm_kernel_info *out) {
  pick k;
  int rootfd;
  memset(out, 0, sizeof *out);
  if (strlen(running) > RM_MAX_KERNEL_RELEASE) return RM_ERROR_BAD_ARGUMENTS;
  strcpy(out->running, running);
  rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return RM_ERROR_FILE_NOT_FOUND;
  memset(&k, 0, sizeof k);
  k.running_flavour = flavour_of(running);
  scan_dir(rootfd, "boot", "vmlinuz-", 0, &k);
  scan_dir(rootfd, "boot", "vmlinux-", 0, &k);
  scan_dir(rootfd, "lib/modules", "", 1, &k);
  close(rootfd);
  strcpy(out->newest, k.same[0] ? k.same : k.any);
  out->reboot_required =
      out->newest[0] && rm__version_compare(out->newest, running) > 0;
  return RM_OK;
}

uint32_t rm__os_kernel_info(const char *root, rm_kernel_info *out) {
  struct utsname u;
  if (uname(&u) != 0) return RM_ERROR_ACCESS_DENIED;
  return rm__linux_kernel_pick(root ? root : "/", u.release, out);
}
