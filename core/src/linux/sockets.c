/* SPDX-License-Identifier: MIT */
/*
 * sockets.c: a registered path that is a Unix socket matches the
 * processes that hold the socket bound there.
 *
 * Such a process holds no fd on the socket file's inode: its fd names a
 * sockfs inode ("socket:[12345]").  The kernel ties the two together in
 * two places, both read only when a registered path is a socket:
 *  - the sock_diag netlink interface (what `ss -x` uses): for every Unix
 *    socket its sockfs inode and, for a bound one, the device and inode
 *    of the file it is bound to (UDIAG_SHOW_VFS).  Exact: by identity, in
 *    any mount namespace, and kernel-made binary that no process can
 *    forge;
 *  - /proc/net/unix (what fuser and lsof read), when sock_diag is missing
 *    (CONFIG_UNIX_DIAG off): the sockfs inode and the path text given to
 *    bind(), compared with the registered spellings of the path (regset.c).
 *    The kernel prints that text raw, so a socket bound at a name with a
 *    newline could forge a line: an inode listed twice is taken as forged
 *    and ignored, and only absolute paths count.
 * Both see the caller's network namespace only; sockets bound in another
 * one are not found (fuser and lsof have the same limit).
 * The sockfs inodes are entered in the registered set under sockfs's
 * device (taken from a socket of our own), so the fd scan needs nothing
 * more.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The registered socket at this identity, or NULL. */
static const rm__reg_socket *socket_at(const rm__regset *s, uint64_t dev,
                                       uint64_t ino) {
  size_t i;
  for (i = 0; i < s->n_sockets; i++)
    if (s->sockets[i].dev == dev && s->sockets[i].ino == ino)
      return &s->sockets[i];
  return NULL;
}

static int sockfs_dev(uint64_t *dev) {
  struct stat st;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok;
  if (fd < 0) return -1;
  ok = fstat(fd, &st) == 0;
  close(fd);
  if (!ok) return -1;
  *dev = (uint64_t)st.st_dev;
  return 0;
}

/* {===== sock_diag */

/* One dump of every Unix socket with its bound file.  RM_OK, or
 * RM_ERROR_OUTOFMEMORY; *done = 0 when sock_diag is not available. */
static uint32_t from_sock_diag(rm__regset *s, uint64_t sock_dev, int *done) {
  struct {
    struct nlmsghdr nlh;
    struct unix_diag_req req;
  } q;
  struct sockaddr_nl kernel;
  size_t cap = 32768;
  char *buf;
  uint32_t rc = RM_OK;
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  *done = 0;
  if (fd < 0) return RM_OK;
  if (!(buf = malloc(cap))) {
    close(fd);
    return RM_ERROR_OUTOFMEMORY;
  }
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  memset(&q, 0, sizeof q);
  q.nlh.nlmsg_len = sizeof q;
  q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  q.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  q.req.sdiag_family = AF_UNIX;
  q.req.udiag_states = ~0u;
  q.req.udiag_show = UDIAG_SHOW_VFS;
  if (sendto(fd, &q, sizeof q, 0, (struct sockaddr *)&kernel,
             sizeof kernel) != (ssize_t)sizeof q) {
    close(fd);
    free(buf);
    return RM_OK;
  }
  for (;;) {
    ssize_t got = recv(fd, buf, cap, 0);
    /* Not const: the kernel headers' NLMSG_ and RTA_ macros cast it away,
     * which -Wcast-qual (clang) refuses. */
    struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
    size_t left;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (left = (size_t)got; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      const struct unix_diag_msg *m = NLMSG_DATA(h);
      struct rtattr *a;
      size_t alen;
      if (h->nlmsg_type == NLMSG_DONE) {
        *done = 1;
        goto end;
      }
      if (h->nlmsg_type == NLMSG_ERROR) goto end;     /* not supported */
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
          h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
        continue;
      a = (struct rtattr *)(void *)((char *)h + NLMSG_LENGTH(sizeof *m));
      alen = h->nlmsg_len - NLMSG_LENGTH(sizeof *m);
      for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        const struct unix_diag_vfs *v = RTA_DATA(a);
        const rm__reg_socket *r;
        uint64_t dev;
        if (a->rta_type != UNIX_DIAG_VFS ||
            RTA_PAYLOAD(a) < sizeof *v)
          continue;
        /* The kernel's own dev_t encoding: major above bit 20. */
        dev = (uint64_t)makedev(v->udiag_vfs_dev >> 20,
                                v->udiag_vfs_dev & 0xfffffu);
        r = socket_at(s, dev, v->udiag_vfs_ino);
        if (r && rm__regset_add_id(s, sock_dev, m->udiag_ino, r->file) != 0) {
          rc = RM_ERROR_OUTOFMEMORY;
          goto end;
        }
      }
    }
  }
end:
  close(fd);
  free(buf);
  return rc;
}

/* }=====
 * {===== /proc/net/unix */

typedef struct unix_line {
  uint64_t ino;
  size_t file;
} unix_line;

static int cmp_line(const void *a, const void *b) {
  uint64_t x = ((const unix_line *)a)->ino, y = ((const unix_line *)b)->ino;
  return x < y ? -1 : x > y;
}

static uint32_t from_proc_net_unix(rm__regset *s, uint64_t sock_dev) {
  unix_line *hits = NULL;
  size_t n_hits = 0, cap_hits = 0, len = 0, i, k;
  char *text = NULL, *line, *next;
  uint64_t *all = NULL;
  size_t n_all = 0, cap_all = 0;
  rm__uses uses;
  uint32_t rc = rm__linux_read_whole(AT_FDCWD, "/proc/net/unix", 64u << 20,
                                     &text, &len);
  if (rc != RM_OK) return rc == RM_ERROR_OUTOFMEMORY ? rc : RM_OK;
  if (rm__uses_init(&uses, s->n_files) != 0) {
    free(text);
    return RM_ERROR_OUTOFMEMORY;
  }
  /* "Num: RefCount Protocol Flags Type St Inode[ Path]" */
  for (line = text; line && *line && rc == RM_OK; line = next) {
    char *p = line, *end;
    unsigned long long ino;
    int field;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    p = strchr(p, ':');
    if (!p || p[1] != ' ') continue;          /* the header */
    p += 2;
    for (field = 0; field < 5 && p; field++) {  /* to the inode */
      while (*p == ' ') p++;
      p = strchr(p, ' ');
    }
    if (!p) continue;
    ino = strtoull(p, &end, 10);
    if (end == p) continue;
    if (n_all == cap_all) {
      uint64_t *v = realloc(all, (cap_all = cap_all ? 2 * cap_all : 256) *
                                     sizeof *v);
      if (!v) { rc = RM_ERROR_OUTOFMEMORY; break; }
      all = v;
    }
    all[n_all++] = ino;
    if (*end != ' ' || end[1] != '/') continue;   /* unbound, abstract */
    end++;
    rm__regset_match_path(s, end, strlen(end), &uses, RM_USE_OPEN_FILE);
    for (k = 0; k < uses.n; k++) {
      const rm__reg_socket *r = NULL;
      for (i = 0; i < s->n_sockets && !r; i++)
        if (s->sockets[i].file == uses.list[k].file) r = &s->sockets[i];
      if (!r) continue;                       /* not a socket file */
      if (n_hits == cap_hits) {
        unix_line *v = realloc(hits, (cap_hits = cap_hits ? 2 * cap_hits : 16) *
                                         sizeof *v);
        if (!v) { rc = RM_ERROR_OUTOFMEMORY; break; }
        hits = v;
      }
      hits[n_hits].ino = ino;
      hits[n_hits++].file = r->file;
    }
    free(rm__uses_take(&uses, &k));
  }
  /* An inode listed twice: one of the lines is forged; use neither. */
  if (n_hits) qsort(hits, n_hits, sizeof *hits, cmp_line);
  for (i = 0; rc == RM_OK && i < n_hits; i++) {
    size_t seen = 0;
    for (k = 0; k < n_all; k++) seen += all[k] == hits[i].ino;
    if (seen == 1 &&
        rm__regset_add_id(s, sock_dev, hits[i].ino, hits[i].file) != 0)
      rc = RM_ERROR_OUTOFMEMORY;
  }
  rm__uses_free(&uses);
  free(all);
  free(hits);
  free(text);
  return rc;
}

/* }===== */

/* RESTARTMGR_UNIX_SOCKETS=proc skips sock_diag: how the tests reach the
 * fallback on kernels that have sock_diag (fault injection only). */
uint32_t rm__regset_add_sockets(rm__regset *s) {
  const char *how = rm__os_getenv("RESTARTMGR_UNIX_SOCKETS");
  uint64_t sock_dev;
  uint32_t rc = RM_OK;
  int done = 0;
  if (!s->n_sockets || sockfs_dev(&sock_dev) != 0) return RM_OK;
  if (!how || strcmp(how, "proc") != 0)
    rc = from_sock_diag(s, sock_dev, &done);
  if (rc == RM_OK && !done) rc = from_proc_net_unix(s, sock_dev);
  return rc;
}
