/* SPDX-License-Identifier: MIT */
/*
 * test_store_parse.c: the session record parser against hostile records.
 *
 * A valid record is mutated one line at a time: every number one past its
 * exact range (and far past it, and wrapped), every enum value the API
 * never stores, every string the API would have refused, lines out of
 * place, deep escapes and huge counts.  Each must give
 * RM_ERROR_WRITE_FAULT (the engine then treats the slot as free), never a
 * record with a wrong value; the boundary values themselves must parse to
 * exactly themselves.  The seed corpus of the fuzz target is this file's
 * valid record (core/fuzz/corpus/store/).
 */
#include "test.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define KEY "0123456789abcdef0123456789abcdef"

static const char *const base_lines[] = {
  "restartmgr-session 2",
  "key " KEY,
  "owner 4294967295 18446744073709551615",
  "sequence 18446744073709551615",
  "shutdown 1",
  "files 18446744073709551615 2 55 1",
  "proc 4294967295 18446744073709551615",
  "service :sshd",
  "filter 2 1 0 0 :/opt/app/bin",
  "filter 1 2 42 99 :",
  "filter 1 3 0 0 :nginx",
  "acted 7 8 1000 255 4294967295 1 4294967295 31 :caf\xc3\xa9 :",
  "launch 0 0 :/",
  "context 39 511 1 2000 4294967295 18446744073709551615",
  "limit 0 1 18446744073709551615 0",
  "cgroup 18446744073709551615 5 :/user.slice/u%20x",
  "stdio 2 1 2 0 :/var/log/a%20b",
  "arg :/bin/app",
  "arg :a%20b",
  "env :X=1%0a2",
  "acted 9 10 5 2 1 0 1 0 :app :svc",
  "end",
  NULL
};

/* The base record with line `at` replaced by `with` (NULL: dropped). */
static char *mutate(int at, const char *with, size_t *len) {
  size_t cap = 1, n = 0;
  char *out;
  int i;
  for (i = 0; base_lines[i]; i++) cap += strlen(base_lines[i]) + 1;
  if (with) cap += strlen(with) + 1;
  out = malloc(cap);
  ASSERT(out != NULL);
  for (i = 0; base_lines[i]; i++) {
    const char *l = i == at ? with : base_lines[i];
    if (!l) continue;
    memcpy(out + n, l, strlen(l));
    n += strlen(l);
    out[n++] = '\n';
  }
  out[n] = 0;
  *len = n;
  return out;
}

static int line_of(const char *prefix) {
  int i;
  for (i = 0; base_lines[i]; i++)
    if (strncmp(base_lines[i], prefix, strlen(prefix)) == 0) return i;
  rmt_fail(__FILE__, __LINE__, prefix);
  return -1;
}

static uint32_t parse_with(const char *prefix, const char *with) {
  rm__record r;
  size_t len;
  char *text = mutate(line_of(prefix), with, &len);
  uint32_t rc = rm__record_parse(text, len, &r);
  free(text);
  if (rc == RM_OK) rm__record_free(&r);
  return rc;
}

#define REFUSED(prefix, with) \
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, parse_with(prefix, with))
#define ACCEPTED(prefix, with) ASSERT_OK(parse_with(prefix, with))

static void boundary_values_parse_exactly(void) {
  rm__record r;
  size_t len;
  char *text = mutate(-1, NULL, &len);
  ASSERT_OK(rm__record_parse(text, len, &r));
  free(text);
  ASSERT_STR_EQ(KEY, r.key);
  ASSERT_EQ(4294967295u, r.owner.pid);
  ASSERT_EQ(18446744073709551615ull, r.owner.start_time);
  ASSERT_EQ(18446744073709551615ull, r.sequence);
  ASSERT_EQ(1, r.shutdown_called);
  ASSERT_EQ(18446744073709551615ull, r.journal.gen);
  ASSERT_EQ(2, r.journal.lines);
  ASSERT_EQ(55, r.journal.bytes);
  ASSERT_EQ(1, r.journal.unique);
  ASSERT_EQ(1, r.n_procs);
  ASSERT_EQ(3, r.n_filters);
  ASSERT_EQ(RM_FILTER_ACTION_INVALID + 2, r.filters[0].action);
  ASSERT_EQ(RM_FILTER_TRIGGER_FILE, r.filters[0].trigger);
  ASSERT_EQ(RM_FILTER_TRIGGER_PROCESS, r.filters[1].trigger);
  ASSERT_EQ(42, r.filters[1].process.pid);
  ASSERT_EQ(RM_FILTER_TRIGGER_SERVICE, r.filters[2].trigger);
  ASSERT_EQ(2, r.n_acted);
  ASSERT_EQ(RM_APP_CRITICAL, r.acted[0].info.app_type);
  ASSERT_EQ(255, r.acted[0].info.app_status);
  ASSERT_EQ(1, r.acted[0].info.restartable);
  ASSERT_EQ(31, r.acted[0].reasons);
  ASSERT_STR_EQ("caf\xc3\xa9", r.acted[0].info.app_name);
  ASSERT_STR_EQ("a b", r.acted[0].launch.argv[1]);
  ASSERT(r.acted[0].launch.argv[2] == NULL);
  ASSERT_STR_EQ("X=1\n2", r.acted[0].launch.envp[0]);
  ASSERT(r.acted[1].launch.argv == NULL);
  ASSERT_STR_EQ("svc", r.acted[1].info.service_short_name);
  rm__record_free(&r);
}

static void numbers_out_of_range_are_refused(void) {
  /* One past the range, far past it, and values that wrapped the old
   * check ((max - d) / 10 underflows when a digit exceeds max). */
  REFUSED("shutdown", "shutdown 2");
  REFUSED("shutdown", "shutdown 9");
  REFUSED("shutdown", "shutdown 199");
  REFUSED("shutdown", "shutdown 10");
  REFUSED("restartmgr", "restartmgr-session 1");
  REFUSED("restartmgr", "restartmgr-session 3");
  REFUSED("restartmgr", "restartmgr-session 12");
  REFUSED("owner", "owner 4294967296 0");
  REFUSED("owner", "owner 99999999999 0");
  REFUSED("owner", "owner 1 18446744073709551616");
  REFUSED("owner", "owner 1 99999999999999999999");
  REFUSED("owner", "owner 1 184467440737095516150");
  REFUSED("sequence", "sequence 18446744073709551616");
  REFUSED("files", "files 0 2 55 1");                        /* gen 0 */
  REFUSED("files", "files 1 0 55 1");                        /* no lines */
  REFUSED("files", "files 1 2 55 3");                 /* unique > lines */
  REFUSED("files", "files 1 5 55 1");            /* lines of < 12 bytes */
  REFUSED("files", "files 1 2 18446744073709551616 1");
  ACCEPTED("files", "files 1 2 24 2");
  REFUSED("proc", "file 0 0 :/in/the/record");  /* files are journal lines */
  REFUSED("proc", "proc 4294967296 0");
  REFUSED("filter 2", "filter 0 1 0 0 :/opt/app/bin");      /* INVALID */
  REFUSED("filter 2", "filter 3 1 0 0 :/opt/app/bin");
  REFUSED("filter 2", "filter 9 9 0 0 :/opt/app/bin");
  REFUSED("filter 2", "filter 2 0 0 0 :/opt/app/bin");
  REFUSED("filter 2", "filter 2 4 0 0 :/opt/app/bin");
  REFUSED("acted 7", "acted 7 8 6 255 1 1 1 31 :n :");        /* app type */
  REFUSED("acted 7", "acted 7 8 999 255 1 1 1 31 :n :");
  REFUSED("acted 7", "acted 7 8 1001 255 1 1 1 31 :n :");
  REFUSED("acted 7", "acted 7 8 1000 256 1 1 1 31 :n :");     /* status */
  REFUSED("acted 7", "acted 7 8 1000 255 4294967296 1 1 31 :n :");
  REFUSED("acted 7", "acted 7 8 1000 255 1 2 1 31 :n :");     /* restartable */
  REFUSED("acted 7", "acted 7 8 1000 255 1 9 1 31 :n :");
  REFUSED("acted 7", "acted 7 8 1000 255 1 1 1 32 :n :");     /* reasons */
  REFUSED("acted 7", "acted 7 8 1000 255 1 1 1 99 :n :");
  REFUSED("launch", "launch 4294967296 0 :/");
  /* Not numbers. */
  REFUSED("shutdown", "shutdown -1");
  REFUSED("shutdown", "shutdown +1");
  REFUSED("shutdown", "shutdown ");
  REFUSED("shutdown", "shutdown");
  REFUSED("shutdown", "shutdown  1");
  REFUSED("shutdown", "shutdown 1x");
  REFUSED("shutdown", "shutdown 0x1");
  REFUSED("proc", "proc 1");
  REFUSED("proc", "proc 1 2 3");
  /* Boundaries are fine; leading zeros are the same number. */
  ACCEPTED("shutdown", "shutdown 0");
  ACCEPTED("shutdown", "shutdown 0001");
  ACCEPTED("acted 7", "acted 7 8 0 0 0 0 0 0 :n :");
}

static void strings_the_api_refuses_are_refused(void) {
  static char long_path[RM_PATH_MAX + 16], long_name[400];
  size_t i;
  REFUSED("service", "service :a/b");
  REFUSED("service", "service :");
  REFUSED("service", "service :..");
  REFUSED("filter 2", "filter 2 1 0 0 :relative");
  REFUSED("filter 1 2", "filter 1 2 42 99 :name-on-a-process-filter");
  REFUSED("filter 1 3", "filter 1 3 0 0 :bad/service");
  /* Over-long: a name past its field. */
  (void)long_path;
  memcpy(long_name, "acted 7 8 5 2 1 0 1 0 :", 23);
  for (i = 23; i < 23 + 300; i++) long_name[i] = 'n';
  memcpy(long_name + i, " :", 3);
  REFUSED("acted 7", long_name);
}

static void structure_is_checked(void) {
  rm__record r;
  size_t len;
  char *text;
  REFUSED("end", NULL);                                  /* no end */
  REFUSED("end", "end extra");
  REFUSED("key", "key 0123456789ABCDEF0123456789abcdef");  /* uppercase */
  REFUSED("key", "key 0123456789abcdef0123456789abcde");
  REFUSED("key", "key 0123456789abcdef0123456789abcdef0");
  REFUSED("key", "key  0123456789abcdef0123456789abcde");
  REFUSED("launch", "arg :/bin/app");                    /* arg, no launch */
  REFUSED("arg :a", "launch 0 0 :/");                    /* launch twice */
  REFUSED("owner", NULL);
  REFUSED("service", "unknown :x");
  REFUSED("service", "");
  /* A launch before any acted line. */
  REFUSED("proc", "launch 0 0 :/");
  /* Bytes after end. */
  text = mutate(-1, NULL, &len);
  {
    char *more = malloc(len + 8);
    ASSERT(more != NULL);
    memcpy(more, text, len);
    memcpy(more + len, "file 0", 6);
    ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm__record_parse(more, len + 6, &r));
    memcpy(more + len, "end\n", 4);
    ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm__record_parse(more, len + 4, &r));
    free(more);
  }
  /* A NUL byte anywhere. */
  {
    size_t at;
    for (at = 0; at < len; at += 7) {
      char keep = text[at];
      text[at] = 0;
      ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm__record_parse(text, len, &r));
      text[at] = keep;
    }
  }
  free(text);
}

/* A journal's text as committed: lines and bytes must match exactly. */
static uint32_t parse_journal(const char *text, uint64_t lines) {
  rm__record r;
  uint32_t rc;
  memset(&r, 0, sizeof r);
  r.journal.gen = 1;
  r.journal.lines = lines;
  r.journal.unique = 1;
  r.journal.bytes = strlen(text);
  rc = rm__record_parse_files(text, strlen(text), &r);
  rm__record_free(&r);
  return rc;
}

#define JOURNAL_REFUSED(text) \
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, parse_journal(text "\n", 1))

static void journal_lines_are_checked(void) {
  static char long_path[RM_PATH_MAX + 32];
  rm__record r;
  const char *text = "file 2049 131074 :/opt/app/lib%20one.so\n"
                     "file 0 0 :/not/there\n"
                     "file 7 8 :/opt/app/lib%20one.so\n";     /* a duplicate */
  size_t i;
  memset(&r, 0, sizeof r);
  r.journal.gen = 1;
  r.journal.lines = 3;
  r.journal.unique = 2;
  r.journal.bytes = strlen(text);
  ASSERT_OK(rm__record_parse_files(text, strlen(text), &r));
  ASSERT_EQ(2, r.files.n);                       /* each path once ... */
  ASSERT_STR_EQ("/opt/app/lib one.so", r.files.v[0]);
  ASSERT_EQ(2049, r.file_ids[0].dev);            /* ... the first identity */
  ASSERT_EQ(131074, r.file_ids[0].ino);
  ASSERT_STR_EQ("/not/there", r.files.v[1]);
  ASSERT_EQ(0, r.file_ids[1].dev);
  rm__record_free(&r);
  /* Counts must match: more or fewer lines than committed. */
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, parse_journal("file 0 0 :/a\n", 2));
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, parse_journal("file 0 0 :/a\nfile 0 0 :/b\n", 1));
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, parse_journal("file 0 0 :/a", 1));  /* no \n */
  ASSERT_OK(parse_journal("file 0 0 :/a\n", 1));
  JOURNAL_REFUSED("file 18446744073709551616 1 :/a");
  JOURNAL_REFUSED("file 1 18446744073709551616 :/a");
  JOURNAL_REFUSED("file 1 1 :relative/path");
  JOURNAL_REFUSED("file 1 1 :");
  JOURNAL_REFUSED("file 1 1 :/bad%ffutf8");
  JOURNAL_REFUSED("file 1 1 :/overlong%c0%af");
  JOURNAL_REFUSED("file 1 1 :/nul%00inside");
  JOURNAL_REFUSED("file 1 1 :/short%4");
  JOURNAL_REFUSED("file 1 1 :/bad%zzhex");
  JOURNAL_REFUSED("file 1 1 /no/colon");
  JOURNAL_REFUSED("file 1 1 :/two :strings");
  JOURNAL_REFUSED("file 1 :/a");
  JOURNAL_REFUSED("service :sshd");
  JOURNAL_REFUSED("end");
  memcpy(long_path, "file 1 1 :/", 11);
  for (i = 11; i < sizeof long_path - 2; i++) long_path[i] = 'a';
  long_path[i++] = '\n';
  long_path[i] = 0;
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, parse_journal(long_path, 1));
}

/* Deep escapes and huge counts: linear, and exactly the value. */
static void deep_escapes_and_huge_counts(void) {
  enum { DEPTH = 100000, COUNT = 100000 };
  size_t cap = 64 + 3 * DEPTH + 32 * (size_t)COUNT + 4096, n = 0, len;
  char *text = malloc(cap), *p;
  rm__record r;
  int i;
  ASSERT(text != NULL);
  p = text;
  n += (size_t)sprintf(p + n, "restartmgr-session 2\nkey " KEY
                       "\nowner 1 2\nsequence 3\nshutdown 0\n"
                       "acted 1 2 5 2 1 0 1 0 :a :\nlaunch 0 0 :/\narg :/");
  for (i = 0; i < DEPTH; i++) {
    memcpy(p + n, "%25", 3);
    n += 3;
  }
  n += (size_t)sprintf(p + n, "\n");
  for (i = 0; i < COUNT; i++) n += (size_t)sprintf(p + n, "env :V%d=%d\n", i, i);
  n += (size_t)sprintf(p + n, "end\n");
  ASSERT_OK(rm__record_parse(text, n, &r));
  len = strlen(r.acted[0].launch.argv[0]);
  ASSERT_EQ(1 + DEPTH, len);
  ASSERT_EQ('%', r.acted[0].launch.argv[0][DEPTH]);
  ASSERT(r.acted[0].launch.argv[1] == NULL);
  ASSERT_STR_EQ("V99999=99999", r.acted[0].launch.envp[COUNT - 1]);
  ASSERT(r.acted[0].launch.envp[COUNT] == NULL);
  rm__record_free(&r);
  free(text);
}

/* A launch's context (store.c: context, limit, cgroup, stdio): exact
 * values back, ranges and places checked, and format/parse inverse. */
static void launch_context_lines(void) {
  rm__record r, back;
  const rm__launch_ctx *x;
  char *text, *again;
  size_t len, len2;
  text = mutate(-1, NULL, &len);
  ASSERT_OK(rm__record_parse(text, len, &r));
  free(text);
  x = &r.acted[0].launch.ctx;
  ASSERT_EQ(1, x->captured);
  ASSERT_EQ(19, x->nice);
  ASSERT_EQ(0777, x->umask);
  ASSERT_EQ(1, x->no_new_privs);
  ASSERT_EQ(1000, x->oom_score_adj);
  ASSERT_EQ(RM_LAUNCH_NO_PERSONALITY, x->personality);
  ASSERT_EQ(~0ull, x->cap_bounding);
  ASSERT_EQ(1, x->n_limits);
  ASSERT_EQ(1, x->limit_cur[0]);
  ASSERT_EQ(~0ull, x->limit_max[0]);
  ASSERT_STR_EQ("/user.slice/u x", x->cgroup);
  ASSERT_EQ(~0ull, x->cgroup_id.dev);
  ASSERT_EQ(5, x->cgroup_id.ino);
  ASSERT(x->stdio[0] == NULL);
  ASSERT_STR_EQ("/var/log/a b", x->stdio[1]);
  ASSERT_EQ(1, x->stdio_id[1].dev);
  ASSERT_EQ(2, x->stdio_id[1].ino);
  ASSERT_EQ(0, r.acted[1].launch.ctx.captured);
  /* Written and read again: the same. */
  ASSERT_OK(rm__record_format(&r, &again, &len2));
  ASSERT_OK(rm__record_parse(again, len2, &back));
  free(again);
  ASSERT_EQ(-20 + 39, back.acted[0].launch.ctx.nice);
  ASSERT_EQ(1, back.acted[0].launch.ctx.n_limits);
  ASSERT_STR_EQ("/user.slice/u x", back.acted[0].launch.ctx.cgroup);
  ASSERT_STR_EQ("/var/log/a b", back.acted[0].launch.ctx.stdio[1]);
  rm__record_free(&back);
  rm__record_free(&r);
  /* Out of range, out of order, out of place. */
  REFUSED("context", "context 40 0 0 0 0 0");                 /* nice */
  REFUSED("context", "context 0 512 0 0 0 0");                /* umask */
  REFUSED("context", "context 0 0 2 0 0 0");                  /* nnp */
  REFUSED("context", "context 0 0 0 2001 0 0");               /* oom */
  REFUSED("context", "context 0 0 0 0 4294967296 0");
  REFUSED("context", "context 0 0 0 0 0");
  REFUSED("limit", "limit 1 0 0 0");               /* not in order from 0 */
  REFUSED("limit", "limit 0 2 1 0");                       /* cur > max */
  REFUSED("limit", "context 0 0 0 0 0 0");                   /* twice */
  REFUSED("cgroup", "cgroup 0 0 :relative");
  REFUSED("stdio", "stdio 0 0 0 0 :/x");                       /* fd 0 */
  REFUSED("stdio", "stdio 3 0 0 0 :/x");
  REFUSED("stdio", "stdio 2 0 0 1 :/x");
  REFUSED("stdio", "stdio 2 0 0 0 :x");
  REFUSED("arg :/bin", "stdio 2 0 0 0 :/y");                /* twice */
  REFUSED("acted 9", "limit 0 0 0 0");              /* no launch above */
}

/* A registrant's view (docs/windows.md, Registration in the registrant's
 * view) is an optional last number: journals written before it existed,
 * and every file of view 0, have none and load as view 0; the same path
 * in two views is two files, in one view one. */
static void journal_views_are_optional(void) {
  rm__record r;
  const char *old = "file 2049 131074 :/opt/a.so\nfile 0 0 :/opt/b.so\n";
  const char *text = "file 3 1000 :/w/system32/x.dll 1\n"
                     "file 3 2000 :/w/system32/x.dll\n"
                     "file 0 0 :/w/system32/new.dll 4294967295\n"
                     "file 3 1001 :/w/system32/x.dll 1\n";  /* duplicate */
  const char *paths[3] = { "/w/x.dll", "/w/x.dll", "/w/y.dll" };
  rm__file_id ids[3] = { { 1, 2 }, { 0, 0 }, { 5, 6 } };
  uint32_t views[3] = { 1, 0, 7 };
  char *out;
  size_t len;

  memset(&r, 0, sizeof r);
  r.journal.gen = 1;
  r.journal.lines = r.journal.unique = 2;
  r.journal.bytes = strlen(old);
  ASSERT_OK(rm__record_parse_files(old, strlen(old), &r));
  ASSERT_EQ(2, r.files.n);
  ASSERT_EQ(2049, r.file_ids[0].dev);
  ASSERT_EQ(0, r.file_views[0]);
  ASSERT_EQ(0, r.file_views[1]);
  rm__record_free(&r);

  memset(&r, 0, sizeof r);
  r.journal.gen = 1;
  r.journal.lines = 4;
  r.journal.unique = 3;
  r.journal.bytes = strlen(text);
  ASSERT_OK(rm__record_parse_files(text, strlen(text), &r));
  ASSERT_EQ(3, r.files.n);
  ASSERT_STR_EQ("/w/system32/x.dll", r.files.v[0]);
  ASSERT_EQ(1000, r.file_ids[0].ino);               /* the first wins */
  ASSERT_EQ(1, r.file_views[0]);
  ASSERT_STR_EQ("/w/system32/x.dll", r.files.v[1]);
  ASSERT_EQ(2000, r.file_ids[1].ino);
  ASSERT_EQ(0, r.file_views[1]);
  ASSERT_STR_EQ("/w/system32/new.dll", r.files.v[2]);
  ASSERT_EQ(4294967295u, r.file_views[2]);
  rm__record_free(&r);

  /* View 0 is written as before; others as the last number. */
  ASSERT_OK(rm__files_format(paths, ids, views, 3, &out, &len));
  ASSERT_STR_EQ("file 1 2 :/w/x.dll 1\nfile 0 0 :/w/x.dll\n"
                "file 5 6 :/w/y.dll 7\n", out);
  free(out);
  ASSERT_OK(rm__files_format(paths, ids, NULL, 1, &out, &len));
  ASSERT_STR_EQ("file 1 2 :/w/x.dll\n", out);
  free(out);

  ASSERT_OK(parse_journal("file 0 0 :/a 1\n", 1));
  JOURNAL_REFUSED("file 0 0 :/a 0");               /* 0 is never written */
  JOURNAL_REFUSED("file 0 0 :/a 4294967296");
  JOURNAL_REFUSED("file 0 0 :/a ");
  JOURNAL_REFUSED("file 0 0 :/a 1 2");
  JOURNAL_REFUSED("file 0 0 :/a x");
  JOURNAL_REFUSED("file 0 0 :/a  1");
}

/* Formatting and parsing are inverse on what the engine writes. */
static void format_parse_round_trip_keeps_identities(void) {
  rm__record back;
  char *text;
  size_t len;
  const char *paths[2] = { "/a b/%c", "/x" };
  rm__file_id ids[2] = { { 77, 88 }, { 0, 0 } };
  ASSERT_OK(rm__files_format(paths, ids, NULL, 2, &text, &len));
  memset(&back, 0, sizeof back);
  back.journal.gen = 1;
  back.journal.lines = back.journal.unique = 2;
  back.journal.bytes = len;
  ASSERT_OK(rm__record_parse_files(text, len, &back));
  ASSERT_EQ(2, back.files.n);
  ASSERT_STR_EQ("/a b/%c", back.files.v[0]);
  ASSERT_EQ(77, back.file_ids[0].dev);
  ASSERT_EQ(88, back.file_ids[0].ino);
  ASSERT_EQ(0, back.file_ids[1].ino);
  free(text);
  rm__record_free(&back);
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(boundary_values_parse_exactly);
  RUN(numbers_out_of_range_are_refused);
  RUN(strings_the_api_refuses_are_refused);
  RUN(structure_is_checked);
  RUN(journal_lines_are_checked);
  RUN(journal_views_are_optional);
  RUN(deep_escapes_and_huge_counts);
  RUN(format_parse_round_trip_keeps_identities);
  RUN(launch_context_lines);
  return rmt_finish();
}
