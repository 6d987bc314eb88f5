/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store_parse.c: libFuzzer target for the session record parser.
 *
 * An input is a record, optionally followed by a NUL byte and a file
 * journal (parsed as committed with as many lines as it has newlines).
 * For any input the parsers return RM_OK, RM_ERROR_WRITE_FAULT or
 * RM_ERROR_OUTOFMEMORY, never crash or leak (ASan, UBSan).  An
 * accepted record holds only values the API could have stored (checked
 * here independently), and formatting it gives a text that parses back to
 * a record that formats to the same bytes: what the engine reads is what
 * it would write.
 */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok) abort();
}

static void check_values(const rm__record *r) {
  size_t i;
  check(strlen(r->key) == RM_SESSION_KEY_CHARS);
  check(!r->journal.gen || (r->journal.unique <= r->journal.lines &&
                            r->journal.lines * 12 <= r->journal.bytes));
  check(r->shutdown_called == 0 || r->shutdown_called == 1);
  for (i = 0; i < r->files.n; i++) check(rm__valid_path(r->files.v[i]));
  for (i = 0; i < r->services.n; i++)
    check(rm__valid_service_name(r->services.v[i]));
  for (i = 0; i < r->n_filters; i++) {
    const rm__filter *f = &r->filters[i];
    check(f->action == RM_FILTER_ACTION_INVALID + 1 ||
          f->action == RM_FILTER_ACTION_INVALID + 2);
    check(f->trigger >= RM_FILTER_TRIGGER_FILE &&
          f->trigger <= RM_FILTER_TRIGGER_SERVICE);
  }
  for (i = 0; i < r->n_acted; i++) {
    const rm__acted *a = &r->acted[i];
    check(a->info.app_type <= RM_APP_CONSOLE ||
          a->info.app_type == RM_APP_CRITICAL);
    check(a->info.app_status <= 0xFF);
    check(a->info.restartable == 0 || a->info.restartable == 1);
    check(a->reasons <= 0x1F);
    check(strlen(a->info.app_name) <= RM_MAX_APP_NAME);
    check(strlen(a->info.service_short_name) <= RM_MAX_SVC_NAME);
  }
}

/* The journal part: each path once, valid, and formatting the files
 * gives a journal that parses to the same files. */
static void journal(const char *text, size_t len) {
  rm__record r, back;
  char *out;
  size_t out_len, i, lines = 0;
  uint32_t rc;
  for (i = 0; i < len; i++) lines += text[i] == '\n';
  memset(&r, 0, sizeof r);
  r.journal.gen = 1;
  r.journal.lines = lines;
  r.journal.unique = 1;
  r.journal.bytes = len;
  rc = rm__record_parse_files(text, len, &r);
  check(rc == RM_OK || rc == RM_ERROR_WRITE_FAULT ||
        rc == RM_ERROR_OUTOFMEMORY);
  if (rc != RM_OK) return;
  check(r.files.n <= lines);
  for (i = 0; i < r.files.n; i++) check(rm__valid_path(r.files.v[i]));
  check(rm__files_format((const char *const *)r.files.v, r.file_ids,
                         r.file_views, r.files.n, &out, &out_len) == RM_OK);
  memset(&back, 0, sizeof back);
  back.journal.gen = 1;
  back.journal.lines = r.files.n;
  back.journal.unique = 1;
  back.journal.bytes = out_len;
  check(rm__record_parse_files(out, out_len, &back) == RM_OK);
  check(back.files.n == r.files.n);
  for (i = 0; i < r.files.n; i++) {
    check(strcmp(back.files.v[i], r.files.v[i]) == 0);
    check(back.file_ids[i].dev == r.file_ids[i].dev &&
          back.file_ids[i].ino == r.file_ids[i].ino);
    check(back.file_views[i] == r.file_views[i]);
  }
  free(out);
  rm__record_free(&back);
  rm__record_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rm__record r, back;
  char *text, *again;
  size_t len, len2;
  const uint8_t *nul = memchr(data, 0, size);
  uint32_t rc;
  if (nul) {
    journal((const char *)nul + 1, size - (size_t)(nul - data) - 1);
    size = (size_t)(nul - data);
  }
  rc = rm__record_parse((const char *)data, size, &r);
  check(rc == RM_OK || rc == RM_ERROR_WRITE_FAULT ||
        rc == RM_ERROR_OUTOFMEMORY);
  if (rc != RM_OK) return 0;
  check_values(&r);
  check(rm__record_format(&r, &text, &len) == RM_OK);
  check(rm__record_parse(text, len, &back) == RM_OK);
  check(rm__record_format(&back, &again, &len2) == RM_OK);
  check(len == len2 && memcmp(text, again, len) == 0);
  free(text);
  free(again);
  rm__record_free(&back);
  rm__record_free(&r);
  return 0;
}
