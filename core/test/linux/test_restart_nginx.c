/* SPDX-License-Identifier: MIT */
/*
 * test_restart_nginx.c: Debian's nginx, unsupervised (its master
 * rewrites its title to "nginx: master process ..."), started on a
 * private port with a temp prefix and config:
 *
 *  - without a restart registration it is listed not restartable (master
 *    and worker), RM_SHUTDOWN_ONLY_REGISTERED refuses, and it keeps
 *    serving;
 *  - registered by the installer (rm_register_process_restart with the
 *    daemonizing command), shutdown and restart bring it back serving
 *    with a new pid, the entry following the master the command left,
 *    the old worker RESTARTED through it, and the registration carried
 *    over to the new master;
 *  - started by a helper that registers itself (a foreground command)
 *    and then execs nginx: likewise.
 *
 * Every nginx is killed by pid with its workers and waited for, also on
 * failure (atexit).  Needs root (the master runs as root, as in Debian).
 */
#define _GNU_SOURCE
#include "test_restart_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define NGINX "/usr/sbin/nginx"

/* {===== nginx */

typedef struct nginx {
  char prefix[600], conf[700], log[700], early[700], pidfile[700];
  char port_text[16];
  int port;
} nginx;

/* Processes to end at exit: nginx masters with their workers. */
static rm_unique_process masters[16];
static int n_masters;

/* Kills a master and its children by pid, and waits until all are gone. */
static void nginx_kill(const rm_unique_process *m) {
  char path[96], buf[512];
  rm_unique_process kids[16];
  int n_kids = 0, i;
  unsigned waited = 0;
  FILE *f;
  if (!rm__os_alive(m)) return;
  snprintf(path, sizeof path, "/proc/%u/task/%u/children", (unsigned)m->pid,
           (unsigned)m->pid);
  f = fopen(path, "r");
  if (f) {
    char *p = fgets(buf, sizeof buf, f), *end;
    while (p && n_kids < 16) {
      long k = strtol(p, &end, 10);
      if (end == p) break;
      if (rm_get_process_identity((uint32_t)k, &kids[n_kids]) == RM_OK)
        n_kids++;
      p = end;
    }
    fclose(f);
  }
  kill((pid_t)m->pid, SIGKILL);
  for (i = 0; i < n_kids; i++)
    if (rm__os_alive(&kids[i])) kill((pid_t)kids[i].pid, SIGKILL);
  for (i = -1; i < n_kids; i++) {
    const rm_unique_process *p = i < 0 ? m : &kids[i];
    while (rm__os_alive(p) && waited < 10000) {
      rmt_sleep_ms(10);
      waited += 10;
    }
  }
}

static void nginx_kill_all(void) {
  int i;
  for (i = 0; i < n_masters; i++) nginx_kill(&masters[i]);
  n_masters = 0;
}

static void track_master(long pid) {
  rm_unique_process p;
  if (rm_get_process_identity((uint32_t)pid, &p) == RM_OK && n_masters < 16)
    masters[n_masters++] = p;
}

static int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;
  ASSERT(fd >= 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof a));
  ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&a, &len));
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* 1 when GET / on the port answers 200 with our body. */
static int http_ok(int port) {
  struct sockaddr_in a;
  char buf[512];
  size_t got = 0;
  ssize_t n;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
  if (fd < 0) return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return 0;
  }
  if (write(fd, "GET / HTTP/1.0\r\n\r\n", 18) != 18) {
    close(fd);
    return 0;
  }
  while (got + 1 < sizeof buf &&
         (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
    got += (size_t)n;
  close(fd);
  buf[got] = 0;
  ok = strstr(buf, " 200 ") != NULL && strstr(buf, "restartmgr-ok") != NULL;
  return ok;
}

static int wait_http(int port, int want, unsigned timeout_ms) {
  unsigned waited = 0;
  while (http_ok(port) != want) {
    if (waited >= timeout_ms) return 0;
    rmt_sleep_ms(20);
    waited += 20;
  }
  return 1;
}

static void nginx_config(nginx *x) {
  char text[2048];
  const char *dir = open_dir();
  snprintf(x->prefix, sizeof x->prefix, "%s", dir);
  snprintf(x->conf, sizeof x->conf, "%s/nginx.conf", dir);
  snprintf(x->log, sizeof x->log, "%s/error.log", dir);
  snprintf(x->early, sizeof x->early, "%s/early.log", dir);
  snprintf(x->pidfile, sizeof x->pidfile, "%s/nginx.pid", dir);
  x->port = free_port();
  snprintf(x->port_text, sizeof x->port_text, "%d", x->port);
  snprintf(text, sizeof text,
           "worker_processes 1;\n"
           "pid %s;\n"
           "error_log %s;\n"
           "events { worker_connections 32; }\n"
           "http {\n"
           "  access_log off;\n"
           "  client_body_temp_path %s/body;\n"
           "  proxy_temp_path %s/proxy;\n"
           "  fastcgi_temp_path %s/fastcgi;\n"
           "  uwsgi_temp_path %s/uwsgi;\n"
           "  scgi_temp_path %s/scgi;\n"
           "  server {\n"
           "    listen 127.0.0.1:%d;\n"
           "    location / { return 200 \"restartmgr-ok\\n\"; }\n"
           "  }\n"
           "}\n",
           x->pidfile, x->log, dir, dir, dir, dir, dir, x->port);
  ASSERT_EQ(0, rmt_write_file(x->conf, text));
}

/* The pid in the pid file, waiting for it (nginx writes it at start). */
static long nginx_pid(const nginx *x) {
  unsigned waited = 0;
  for (;;) {
    FILE *f = fopen(x->pidfile, "r");
    long pid = 0;
    if (f) {
      if (fscanf(f, "%ld", &pid) != 1) pid = 0;
      fclose(f);
    }
    if (pid > 0) return pid;
    ASSERT(waited < 10000);
    rmt_sleep_ms(20);
    waited += 20;
  }
}

/* Starts nginx the way an admin would: it daemonizes; returns the master. */
static long nginx_start_daemon(nginx *x) {
  static rmt_child c;
  char *argv[] = { (char *)(uintptr_t)NGINX, (char *)(uintptr_t)"-e",
                   x->early, (char *)(uintptr_t)"-c", x->conf,
                   (char *)(uintptr_t)"-p", x->prefix, NULL };
  long pid;
  ASSERT_EQ(0, rmt_spawn(&c, argv));
  ASSERT_EQ(0, rmt_wait(&c, 20000));      /* the foreground part exits 0 */
  pid = nginx_pid(x);
  track_master(pid);
  ASSERT(wait_http(x->port, 1, 10000));
  return pid;
}

static unsigned workers_of(const alist *l, long master) {
  unsigned i, n = 0;
  for (i = 0; i < l->n; i++) {
    char path[64], buf[1024];
    FILE *f;
    long ppid = 0;
    snprintf(path, sizeof path, "/proc/%u/stat",
             (unsigned)l->v[i].info.process.pid);
    f = fopen(path, "r");
    if (!f) continue;
    if (fgets(buf, sizeof buf, f)) {
      char *close_paren = strrchr(buf, ')');
      if (close_paren) sscanf(close_paren + 2, "%*c %ld", &ppid);
    }
    fclose(f);
    n += ppid == master;
  }
  return n;
}

static int have_nginx(void) {
  if (access(NGINX, X_OK) == 0) return 1;
  rmt_fail(__FILE__, __LINE__, "nginx is required (.ci/bootstrap installs it)");
  return 0;
}

static void nginx_unregistered_is_not_restartable_and_keeps_serving(void) {
  nginx x;
  alist l;
  long master;
  uint32_t h;
  unsigned i;
  rm_unique_process m;
  if (skip_unless_root("nginx's master runs as root") || !have_nginx()) return;
  rmt_fresh_store();
  nginx_config(&x);
  master = nginx_start_daemon(&x);
  ASSERT_OK(rm_get_process_identity((uint32_t)master, &m));
  h = session_with_file(x.log, 5000, 5000);
  alist_now(h, &l);
  ASSERT_EQ(2, l.n);                     /* master and its worker */
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(1, workers_of(&l, master));
  for (i = 0; i < l.n; i++) {
    ASSERT_EQ(RM_APP_UNKNOWN, l.v[i].info.app_type);
    ASSERT_EQ(0, l.v[i].info.restartable);
  }
  ASSERT_STR_EQ("nginx", app_of(&l, master)->info.app_name);
  alist_free(&l);
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN,
            rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT(rm__os_alive(&m));
  ASSERT(http_ok(x.port));
  alist_now(h, &l);
  ASSERT_EQ(RM_STATUS_RUNNING, app_of(&l, master)->info.app_status);
  alist_free(&l);
  ASSERT_OK(rm_end_session(h));
  nginx_kill_all();
}

/* Shutdown with ONLY_REGISTERED and restart; returns the new master. */
static long cycle_registered_nginx(nginx *x, long master, uint32_t notes) {
  alist l;
  uint32_t h;
  rm_unique_process m;
  const rm_app_info *e;
  unsigned i;
  long fresh;
  ASSERT_OK(rm_get_process_identity((uint32_t)master, &m));
  h = session_with_file(x->log, 10000, 10000);
  alist_now(h, &l);
  ASSERT_EQ(2, l.n);
  ASSERT_EQ(0, l.reasons);
  for (i = 0; i < l.n; i++) ASSERT_EQ(1, l.v[i].info.restartable);
  alist_free(&l);
  ASSERT_OK(rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT(!rm__os_alive(&m));
  ASSERT(wait_http(x->port, 0, 5000));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  alist_now(h, &l);
  e = relaunched(&l, master);
  fresh = (long)e->info.process.pid;
  track_master(fresh);
  ASSERT_EQ(RM_STATUS_STOPPED | RM_STATUS_RESTARTED | RM_STATUS_RUNNING,
            e->info.app_status);
  ASSERT_EQ(RM_RESTART_FAILED_NONE, e->restart.failure);
  ASSERT_EQ(notes, e->restart.notes);
  /* The old worker came back through its master, not on its own; the
   * master's new worker is listed live, restartable through it. */
  ASSERT_EQ(3, l.n);
  for (i = 0; i < l.n; i++) {
    if (&l.v[i] == e) continue;
    if (l.v[i].info.app_status &
        (RM_STATUS_STOPPED | RM_STATUS_STOPPED_OTHER)) {
      /* STOPPED, or STOPPED_OTHER when the master ended it first. */
      uint32_t stop = l.v[i].info.app_status &
                      (RM_STATUS_STOPPED | RM_STATUS_STOPPED_OTHER);
      ASSERT(stop == RM_STATUS_STOPPED || stop == RM_STATUS_STOPPED_OTHER);
      ASSERT_EQ(stop | RM_STATUS_RESTARTED, l.v[i].info.app_status);
      ASSERT_EQ(RM_RESTART_NOTE_WORKER, l.v[i].restart.notes);
    } else {
      ASSERT_EQ(RM_STATUS_RUNNING, l.v[i].info.app_status);
      ASSERT_EQ(1, l.v[i].info.restartable);
    }
  }
  ASSERT_EQ(1, workers_of(&l, fresh));
  alist_free(&l);
  ASSERT(fresh != master);
  ASSERT(wait_http(x->port, 1, 10000));
  ASSERT_EQ(fresh, nginx_pid(x));
  ASSERT_OK(rm_end_session(h));
  return fresh;
}

static void nginx_registered_by_the_installer_comes_back(void) {
  nginx x;
  long master;
  rm_unique_process m;
  rm_restart_registration *r = NULL;
  const char *argv[8];
  if (skip_unless_root("nginx's master runs as root") || !have_nginx()) return;
  rmt_fresh_store();
  nginx_config(&x);
  master = nginx_start_daemon(&x);
  ASSERT_OK(rm_get_process_identity((uint32_t)master, &m));
  argv[0] = NGINX;
  argv[1] = "-e";
  argv[2] = x.early;
  argv[3] = "-c";
  argv[4] = x.conf;
  argv[5] = "-p";
  argv[6] = x.prefix;
  argv[7] = NULL;
  ASSERT_OK(rm_register_process_restart(&m, argv, NULL, 0));
  ASSERT_OK(rm_get_application_restart((uint32_t)master, &r));
  ASSERT_EQ(m.start_time, r->process.start_time);
  ASSERT_STR_EQ(NGINX, r->argv[0]);
  ASSERT_STR_EQ(x.prefix, r->argv[6]);
  ASSERT(r->argv[7] == NULL && r->cwd == NULL && r->flags == 0);
  rm_free_application_restart(r);
  /* Its command daemonizes: the entry follows the master it leaves, which
   * inherits the registration (restartable by the next installer). */
  master = cycle_registered_nginx(&x, master, RM_RESTART_NOTE_REGISTERED |
                                                  RM_RESTART_NOTE_DAEMONIZED);
  ASSERT_OK(rm_get_application_restart((uint32_t)master, &r));
  ASSERT_STR_EQ(x.conf, r->argv[4]);
  rm_free_application_restart(r);
  nginx_kill_all();
}

static void nginx_that_registered_itself_comes_back(void) {
  nginx x;
  static rmt_child c;
  char line[256];
  rm_restart_registration *r = NULL;
  if (skip_unless_root("nginx's master runs as root") || !have_nginx()) return;
  rmt_fresh_store();
  nginx_config(&x);
  {
    char *argv[] = {
      (char *)(uintptr_t)rmt_helper("rm_restartee"),
      (char *)(uintptr_t)"--register", (char *)(uintptr_t)NGINX,
      (char *)(uintptr_t)"-e", x.early, (char *)(uintptr_t)"-c", x.conf,
      (char *)(uintptr_t)"-p", x.prefix, (char *)(uintptr_t)"-g",
      (char *)(uintptr_t)"daemon off;", (char *)(uintptr_t)"--",
      (char *)(uintptr_t)"--exec", (char *)(uintptr_t)NGINX,
      (char *)(uintptr_t)"nginx", (char *)(uintptr_t)"-e", x.early,
      (char *)(uintptr_t)"-c", x.conf, (char *)(uintptr_t)"-p", x.prefix,
      (char *)(uintptr_t)"-g", (char *)(uintptr_t)"daemon off;", NULL };
    ASSERT_EQ(0, rmt_spawn(&c, argv));
  }
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 10000));
  ASSERT_STR_EQ("ready", line);
  track_master(c.pid);
  ASSERT(wait_http(x.port, 1, 10000));
  ASSERT_EQ(c.pid, nginx_pid(&x));       /* the helper became nginx */
  ASSERT_OK(rm_get_application_restart((uint32_t)c.pid, &r));
  ASSERT_STR_EQ("daemon off;", r->argv[8]);
  rm_free_application_restart(r);
  /* Its command stays in the foreground: the relaunched process is it. */
  cycle_registered_nginx(&x, c.pid, RM_RESTART_NOTE_REGISTERED);
  ASSERT(reap_child(&c, 5000) >= 0);
  nginx_kill_all();
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  /* Root relaunching root drops glibc's unsecvars, which would add
   * RM_RESTART_NOTE_ENV_SANITIZED to the exact notes checked here. */
  rmt_setenv("TMPDIR", NULL);
  rmt_setenv("LD_PRELOAD", NULL);
  rmt_setenv("LD_LIBRARY_PATH", NULL);
  atexit(foreign_kill_all);
  atexit(nginx_kill_all);
  RUN(nginx_unregistered_is_not_restartable_and_keeps_serving);
  RUN(nginx_registered_by_the_installer_comes_back);
  RUN(nginx_that_registered_itself_comes_back);
  return rmt_finish();
}
