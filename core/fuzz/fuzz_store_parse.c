/*
 * fuzz_store_parse.c: libFuzzer target for the session record parser.
 *
 * Any input: the parser returns RM_OK, RM_ERROR_WRITE_FAULT or
 * RM_ERROR_OUTOFMEMORY, never crashes or leaks (ASan, UBSan).  An
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rm__record r, back;
  char *text, *again;
  size_t len, len2;
  uint32_t rc = rm__record_parse((const char *)data, size, &r);
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
