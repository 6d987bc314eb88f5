/* SPDX-License-Identifier: MIT */
/*
 * test_validators.c: the argument rules of util.c (rm__path_problem,
 * rm__service_name_problem and their yes-or-no forms), each refusal with
 * its exact reason, and the public entry points agreeing with them.
 * Portable: the absolute-path rule is the backend's (under Wine a drive
 * path is absolute and "/x" is not).
 */
#include "test.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Asserts the reason text (NULL: accepted) for a path or service name. */
static void path_is(const char *s, const char *want) {
  char why[RM_REASON_MAX];
  const char *got = rm__path_problem(s, why, sizeof why);
  if (!want) {
    ASSERT(got == NULL);
    ASSERT_EQ(1, rm__valid_path(s));
  } else {
    ASSERT(got != NULL);
    ASSERT_STR_EQ(want, got);
    ASSERT_EQ(0, rm__valid_path(s));
  }
}

static void service_is(const char *s, const char *want) {
  char why[RM_REASON_MAX];
  const char *got = rm__service_name_problem(s, why, sizeof why);
  if (!want) {
    ASSERT(got == NULL);
    ASSERT_EQ(1, rm__valid_service_name(s));
  } else {
    ASSERT(got != NULL);
    ASSERT_STR_EQ(want, got);
    ASSERT_EQ(0, rm__valid_service_name(s));
  }
}

static const char *absolute_example(void) {
  return rm__os_path_absolute("/etc/hosts") ? "/etc/hosts" : "C:\\x\\hosts";
}

static void paths(void) {
  char *longest = malloc(RM_PATH_MAX + 2), *root = NULL;
  const char *abs = absolute_example();
  char bad[64];
  ASSERT(longest != NULL);
  path_is(abs, NULL);
  path_is(NULL, "no path");
  path_is("", "an empty path");
  path_is("etc/hosts", "not an absolute path");
  snprintf(bad, sizeof bad, "%s\xff", abs);
  {
    char want[64];
    snprintf(want, sizeof want, "not valid UTF-8 at byte %u",
             (unsigned)strlen(abs) + 1);
    path_is(bad, want);
  }
  /* Exactly RM_PATH_MAX bytes is accepted, one more is not. */
  root = longest;
  memset(longest, 'a', RM_PATH_MAX + 1);
  longest[RM_PATH_MAX + 1] = 0;
  memcpy(longest, abs, strlen(abs));
  longest[RM_PATH_MAX] = 0;
  path_is(longest, NULL);
  longest[RM_PATH_MAX] = 'a';
  {
    char want[64];
    snprintf(want, sizeof want, "longer than %u bytes", (unsigned)RM_PATH_MAX);
    path_is(longest, want);
  }
  free(root);
}

static void service_names(void) {
  char name[RM_MAX_SVC_NAME + 2];
  service_is("nginx", NULL);
  service_is("ssh.service", NULL);
  service_is("caf\xc3\xa9", NULL);
  service_is(NULL, "no service name");
  service_is("", "an empty service name");
  service_is(".", "not a service name");
  service_is("..", "not a service name");
  service_is("a/b", "a service name cannot contain '/' (byte 2)");
  service_is("ab\\", "a service name cannot contain '\\' (byte 3)");
  service_is("a\nb", "a service name cannot contain control characters "
                     "(byte 2)");
  service_is("x\xc3", "not valid UTF-8 at byte 2");
  memset(name, 'n', sizeof name);
  name[RM_MAX_SVC_NAME] = 0;
  service_is(name, NULL);
  name[RM_MAX_SVC_NAME] = 'n';
  name[RM_MAX_SVC_NAME + 1] = 0;
  service_is(name, "longer than 63 bytes");
}

/* rm_register_resources refuses what the rules refuse, with its one
 * code for the call. */
static void entry_point_agrees(void) {
  uint32_t h;
  char key[RM_SESSION_KEY_CHARS + 1];
  const char *bad_file[1] = { "relative/path" };
  const char *bad_service[1] = { "a/b" };
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_resources(h, 1, bad_file, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_register_resources(h, 0, NULL, 0, NULL, 1, bad_service));
  ASSERT_OK(rm_end_session(h));
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(paths);
  RUN(service_names);
  RUN(entry_point_agrees);
  return rmt_finish();
}
