/* SPDX-License-Identifier: MIT */
/*
 * actions.h: what shutdown.c and restart.c share: the in-memory plan of
 * the entries an operation acts on, written into the session record's
 * acted list, and the progress reporter.
 */
#ifndef RM_ACTIONS_H
#define RM_ACTIONS_H

#include "internal.h"

/* Bits a new rm_shutdown clears before it records its own outcome for an
 * entry: each shutdown starts that entry's stop/restart history afresh. */
#define RM__CYCLE_BITS                                                    \
  (RM_STATUS_STOPPED | RM_STATUS_STOPPED_OTHER | RM_STATUS_ERROR_ON_STOP | \
   RM_STATUS_RESTARTED | RM_STATUS_ERROR_ON_RESTART |                    \
   RM_STATUS_SHUTDOWN_MASKED | RM_STATUS_RESTART_MASKED)

/* One entry an operation acts on. */
typedef struct rm__target {
  rm_process_info info;       /* status updated as the operation goes */
  rm_unique_process was;      /* identity in the record before this call */
  rm__launch launch;          /* captured before stopping, or empty */
  uint32_t order, reasons;
  int group;                  /* shutdown group, see shutdown.c */
  int stop;                   /* 1: to stop; 0: masked, only recorded */
  int touched;                /* to be written to the record */
  rm_unique_process through;  /* a worker of this master, or pid 0 */
  rm_restart_outcome outcome; /* of this restart */
} rm__target;

/* The identity of a restarted service: its main process as the backend
 * finds it now by name.  Left unchanged when it cannot be found. */
void rm__find_service_process(rm__handle *h, rm__target *it);

/* Writes every touched item into r->acted (matched by its identity before
 * this call and its service name), and marks the shutdown as called. */
uint32_t rm__record_items(rm__dir *d, unsigned slot, rm__record *r,
                          void *ctx);

/* The items rm__record_items writes. */
typedef struct rm__targets {
  rm__target *v;
  size_t n;
} rm__targets;

void rm__targets_free(rm__targets *items);

/* Progress: strictly increasing percentages of done/total. */
typedef struct rm__progress {
  rm_status_callback fn;
  void *ctx;
  size_t total, done;
  int last;                   /* last percent reported, -1 before any */
} rm__progress;

void rm__progress_init(rm__progress *p, rm_status_callback fn, void *ctx,
                       size_t total);
void rm__progress_start(rm__progress *p);  /* reports 0, before acting */
void rm__progress_step(rm__progress *p);   /* one more item done */
void rm__progress_end(rm__progress *p);    /* reports 100 once */

#endif
