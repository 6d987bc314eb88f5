/* SPDX-License-Identifier: MIT */
/*
 * relaunch_env.c: which variables root drops when it relaunches a root
 * process (docs/security.md, "Relaunch environment").
 *
 * A root process's initial environment may have been handed to it by a
 * less trusted user (su/sudo keeping variables, a daemon started from a
 * user's shell).  Kept as is, a variable that makes the loader or an
 * interpreter load code would run that code as root when the program is
 * started again.  So, besides glibc's secure-mode list, every family of
 * variables that makes a common interpreter, the loader, iconv or a
 * library load code from a path goes: whole prefixes where the language
 * reads many (PYTHON*, PERL*, RUBY*, NODE_*, LD_*, ...), exact names
 * elsewhere.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <string.h>

/* Exact names (glibc's UNSECURE_ENVVARS, sysdeps/generic/unsecvars.h, with
 * the x86-64 extra and GLIBC_TUNABLES, then the interpreters'). */
static const char *const dropped_names[] = {
  /* glibc secure mode */
  "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES",
  "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH",
  "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
  /* Java */
  "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
  "JAVA_OPTIONS",
  /* shells: startup files, options, traced prompts, imported functions */
  "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND",
  "ZDOTDIR", "BASH_XTRACEFD",
  /* Ruby gems, PHP, Tcl */
  "GEM_PATH", "GEM_HOME", "BUNDLE_GEMFILE", "PHPRC", "PHP_INI_SCAN_DIR",
  "TCLLIBPATH",
  /* libraries that load modules from a path */
  "OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES", "GIO_EXTRA_MODULES",
  "GTK_PATH", "GTK_MODULES", "GST_PLUGIN_PATH", "QT_PLUGIN_PATH",
  "SASL_PATH", "PKCS11_MODULE_PATH", NULL
};

/* Prefixes: every variable that starts with one of these. */
static const char *const dropped_prefixes[] = {
  "LD_",          /* the loader: LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ... */
  "MALLOC_",      /* glibc malloc tuning and tracing */
  "PYTHON",       /* PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, PYTHONUSERBASE,
                     PYTHONEXECUTABLE, PYTHONBREAKPOINT, PYTHONWARNINGS, ... */
  "PERL",         /* PERL5LIB, PERLLIB, PERL5OPT, PERL5DB, PERLIO, ... */
  "RUBY",         /* RUBYLIB, RUBYOPT, ... */
  "NODE_",        /* NODE_OPTIONS, NODE_PATH, NODE_REPL_EXTERNAL_MODULE */
  "LUA_PATH",     /* LUA_PATH, LUA_PATH_5_4, ... */
  "LUA_CPATH",
  "LUA_INIT",
  "BASH_FUNC_",   /* exported shell functions */
  "GCONV_",       /* iconv modules */
  NULL
};

int rm__linux_env_dropped(const char *entry) {
  const char *eq = strchr(entry, '=');
  size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
  size_t i;
  for (i = 0; dropped_names[i]; i++)
    if (strlen(dropped_names[i]) == len &&
        memcmp(entry, dropped_names[i], len) == 0)
      return 1;
  for (i = 0; dropped_prefixes[i]; i++) {
    size_t n = strlen(dropped_prefixes[i]);
    if (len >= n && memcmp(entry, dropped_prefixes[i], n) == 0) return 1;
  }
  return 0;
}
