/* SPDX-License-Identifier: MIT */
/*
 * tx.h: what the transaction's files share.
 *
 * tx.c          rm_tx_begin, staging (files, data, removals, trees), end
 * tx_journal.c  the journal in the session store: format, parse, slots,
 *               the check that a target is not another transaction's;
 *               messages and freeing (rm__tx_fail, rm__tx_clear)
 * tx_commit.c   rm_tx_commit and the rollback after a failed swap
 * tx_swap.c     swapping one entry and putting it back, by identity
 * tx_recover.c  rm_tx_recover
 *
 * docs/transaction.md describes the transaction, the journal and
 * recovery.
 */
#ifndef RM_TX_H
#define RM_TX_H

#include "internal.h"

/* The journal's steps, in order.  Each is written and fsynced before the
 * step it names starts; recovery reads the last one. */
#define RM__TXJ_STAGING   1u   /* staged files may exist: roll back */
#define RM__TXJ_STOPPING  2u   /* the apps below may be stopped: roll back */
#define RM__TXJ_SWAPPING  3u   /* some targets may be swapped: roll back */
#define RM__TXJ_SWAPPED   4u   /* every target is new: complete */
#define RM__TXJ_RESTARTING 5u  /* restart running: complete, start only
                                  what is not running again */
#define RM__TXJ_RESTARTED 6u   /* complete: drop the backups */
#define RM__TXJ_ROLLBACK  7u   /* a rollback is running: roll back */

/* One staged entry. */
typedef struct rm__tx_entry {
  uint32_t action;             /* RM_TX_ACTION_* */
  uint32_t type;               /* RM__TX_FILE/DIR/LINK: the new thing for
                                  replace and add, the old for remove */
  char *target;
  char *staged;                /* replace, add: the staged copy */
  char *backup;                /* replace (link fallback), remove: where
                                  the old one goes */
  rm__file_id new_id, old_id;  /* identities of the staged and old files */
  uint32_t outcome;            /* RM_TX_FILE_* */
  int err;                     /* OS error of its failure */
  int swapped;                 /* this process swapped it */
  int changed;                 /* its swap found the target or the staged
                                  file changed since staging */
} rm__tx_entry;

/* An app the commit stops, with how to start it again. */
typedef struct rm__tx_app {
  rm_process_info info;
  rm__launch launch;           /* argv NULL: a service, or not captured */
  rm_unique_process through;   /* a worker of this master: not launched */
  int stopped;                 /* its shutdown stopped it */
} rm__tx_app;

struct rm_tx {
  uint32_t session;
  char key[RM_SESSION_KEY_CHARS + 1];
  unsigned slot;               /* journal "tx.NN" */
  uint32_t flags;              /* RM_TX_DRY_RUN */
  int done;                    /* committed, rolled back or failed: no more
                                  staging */
  int committed;
  uint32_t step;               /* last journal step written */
  rm__tx_entry *e;
  size_t n, cap;
  rm__tx_app *apps;
  size_t n_apps;
  char msg[1024];
};

/* {===== tx_journal.c */

/* The journal's name for a slot. */
void rm__txj_name(char *buf, size_t cap, unsigned slot);

/* Takes a free journal slot for tx (writing its first journal, step
 * STAGING, under the store lock), refusing when the session already has
 * one.  RM_OK, RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
 * RM_ERROR_MAX_SESSIONS_REACHED, store codes. */
uint32_t rm__txj_claim(rm_tx *tx);

/* Writes the journal (entries, apps, step) and makes it durable.  A test
 * hook, RESTARTMGR_TX_KILL_AT=N, kills the process with SIGKILL right
 * after the Nth write (docs/transaction.md, "Crash tests").  Store
 * codes. */
uint32_t rm__txj_write(rm_tx *tx, uint32_t step);

/* Removes the journal.  Store codes. */
uint32_t rm__txj_remove(rm_tx *tx);

/* Fails with RM_ERROR_REQUEST_OUT_OF_SEQUENCE (message in tx->msg) when
 * path is a target of another transaction's journal in the store. */
uint32_t rm__txj_check_free(rm_tx *tx, const char *path);

/* A journal as read back: a transaction without a session. */
uint32_t rm__txj_parse(const char *text, size_t len, rm_tx *tx,
                       rm_unique_process *owner);

/* Reads journal slot i of the open store d into a fresh transaction.
 * RM_OK, RM_ERROR_FILE_NOT_FOUND, RM_ERROR_WRITE_FAULT (unreadable or
 * corrupt), RM_ERROR_OUTOFMEMORY. */
#define RM__TX_SLOTS 64u
uint32_t rm__txj_read(rm__dir *d, unsigned i, rm_tx *out,
                      rm_unique_process *owner);

/* Frees what a transaction owns (not tx itself). */
void rm__tx_clear(rm_tx *tx);

/* }=====
 * {===== tx_swap.c */

/* Swaps one entry in: the staged file takes the target's name, the old
 * one is kept.  RM_OK or RM_ERROR_ACCESS_DENIED (e->err set). */
uint32_t rm__tx_swap_in(rm__tx_entry *e);

/* Puts the old file back wherever the entry is now (decided by
 * identity), then removes the staged file.  RM_OK or
 * RM_ERROR_ACCESS_DENIED. */
uint32_t rm__tx_put_back(rm__tx_entry *e, unsigned *removed);

/* Completes an entry: the new file stays (swapping it in if it was not),
 * the backup is removed.  RM_OK or RM_ERROR_ACCESS_DENIED. */
uint32_t rm__tx_finish(rm__tx_entry *e, unsigned *removed);

/* Removes the staged file of an entry that was never swapped. */
void rm__tx_drop_staged(rm__tx_entry *e, unsigned *removed);

/* Sets tx->msg and returns rc (tx_journal.c). */
uint32_t rm__tx_fail(rm_tx *tx, uint32_t rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* }=====
 * {===== tx_recover.c */

/* Starts the apps in v that are not running (their old identity is dead
 * and, when only_missing, no process runs their command as their user),
 * services through their manager.  Counts what it started and what
 * failed. */
void rm__tx_start_apps(const rm__tx_app *v, size_t n, int only_missing,
                       unsigned *started, unsigned *failed);

void rm__tx_apps_free(rm__tx_app *v, size_t n);

/* }===== */

#endif
