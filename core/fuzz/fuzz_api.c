/* SPDX-License-Identifier: MIT */
/*
 * fuzz_api.c: libFuzzer target for random sequences of public API calls.
 *
 * Each input is a program: one byte picks a call, the following bytes its
 * arguments (handles from this run or made up, keys seen or made up,
 * paths and names of any bytes, buffer sizes).  Every call must return
 * one of the codes its declaration in restartmgr.h documents; anything
 * else, a crash, a leak or undefined behaviour is a finding.  The store
 * is a private directory (RESTARTMGR_STATE_DIR) and every session a run
 * starts is ended before the next run.  Nothing is shut down or restarted
 * (that would signal real processes); registered processes get made-up
 * start times so no real process matches.
 */
#define _GNU_SOURCE
#include "restartmgr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HANDLES 16

typedef struct program {
  const uint8_t *p, *end;
} program;

static uint8_t byte(program *pr) { return pr->p < pr->end ? *pr->p++ : 0; }

static uint32_t u32(program *pr) {
  uint32_t v = byte(pr);
  v |= (uint32_t)byte(pr) << 8;
  v |= (uint32_t)byte(pr) << 16;
  return v | (uint32_t)byte(pr) << 24;
}

/* A string of up to 40 bytes of the program; often made absolute. */
static void text(program *pr, char *buf, size_t cap, int absolute) {
  size_t n = byte(pr) % 41, i = 0;
  if (absolute && (byte(pr) & 3)) buf[i++] = '/';
  while (n-- && i + 1 < cap) {
    char c = (char)byte(pr);
    if (c == 0) c = 'x';
    buf[i++] = c;
  }
  buf[i] = 0;
}

static void expect(uint32_t rc, const uint32_t *allowed, size_t n,
                   const char *call) {
  size_t i;
  for (i = 0; i < n; i++)
    if (rc == allowed[i]) return;
  fprintf(stderr, "%s returned undocumented %u (%s)\n", call, (unsigned)rc,
          rm_error_name(rc));
  abort();
}

#define EXPECT(rc, call, ...) do {                                       \
    static const uint32_t ok_[] = { __VA_ARGS__ };                       \
    expect((rc), ok_, sizeof ok_ / sizeof *ok_, call);                   \
  } while (0)

static char store[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (!getenv("RESTARTMGR_STATE_DIR")) {     /* run.sh gives a private one */
    snprintf(store, sizeof store, "/tmp/rm-fuzz-api-%ld", (long)getpid());
    setenv("RESTARTMGR_STATE_DIR", store, 1);
  }
  setenv("RESTARTMGR_LOCK_TIMEOUT_MS", "2000", 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  program pr;
  uint32_t handles[MAX_HANDLES], primary[MAX_HANDLES];
  char keys[4][RM_SESSION_KEY_CHARS + 1];
  size_t n_handles = 0, n_keys = 0, i;
  int lists = 0;
  pr.p = data;
  pr.end = data + size;
  while (pr.p < pr.end) {
    uint8_t op = byte(&pr);
    uint32_t h = n_handles && (op & 0x80) == 0 ? handles[byte(&pr) % n_handles]
                                               : u32(&pr);
    uint32_t rc;
    switch (op % 15) {
    case 0: {                                   /* start */
      char key[RM_SESSION_KEY_CHARS + 1];
      uint32_t nh, flags = (byte(&pr) & 7) == 7 ? u32(&pr) : 0;
      rc = rm_start_session(&nh, flags, key);
      EXPECT(rc, "rm_start_session", RM_OK, RM_ERROR_BAD_ARGUMENTS,
             RM_ERROR_MAX_SESSIONS_REACHED);
      if (rc == RM_OK) {
        if (strlen(key) != RM_SESSION_KEY_CHARS) abort();
        if (n_keys < 4) memcpy(keys[n_keys++], key, sizeof key);
        if (n_handles < MAX_HANDLES) {
          primary[n_handles] = 1;
          handles[n_handles++] = nh;
        } else {
          rm_end_session(nh);
        }
      }
      break;
    }
    case 1: {                                   /* join */
      char key[64];
      uint32_t nh;
      if (n_keys && (byte(&pr) & 1)) {
        memcpy(key, keys[byte(&pr) % n_keys], RM_SESSION_KEY_CHARS + 1);
        if (byte(&pr) & 1) key[0] = (char)(key[0] & ~0x20);   /* case */
      } else {
        text(&pr, key, sizeof key, 0);
      }
      rc = rm_join_session(&nh, key);
      EXPECT(rc, "rm_join_session", RM_OK, RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
             RM_ERROR_MAX_SESSIONS_REACHED);
      if (rc == RM_OK) {
        if (n_handles < MAX_HANDLES) {
          primary[n_handles] = 0;
          handles[n_handles++] = nh;
        } else {
          rm_end_session(nh);
        }
      }
      break;
    }
    case 2:                                     /* end */
      rc = rm_end_session(h);
      EXPECT(rc, "rm_end_session", RM_OK, RM_ERROR_INVALID_HANDLE);
      break;
    case 3: case 4: case 5: {                   /* register */
      char names[4][48];
      const char *list[4];
      rm_unique_process procs[4];
      unsigned n = byte(&pr) % 5, k;
      for (k = 0; k < n; k++) {
        text(&pr, names[k], sizeof names[k], op % 15 == 3);
        list[k] = names[k];
        procs[k].pid = u32(&pr);
        procs[k].start_time = 0x7000000000000000ull | u32(&pr);
      }
      if (op % 15 == 3)
        rc = rm_register_resources(h, n, list, 0, NULL, 0, NULL);
      else if (op % 15 == 4)
        rc = rm_register_resources(h, 0, NULL, 0, NULL, n, list);
      else
        rc = rm_register_resources(h, 0, NULL, n, procs, 0, NULL);
      EXPECT(rc, "rm_register_resources", RM_OK, RM_ERROR_BAD_ARGUMENTS,
             RM_ERROR_INVALID_HANDLE);
      break;
    }
    case 6: case 7: {                           /* add, remove filter */
      char name[48];
      rm_unique_process proc;
      uint8_t which = byte(&pr) % 5;
      rm_filter_action action = (rm_filter_action)(byte(&pr) % 4);
      text(&pr, name, sizeof name, which == 0);
      proc.pid = u32(&pr);
      proc.start_time = u32(&pr);
      if (op % 15 == 6)
        rc = rm_add_filter(h, which == 0 || which == 3 ? name : NULL,
                           which == 1 || which == 3 ? &proc : NULL,
                           which == 2 ? name : NULL, action);
      else
        rc = rm_remove_filter(h, which == 0 || which == 3 ? name : NULL,
                              which == 1 || which == 3 ? &proc : NULL,
                              which == 2 ? name : NULL);
      EXPECT(rc, "rm_add/remove_filter", RM_OK, RM_ERROR_BAD_ARGUMENTS,
             RM_ERROR_INVALID_HANDLE, RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
             RM_ERROR_FILE_NOT_FOUND);
      break;
    }
    case 8: {                                   /* filter list */
      uint32_t cap = byte(&pr) % 4 == 0 ? 0 : (uint32_t)byte(&pr) * 8, need = 0;
      void *buf = cap ? malloc(cap) : NULL;
      rc = rm_get_filter_list(h, buf, cap, byte(&pr) & 1 ? NULL : &need);
      EXPECT(rc, "rm_get_filter_list", RM_OK, RM_ERROR_MORE_DATA,
             RM_ERROR_BAD_ARGUMENTS, RM_ERROR_INVALID_HANDLE,
             RM_ERROR_SESSION_CREDENTIAL_CONFLICT);
      free(buf);
      break;
    }
    case 9: {                                   /* list: a /proc scan */
      rm_process_info info[4];
      unsigned need = 0, n = byte(&pr) % 5;
      uint32_t reasons;
      if (lists++ >= 2) break;                  /* keep runs fast */
      rc = rm_get_list(h, &need, &n, n ? info : NULL, &reasons);
      EXPECT(rc, "rm_get_list", RM_OK, RM_ERROR_MORE_DATA,
             RM_ERROR_BAD_ARGUMENTS, RM_ERROR_INVALID_HANDLE,
             RM_ERROR_ACCESS_DENIED);
      break;
    }
    case 10: {                                  /* names of codes */
      uint32_t code = u32(&pr);
      if (!rm_error_name(code) || !rm_strerror(code)) abort();
      break;
    }
    case 11: {                                  /* store path */
      char path[256];
      uint32_t skipped;
      size_t cap = byte(&pr) % 3 == 0 ? byte(&pr) % 8 : sizeof path;
      rc = rm_store_path(cap ? path : NULL, cap, &skipped);
      EXPECT(rc, "rm_store_path", RM_OK, RM_ERROR_BAD_ARGUMENTS,
             RM_ERROR_MORE_DATA);
      break;
    }
    case 13: {                                  /* list with files */
      rm_app_info *apps = NULL;
      unsigned n = 0;
      uint32_t reasons;
      if (lists++ >= 2) break;
      rc = rm_get_list_alloc(h, byte(&pr) % 8 ? &apps : NULL, &n, &reasons);
      EXPECT(rc, "rm_get_list_alloc", RM_OK, RM_ERROR_BAD_ARGUMENTS,
             RM_ERROR_INVALID_HANDLE, RM_ERROR_ACCESS_DENIED);
      if (rc == RM_OK) rm_free_list(apps, n);
      break;
    }
    case 14:                                    /* cancel: nothing runs */
      rc = rm_cancel_current_task(h);
      EXPECT(rc, "rm_cancel_current_task", RM_OK, RM_ERROR_INVALID_HANDLE,
             RM_ERROR_SESSION_CREDENTIAL_CONFLICT);
      break;
    default:                                    /* timeouts */
      rc = rm_set_timeouts(h, u32(&pr), u32(&pr));
      EXPECT(rc, "rm_set_timeouts", RM_OK, RM_ERROR_INVALID_HANDLE);
      break;
    }
  }
  /* Secondaries first, then primaries: nothing outlives the run. */
  for (i = 0; i < n_handles; i++)
    if (!primary[i]) rm_end_session(handles[i]);
  for (i = 0; i < n_handles; i++)
    if (primary[i]) rm_end_session(handles[i]);
  return 0;
}
