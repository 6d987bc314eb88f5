/* SPDX-License-Identifier: MIT */
/*
 * tx_swap.c: one entry swapped in, put back, or completed.
 *
 * A replacement is swapped with an atomic exchange of the staged file and
 * the target where the file system has one (the old file then sits at
 * the staged name, which is its backup); otherwise the old file gets a
 * second name (a hard link at the backup name, which fails if anything
 * is there) and the staged file is renamed over the target, so the target
 * name is never missing.  An addition is a rename that never replaces; a
 * removal renames the target to its backup name.
 *
 * Putting back and completing decide from identities, not from memory:
 * what is at the target, the staged and the backup names now, compared
 * with the identities the journal holds.  So the same code serves the
 * commit's own rollback and recovery after a kill at any instant, and
 * running it twice does nothing more.
 */
#include "tx.h"

#include <errno.h>
#include <string.h>

static int same_id(const rm__file_id *a, const rm__file_id *b) {
  return a->dev == b->dev && a->ino == b->ino && (a->dev || a->ino);
}

/* The identity at path, {0,0} when nothing is there. */
static rm__file_id id_at(const char *path, uint32_t *type) {
  rm__file_id id = { 0, 0 };
  uint32_t t = RM__TX_NONE;
  int err;
  if (path && rm__os_tx_lstat(path, &t, &id, &err) != RM_OK) t = RM__TX_OTHER;
  if (t == RM__TX_NONE) id.dev = id.ino = 0;
  if (type) *type = t;
  return id;
}

/* Removes what is at one of the entry's own names when it is one of the
 * entry's files: the staged copy or the old file.  A staged name whose
 * identity the journal never got (a kill between naming it and writing
 * its identity) is the entry's by construction: a random name in a
 * directory no other user can write. */
static void drop(const rm__tx_entry *e, const char *path, unsigned *removed) {
  uint32_t t;
  rm__file_id at;
  int err, unknown = !e->new_id.dev && !e->new_id.ino && path == e->staged;
  if (!path) return;
  at = id_at(path, &t);
  if (t == RM__TX_NONE) return;
  if (!unknown && !(same_id(&at, &e->new_id) && t == e->type) &&
      !same_id(&at, &e->old_id))
    return;                               /* not ours: left alone */
  if (rm__os_tx_remove(path, &err) == RM_OK && removed) (*removed)++;
}

uint32_t rm__tx_swap_in(rm__tx_entry *e) {
  rm__file_id now = id_at(e->target, NULL);
  uint32_t rc;
  e->err = 0;
  e->changed = 0;
  if (e->action != RM_TX_ACTION_ADD && !same_id(&now, &e->old_id)) {
    e->changed = 1;
    e->err = EEXIST;                      /* changed since staging */
    return RM_ERROR_ACCESS_DENIED;
  }
  if (e->action != RM_TX_ACTION_REMOVE) {
    uint32_t type;
    rm__file_id staged = id_at(e->staged, &type);
    /* The type too: a freed inode number is soon reused. */
    if (!same_id(&staged, &e->new_id) || type != e->type) {
      e->changed = 1;
      e->err = EEXIST;                    /* the staged copy was replaced */
      return RM_ERROR_ACCESS_DENIED;
    }
  }
  switch (e->action) {
  case RM_TX_ACTION_REPLACE:
    rc = rm__os_tx_exchange(e->staged, e->target, &e->err);
    if (rc != RM__TX_UNSUPPORTED) break;
    rc = rm__os_tx_link(e->target, e->backup, &e->err);
    if (rc == RM__TX_UNSUPPORTED)          /* no hard links: a moment
                                              without the target */
      rc = rm__os_tx_rename(e->target, e->backup, 1, &e->err);
    if (rc == RM_OK) rc = rm__os_tx_rename(e->staged, e->target, 0, &e->err);
    break;
  case RM_TX_ACTION_ADD:
    if (now.dev || now.ino) {
      e->changed = 1;
      e->err = EEXIST;                    /* appeared since */
      return RM_ERROR_ACCESS_DENIED;
    }
    rc = rm__os_tx_rename(e->staged, e->target, 1, &e->err);
    break;
  default:
    rc = rm__os_tx_rename(e->target, e->backup, 1, &e->err);
    break;
  }
  if (rc == RM_OK) {
    e->swapped = 1;
    rm__os_tx_sync_parent(e->target);
  }
  return rc == RM_OK ? RM_OK : RM_ERROR_ACCESS_DENIED;
}

uint32_t rm__tx_put_back(rm__tx_entry *e, unsigned *removed) {
  rm__file_id at_target = id_at(e->target, NULL);
  rm__file_id at_staged = id_at(e->staged, NULL);
  rm__file_id at_backup = id_at(e->backup, NULL);
  uint32_t rc = RM_OK;
  e->err = 0;
  if (e->outcome == RM_TX_FILE_AT_REBOOT) {
    unsigned cleared = 0;
    (void)rm__os_tx_clear_reboot(e->target, &cleared);
    e->outcome = RM_TX_FILE_STAGED;
  }
  switch (e->action) {
  case RM_TX_ACTION_REPLACE:
    if (!at_target.dev && !at_target.ino) {  /* between two renames */
      if (same_id(&at_backup, &e->old_id))
        rc = rm__os_tx_rename(e->backup, e->target, 1, &e->err);
      break;
    }
    if (!same_id(&at_target, &e->new_id)) break;         /* not swapped */
    if (same_id(&at_staged, &e->old_id))                 /* exchanged */
      rc = rm__os_tx_rename(e->staged, e->target, 0, &e->err);
    else if (same_id(&at_backup, &e->old_id))            /* linked */
      rc = rm__os_tx_rename(e->backup, e->target,
                            !at_target.dev && !at_target.ino, &e->err);
    else
      rc = RM_ERROR_ACCESS_DENIED;                       /* old one lost */
    break;
  case RM_TX_ACTION_ADD:
    if (same_id(&at_target, &e->new_id)) {
      rc = rm__os_tx_remove(e->target, &e->err);
      if (rc == RM_OK && removed) (*removed)++;
    }
    break;
  default:
    if (!at_target.dev && !at_target.ino && same_id(&at_backup, &e->old_id))
      rc = rm__os_tx_rename(e->backup, e->target, 1, &e->err);
    break;
  }
  if (rc != RM_OK) return RM_ERROR_ACCESS_DENIED;
  rm__os_tx_sync_parent(e->target);
  /* What is left under the staged and backup names is ours: the new file,
   * or a second name of the old one. */
  drop(e, e->staged, removed);
  drop(e, e->backup, removed);
  e->swapped = 0;
  e->outcome = e->outcome == RM_TX_FILE_NEW ? RM_TX_FILE_OLD : e->outcome;
  return RM_OK;
}

uint32_t rm__tx_finish(rm__tx_entry *e, unsigned *removed) {
  rm__file_id at_target = id_at(e->target, NULL);
  int is_new = e->action == RM_TX_ACTION_REMOVE
                   ? !at_target.dev && !at_target.ino
                   : same_id(&at_target, &e->new_id);
  if (e->outcome == RM_TX_FILE_AT_REBOOT) {
    /* The staged file is the pending rename's source: it stays. */
    drop(e, e->backup, removed);
    return RM_OK;
  }
  if (!is_new && rm__tx_swap_in(e) != RM_OK) return RM_ERROR_ACCESS_DENIED;
  drop(e, e->staged, removed);
  drop(e, e->backup, removed);
  rm__os_tx_sync_parent(e->target);
  e->outcome = RM_TX_FILE_NEW;
  return RM_OK;
}

void rm__tx_drop_staged(rm__tx_entry *e, unsigned *removed) {
  drop(e, e->staged, removed);
}
