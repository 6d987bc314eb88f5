/* SPDX-License-Identifier: MIT */
/*
 * held_files.c: load the BPF iterators of held_files.bpf.c (embedded in
 * this program by bpftool's skeletons; this file: libbpf's, and what both
 * loaders share, held_files_load.h), register (dev, ino) pairs, run them,
 * collect the processes that hold a registered file.  A benchmark only
 * (docs/performance.md, "What bounds it, and what is not reached").
 *
 * Loading needs CAP_BPF and CAP_PERFMON (or root: iterators are tracing
 * programs), a kernel with BTF (/sys/kernel/btf/vmlinux) and
 * iter/task_file (Linux 5.8) and iter/task_vma (5.12).
 */
#define _GNU_SOURCE
#include "held_files_load.h"

#include <linux/types.h>

#include "held_files.h"
#include "held_files.skel.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static double clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* libbpf's messages only when asked (HELD_FILES_VERBOSE=1): a failed
 * load prints the verifier's log there. */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
                        va_list args) {
  static int verbose = -1;
  if (verbose < 0) verbose = getenv("HELD_FILES_VERBOSE") != NULL;
  if (!verbose || level == LIBBPF_DEBUG) return 0;
  return vfprintf(stderr, fmt, args);
}

held_scan *held_scan_open(int light, long capacity, held_times *t) {
  held_scan *s = calloc(1, sizeof *s);
  struct held_files *skel = NULL;
  double t0 = clock_ms();
  int err;
  if (!s) return NULL;
  s->light = light;
  if (light) {
    if (held_light_load(s, capacity) != 0) goto fail;
  } else {
    libbpf_set_print(quiet_libbpf);
    if (!(skel = held_files__open())) goto fail;
    err = bpf_map__set_max_entries(skel->maps.registered,
                                   (__u32)(capacity > 0 ? capacity : 1));
    if (err == 0) err = held_files__load(skel);
    if (err) {
      errno = -err;
      goto fail;
    }
    s->skel = skel;
    s->map_fd = bpf_map__fd(skel->maps.registered);
    s->files_prog = bpf_program__fd(skel->progs.held_open_files);
    s->mappings_prog = bpf_program__fd(skel->progs.held_mappings);
  }
  if (t) t->load = clock_ms() - t0;
  return s;
fail:
  err = errno;
  if (skel) held_files__destroy(skel);
  free(s);
  errno = err;
  return NULL;
}

int held_scan_register(held_scan *s, const struct stat *st) {
  struct held_key key;
  __u8 one = 1;
  memset(&key, 0, sizeof key);
  /* The kernel's dev_t: 20 bits of minor (MKDEV in linux/kdev_t.h). */
  key.dev = ((__u64)major(st->st_dev) << 20) | minor(st->st_dev);
  key.ino = st->st_ino;
  return bpf_map_update_elem(s->map_fd, &key, &one, BPF_ANY) == 0 ? 0 : -1;
}

static int cmp_pid(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

/* Runs one iterator: attach (a BPF link), create an instance, read it to
 * the end; the tgids of its records are appended to *pids. */
static int run_iter(int prog_fd, long **pids, long *n, long *cap) {
  int link = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, NULL);
  union {
    struct held_hit hit[512];
    char bytes[512 * sizeof(struct held_hit)];
  } buf;
  size_t have = 0, i;
  int fd, err = 0;
  if (link < 0) return -1;
  fd = bpf_iter_create(link);
  if (fd < 0) {
    err = errno;
    close(link);
    errno = err;
    return -1;
  }
  for (;;) {
    ssize_t got = read(fd, buf.bytes + have, sizeof buf.bytes - have);
    size_t whole;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) err = errno;
    if (got <= 0) break;
    have += (size_t)got;
    whole = have / sizeof(struct held_hit);
    for (i = 0; i < whole; i++) {
      if (*n == *cap) {
        long *more = realloc(*pids, (size_t)(*cap * 2 + 64) * sizeof *more);
        if (!more) {
          err = ENOMEM;
          break;
        }
        *pids = more;
        *cap = *cap * 2 + 64;
      }
      (*pids)[(*n)++] = (long)buf.hit[i].tgid;
    }
    if (err) break;
    have -= whole * sizeof(struct held_hit);   /* a partial record stays */
    memmove(buf.bytes, buf.bytes + whole * sizeof(struct held_hit), have);
  }
  close(fd);
  close(link);
  if (err) errno = err;
  return err ? -1 : 0;
}

long held_scan_run(held_scan *s, int mappings, long **pids, held_times *t) {
  long n = 0, cap = 0, i, distinct = 0;
  double t0 = clock_ms();
  *pids = NULL;
  if (run_iter(s->files_prog, pids, &n, &cap) != 0)
    goto fail;
  if (t) t->files = clock_ms() - t0;
  t0 = clock_ms();
  if (mappings && run_iter(s->mappings_prog, pids, &n, &cap) != 0)
    goto fail;
  if (t) t->mappings = mappings ? clock_ms() - t0 : 0;
  qsort(*pids, (size_t)n, sizeof **pids, cmp_pid);
  for (i = 0; i < n; i++)
    if (i == 0 || (*pids)[i] != (*pids)[i - 1]) (*pids)[distinct++] = (*pids)[i];
  return distinct;
fail:
  i = errno;
  free(*pids);
  *pids = NULL;
  errno = (int)i;
  return -1;
}

double held_btf_parse_ms(void) {
  double t0 = clock_ms();
  struct btf *btf = btf__load_vmlinux_btf();
  double ms = clock_ms() - t0;
  if (!btf) return -1;
  btf__free(btf);
  return ms;
}

void held_scan_close(held_scan *s) {
  if (!s) return;
  if (s->light) held_light_unload(s);
  else held_files__destroy(s->skel);
  free(s);
}
