/* SPDX-License-Identifier: MIT */
/*
 * fuzz_leftovers.c: libFuzzer target for the two parsers that read text
 * another user controls when root looks for what an upgrade left behind
 * (docs/linux.md, Replaced scripts and The kernel): the interpreter's
 * command line (which argument is the script) and Debian's version order.
 *
 * The first byte picks an interpreter; the rest, split at NUL bytes, is
 * the command line.  The script index is -1 or a non-empty argument after
 * argv[0]; the version order is reflexive and antisymmetric on any two
 * arguments, and never reads past them (ASan).
 */
#include "linux/linux.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok) abort();
}

static int sign(int v) { return v < 0 ? -1 : v > 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const exes[] = {
    "/usr/bin/perl", "/usr/bin/python3.11", "/usr/bin/ruby3.1",
    "/usr/bin/node", "/usr/bin/lua5.4", "/usr/bin/bash", "/usr/bin/dash",
    "/usr/bin/sleep" };
  const char *argv[64];
  char *text;
  size_t i = 0;
  int argc = 0, k;
  if (size == 0) return 0;
  text = malloc(size);              /* the rest, NUL-terminated */
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = 0;
  while (i < size && argc < 64) {
    argv[argc++] = text + i;
    i += strlen(text + i) + 1;
  }
  k = rm__script_arg(exes[data[0] % 8], argv, argc, NULL);
  check(k == -1 || (k >= 1 && k < argc && argv[k][0] != 0));
  if (argc >= 2) {
    check(rm__version_compare(argv[0], argv[0]) == 0);
    check(sign(rm__version_compare(argv[0], argv[1])) ==
          -sign(rm__version_compare(argv[1], argv[0])));
  }
  free(text);
  return 0;
}
