/* SPDX-License-Identifier: MIT */
/*
 * utf8.c: the UTF-8 checks and the cut on a character boundary.  The
 * lowest file of the library: the engine and both backends call it, and
 * it calls nothing of theirs.
 */
#include "internal.h"

#include <string.h>

size_t rm__utf8_seq(const char *str, size_t len, size_t i) {
  const unsigned char *s = (const unsigned char *)str;
  unsigned c = s[i], cp, min;
  size_t need, k;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { need = 1; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { need = 2; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { need = 3; cp = c & 0x07; min = 0x10000; }
  else return 0;
  for (k = 1; k <= need; k++) {
    if (i + k >= len || (s[i + k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i + k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return need + 1;
}

size_t rm__utf8_bad_byte(const char *s, size_t len) {
  size_t i = 0, n;
  while (i < len) {
    if ((n = rm__utf8_seq(s, len, i)) == 0) return i + 1;
    i += n;
  }
  return 0;
}

int rm__utf8_valid(const char *s, size_t len) {
  return rm__utf8_bad_byte(s, len) == 0;
}

void rm__utf8_copy(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (cap == 0) return;
  if (n >= cap) {
    n = cap - 1;
    /* Back up over continuation bytes so no character is cut in two. */
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
  }
  memcpy(dst, src, n);
  dst[n] = 0;
}
