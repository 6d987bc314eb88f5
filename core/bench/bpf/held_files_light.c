/* SPDX-License-Identifier: MIT */
/*
 * held_files_light.c: the programs of held_files.bpf.c loaded through
 * bpftool's light skeleton (held_files_load.h): the skeleton carries a
 * loader program and a blob; one BPF_PROG_RUN of the loader creates the
 * map, relocates the programs against the kernel's own BTF and loads
 * them.  Nothing here parses BTF, and libbpf is not called.
 */
#define _GNU_SOURCE                 /* MAP_ANONYMOUS, for skel_internal.h */
#include "held_files_load.h"

#include <errno.h>
#include <linux/types.h>
#include <sys/mman.h>

#include "held_files_light.lskel.h"

int held_light_load(held_scan *s, long capacity) {
  struct held_files_light *skel = held_files_light__open();
  int err;
  if (!skel) return -1;
  skel->maps.registered.max_entries = (__u32)(capacity > 0 ? capacity : 1);
  err = held_files_light__load(skel);
  if (err) {
    held_files_light__destroy(skel);
    errno = err < 0 ? -err : EINVAL;
    return -1;
  }
  s->skel = skel;
  s->map_fd = skel->maps.registered.map_fd;
  s->files_prog = skel->progs.held_open_files.prog_fd;
  s->mappings_prog = skel->progs.held_mappings.prog_fd;
  return 0;
}

void held_light_unload(held_scan *s) {
  held_files_light__destroy(s->skel);
}
