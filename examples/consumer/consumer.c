/* SPDX-License-Identifier: MIT */
/*
 * consumer.c: a program that uses an installed restartmgr, as any C
 * project would (see CMakeLists.txt and docs/hacking.md, "Install routes and packaging").
 *
 * It starts a session, starts a child process that holds a file open,
 * registers the file, lists who uses it and checks that the child is
 * found with its identity, then ends everything.  Exit status 0 when the
 * child was found, 1 otherwise (with the reason on stderr).
 *
 * Deliberately written in plain C99 with declarations after statements:
 * the project's own strict warnings (-Wdeclaration-after-statement, ...)
 * must not reach a consumer's code, which CMakeLists.txt compiles with
 * -Wall -Werror.
 */
#define _POSIX_C_SOURCE 200809L
#include <restartmgr.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what, uint32_t code) {
  fprintf(stderr, "consumer: %s: %s (%s)\n", what, rm_strerror(code),
          rm_error_name(code));
  return 1;
}

/* The child: opens path, says so on ready, and holds it until the parent
 * closes the other end of wait_fd. */
static void hold(const char *path, int ready, int wait_fd) {
  int fd = open(path, O_RDONLY);
  char c = fd >= 0 ? 'y' : 'n';
  if (write(ready, &c, 1) != 1) _exit(2);
  while (read(wait_fd, &c, 1) > 0) {}
  _exit(0);
}

int main(void) {
  printf("restartmgr %s (header %s), backend %s\n", rm_version(),
         RM_VERSION_STRING, rm_backend());
  if (strcmp(rm_version(), RM_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: header and library versions differ\n");
    return 1;
  }

  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/rm-consumer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) { perror("consumer: mkdtemp"); return 1; }
  char path[4200];
  snprintf(path, sizeof path, "%s/held.txt", dir);
  FILE *f = fopen(path, "w");
  if (!f || fputs("held by the consumer's child\n", f) < 0 || fclose(f) != 0) {
    perror("consumer: held.txt");
    return 1;
  }

  int ready[2], hang[2];
  if (pipe(ready) != 0 || pipe(hang) != 0) { perror("consumer: pipe"); return 1; }
  pid_t child = fork();
  if (child < 0) { perror("consumer: fork"); return 1; }
  if (child == 0) {
    close(ready[0]);
    close(hang[1]);
    hold(path, ready[1], hang[0]);
  }
  close(ready[1]);
  close(hang[0]);
  char c = 0;
  int status = 1;
  if (read(ready[0], &c, 1) != 1 || c != 'y') {
    fprintf(stderr, "consumer: the child could not open %s\n", path);
    goto out;
  }

  uint32_t h;
  char key[RM_SESSION_KEY_CHARS + 1];
  uint32_t rc = rm_start_session(&h, 0, key);
  if (rc != RM_OK) { status = fail("rm_start_session", rc); goto out; }
  printf("session %s\n", key);

  const char *files[] = { path };
  rc = rm_register_resources(h, 1, files, 0, NULL, 0, NULL);
  if (rc != RM_OK) { status = fail("rm_register_resources", rc); goto end; }

  rm_unique_process id;
  rc = rm_get_process_identity((uint32_t)child, &id);
  if (rc != RM_OK) { status = fail("rm_get_process_identity", rc); goto end; }

  rm_app_info *apps = NULL;
  unsigned n = 0;
  uint32_t reasons = 0;
  rc = rm_get_list_alloc(h, &apps, &n, &reasons);
  if (rc != RM_OK) { status = fail("rm_get_list_alloc", rc); goto end; }
  for (unsigned i = 0; i < n; i++) {
    const rm_process_info *p = &apps[i].info;
    int mine = p->process.pid == id.pid && p->process.start_time == id.start_time;
    printf("  pid %u %s, type %d, %s%s\n", (unsigned)p->process.pid, p->app_name,
           (int)p->app_type, apps[i].n_files && (apps[i].files[0].how & RM_USE_OPEN_FILE)
           ? "open file" : "?", mine ? "  <- the child" : "");
    if (mine && apps[i].n_files == 1 && (apps[i].files[0].how & RM_USE_OPEN_FILE))
      status = 0;
  }
  rm_free_list(apps, n);
  if (status != 0)
    fprintf(stderr, "consumer: the child (pid %d) is not in the list\n", (int)child);
  else
    printf("ok: %u user(s) of %s, the child among them\n", n, path);

end:
  rc = rm_end_session(h);
  if (rc != RM_OK) status = fail("rm_end_session", rc);
out:
  close(hang[1]);                       /* the child ends ... */
  close(ready[0]);
  waitpid(child, NULL, 0);              /* ... and is reaped */
  unlink(path);
  rmdir(dir);
  return status;
}
