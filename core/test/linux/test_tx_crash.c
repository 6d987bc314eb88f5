/* SPDX-License-Identifier: MIT */
/*
 * test_tx_crash.c: the transaction survives its installer's death, and
 * refuses what a hostile user plants.
 *
 * The kill loop: an installer process (this executable with --child)
 * upgrades the running demo app as a tree and is killed with SIGKILL,
 * half of the time right after a random journal write (the
 * RESTARTMGR_TX_KILL_AT hook: the process kills itself with SIGKILL at
 * that step), half of the time by the test after a random delay.  Then
 * rm_tx_recover runs, and each round must end with all old or all new
 * files, exactly one demo app running and using those files, no
 * temporaries and no journal.  RM_TX_KILL_ROUNDS sets the rounds (200).
 */
#define _GNU_SOURCE
#include "test_tx_common.h"

#include <sys/mount.h>
#include <sys/stat.h>

/* {===== The installer child */

static int child_install(const char *app, const char *rel) {
  uint32_t h;
  char key[33];
  rm_tx *tx;
  uint32_t rc;
  if (rm_start_session(&h, 0, key) != RM_OK) return 10;
  if (rm_tx_begin(h, 0, &tx) != RM_OK) return 11;
  if (rm_tx_tree(tx, app, rel, RM_TX_REMOVE_MISSING, NULL) != RM_OK) {
    fprintf(stderr, "%s\n", rm_tx_message(tx));
    return 12;
  }
  rc = rm_tx_commit(tx, 0, 5000, NULL, NULL, NULL);
  rm_tx_end(tx);
  rm_end_session(h);
  return rc == RM_OK ? 0 : 13;
}

static int child_stage(const char *target, const char *source) {
  uint32_t h;
  char key[33];
  rm_tx *tx;
  if (rm_start_session(&h, 0, key) != RM_OK) return 10;
  if (rm_tx_begin(h, 0, &tx) != RM_OK) return 11;
  (void)rm_tx_replace(tx, target, source, 0);
  return 12;                          /* the hook kills it before this */
}

/* }=====
 * {===== Kill loop */

static void unmount_cb(void *arg) { umount2(arg, MNT_DETACH); }

static void test_kill_loop(void) {
  const char *root = rmt_tempdir(), *env = getenv("RM_TX_KILL_ROUNDS");
  int rounds = env ? atoi(env) : 200, r;
  int by_hook = 0, by_timer = 0, finished = 0, rolled_back = 0,
      completed = 0, nothing = 0, ended_old = 0, ended_new = 0;
  int at_step[16];
  demo d;
  static char fs[600], store[700];
  memset(at_step, 0, sizeof at_step);
  srand((unsigned)getpid());
  /* On a tmpfs of its own when root: a kill is a process's death, not a
   * power cut, and fsync there costs nothing, so 200 rounds stay fast. */
  snprintf(fs, sizeof fs, "%s/fs", root);
  ASSERT_EQ(0, mkdir(fs, 0700));
  if (geteuid() == 0 &&
      mount("tmpfs", fs, "tmpfs", 0, "size=64m,mode=0700") == 0) {
    rmt_at_cleanup(unmount_cb, fs);
    root = fs;
  }
  snprintf(store, sizeof store, "%s/store", root);
  rmt_setenv("RESTARTMGR_STATE_DIR", store);
  demo_make(&d, root);
  rmt_at_cleanup(kill_running_cb, d.exe);
  for (r = 0; r < rounds; r++) {
    rmt_child app, inst;
    rm_unique_process id;
    rm_tx_recovered *rec = NULL;
    unsigned n = 0;
    uint32_t rc;
    int version, status;
    long pid;
    char v[64], want[32];

    /* A fresh old version, running. */
    rmt_remove_tree(d.app);
    rmt_remove_tree(d.rel);
    unlink(d.report);
    demo_make(&d, root);
    demo_start(&d, &app, &id, NULL);

    if (r % 2 == 0) {
      char step[16];
      int k = 1 + rand() % 9;
      snprintf(step, sizeof step, "%d", k);
      at_step[k]++;
      rmt_setenv("RESTARTMGR_TX_KILL_AT", step);
      ASSERT_EQ(0, rmt_spawn_self(&inst, "install", d.app, d.rel));
      unsetenv("RESTARTMGR_TX_KILL_AT");
      status = rmt_wait(&inst, 20000);
      by_hook++;
    } else {
      ASSERT_EQ(0, rmt_spawn_self(&inst, "install", d.app, d.rel));
      rmt_sleep_ms((unsigned)(rand() % 300));
      kill((pid_t)inst.pid, SIGKILL);
      status = rmt_wait(&inst, 20000);
      by_timer++;
    }
    if (status == 0) finished++;
    (void)reap_child(&app, 0);             /* stopped, or still ours */

    rc = rm_tx_recover(&rec, &n);
    ASSERT_OK(rc);
    if (n == 0) nothing++;
    else if (rec[0].decision == RM_TX_RECOVERED_ROLLED_BACK) rolled_back++;
    else completed++;
    rm_tx_free_recovered(rec, n);

    version = demo_version(&d);
    if (version != 1 && version != 2)
      printf("round %d: mixed files after recovery\n", r);
    ASSERT(version == 1 || version == 2);
    if (version == 1) ended_old++;
    else ended_new++;
    ASSERT_EQ(0, count_temps(d.app));
    ASSERT_EQ(0, count_journals());
    /* Exactly one demo app, using the files that are in place. */
    {
      long running[4];
      int waited = 0;
      ASSERT_EQ(1, count_running(d.exe, running, 4));
      /* A relaunched app writes its report as it starts. */
      while ((pid = demo_report(&d, v, sizeof v)) != running[0] &&
             waited < 5000) {
        rmt_sleep_ms(5);
        waited += 5;
      }
      ASSERT_EQ(running[0], pid);
    }
    snprintf(want, sizeof want, "%d/version%d", version, version);
    ASSERT_STR_EQ(want, v);
    {
      rm_unique_process p;
      ASSERT_OK(rm_get_process_identity((uint32_t)pid, &p));
      ASSERT(rm__os_alive(&p));
    }
    kill_running(d.exe);
    if (app.pid > 0) (void)reap_child(&app, 5000);
  }
  printf("kill loop: %d rounds: %d killed at a journal step (steps 1-9:",
         rounds, by_hook);
  for (r = 1; r <= 9; r++) printf(" %d", at_step[r]);
  printf("), %d killed after a random delay (%d of all rounds finished "
         "before the kill)\n", by_timer, finished);
  printf("kill loop: recovery rolled back %d, completed %d, found nothing "
         "%d; ended with old files %d, new files %d\n",
         rolled_back, completed, nothing, ended_old, ended_new);
}

/* }=====
 * {===== Recovery blocks a later begin */

static void test_unrecovered_target_blocks_begin(void) {
  const char *dir = rmt_tempdir();
  char t[600], s[600], buf[64];
  rmt_child inst;
  rm_tx *tx;
  rm_tx_recovered *rec = NULL;
  unsigned n = 0;
  uint32_t h;
  char key[33];
  rmt_fresh_store();
  snprintf(t, sizeof t, "%s/target", dir);
  snprintf(s, sizeof s, "%s/source", dir);
  ASSERT_EQ(0, rmt_write_file(t, "old"));
  ASSERT_EQ(0, rmt_write_file(s, "new"));
  /* Journal writes: 1 begin, 2 the staged names, 3 their identities. */
  rmt_setenv("RESTARTMGR_TX_KILL_AT", "3");
  ASSERT_EQ(0, rmt_spawn_self(&inst, "stage", t, s));
  unsetenv("RESTARTMGR_TX_KILL_AT");
  ASSERT_EQ(-1, rmt_wait(&inst, 10000));     /* killed */
  ASSERT_EQ(1, count_temps(dir));
  ASSERT_EQ(1, count_journals());
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_EQ(RM_ERROR_REQUEST_OUT_OF_SEQUENCE, rm_tx_replace(tx, t, s, 0));
  ASSERT(strstr(rm_tx_message(tx), "restartmgr recover") != NULL);
  ASSERT(strstr(rm_tx_message(tx), t) != NULL);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_tx_recover(&rec, &n));
  ASSERT_EQ(1, n);
  ASSERT_EQ(RM_TX_RECOVERED_ROLLED_BACK, rec[0].decision);
  ASSERT_EQ(1, rec[0].n_files);
  ASSERT_EQ(1, rec[0].n_removed);
  ASSERT_EQ(0, rec[0].n_restarted);
  ASSERT(rec[0].message && strstr(rec[0].message, "rolled back"));
  rm_tx_free_recovered(rec, n);
  ASSERT_EQ(0, count_temps(dir));
  ASSERT_EQ(0, count_journals());
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, t, s, 0));
  ASSERT_OK(rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  read_at(dir, "target", buf, sizeof buf);
  ASSERT_STR_EQ("new", buf);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Planted links and FIFOs */

/* The staged or backup name of the journal's entry for target. */
static void journal_name(const char *target, int want_backup, char *out,
                         size_t cap) {
  char path[700], line[4096];
  FILE *f = NULL;
  size_t tl = strlen(target);
  int slot;
  out[0] = 0;
  for (slot = 0; slot < 4 && !f; slot++) {
    snprintf(path, sizeof path, "%s/tx.%02d", getenv("RESTARTMGR_STATE_DIR"),
             slot);
    f = fopen(path, "r");
  }
  ASSERT(f != NULL);
  while (fgets(line, sizeof line, f)) {
    char *p = strstr(line, " :"), *q;
    if (strncmp(line, "entry", 5) != 0 || !p || strncmp(p + 2, target, tl))
      continue;
    p = strstr(p + 2, " :");             /* staged */
    if (want_backup && p) p = strstr(p + 2, " :");
    if (!p) break;
    q = p + 2 + strcspn(p + 2, " \n");
    snprintf(out, cap, "%.*s", (int)(q - p - 2), p + 2);
  }
  fclose(f);
}

static void test_planted_names_are_refused(void) {
  const char *dir = rmt_tempdir(), *other = rmt_tempdir();
  char t[600], s[600], victim[600], added[600], removed[600], name[700],
      buf[64];
  rm_tx *tx;
  uint32_t h;
  char key[33];
  struct stat st;
  rmt_fresh_store();
  snprintf(t, sizeof t, "%s/target", dir);
  snprintf(s, sizeof s, "%s/source", other);
  snprintf(victim, sizeof victim, "%s/victim", other);
  snprintf(added, sizeof added, "%s/added", dir);
  snprintf(removed, sizeof removed, "%s/removed", dir);
  ASSERT_EQ(0, rmt_write_file(t, "old"));
  ASSERT_EQ(0, rmt_write_file(s, "new"));
  ASSERT_EQ(0, rmt_write_file(victim, "victim"));
  ASSERT_EQ(0, rmt_write_file(removed, "to remove"));
  ASSERT_OK(rm_start_session(&h, 0, key));

  /* A link at a journal's name is neither followed nor read: that slot
   * counts as taken and the journal goes to the next. */
  snprintf(name, sizeof name, "%s/tx.00", getenv("RESTARTMGR_STATE_DIR"));
  ASSERT_EQ(0, symlink(victim, name));
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_EQ(0, lstat(name, &st));
  ASSERT(S_ISLNK(st.st_mode));
  ASSERT_EQ(2, count_journals());
  read_at(other, "victim", buf, sizeof buf);
  ASSERT_STR_EQ("victim", buf);
  ASSERT_EQ(0, unlink(name));

  /* A link planted where a new file is to be added. */
  ASSERT_OK(rm_tx_add(tx, added, s, 0));
  ASSERT_EQ(0, symlink(victim, added));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  ASSERT(strstr(rm_tx_message(tx), added) != NULL);
  ASSERT_EQ(0, lstat(added, &st));
  ASSERT(S_ISLNK(st.st_mode));
  read_at(other, "victim", buf, sizeof buf);
  ASSERT_STR_EQ("victim", buf);
  ASSERT_EQ(0, unlink(added));
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_EQ(0, count_temps(dir));

  /* A FIFO planted at a removal's backup name. */
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_remove(tx, removed));
  journal_name(removed, 1, name, sizeof name);
  ASSERT(name[0] != 0);
  ASSERT_EQ(0, mkfifo(name, 0600));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  read_at(dir, "removed", buf, sizeof buf);
  ASSERT_STR_EQ("to remove", buf);
  ASSERT_EQ(0, lstat(name, &st));          /* not ours: left alone */
  ASSERT(S_ISFIFO(st.st_mode));
  ASSERT_EQ(0, unlink(name));
  ASSERT_OK(rm_tx_end(tx));

  /* The staged copy replaced by a link before the commit. */
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, t, s, 0));
  journal_name(t, 0, name, sizeof name);
  ASSERT_EQ(0, unlink(name));
  ASSERT_EQ(0, symlink(victim, name));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  read_at(dir, "target", buf, sizeof buf);
  ASSERT_STR_EQ("old", buf);
  read_at(other, "victim", buf, sizeof buf);
  ASSERT_STR_EQ("victim", buf);
  ASSERT_EQ(0, unlink(name));
  ASSERT_OK(rm_tx_end(tx));

  /* The target replaced by a link after staging. */
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, t, s, 0));
  ASSERT_EQ(0, rename(t, rmt_path(dir, "moved")));
  ASSERT_EQ(0, symlink(victim, t));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  ASSERT_EQ(0, lstat(t, &st));
  ASSERT(S_ISLNK(st.st_mode));
  read_at(other, "victim", buf, sizeof buf);
  ASSERT_STR_EQ("victim", buf);
  ASSERT_EQ(0, unlink(t));
  ASSERT_EQ(0, rename(rmt_path(dir, "moved"), t));
  ASSERT_OK(rm_tx_end(tx));

  /* A FIFO as the source is refused without being opened. */
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_EQ(0, mkfifo(rmt_path(other, "fifo"), 0600));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED,
            rm_tx_replace(tx, t, rmt_path(other, "fifo"), 0));
  ASSERT(strstr(rm_tx_message(tx), "FIFO") != NULL);
  /* A directory other users can write holds no staged file. */
  ASSERT_EQ(0, chmod(other, 0777));
  ASSERT_EQ(0, rmt_write_file(rmt_path(other, "t2"), "old"));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED,
            rm_tx_replace(tx, rmt_path(other, "t2"), s, 0));
  ASSERT(strstr(rm_tx_message(tx), "not writable by other users") != NULL);
  ASSERT_EQ(0, chmod(other, 0700));
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_EQ(0, count_temps(dir));
  ASSERT_EQ(0, count_temps(other));
  ASSERT_EQ(0, count_journals());
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("RESTARTMGR_RESTART_SETTLE_MS", "20");
  if (rmt_child_args) {
    if (strcmp(rmt_child_args[0], "install") == 0)
      return child_install(rmt_child_args[1], rmt_child_args[2]);
    if (strcmp(rmt_child_args[0], "stage") == 0)
      return child_stage(rmt_child_args[1], rmt_child_args[2]);
    return 2;
  }
  RUN(test_planted_names_are_refused);
  RUN(test_unrecovered_target_blocks_begin);
  RUN(test_kill_loop);
  return rmt_finish();
}
