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
 * for a dead pid).  The core still checks everything again; the rules
 * and their reasons are the core's own (rm__path_problem and
 * rm__service_name_problem, util.c), so the two cannot disagree.
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

/* A Lua string may hold a zero byte, which no C string can: refused
 * first, before the core's rules (util.c) say why they refuse, if they
 * do.  0, or culprit's 3 results. */
static int zero_byte(lua_State *L, const char *what, const char *where,
                     const char *s, size_t len) {
  if (strlen(s) == len) return 0;
  return culprit(L, what, where, s, len,
                 lua_pushfstring(L, "contains a zero byte at byte %I",
                                 (lua_Integer)strlen(s) + 1),
                 RM_ERROR_BAD_ARGUMENTS);
}

int rm__lua_check_path(lua_State *L, const char *what, const char *where,
                       const char *s, size_t len, int reject_dir) {
  char buf[RM_REASON_MAX];
  const char *why;
  struct stat st;
  int n = zero_byte(L, what, where, s, len);
  if (n) return n;
  if ((why = rm__path_problem(s, buf, sizeof buf)) != NULL)
    return culprit(L, what, where, s, len, why, RM_ERROR_BAD_ARGUMENTS);
  if (reject_dir && stat(s, &st) == 0 && S_ISDIR(st.st_mode))
    return culprit(L, what, where, s, len,
                   "a directory cannot be registered", RM_ERROR_ACCESS_DENIED);
  return 0;
}

int rm__lua_check_service(lua_State *L, const char *what, const char *where,
                          const char *s, size_t len) {
  char buf[RM_REASON_MAX];
  const char *why;
  int n = zero_byte(L, what, where, s, len);
  if (n) return n;
  if ((why = rm__service_name_problem(s, buf, sizeof buf)) != NULL)
    return culprit(L, what, where, s, len, why, RM_ERROR_BAD_ARGUMENTS);
  return 0;
}
