/* SPDX-License-Identifier: MIT */
/*
 * held_files.h: what the BPF programs (held_files.bpf.c) and the loader
 * (held_files.c) share.  Both sides define __u32/__u64 before including
 * it (vmlinux.h there, <linux/types.h> here).
 */
#ifndef RM_HELD_FILES_H
#define RM_HELD_FILES_H

/* A registered file: the key of the `registered` hash map.  dev is the
 * kernel's encoding of the superblock's device (MAJOR << 20 | MINOR, not
 * glibc's st_dev encoding); the loader converts. */
struct held_key {
  __u64 dev;
  __u64 ino;
};

/* What the iterators emit per open file or mapping of a registered
 * inode: the process (thread group id, in the initial pid namespace)
 * and the file. */
struct held_hit {
  __u32 tgid;
  __u32 dev;
  __u64 ino;
};

#endif
