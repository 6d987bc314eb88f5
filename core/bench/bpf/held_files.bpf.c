// SPDX-License-Identifier: MIT
/*
 * held_files.bpf.c: the question rm_get_list answers for open files and
 * mappings, asked inside the kernel (a benchmark only, docs/performance.md,
 * "What bounds it, and what is not reached").
 *
 * Two BPF iterators: iter/task_file runs once per open file of every
 * process (threads sharing a file table are visited once), iter/task_vma
 * once per memory mapping of every process (threads sharing an address
 * space once).  Each looks up the file's inode, as (superblock device,
 * inode number), in the `registered` hash map the loader fills, and
 * writes a struct held_hit to the iterator's output for each match: no
 * path walk and no statx per fd, no text to generate and parse per
 * mapping, which are what a /proc scan pays for.
 *
 * CO-RE: vmlinux.h (bpftool btf dump) marks every kernel struct with
 * preserve_access_index, so the field offsets below are relocated by
 * libbpf to the running kernel's BTF at load time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "held_files.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The registered (dev, ino) pairs; the loader sets max_entries. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1);
  __type(key, struct held_key);
  __type(value, __u8);
} registered SEC(".maps");

static __always_inline void emit_if_registered(struct seq_file *seq,
                                               struct task_struct *task,
                                               struct file *file) {
  struct held_key key = {};
  struct held_hit hit = {};
  struct inode *inode = file->f_inode;
  if (!inode) return;
  key.dev = inode->i_sb->s_dev;
  key.ino = inode->i_ino;
  if (!bpf_map_lookup_elem(&registered, &key)) return;
  hit.tgid = task->tgid;
  hit.dev = (__u32)key.dev;
  hit.ino = key.ino;
  bpf_seq_write(seq, &hit, sizeof hit);
}

SEC("iter/task_file")
int held_open_files(struct bpf_iter__task_file *ctx) {
  struct task_struct *task = ctx->task;
  struct file *file = ctx->file;
  if (task && file) emit_if_registered(ctx->meta->seq, task, file);
  return 0;
}

SEC("iter/task_vma")
int held_mappings(struct bpf_iter__task_vma *ctx) {
  struct task_struct *task = ctx->task;
  struct vm_area_struct *vma = ctx->vma;
  struct file *file;
  if (!task || !vma) return 0;
  file = vma->vm_file;
  if (file) emit_if_registered(ctx->meta->seq, task, file);
  return 0;
}
