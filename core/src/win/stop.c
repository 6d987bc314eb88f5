/* SPDX-License-Identifier: MIT */
/*
 * stop.c: rm__os_stop_apps on Windows: asking applications to close, all
 * at once, and waiting for them.
 *
 * Each application is opened by identity first (a handle pins the process,
 * so nothing done afterwards can reach a recycled pid); one already gone
 * is STOPPED_OTHER.  Then one worker thread per application asks it to
 * close, the way Windows' Restart Manager does:
 *  - an application with top-level windows gets WM_QUERYENDSESSION
 *    (lParam ENDSESSION_CLOSEAPP) on each; if none answers FALSE, it gets
 *    WM_ENDSESSION (TRUE, ENDSESSION_CLOSEAPP) and then WM_CLOSE; a FALSE
 *    answer is a refusal;
 *  - a console application (or one without windows) gets Ctrl-C on its
 *    console (console.c);
 *  - an application that can be asked nothing (no windows, no console) is
 *    refused at once: Windows documents such "unknown" apps as stoppable
 *    only by force.
 * The calling thread meanwhile waits on the process handles
 * (WaitForMultipleObjects, 64 at a time) and reports each exit through
 * done() as it happens.  A refusal, or the timeout, ends with
 * ERROR_ON_STOP and the app left running, or with force TerminateProcess
 * (STOPPED); a refusal is not waited for.  Cancelling returns at once;
 * the workers are always joined first (each blocks at most a few seconds
 * in SendMessageTimeout).
 */
#define _GNU_SOURCE
#include "win.h"

#include <stdlib.h>
#include <string.h>

#define ASK_TIMEOUT_MS 5000u        /* per window message */
#define KILL_WAIT_MS 5000u          /* for TerminateProcess to take effect */
#define POLL_MS 20u

enum { PENDING, REFUSED, FINISHED };

typedef struct app_run {
  rm__stop *app;
  HANDLE process;                 /* NULL when it could not be opened */
  HANDLE worker;
  unsigned ask_ms;
  volatile LONG asked;            /* worker: 1 asked, 2 refused/nothing */
  int state;
  int killed;
} app_run;

typedef struct window_set {
  DWORD pid;
  HWND *v;
  size_t n, cap;
} window_set;

static BOOL CALLBACK collect(HWND hwnd, LPARAM lp) {
  window_set *w = (window_set *)lp;
  DWORD pid = 0;
  GetWindowThreadProcessId(hwnd, &pid);
  if (pid != w->pid) return TRUE;
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 8;
    HWND *v = realloc(w->v, cap * sizeof *v);
    if (!v) return FALSE;
    w->v = v;
    w->cap = cap;
  }
  w->v[w->n++] = hwnd;
  return TRUE;
}

/* Sends the session-end sequence; 0 when a window refused. */
static int ask_windows(const window_set *w, unsigned ms) {
  size_t i;
  for (i = 0; i < w->n; i++) {
    DWORD_PTR answer = TRUE;
    if (SendMessageTimeoutW(w->v[i], WM_QUERYENDSESSION, 0, ENDSESSION_CLOSEAPP,
                            SMTO_ABORTIFHUNG, ms, &answer) &&
        !answer)
      return 0;
  }
  for (i = 0; i < w->n; i++) {
    DWORD_PTR ignored;
    SendMessageTimeoutW(w->v[i], WM_ENDSESSION, TRUE, ENDSESSION_CLOSEAPP,
                        SMTO_ABORTIFHUNG, ms, &ignored);
  }
  for (i = 0; i < w->n; i++) PostMessageW(w->v[i], WM_CLOSE, 0, 0);
  return 1;
}

static DWORD WINAPI ask_to_close(void *arg) {
  app_run *r = arg;
  window_set w;
  int asked = 0, refused = 0;
  memset(&w, 0, sizeof w);
  w.pid = r->app->process.pid;
  if (!r->app->console) EnumWindows(collect, (LPARAM)&w);
  if (w.n) {
    refused = !ask_windows(&w, r->ask_ms);
    asked = !refused;
  }
  if (!asked && !refused) asked = rm__win_send_ctrl_c(w.pid);
  if (!asked && !refused && r->app->console) {
    /* A console app on no console: perhaps it has windows after all. */
    EnumWindows(collect, (LPARAM)&w);
    if (w.n) asked = ask_windows(&w, r->ask_ms);
  }
  free(w.v);
  InterlockedExchange(&r->asked, asked ? 1 : 2);
  return 0;
}

static void finish(app_run *r, size_t i, uint32_t result,
                   void (*done)(void *, size_t), void *ctx) {
  r->state = FINISHED;
  r->app->result = result;
  if (done) done(ctx, i);
}

/* Terminates the app once; its handle signals when it is gone. */
static void kill_now(app_run *r) {
  if (!r->killed && TerminateProcess(r->process, 1)) r->killed = 1;
}

uint32_t rm__os_stop_apps(rm__stop *apps, size_t n, unsigned timeout_ms,
                          int force, const volatile int *cancel,
                          void (*done)(void *ctx, size_t i), void *ctx) {
  app_run *runs = calloc(n + 1, sizeof *runs);
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  size_t i, left = 0;
  uint32_t rc = RM_OK;
  if (!runs) return RM_ERROR_OUTOFMEMORY;

  for (i = 0; i < n; i++) {
    app_run *r = &runs[i];
    r->app = &apps[i];
    apps[i].result = RM_STATUS_ERROR_ON_STOP;
    r->ask_ms = timeout_ms < ASK_TIMEOUT_MS ? (timeout_ms ? timeout_ms : 1)
                                            : ASK_TIMEOUT_MS;
    r->process = rm__win_open_identity(&apps[i].process, PROCESS_TERMINATE);
    if (!r->process) {
      finish(r, i, GetLastError() == ERROR_ACCESS_DENIED
                       ? RM_STATUS_ERROR_ON_STOP : RM_STATUS_STOPPED_OTHER,
             done, ctx);
      continue;
    }
    left++;
    r->worker = CreateThread(NULL, 0, ask_to_close, r, 0, NULL);
    if (!r->worker) ask_to_close(r);
  }

  while (left > 0) {
    HANDLE wait[MAXIMUM_WAIT_OBJECTS];
    DWORD n_wait = 0;
    int expired = rm__os_now_ms() >= deadline;
    if (cancel && *cancel) {
      rc = RM_ERROR_CANCELLED;
      break;
    }
    for (i = 0; i < n; i++) {
      app_run *r = &runs[i];
      if (r->state == FINISHED) continue;
      if (WaitForSingleObject(r->process, 0) == WAIT_OBJECT_0) {
        finish(r, i, RM_STATUS_STOPPED, done, ctx);
        left--;
        continue;
      }
      if (r->state == PENDING && (r->asked == 2 || expired)) {
        if (force) {
          r->state = REFUSED;       /* killed below, waited for */
        } else {
          finish(r, i, RM_STATUS_ERROR_ON_STOP, done, ctx);
          left--;
          continue;
        }
      }
      if (r->state == REFUSED) {
        kill_now(r);
        if (rm__os_now_ms() >= deadline + KILL_WAIT_MS) {
          finish(r, i, RM_STATUS_ERROR_ON_STOP, done, ctx);
          left--;
          continue;
        }
      }
      if (n_wait < MAXIMUM_WAIT_OBJECTS) wait[n_wait++] = r->process;
    }
    if (left > 0 && n_wait > 0)
      WaitForMultipleObjects(n_wait, wait, FALSE, POLL_MS);
  }

  for (i = 0; i < n; i++) {
    if (runs[i].worker) {
      WaitForSingleObject(runs[i].worker, INFINITE);
      CloseHandle(runs[i].worker);
    }
    if (runs[i].process) CloseHandle(runs[i].process);
  }
  free(runs);
  return rc;
}
