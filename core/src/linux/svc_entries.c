/* SPDX-License-Identifier: MIT */
/*
 * svc_entries.c: one list entry per service.
 *
 * The scan finds processes, and a service may have many: a master and
 * its workers, a forking daemon's children, KillMode=process leftovers.
 * Each one that holds a registered file was classified on its own.  The
 * list shows a service once (os.h: one record per service), as its main
 * process, the pid its manager names (systemd's MainPID or the first
 * process of the unit's cgroup, runit's supervise/pid), so the entry is
 * the same one before a shutdown and, with the new main pid, after a
 * restart.  What the other processes hold is merged into it, and so are
 * their reboot reasons (a critical process makes its service critical).
 * When the main process cannot be read the lowest pid found stands for
 * the service.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Merges from's uses into into's (both sorted by file index, each file
 * once); 0, or -1 when out of memory. */
static int merge_uses(rm__found *into, rm__found *from) {
  rm__use *all;
  size_t a = 0, b = 0, n = 0;
  if (from->n_uses == 0) return 0;
  all = malloc((into->n_uses + from->n_uses) * sizeof *all);
  if (!all) return -1;
  while (a < into->n_uses || b < from->n_uses) {
    if (b >= from->n_uses ||
        (a < into->n_uses && into->uses[a].file < from->uses[b].file)) {
      all[n++] = into->uses[a++];
    } else if (a >= into->n_uses || from->uses[b].file < into->uses[a].file) {
      all[n++] = from->uses[b++];
    } else {
      all[n] = into->uses[a++];
      all[n++].how |= from->uses[b++].how;
    }
  }
  free(into->uses);
  into->uses = all;
  into->n_uses = n;
  return 0;
}

int rm__probe_service_main(const rm__self *self, int proc_fd, uint32_t pid,
                           const char *service, rm__item *item) {
  char name[12];
  rm__pstat st;
  int dirfd, ok;
  rm__utoa(name, pid);
  dirfd = openat(proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return -1;
  memset(item, 0, sizeof *item);
  ok = rm__linux_read_stat(dirfd, pid, &st) == 0 && st.state != 'Z' &&
       rm__classify_probe(self, dirfd, pid, &st, 0, NULL, item) == 0;
  close(dirfd);
  if (!ok) return -1;
  rm__classify_finish(item, service);
  return 0;
}

uint32_t rm__merge_service_items(const rm__self *self, int proc_fd,
                                 rm__item **items, size_t *n) {
  size_t i, j, k, n0 = *n;
  char *gone = calloc(n0 + 1, 1);
  if (!gone) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n0; i++) {
    const char *svc = (*items)[i].found.info.service_short_name;
    size_t rep = i;
    uint32_t main_pid = 0;
    if (gone[i] || !svc[0]) continue;
    /* The representative: the main process if found, else the lowest pid. */
    rm__linux_service_pid(svc, &main_pid);
    for (j = i; j < n0; j++) {
      rm__found *f = &(*items)[j].found;
      if (gone[j] || strcmp(f->info.service_short_name, svc) != 0) continue;
      if (f->info.process.pid == main_pid ||
          (f->info.process.pid < (*items)[rep].found.info.process.pid &&
           (*items)[rep].found.info.process.pid != main_pid))
        rep = j;
    }
    if (main_pid && (*items)[rep].found.info.process.pid != main_pid) {
      rm__item main_item, *grown;
      char name[RM_MAX_SVC_NAME + 1];
      memcpy(name, svc, sizeof name);
      if (rm__probe_service_main(self, proc_fd, main_pid, name,
                                 &main_item) == 0) {
        grown = realloc(*items, (*n + 1) * sizeof *grown);
        if (!grown) {
          rm__found_parts_free(&main_item.found);
          free(gone);
          return RM_ERROR_OUTOFMEMORY;
        }
        *items = grown;
        (*items)[*n] = main_item;
        /* The new item goes into the merge below as a member of index
         * *n; its slot is outside n0, so it is never visited as i. */
        rep = (*n)++;
      }
    }
    {
      rm__found *r = &(*items)[rep].found;
      for (j = i; j < n0; j++) {
        rm__found *f = &(*items)[j].found;
        if (j == rep || gone[j] ||
            strcmp(f->info.service_short_name, r->info.service_short_name) != 0)
          continue;
        if (merge_uses(r, f) != 0 || rm__stale_merge(r, f) != 0) {
          free(gone);
          return RM_ERROR_OUTOFMEMORY;
        }
        r->registered |= f->registered;
        r->reasons |= f->reasons;
        rm__found_parts_free(f);
        gone[j] = 1;
      }
      if (r->reasons) {
        r->info.app_type = RM_APP_CRITICAL;
        r->info.restartable = 0;
      }
    }
  }
  for (i = 0, k = 0; i < *n; i++)
    if (i >= n0 || !gone[i]) (*items)[k++] = (*items)[i];
  *n = k;
  free(gone);
  return RM_OK;
}
