/* SPDX-License-Identifier: MIT */
/*
 * test_tx.c: the upgrade transaction with real processes and real files:
 * a running demo app upgraded as a tree with its metadata kept, and a
 * failure injected at each step (ENOSPC while staging on a small tmpfs,
 * an immutable target at the third of five swaps, an app that will not
 * stop, an app that does not start with the new files), each ending with
 * all old or all new files, the apps running, no temporaries and no
 * journal.  Argument checks with exact codes.
 */
#define _GNU_SOURCE
#include "test_tx_common.h"

#include <sys/mount.h>
#include <sys/xattr.h>

static uint32_t new_session(void) {
  uint32_t h;
  char key[33];
  ASSERT_OK(rm_start_session(&h, 0, key));
  return h;
}

static void track_report_apps(const rm_tx_report *rep) {
  unsigned i;
  for (i = 0; rep && i < rep->n_apps; i++)
    if (rep->apps[i].info.app_status & RM_STATUS_RESTARTED)
      foreign_track(&rep->apps[i].info.process);
}

static const rm_app_info *report_app(const rm_tx_report *rep,
                                     const char *name_part) {
  unsigned i;
  for (i = 0; i < rep->n_apps; i++)
    if (strstr(rep->apps[i].info.app_name, name_part)) return &rep->apps[i];
  return NULL;
}

static void progress_log_cb(unsigned percent, void *ctx) {
  int *last = ctx;
  ASSERT((int)percent > *last);
  *last = (int)percent;
}

/* {===== The upgrade */

static void test_upgrade_tree_keeps_metadata(void) {
  demo d;
  rmt_child c;
  rm_unique_process id;
  rm_tx *tx;
  rm_tx_report *rep = NULL;
  uint32_t h;
  unsigned staged = 0;
  int last = -1;
  long pid;
  char v[64], p[800], cap_before[64], cap_after[64], x[64];
  struct stat st;
  ssize_t cap_len, n;
  if (skip_unless_root("chown, file capabilities")) return;
  rmt_fresh_store();
  demo_make(&d, rmt_tempdir());
  rmt_at_cleanup(kill_running_cb, d.exe);
  /* Metadata the package manager's copy must keep. */
  ASSERT_EQ(0, chmod(d.exe, 0750));
  snprintf(p, sizeof p, "%s/share/data", d.app);
  ASSERT_EQ(0, chown(p, NOBODY, NOBODY));
  ASSERT_EQ(0, chmod(p, 0640));
  ASSERT_EQ(0, setxattr(p, "user.demo", "kept", 4, 0));
  snprintf(p, sizeof p, "setcap cap_net_bind_service+ep '%s/bin/tool'", d.app);
  ASSERT_EQ(0, system(p));
  snprintf(p, sizeof p, "%s/bin/tool", d.app);
  cap_len = getxattr(p, "security.capability", cap_before, sizeof cap_before);
  ASSERT(cap_len > 0);
  demo_start(&d, &c, &id, NULL);

  h = new_session();
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_EQ(1, count_journals());
  ASSERT_OK(rm_tx_tree(tx, d.app, d.rel, RM_TX_REMOVE_MISSING, &staged));
  ASSERT_EQ(8, staged);            /* 5 replaced, 2 added, 1 removed */
  ASSERT(child_running(&c));       /* staging stops nothing */
  ASSERT_EQ(1, demo_version(&d));
  ASSERT_OK(rm_tx_commit(tx, 0, 5000, progress_log_cb, &last, &rep));
  ASSERT_EQ(100, last);
  ASSERT(rep != NULL);
  track_report_apps(rep);
  ASSERT_EQ(RM_OK, rep->result);
  ASSERT_EQ(1, rep->committed);
  ASSERT_EQ(0, rep->rolled_back);
  ASSERT_EQ(8, rep->n_files);
  {
    unsigned i;
    for (i = 0; i < rep->n_files; i++)
      ASSERT_EQ(RM_TX_FILE_NEW, rep->files[i].outcome);
  }
  {
    const rm_app_info *a = report_app(rep, "app");
    ASSERT(a != NULL);
    ASSERT(a->info.app_status & RM_STATUS_STOPPED);
    ASSERT(a->info.app_status & RM_STATUS_RESTARTED);
    ASSERT(a->restart.notes & RM_RESTART_NOTE_UPGRADED);
  }
  ASSERT(reap_child(&c, 5000) >= 0);
  ASSERT_EQ(2, demo_version(&d));
  /* The new version runs, from the new files. */
  pid = demo_wait_new(&d, c.pid, v, sizeof v);
  ASSERT(pid > 0);
  ASSERT_STR_EQ("2/version2", v);
  ASSERT_EQ(1, count_running(d.exe, NULL, 0));
  /* Metadata kept. */
  ASSERT_EQ(0, stat(d.exe, &st));
  ASSERT_EQ(0750, st.st_mode & 07777);
  snprintf(p, sizeof p, "%s/share/data", d.app);
  ASSERT_EQ(0, stat(p, &st));
  ASSERT_EQ(NOBODY, st.st_uid);
  ASSERT_EQ(NOBODY, st.st_gid);
  ASSERT_EQ(0640, st.st_mode & 07777);
  n = getxattr(p, "user.demo", x, sizeof x);
  ASSERT_EQ(4, n);
  ASSERT(memcmp(x, "kept", 4) == 0);
  snprintf(p, sizeof p, "%s/bin/tool", d.app);
  ASSERT_EQ(cap_len, getxattr(p, "security.capability", cap_after,
                              sizeof cap_after));
  ASSERT(memcmp(cap_before, cap_after, (size_t)cap_len) == 0);
  ASSERT_EQ(0, count_temps(d.app));
  ASSERT_EQ(0, count_journals());
  rm_tx_free_report(rep);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));
  foreign_kill_all();
}

static void test_metadata_from_source(void) {
  rm_tx *tx;
  uint32_t h;
  const char *dir = rmt_tempdir();
  char t[600], s[600], x[16];
  struct stat st;
  if (skip_unless_root("chown")) return;
  rmt_fresh_store();
  snprintf(t, sizeof t, "%s/target", dir);
  snprintf(s, sizeof s, "%s/source", dir);
  ASSERT_EQ(0, rmt_write_file(t, "old"));
  ASSERT_EQ(0, rmt_write_file(s, "new"));
  ASSERT_EQ(0, chmod(t, 0600));
  ASSERT_EQ(0, chmod(s, 0644));
  ASSERT_EQ(0, chown(s, NOBODY, NOBODY));
  ASSERT_EQ(0, setxattr(s, "user.from", "src", 3, 0));
  h = new_session();
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, t, s, RM_TX_METADATA_FROM_SOURCE));
  ASSERT_OK(rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  ASSERT_EQ(0, stat(t, &st));
  ASSERT_EQ(0644, st.st_mode & 07777);
  ASSERT_EQ(NOBODY, st.st_uid);
  ASSERT_EQ(3, getxattr(t, "user.from", x, sizeof x));
  /* From a buffer, with the target's metadata. */
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace_data(tx, t, "buffer", 6, 0));
  ASSERT_OK(rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  read_at(dir, "target", x, sizeof x);
  ASSERT_STR_EQ("buffer", x);
  ASSERT_EQ(0, stat(t, &st));
  ASSERT_EQ(NOBODY, st.st_uid);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_EQ(0, count_temps(dir));
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Failures injected at each step */

static void unmount_cb(void *arg) { umount2(arg, MNT_DETACH); }

static void test_enospc_while_staging_stops_nothing(void) {
  static char mnt[600];
  char t[700], s[700], big[4096];
  rmt_child c;
  rm_unique_process id;
  rm_tx *tx;
  uint32_t h;
  FILE *f;
  int i;
  if (skip_unless_root("mount a small tmpfs")) return;
  rmt_fresh_store();
  snprintf(mnt, sizeof mnt, "%s/small", rmt_tempdir());
  ASSERT_EQ(0, mkdir(mnt, 0755));
  ASSERT_EQ(0, mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0755"));
  rmt_at_cleanup(unmount_cb, mnt);
  snprintf(t, sizeof t, "%s/target", mnt);
  snprintf(s, sizeof s, "%s/big", rmt_tempdir());
  ASSERT_EQ(0, rmt_write_file(t, "old"));
  f = fopen(s, "wb");
  ASSERT(f != NULL);
  memset(big, 'x', sizeof big);
  for (i = 0; i < 256; i++) fwrite(big, 1, sizeof big, f);   /* 1 MiB */
  ASSERT_EQ(0, fclose(f));
  APP(&c, &id, "--hold", t);
  h = new_session();
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_EQ(RM_ERROR_WRITE_FAULT, rm_tx_replace(tx, t, s, 0));
  ASSERT(strstr(rm_tx_message(tx), t) != NULL);
  ASSERT(strstr(rm_tx_message(tx), "space") != NULL);
  ASSERT(child_running(&c));                /* nothing stopped */
  read_at(mnt, "target", big, sizeof big);
  ASSERT_STR_EQ("old", big);
  ASSERT_EQ(0, count_temps(mnt));
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_EQ(0, count_journals());
  ASSERT_OK(rm_end_session(h));
}

static void chattr_cb(void *arg) {
  char cmd[800];
  snprintf(cmd, sizeof cmd, "chattr -i '%s' 2>/dev/null", (char *)arg);
  (void)system(cmd);
}

/* Five targets; two apps hold the first two and the last two; the third
 * is made immutable after staging, so its swap fails. */
static void test_third_of_five_swaps_fails_all_rolled_back(void) {
  static char t[5][600];
  char s[5][600], cmd[800], buf[64];
  rmt_child a, b;
  rm_unique_process ida, idb;
  rm_tx *tx;
  rm_tx_report *rep = NULL;
  uint32_t h;
  int i;
  const char *dir = rmt_tempdir(), *src = rmt_tempdir();
  if (skip_unless_root("chattr +i")) return;
  rmt_fresh_store();
  for (i = 0; i < 5; i++) {
    snprintf(t[i], sizeof t[i], "%s/t%d", dir, i + 1);
    snprintf(s[i], sizeof s[i], "%s/t%d", src, i + 1);
    ASSERT_EQ(0, rmt_write_file(t[i], "old"));
    ASSERT_EQ(0, rmt_write_file(s[i], "new"));
  }
  APP(&a, &ida, "--hold", t[0], "--hold", t[1]);
  APP(&b, &idb, "--hold", t[3], "--hold", t[4]);
  h = new_session();
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  for (i = 0; i < 5; i++) ASSERT_OK(rm_tx_replace(tx, t[i], s[i], 0));
  snprintf(cmd, sizeof cmd, "chattr +i '%s'", t[2]);
  if (system(cmd) != 0) {
    printf("skip: chattr +i is not supported under %s\n", dir);
    rm_tx_end(tx);
    rm_end_session(h);
    return;
  }
  rmt_at_cleanup(chattr_cb, t[2]);
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED,
            rm_tx_commit(tx, 0, 5000, NULL, NULL, &rep));
  ASSERT(strstr(rm_tx_message(tx), t[2]) != NULL);
  ASSERT(rep != NULL);
  track_report_apps(rep);
  ASSERT_EQ(0, rep->committed);
  ASSERT_EQ(1, rep->rolled_back);
  ASSERT_EQ(RM_TX_FILE_OLD, rep->files[0].outcome);
  ASSERT_EQ(RM_TX_FILE_OLD, rep->files[1].outcome);
  ASSERT_EQ(RM_TX_FILE_STAGED, rep->files[2].outcome);
  ASSERT(rep->files[2].error != 0);
  ASSERT_EQ(RM_TX_FILE_STAGED, rep->files[3].outcome);
  for (i = 0; i < 5; i++) {
    read_at(dir, t[i] + strlen(dir) + 1, buf, sizeof buf);
    ASSERT_STR_EQ("old", buf);
  }
  /* Both apps were stopped and are running again. */
  ASSERT(reap_child(&a, 5000) >= 0);
  ASSERT(reap_child(&b, 5000) >= 0);
  {
    unsigned k, restarted = 0;
    for (k = 0; k < rep->n_apps; k++)
      if ((rep->apps[k].info.app_status & RM_STATUS_RESTARTED) &&
          rm__os_alive(&rep->apps[k].info.process))
        restarted++;
    ASSERT_EQ(2, restarted);
  }
  chattr_cb(t[2]);
  ASSERT_EQ(0, count_temps(dir));
  ASSERT_EQ(0, count_journals());
  rm_tx_free_report(rep);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));
  foreign_kill_all();
}

static void test_app_that_will_not_stop_nothing_replaced(void) {
  char t1[600], t2[600], s[600], buf[64];
  const char *dir = rmt_tempdir();
  rmt_child stubborn, polite;
  rm_unique_process ids, idp;
  rm_tx *tx;
  rm_tx_report *rep = NULL;
  uint32_t h;
  rmt_fresh_store();
  snprintf(t1, sizeof t1, "%s/held-by-stubborn", dir);
  snprintf(t2, sizeof t2, "%s/held-by-polite", dir);
  snprintf(s, sizeof s, "%s/new", rmt_tempdir());
  ASSERT_EQ(0, rmt_write_file(t1, "old"));
  ASSERT_EQ(0, rmt_write_file(t2, "old"));
  ASSERT_EQ(0, rmt_write_file(s, "new"));
  APP(&stubborn, &ids, "--ignore-term", "--hold", t1);
  APP(&polite, &idp, "--hold", t2);
  h = new_session();
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, t1, s, 0));
  ASSERT_OK(rm_tx_replace(tx, t2, s, 0));
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN, rm_tx_commit(tx, 0, 300, NULL, NULL, &rep));
  track_report_apps(rep);
  ASSERT_EQ(0, rep->committed);
  read_at(dir, "held-by-stubborn", buf, sizeof buf);
  ASSERT_STR_EQ("old", buf);
  read_at(dir, "held-by-polite", buf, sizeof buf);
  ASSERT_STR_EQ("old", buf);
  ASSERT(child_running(&stubborn));
  ASSERT(reap_child(&polite, 5000) >= 0);
  {
    unsigned k, restarted = 0;
    for (k = 0; k < rep->n_apps; k++)
      if (rep->apps[k].info.app_status & RM_STATUS_RESTARTED) restarted++;
    ASSERT_EQ(1, restarted);
  }
  ASSERT_EQ(0, count_temps(dir));
  ASSERT_EQ(0, count_journals());
  rm_tx_free_report(rep);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));
  foreign_kill_all();
}

static void test_app_that_fails_to_restart_keeps_new_files(void) {
  demo d;
  rmt_child c;
  rm_unique_process id;
  rm_tx *tx;
  rm_tx_report *rep = NULL;
  uint32_t h;
  rmt_fresh_store();
  demo_make(&d, rmt_tempdir());
  rmt_at_cleanup(kill_running_cb, d.exe);
  demo_start(&d, &c, &id, "--fail-on");
  /* Long enough for the new version to start and exit (slow under the
   * sanitizers) before its restart counts as settled. */
  rmt_setenv("RESTARTMGR_RESTART_SETTLE_MS", "1500");
  h = new_session();
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_tree(tx, d.app, d.rel, RM_TX_REMOVE_MISSING, NULL));
  ASSERT_EQ(RM_ERROR_FAIL_RESTART, rm_tx_commit(tx, 0, 5000, NULL, NULL, &rep));
  rmt_setenv("RESTARTMGR_RESTART_SETTLE_MS", "100");
  ASSERT_EQ(1, rep->committed);
  ASSERT_EQ(0, rep->rolled_back);
  {
    const rm_app_info *a = report_app(rep, "app");
    ASSERT(a != NULL);
    ASSERT(a->info.app_status & RM_STATUS_ERROR_ON_RESTART);
    ASSERT_EQ(RM_RESTART_FAILED_EXITED, a->restart.failure);
    ASSERT_EQ(3, a->restart.error);
  }
  ASSERT(reap_child(&c, 5000) >= 0);
  ASSERT_EQ(2, demo_version(&d));
  ASSERT_EQ(0, count_temps(d.app));
  ASSERT_EQ(0, count_journals());
  rm_tx_free_report(rep);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));
}

/* }=====
 * {===== Dry run, codes */

static void test_dry_run_writes_nothing(void) {
  demo d;
  rmt_child c;
  rm_unique_process id;
  rm_tx *tx;
  rm_tx_report *rep = NULL;
  uint32_t h;
  rmt_fresh_store();
  demo_make(&d, rmt_tempdir());
  rmt_at_cleanup(kill_running_cb, d.exe);
  demo_start(&d, &c, &id, NULL);
  h = new_session();
  ASSERT_OK(rm_tx_begin(h, RM_TX_DRY_RUN, &tx));
  ASSERT_OK(rm_tx_tree(tx, d.app, d.rel, RM_TX_REMOVE_MISSING, NULL));
  ASSERT_EQ(0, count_temps(d.app));
  ASSERT_EQ(0, count_journals());
  ASSERT_OK(rm_tx_commit(tx, 0, 0, NULL, NULL, &rep));
  ASSERT_EQ(0, rep->committed);
  ASSERT_EQ(8, rep->n_files);
  ASSERT_EQ(RM_TX_FILE_STAGED, rep->files[0].outcome);
  ASSERT(report_app(rep, "app") != NULL);
  ASSERT(child_running(&c));
  ASSERT_EQ(1, demo_version(&d));
  rm_tx_free_report(rep);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));
}

static void test_codes(void) {
  rm_tx *tx, *tx2;
  uint32_t h, sec;
  char key[33], t[600], s[600];
  const char *dir = rmt_tempdir();
  rm_tx_recovered *rec;
  unsigned n;
  rmt_fresh_store();
  snprintf(t, sizeof t, "%s/t", dir);
  snprintf(s, sizeof s, "%s/s", dir);
  ASSERT_EQ(0, rmt_write_file(t, "old"));
  ASSERT_EQ(0, rmt_write_file(s, "new"));
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_join_session(&sec, key));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_begin(h, 0, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_begin(h, 0x80, &tx));
  ASSERT_EQ(RM_ERROR_SESSION_CREDENTIAL_CONFLICT, rm_tx_begin(sec, 0, &tx));
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_tx_begin(12345, 0, &tx));
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_EQ(RM_ERROR_REQUEST_OUT_OF_SEQUENCE, rm_tx_begin(h, 0, &tx2));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_replace(NULL, t, s, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_replace(tx, "relative", s, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_replace(tx, t, NULL, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_replace(tx, t, s, 0x40));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_replace_data(tx, t, NULL, 3, 0));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND,
            rm_tx_replace(tx, rmt_path(dir, "missing"), s, 0));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND,
            rm_tx_replace(tx, t, rmt_path(dir, "missing"), 0));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_replace(tx, dir, s, 0));
  ASSERT(strstr(rm_tx_message(tx), "directory in the way") != NULL);
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_add(tx, t, s, 0));
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_tx_remove(tx, rmt_path(dir, "nx")));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_tree(tx, t, dir, 0, NULL));
  ASSERT_OK(rm_tx_replace(tx, t, s, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_replace(tx, t, s, 0));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_commit(NULL, 0, 0, NULL, NULL, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_commit(tx, 0x4, 0, NULL, NULL, NULL));
  ASSERT_OK(rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  ASSERT_EQ(RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
            rm_tx_commit(tx, 0, 0, NULL, NULL, NULL));
  ASSERT_EQ(RM_ERROR_REQUEST_OUT_OF_SEQUENCE, rm_tx_replace(tx, t, s, 0));
  ASSERT_EQ(RM_ERROR_REQUEST_OUT_OF_SEQUENCE, rm_tx_rollback(tx));
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_tx_end(NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_recover(NULL, &n));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_tx_recover(&rec, NULL));
  ASSERT_OK(rm_tx_recover(&rec, &n));
  ASSERT_EQ(0, n);
  ASSERT(rec == NULL);
  /* Rolled back before commit: staged files gone, journal gone. */
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, t, s, 0));
  ASSERT_EQ(1, count_temps(dir));
  ASSERT_OK(rm_tx_rollback(tx));
  ASSERT_OK(rm_tx_rollback(tx));
  ASSERT_EQ(0, count_temps(dir));
  ASSERT_EQ(0, count_journals());
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_STR_EQ("ERROR_SUCCESS_REBOOT_REQUIRED",
                rm_error_name(RM_ERROR_SUCCESS_REBOOT_REQUIRED));
  ASSERT_OK(rm_end_session(sec));
  ASSERT_OK(rm_end_session(h));
}

/* On Linux a rename always succeeds: a holder that is not stopped (masked,
 * or critical with RM_TX_ALLOW_REBOOT) keeps running the old file and is
 * reported, and the commit says a reboot is required. */
static void test_holder_not_stopped_keeps_old_file(void) {
  const char *dir = rmt_tempdir();
  char t[600], s2[600], buf[16];
  rmt_child c;
  rm_unique_process id;
  rm_tx *tx;
  rm_tx_report *rep = NULL;
  uint32_t h;
  FILE *self_hold;
  unsigned i;
  int found = 0;
  rmt_fresh_store();
  snprintf(t, sizeof t, "%s/held", dir);
  snprintf(s2, sizeof s2, "%s/new", rmt_tempdir());
  ASSERT_EQ(0, rmt_write_file(t, "old"));
  ASSERT_EQ(0, rmt_write_file(s2, "new"));
  APP(&c, &id, "--hold", t);
  h = new_session();
  ASSERT_OK(rm_add_filter(h, NULL, &id, NULL, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, t, s2, 0));
  ASSERT_EQ(RM_ERROR_SUCCESS_REBOOT_REQUIRED,
            rm_tx_commit(tx, 0, 5000, NULL, NULL, &rep));
  ASSERT_EQ(1, rep->committed);
  read_at(dir, "held", buf, sizeof buf);
  ASSERT_STR_EQ("new", buf);
  ASSERT(child_running(&c));
  for (i = 0; i < rep->n_apps; i++)
    if (rep->apps[i].info.process.pid == (uint32_t)c.pid) {
      found = 1;
      ASSERT(rep->apps[i].info.app_status & RM_STATUS_SHUTDOWN_MASKED);
      ASSERT_EQ(1, rep->apps[i].n_files);
      ASSERT(rep->apps[i].files[0].how & RM_USE_OLDER_INODE);
    }
  ASSERT(found);
  rm_tx_free_report(rep);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));

  /* This process holds the target itself: critical (detected_self). */
  self_hold = fopen(t, "r");
  ASSERT(self_hold != NULL);
  h = new_session();
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace_data(tx, t, "newer", 5, 0));
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT,
            rm_tx_commit(tx, 0, 5000, NULL, NULL, NULL));
  read_at(dir, "held", buf, sizeof buf);
  ASSERT_STR_EQ("new", buf);                 /* nothing replaced */
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace_data(tx, t, "newer", 5, 0));
  ASSERT_EQ(RM_ERROR_SUCCESS_REBOOT_REQUIRED,
            rm_tx_commit(tx, RM_TX_ALLOW_REBOOT, 5000, NULL, NULL, &rep));
  ASSERT(rep->reboot_reasons & RM_REBOOT_REASON_DETECTED_SELF);
  read_at(dir, "held", buf, sizeof buf);
  ASSERT_STR_EQ("newer", buf);
  rm_tx_free_report(rep);
  fclose(self_hold);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_EQ(0, count_temps(dir));
  ASSERT_EQ(0, count_journals());
  ASSERT_OK(rm_end_session(h));
}

/* Who uses anything under a directory (rm_register_trees). */
static void test_register_trees(void) {
  const char *dir = rmt_tempdir();
  char sub[600], deep[700];
  const char *dirs[1];
  rmt_child c;
  rm_unique_process id;
  uint32_t h;
  unsigned n = 99;
  listing l;
  rmt_fresh_store();
  snprintf(sub, sizeof sub, "%s/a", dir);
  snprintf(deep, sizeof deep, "%s/a/deep", dir);
  ASSERT_EQ(0, mkdir(sub, 0755));
  ASSERT_EQ(0, rmt_write_file(deep, "x"));
  ASSERT_EQ(0, symlink("/etc/passwd", rmt_path(sub, "link")));
  APP(&c, &id, "--hold", deep);
  h = new_session();
  dirs[0] = dir;
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_trees(h, 1, NULL, &n));
  ASSERT_EQ(0, n);
  dirs[0] = "relative";
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_trees(h, 1, dirs, NULL));
  dirs[0] = deep;
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS, rm_register_trees(h, 1, dirs, NULL));
  dirs[0] = rmt_path(dir, "missing");
  ASSERT_EQ(RM_ERROR_FILE_NOT_FOUND, rm_register_trees(h, 1, dirs, NULL));
  dirs[0] = dir;
  ASSERT_EQ(RM_ERROR_INVALID_HANDLE, rm_register_trees(77777, 1, dirs, NULL));
  ASSERT_OK(rm_register_trees(h, 1, dirs, &n));
  ASSERT_EQ(1, n);                     /* the file; the link is not */
  list_now(h, &l);
  ASSERT(entry_of(&l, c.pid) != NULL);
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("RESTARTMGR_RESTART_SETTLE_MS", "100");
  RUN(test_codes);
  RUN(test_upgrade_tree_keeps_metadata);
  RUN(test_metadata_from_source);
  RUN(test_dry_run_writes_nothing);
  RUN(test_enospc_while_staging_stops_nothing);
  RUN(test_third_of_five_swaps_fails_all_rolled_back);
  RUN(test_app_that_will_not_stop_nothing_replaced);
  RUN(test_app_that_fails_to_restart_keeps_new_files);
  RUN(test_holder_not_stopped_keeps_old_file);
  RUN(test_register_trees);
  return rmt_finish();
}
