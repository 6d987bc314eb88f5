/* SPDX-License-Identifier: MIT */
/*
 * version.c: Debian's version ordering (deb-version(7)), as dpkg
 * --compare-versions applies it, without running dpkg (docs/linux.md,
 * The kernel).
 *
 * [epoch:]upstream[-revision]: epochs compare as numbers (none is 0),
 * then upstream, then revision, each by alternating runs: a run of
 * non-digits compares character by character where '~' sorts before
 * everything, even the end, then the end, then letters, then the other
 * characters (in ASCII order); then a run of digits compares as a number.
 */
#include "internal.h"

#include <string.h>

/* A character's weight in a non-digit run; 0 is the end of the run. */
static int order(int c) {
  if (c >= '0' && c <= '9') return 0;
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return c;
  if (c == '~') return -1;
  if (c) return c + 256;
  return 0;
}

/* Compares a[0..alen) with b[0..blen) by the alternating runs. */
static int compare_part(const char *a, size_t alen, const char *b,
                        size_t blen) {
  const char *ae = a + alen, *be = b + blen;
  while (a < ae || b < be) {
    int first_diff = 0;
    while ((a < ae && !(*a >= '0' && *a <= '9')) ||
           (b < be && !(*b >= '0' && *b <= '9'))) {
      int ac = a < ae ? order((unsigned char)*a) : 0;
      int bc = b < be ? order((unsigned char)*b) : 0;
      if (ac != bc) return ac < bc ? -1 : 1;
      a++;
      b++;
    }
    while (a < ae && *a == '0') a++;
    while (b < be && *b == '0') b++;
    while (a < ae && *a >= '0' && *a <= '9' && b < be && *b >= '0' &&
           *b <= '9') {
      if (!first_diff) first_diff = *a - *b;
      a++;
      b++;
    }
    if (a < ae && *a >= '0' && *a <= '9') return 1;   /* a's number longer */
    if (b < be && *b >= '0' && *b <= '9') return -1;
    if (first_diff) return first_diff < 0 ? -1 : 1;
  }
  return 0;
}

/* Splits v into its epoch (as digits text) and the rest. */
static void split_epoch(const char *v, const char **epoch, size_t *elen,
                        const char **rest) {
  const char *colon = strchr(v, ':');
  const char *p;
  *epoch = v;
  *elen = 0;
  *rest = v;
  if (!colon) return;
  for (p = v; p < colon; p++)
    if (!(*p >= '0' && *p <= '9')) return;    /* not an epoch */
  *elen = (size_t)(colon - v);
  *rest = colon + 1;
}

int rm__version_compare(const char *a, const char *b) {
  const char *ae, *be, *ar, *br, *adash, *bdash;
  size_t ael, bel, aul, bul;
  int r;
  split_epoch(a, &ae, &ael, &ar);
  split_epoch(b, &be, &bel, &br);
  r = compare_part(ael ? ae : "0", ael ? ael : 1, bel ? be : "0",
                   bel ? bel : 1);
  if (r) return r;
  adash = strrchr(ar, '-');
  bdash = strrchr(br, '-');
  aul = adash ? (size_t)(adash - ar) : strlen(ar);
  bul = bdash ? (size_t)(bdash - br) : strlen(br);
  r = compare_part(ar, aul, br, bul);
  if (r) return r;
  return compare_part(adash ? adash + 1 : "", adash ? strlen(adash + 1) : 0,
                      bdash ? bdash + 1 : "", bdash ? strlen(bdash + 1) : 0);
}

int rm_compare_versions(const char *a, const char *b) {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  return rm__version_compare(a, b);
}
