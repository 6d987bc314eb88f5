/* SPDX-License-Identifier: MIT */
/*
 * test_win_tx.c: the upgrade transaction's files that stay busy, under
 * Wine with real processes: a target held without FILE_SHARE_DELETE by an
 * app masked from shutdown is scheduled with MOVEFILE_DELAY_UNTIL_REBOOT
 * (read back from PendingFileRenameOperations), and recovery of an
 * installer killed after scheduling one clears it.
 */
#include "test.h"
#include "internal.h"

#include <windows.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define PENDING_KEY L"SYSTEM\\CurrentControlSet\\Control\\Session Manager"
#define PENDING_VALUE L"PendingFileRenameOperations"

/* Starts rm_winapp holding path (shared for read and write, not delete)
 * and fills its identity. */
static void start_holder(rmt_child *c, const char *path,
                         rm_unique_process *id) {
  char *argv[4], line[128];
  unsigned long pid = 0;
  argv[0] = (char *)(uintptr_t)rmt_helper("rm_winapp");
  argv[1] = (char *)(uintptr_t)"--hold";
  argv[2] = (char *)(uintptr_t)path;
  argv[3] = NULL;
  ASSERT_EQ(0, rmt_spawn(c, argv));
  ASSERT_EQ(0, rmt_read_line(c, line, sizeof line, 30000));
  ASSERT_EQ(1, sscanf(line, "ready %lu", &pid));
  ASSERT_OK(rm_get_process_identity((uint32_t)pid, id));
}

/* How many pending renames have destination (or source) path. */
static int pending_for(const char *path) {
  wchar_t w[1024], *data;
  HKEY key;
  DWORD type = 0, size = 0;
  size_t i = 0, n;
  int found = 0;
  if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1024)) return -1;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, PENDING_KEY, 0, KEY_QUERY_VALUE,
                    &key) != ERROR_SUCCESS)
    return -1;
  if (RegQueryValueExW(key, PENDING_VALUE, NULL, &type, NULL, &size) !=
          ERROR_SUCCESS || type != REG_MULTI_SZ) {
    RegCloseKey(key);
    return 0;
  }
  data = calloc(size / sizeof *data + 2, sizeof *data);
  if (!data || RegQueryValueExW(key, PENDING_VALUE, NULL, &type,
                                (BYTE *)data, &size) != ERROR_SUCCESS) {
    free(data);
    RegCloseKey(key);
    return -1;
  }
  RegCloseKey(key);
  n = size / sizeof *data;
  while (i < n && data[i]) {
    const wchar_t *s = data + i;
    if (*s == L'!') s++;                   /* replace the destination */
    if (wcsncmp(s, L"\\??\\", 4) == 0) s += 4;
    if (_wcsicmp(s, w) == 0) found++;
    i += wcslen(data + i) + 1;
  }
  free(data);
  return found;
}

static void clear_pending(void *path) {
  unsigned cleared;
  (void)rm__os_tx_clear_reboot(path, &cleared);
}

/* Files under dir whose name has ".rmtx-". */
static int temporaries(const char *dir) {
  char pattern[600];
  WIN32_FIND_DATAA fd;
  HANDLE h;
  int n = 0;
  snprintf(pattern, sizeof pattern, "%s\\*", dir);
  h = FindFirstFileA(pattern, &fd);
  if (h == INVALID_HANDLE_VALUE) return 0;
  do {
    if (strstr(fd.cFileName, ".rmtx-")) n++;
  } while (FindNextFileA(h, &fd));
  FindClose(h);
  return n;
}

static void read_small(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n = 0;
  buf[0] = 0;
  if (!f) return;
  n = fread(buf, 1, cap - 1, f);
  buf[n] = 0;
  fclose(f);
}

static void busy_target_is_scheduled_for_reboot(void) {
  static char target[600];
  char source[600], staged[600], buf[64];
  const char *dir = rmt_tempdir();
  rmt_child app;
  rm_unique_process id;
  rm_tx *tx;
  rm_tx_report *rep = NULL;
  uint32_t h;
  char key[33];
  rmt_fresh_store();
  snprintf(target, sizeof target, "%s\\held.dll", dir);
  snprintf(source, sizeof source, "%s\\new.dll", rmt_tempdir());
  ASSERT_EQ(0, rmt_write_file(target, "old"));
  ASSERT_EQ(0, rmt_write_file(source, "new"));
  start_holder(&app, target, &id);
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_add_filter(h, NULL, &id, NULL, RM_NO_SHUTDOWN));
  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, target, source, 0));
  rmt_at_cleanup(clear_pending, target);
  /* Without allow_reboot the busy target fails the commit: all old. */
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED, rm_tx_commit(tx, 0, 5000, NULL, NULL,
                                                 NULL));
  ASSERT(strstr(rm_tx_message(tx), "held.dll") != NULL);
  ASSERT_EQ(0, temporaries(dir));
  ASSERT_OK(rm_tx_end(tx));

  ASSERT_OK(rm_tx_begin(h, 0, &tx));
  ASSERT_OK(rm_tx_replace(tx, target, source, 0));
  ASSERT_EQ(RM_ERROR_SUCCESS_REBOOT_REQUIRED,
            rm_tx_commit(tx, RM_TX_ALLOW_REBOOT, 5000, NULL, NULL, &rep));
  ASSERT(rep != NULL);
  ASSERT_EQ(1, rep->committed);
  ASSERT_EQ(1, rep->n_files);
  ASSERT_EQ(RM_TX_FILE_AT_REBOOT, rep->files[0].outcome);
  rm_tx_free_report(rep);
  /* The holder still runs with the old file; the rename waits for the
   * next boot, in the registry. */
  read_small(target, buf, sizeof buf);
  ASSERT_STR_EQ("old", buf);
  ASSERT_EQ(1, pending_for(target));
  ASSERT_EQ(1, temporaries(dir));          /* the staged file: its source */
  {
    WIN32_FIND_DATAA fd;
    char pattern[700];
    HANDLE f;
    snprintf(pattern, sizeof pattern, "%s\\.held.dll.rmtx-*", dir);
    f = FindFirstFileA(pattern, &fd);
    ASSERT(f != INVALID_HANDLE_VALUE);
    FindClose(f);
    snprintf(staged, sizeof staged, "%s\\%s", dir, fd.cFileName);
    ASSERT_EQ(1, pending_for(staged));
  }
  clear_pending(target);
  ASSERT_EQ(0, pending_for(target));
  DeleteFileA(staged);
  ASSERT_OK(rm_tx_end(tx));
  ASSERT_OK(rm_end_session(h));
  rmt_kill(&app);
}

/* The child installer: masks the holder, stages t1 (held) and t2,
 * replaces t2 by another file (so its swap finds it changed since staging
 * and fails), and commits with allow_reboot; the
 * RESTARTMGR_TX_KILL_AT hook kills it as the rollback starts, after t1
 * was scheduled for the next boot. */
static int child_abandon(const char *t1, const char *t2, const char *src,
                         const char *pid) {
  uint32_t h;
  char key[33];
  rm_unique_process id;
  rm_tx *tx;
  if (rm_get_process_identity((uint32_t)atol(pid), &id) != RM_OK ||
      rm_start_session(&h, 0, key) != RM_OK ||
      rm_add_filter(h, NULL, &id, NULL, RM_NO_SHUTDOWN) != RM_OK ||
      rm_tx_begin(h, 0, &tx) != RM_OK ||
      rm_tx_replace(tx, t1, src, 0) != RM_OK ||
      rm_tx_replace(tx, t2, src, 0) != RM_OK)
    return 10;
  {
    char moved[700];
    snprintf(moved, sizeof moved, "%s.moved", t2);
    if (!MoveFileA(t2, moved) || rmt_write_file(t2, "old") != 0 ||
        !DeleteFileA(moved))
      return 12;
  }
  (void)rm_tx_commit(tx, RM_TX_ALLOW_REBOOT, 5000, NULL, NULL, NULL);
  return 11;                        /* not reached: killed before */
}

static void recovery_clears_an_abandoned_pending_rename(void) {
  static char t1[600], t2[600];
  char source[600], pid[32], buf[64];
  const char *dir = rmt_tempdir();
  rmt_child app, inst;
  rm_unique_process id;
  rm_tx_recovered *rec = NULL;
  unsigned n = 0;
  rmt_fresh_store();
  snprintf(t1, sizeof t1, "%s\\held.dll", dir);
  snprintf(t2, sizeof t2, "%s\\other.dll", dir);
  snprintf(source, sizeof source, "%s\\new.dll", rmt_tempdir());
  ASSERT_EQ(0, rmt_write_file(t1, "old"));
  ASSERT_EQ(0, rmt_write_file(t2, "old"));
  ASSERT_EQ(0, rmt_write_file(source, "new"));
  rmt_at_cleanup(clear_pending, t1);
  start_holder(&app, t1, &id);
  snprintf(pid, sizeof pid, "%lu", (unsigned long)id.pid);
  /* Journal writes: 1 begin, 2-5 the two stagings, 6 stopping, 7
   * swapping, 8 t1 due at the next boot, 9 the rollback. */
  rmt_setenv("RMT_TX_SOURCE", source);
  rmt_setenv("RMT_TX_PID", pid);
  rmt_setenv("RESTARTMGR_TX_KILL_AT", "9");
  ASSERT_EQ(0, rmt_spawn_self(&inst, "abandon", t1, t2));
  rmt_setenv("RESTARTMGR_TX_KILL_AT", "");
  ASSERT_EQ(9, rmt_wait(&inst, 60000));    /* TerminateProcess(…, 9) */
  ASSERT_EQ(1, pending_for(t1));

  ASSERT_OK(rm_tx_recover(&rec, &n));
  ASSERT_EQ(1, n);
  ASSERT_EQ(RM_TX_RECOVERED_ROLLED_BACK, rec[0].decision);
  ASSERT(rec[0].n_reboot_cleared >= 1);
  rm_tx_free_recovered(rec, n);
  ASSERT_EQ(0, pending_for(t1));
  read_small(t1, buf, sizeof buf);
  ASSERT_STR_EQ("old", buf);
  read_small(t2, buf, sizeof buf);
  ASSERT_STR_EQ("old", buf);
  ASSERT_EQ(0, temporaries(dir));
  rmt_kill(&app);
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) {
    /* abandon T1 T2, with the source and the holder's pid from the
     * environment the parent set */
    const char *src = getenv("RMT_TX_SOURCE"), *pid = getenv("RMT_TX_PID");
    if (strcmp(rmt_child_args[0], "abandon") == 0 && src && pid)
      return child_abandon(rmt_child_args[1], rmt_child_args[2], src, pid);
    return 2;
  }
  RUN(busy_target_is_scheduled_for_reboot);
  RUN(recovery_clears_an_abandoned_pending_rename);
  return rmt_finish();
}
