/* SPDX-License-Identifier: MIT */
/*
 * test_restart_env.c: root relaunching a root process drops every
 * variable that makes the loader or an interpreter run code
 * (docs/security.md, "Relaunch environment"):
 *
 *  - a real program (sleep) relaunched from an environment with each
 *    listed variable gets none of them back, and keeps the others;
 *  - real python3, perl and lua5.4 run as root with PYTHONPATH,
 *    PERL5OPT/PERL5LIB and LUA_INIT pointing into a directory another
 *    user writes: the original loads that user's code (the attack's
 *    setup), the relaunched one does not.
 *
 * Needs root.  Every process is killed by pid and waited for, also on
 * failure.
 */
#define _GNU_SOURCE
#include "test_restart_common.h"

#include <dirent.h>

/* The variables of docs/security.md, "Relaunch environment": every exact
 * name, and names of each prefix family. */
static const char *const listed[] = {
  "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES",
  "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH",
  "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
  "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
  "JAVA_OPTIONS", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4",
  "PROMPT_COMMAND", "ZDOTDIR", "BASH_XTRACEFD", "GEM_PATH", "GEM_HOME",
  "BUNDLE_GEMFILE", "PHPRC", "PHP_INI_SCAN_DIR", "TCLLIBPATH",
  "OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES", "GIO_EXTRA_MODULES",
  "GTK_PATH", "GTK_MODULES", "GST_PLUGIN_PATH", "QT_PLUGIN_PATH",
  "SASL_PATH", "PKCS11_MODULE_PATH",
  /* prefix families */
  "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "LD_RMT_ANY", "MALLOC_CHECK_",
  "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE",
  "PYTHONEXECUTABLE", "PYTHONBREAKPOINT", "PYTHONWARNINGS",
  "PYTHONPYCACHEPREFIX", "PYTHONPLATLIBDIR", "PERL5LIB", "PERLLIB",
  "PERL5OPT", "PERL5DB", "PERLIO", "RUBYLIB", "RUBYOPT", "NODE_OPTIONS",
  "NODE_PATH", "NODE_REPL_EXTERNAL_MODULE", "LUA_PATH", "LUA_PATH_5_4",
  "LUA_CPATH", "LUA_CPATH_5_4", "LUA_INIT", "LUA_INIT_5_4",
  "BASH_FUNC_rmt%%", "GCONV_RMT", NULL
};

/* 1 when the process's initial environment has a variable NAME. */
static int has_var(long pid, const char *name) {
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s=", name);
  return environ_has(pid, prefix, 1);
}

/* Shuts down what holds held (one process, c) and restarts it: the new
 * process's entry (tracked for cleanup) in *l. */
static const rm_app_info *restart_holder(const char *held, rmt_child *c,
                                         uint32_t *h, alist *l) {
  rm_unique_process was;
  ASSERT_OK(rm_get_process_identity((uint32_t)c->pid, &was));
  *h = session_with_file(held, 5000, 5000);
  alist_now(*h, l);
  ASSERT_EQ(1, l->n);
  ASSERT_EQ(1, l->v[0].info.restartable);
  alist_free(l);
  ASSERT_OK(rm_shutdown(*h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT(reap_child(c, 5000) > 0);
  ASSERT_OK(rm_restart(*h, 0, NULL, NULL));
  alist_now(*h, l);
  return relaunched(l, (long)was.pid);
}

static void every_listed_variable_is_dropped(void) {
  const char *dir, *held;
  char line[64];
  static rmt_child c;
  const rm_app_info *e;
  const char *restartee;
  alist l;
  uint32_t h;
  long pid;
  size_t i;
  rmt_fresh_store();
  dir = open_dir();
  held = rmt_path(dir, "held");
  ASSERT_EQ(0, rmt_write_file(held, "x\n"));
  /* Before TMPDIR points nowhere: a checkout other users cannot reach
   * gets its helpers copied into a temp dir. */
  restartee = rmt_helper("rm_restartee");
  for (i = 0; listed[i]; i++) rmt_setenv(listed[i], "/nonexistent/rmt");
  rmt_setenv("RMT_KEPT", "kept");
  {
    char *argv[] = { (char *)(uintptr_t)restartee,
                     (char *)(uintptr_t)"--open", (char *)(uintptr_t)held,
                     (char *)(uintptr_t)"--exec",
                     (char *)(uintptr_t)"/bin/sleep",
                     (char *)(uintptr_t)"/bin/sleep",
                     (char *)(uintptr_t)"1000", NULL };
    ASSERT_EQ(0, rmt_spawn(&c, argv));
  }
  for (i = 0; listed[i]; i++) rmt_setenv(listed[i], NULL);
  rmt_setenv("RMT_KEPT", NULL);
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 10000));
  ASSERT_STR_EQ("ready", line);
  wait_comm(c.pid, "sleep");
  /* The holder has them (all but, under some locales, GCONV_PATH: seen
   * missing from the holder's environ with LANG=C in a package build, a
   * cause not found yet; the check after the relaunch still covers it). */
  for (i = 0; listed[i]; i++) {
    if (has_var(c.pid, listed[i])) continue;
    printf("not handed to the holder: %s\n", listed[i]);
    ASSERT_STR_EQ("GCONV_PATH", listed[i]);
  }

  e = restart_holder(held, &c, &h, &l);
  pid = (long)e->info.process.pid;
  ASSERT_EQ(0, e->restart.failure);
  ASSERT(e->restart.notes & RM_RESTART_NOTE_ENV_SANITIZED);
  alist_free(&l);
  for (i = 0; listed[i]; i++) {
    if (has_var(pid, listed[i])) printf("kept: %s\n", listed[i]);
    ASSERT(!has_var(pid, listed[i]));
  }
  ASSERT(has_var(pid, "RMT_KEPT"));
  ASSERT(has_var(pid, "PATH"));
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* {===== Real interpreters */

/* The user's directory (nobody's, where it may write) with code of its
 * own that appends to mark when loaded, and root's script. */
typedef struct interp_case {
  const char *exe;            /* the interpreter */
  const char *script;         /* root's script: holds argv[1], waits */
  const char *user_file;      /* name in the user's directory */
  const char *user_code;      /* its text; %s is the mark's path */
  const char *var, *value;    /* %s is the user's directory */
  const char *var2, *value2;  /* a second variable, or NULL */
} interp_case;

/* 1 when the process holds path open. */
static int holds(long pid, const char *path) {
  char fds[64], link[700], name[600];
  DIR *d;
  struct dirent *de;
  int found = 0;
  snprintf(fds, sizeof fds, "/proc/%ld/fd", pid);
  d = opendir(fds);
  if (!d) return 0;
  while (!found && (de = readdir(d))) {
    ssize_t n;
    snprintf(name, sizeof name, "%s/%s", fds, de->d_name);
    n = readlink(name, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = 0;
    found = strcmp(link, path) == 0;
  }
  closedir(d);
  return found;
}

static void wait_holds(long pid, const char *path) {
  unsigned waited = 0;
  while (!holds(pid, path)) {
    ASSERT(waited < 10000);
    rmt_sleep_ms(10);
    waited += 10;
  }
}

/* tmpl with its first "%s" replaced by arg, into out[cap]. */
static void fill(char *out, size_t cap, const char *tmpl, const char *arg) {
  const char *at = strstr(tmpl, "%s");
  size_t n = at ? (size_t)(at - tmpl) : strlen(tmpl);
  ASSERT(n + strlen(arg) + strlen(at ? at + 2 : "") < cap);
  memcpy(out, tmpl, n);
  out[n] = 0;
  if (at) {
    strcat(out, arg);
    strcat(out, at + 2);
  }
}

static void interpreter_loads_no_users_code(const interp_case *ic) {
  const char *dir, *user_dir, *held, *script, *mark, *code;
  char text[1400], value[700], value2[700];
  static rmt_child c;
  const rm_app_info *e;
  alist l;
  uint32_t h;
  long pid;
  if (access(ic->exe, X_OK) != 0) {
    printf("FAIL: %s is missing (.ci/bootstrap installs it)\n", ic->exe);
    ASSERT(0);
  }
  rmt_fresh_store();
  dir = open_dir();
  user_dir = rmt_path(dir, "user");
  held = rmt_path(dir, "held");
  script = rmt_path(dir, "script");
  mark = rmt_path(dir, "user-code-ran");
  ASSERT_EQ(0, mkdir(user_dir, 0755));
  ASSERT_EQ(0, chown(user_dir, NOBODY, NOBODY));
  ASSERT_EQ(0, rmt_write_file(held, "x\n"));
  snprintf(text, sizeof text, "%s.fifo", held);
  ASSERT_EQ(0, mkfifo(text, 0600));
  ASSERT_EQ(0, rmt_write_file(script, ic->script));
  code = rmt_path(user_dir, ic->user_file);
  fill(text, sizeof text, ic->user_code, mark);
  ASSERT_EQ(0, rmt_write_file(code, text));
  ASSERT_EQ(0, chown(code, NOBODY, NOBODY));
  fill(value, sizeof value, ic->value, user_dir);
  rmt_setenv(ic->var, value);
  if (ic->var2) {
    fill(value2, sizeof value2, ic->value2, user_dir);
    rmt_setenv(ic->var2, value2);
  }
  {
    char *argv[] = { (char *)(uintptr_t)ic->exe, (char *)(uintptr_t)script,
                     (char *)(uintptr_t)held, NULL };
    ASSERT_EQ(0, rmt_spawn(&c, argv));
  }
  rmt_setenv(ic->var, NULL);
  if (ic->var2) rmt_setenv(ic->var2, NULL);
  wait_holds(c.pid, held);
  /* The setup works: root's interpreter ran the user's code. */
  ASSERT_EQ(0, access(mark, F_OK));
  ASSERT_EQ(0, unlink(mark));

  e = restart_holder(held, &c, &h, &l);
  pid = (long)e->info.process.pid;
  ASSERT_EQ(0, e->restart.failure);
  alist_free(&l);
  wait_holds(pid, held);                  /* past its startup */
  ASSERT(!has_var(pid, ic->var));
  ASSERT(access(mark, F_OK) != 0);        /* the user's code never ran */
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

static void python_ignores_a_users_pythonpath(void) {
  static const interp_case ic = {
    "/usr/bin/python3",
    "import sys, time\nf = open(sys.argv[1])\ntime.sleep(1000)\n",
    "sitecustomize.py", "open('%s', 'a').write('ran\\n')\n",
    "PYTHONPATH", "%s", NULL, NULL
  };
  interpreter_loads_no_users_code(&ic);
}

static void perl_ignores_a_users_perl5opt(void) {
  static const interp_case ic = {
    "/usr/bin/perl",
    "open(my $f, '<', $ARGV[0]) or die; sleep 1000;\n",
    "RmtEvil.pm", "open(my $m, '>>', '%s'); print $m \"ran\\n\"; 1;\n",
    "PERL5OPT", "-MRmtEvil", "PERL5LIB", "%s"
  };
  interpreter_loads_no_users_code(&ic);
}

static void lua_ignores_a_users_lua_init(void) {
  /* Lua has no sleep: it waits opening a FIFO nobody writes. */
  static const interp_case ic = {
    "/usr/bin/lua5.4",
    "local f = assert(io.open(arg[1]))\n"
    "local w = io.open(arg[1] .. '.fifo')\n",
    "init.lua", "io.open('%s', 'a'):write('ran\\n')\n",
    "LUA_INIT", "@%s/init.lua", NULL, NULL
  };
  interpreter_loads_no_users_code(&ic);
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (skip_unless_root("root relaunching root")) return rmt_finish();
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  atexit(foreign_kill_all);
  RUN(every_listed_variable_is_dropped);
  RUN(python_ignores_a_users_pythonpath);
  RUN(perl_ignores_a_users_perl5opt);
  RUN(lua_ignores_a_users_lua_init);
  return rmt_finish();
}
