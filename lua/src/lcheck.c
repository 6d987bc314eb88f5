/* SPDX-License-Identifier: MIT */
/*
 * lcheck.c: messages that name the culprit.
 *
 * The C API answers a bad registration with one code for the whole call
 * (RM_ERROR_BAD_ARGUMENTS, as Win32 does).  A person at a REPL or reading
 * an installer's log needs to know which element was wrong and why, so
 * the binding checks every path and service name by the core's own rules
 * before it calls the core, and reports the first culprit:
 *
 *   register: files[3] "/tmp": a directory cannot be registered
 *   register: files[1] "etc/x": not an absolute path
 *   register: files[2] "/a\xff": not valid UTF-8 at byte 3
 *   register: processes[2]: pid 4242 is not running
 *
 * with the code the core would give (BAD_ARGUMENTS; ACCESS_DENIED for a
 * directory, which the core reports only when listing; FILE_NOT_FOUND
 * for a dead pid).  The core still checks everything again; the UTF-8
 * rule, the absolute-path rule (rm__os_path_absolute) and the limits are
 * the core's own (internal.h), the rest has to agree with it, and the
 * specs hold them together.
 */
#include "lrestartmgr.h"
#include "internal.h"

#include <string.h>
#include <sys/stat.h>

#define QUOTE_MAX 80                  /* bytes of a culprit shown */

/* Pushes s quoted for a message: printable ASCII and valid UTF-8 as
 * they are, '"' and '\\' escaped, control bytes and invalid bytes as \xNN,
 * cut after QUOTE_MAX bytes with "..." and the length. */
static void push_quoted(lua_State *L, const char *s, size_t len) {
  static const char digits[] = "0123456789abcdef";
  luaL_Buffer b;
  size_t i = 0, n = len < QUOTE_MAX ? len : QUOTE_MAX;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '"');
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    size_t seq = c >= 0x80 ? rm__utf8_seq(s, n, i) : 0;
    if (seq > 0) {
      luaL_addlstring(&b, s + i, seq);
      i += seq;
      continue;
    }
    if (c == '"' || c == '\\') {
      luaL_addchar(&b, '\\');
      luaL_addchar(&b, (char)c);
    } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
      char hex[4];
      hex[0] = '\\';
      hex[1] = 'x';
      hex[2] = digits[c >> 4];
      hex[3] = digits[c & 15];
      luaL_addlstring(&b, hex, 4);
    } else {
      luaL_addchar(&b, (char)c);
    }
    i++;
  }
  luaL_addchar(&b, '"');
  if (n < len) {
    lua_pushfstring(L, "...(%I bytes)", (lua_Integer)len);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
}

/* Pushes fail, "what: where QUOTED: why", code name; returns 3. */
static int culprit(lua_State *L, const char *what, const char *where,
                   const char *s, size_t len, const char *why,
                   uint32_t code) {
  push_quoted(L, s, len);                          /* quoted */
  luaL_pushfail(L);
  lua_pushfstring(L, "%s: %s %s: %s", what, where, lua_tostring(L, -2),
                  why);
  lua_pushstring(L, rm_error_name(code));
  return 3;
}

/* The rules paths and service names share: not empty (the message for an
 * empty one is empty), no zero byte, at most max bytes, valid UTF-8.  0,
 * or culprit's 3 results. */
static int check_text(lua_State *L, const char *what, const char *where,
                      const char *s, size_t len, const char *empty,
                      size_t max) {
  size_t bad;
  if (len == 0)
    return culprit(L, what, where, s, len, empty, RM_ERROR_BAD_ARGUMENTS);
  if (strlen(s) != len)
    return culprit(L, what, where, s, len,
                   lua_pushfstring(L, "contains a zero byte at byte %I",
                                   (lua_Integer)strlen(s) + 1),
                   RM_ERROR_BAD_ARGUMENTS);
  if (len > max)
    return culprit(L, what, where, s, len,
                   lua_pushfstring(L, "longer than %I bytes",
                                   (lua_Integer)max),
                   RM_ERROR_BAD_ARGUMENTS);
  if ((bad = rm__utf8_bad_byte(s, len)) != 0)
    return culprit(L, what, where, s, len,
                   lua_pushfstring(L, "not valid UTF-8 at byte %I",
                                   (lua_Integer)bad),
                   RM_ERROR_BAD_ARGUMENTS);
  return 0;
}

int rm__lua_check_path(lua_State *L, const char *what, const char *where,
                       const char *s, size_t len, int reject_dir) {
  struct stat st;
  int n = check_text(L, what, where, s, len, "an empty path", RM_PATH_MAX);
  if (n) return n;
  if (!rm__os_path_absolute(s))
    return culprit(L, what, where, s, len, "not an absolute path",
                   RM_ERROR_BAD_ARGUMENTS);
  if (reject_dir && stat(s, &st) == 0 && S_ISDIR(st.st_mode))
    return culprit(L, what, where, s, len,
                   "a directory cannot be registered", RM_ERROR_ACCESS_DENIED);
  return 0;
}

int rm__lua_check_service(lua_State *L, const char *what, const char *where,
                          const char *s, size_t len) {
  size_t i;
  int n = check_text(L, what, where, s, len, "an empty service name",
                     RM_MAX_SVC_NAME);
  if (n) return n;
  if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    return culprit(L, what, where, s, len, "not a service name",
                   RM_ERROR_BAD_ARGUMENTS);
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == '/' || c == '\\')
      return culprit(L, what, where, s, len,
                     lua_pushfstring(L, "a service name cannot contain %s "
                                        "(byte %I)",
                                     c < 0x20 ? "control characters"
                                     : c == '/' ? "'/'" : "'\\'",
                                     (lua_Integer)i + 1),
                     RM_ERROR_BAD_ARGUMENTS);
  }
  return 0;
}
