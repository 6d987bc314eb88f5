/* SPDX-License-Identifier: MIT */
/*
 * svc_systemd_show.c: `systemctl show`, for one unit or for many at once.
 *
 * Only the properties the backend needs are asked for (LoadState,
 * ActiveState, MainPID, ControlGroup, RefuseManualStop), as key=value
 * lines, one block per unit in the order asked, blocks separated by an
 * empty line.  Names go after "--" and glob characters are refused, so
 * systemctl never takes a name for an option or a pattern.
 */
#define _GNU_SOURCE
#include "svc_systemd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_PER_UNIT 1400u      /* bytes of `systemctl show` output per unit */

/* "foo" → "foo.service"; a name with ".service" stays.  Glob characters
 * are refused: systemctl would match them against every unit. */
int rm__sd_unit_of(const char *name, char *unit, size_t cap) {
  size_t n = strlen(name);
  if (strpbrk(name, "*?[") || name[0] == '-') return -1;
  if (n >= 8 && strcmp(name + n - 8, ".service") == 0)
    return (size_t)snprintf(unit, cap, "%s", name) < cap ? 0 : -1;
  return (size_t)snprintf(unit, cap, "%s.service", name) < cap ? 0 : -1;
}


char *rm__sd_scope_flag(int user) {
  return (char *)(uintptr_t)(user ? "--user" : "--system");
}

/* Parses the key=value lines of one unit's block into u. */
static void parse_props(char *text, rm__unit_props *u) {
  char *line, *save = NULL;
  memset(u, 0, sizeof *u);
  for (line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "LoadState=", 10) == 0)
      snprintf(u->load, sizeof u->load, "%s", line + 10);
    else if (strncmp(line, "ActiveState=", 12) == 0)
      snprintf(u->active, sizeof u->active, "%s", line + 12);
    else if (strncmp(line, "MainPID=", 8) == 0)
      u->main_pid = (uint32_t)strtoul(line + 8, NULL, 10);
    else if (strncmp(line, "ControlGroup=", 13) == 0)
      snprintf(u->cgroup, sizeof u->cgroup, "%s", line + 13);
    else if (strncmp(line, "RefuseManualStop=", 17) == 0)
      u->refuse_stop = strcmp(line + 17, "yes") == 0;
  }
}

int rm__sd_show_many(int user, const char *const *names, size_t n,
                     rm__unit_props *u) {
  char prog[RM_PATH_MAX], *out = NULL, **argv = NULL, (*units)[RM_SD_UNIT_MAX];
  size_t i, cap = (n + 1) * SHOW_PER_UNIT, got = 0;
  char *block;
  int rc = -1;
  if (n == 0) return 0;
  units = malloc(n * sizeof *units);
  argv = malloc((n + 8) * sizeof *argv);
  out = malloc(cap);
  if (!units || !argv || !out ||
      rm__linux_find_program("systemctl", prog, sizeof prog) != 0)
    goto end;
  argv[0] = prog;
  argv[1] = rm__sd_scope_flag(user);
  argv[2] = (char *)(uintptr_t)"show";
  argv[3] = (char *)(uintptr_t)"--property=LoadState,ActiveState,MainPID";
  argv[4] = (char *)(uintptr_t)"--property=ControlGroup,RefuseManualStop";
  argv[5] = (char *)(uintptr_t)"--";
  for (i = 0; i < n; i++) {
    if (rm__sd_unit_of(names[i], units[i], sizeof units[i]) != 0) goto end;
    argv[6 + i] = units[i];
  }
  argv[6 + n] = NULL;
  if (rm__linux_run(NULL, argv, out, cap, RM_SD_CTL_TIMEOUT_MS) != 0) goto end;
  /* One block per unit, in the order asked, separated by an empty line. */
  block = out;
  for (i = 0; i < n && *block; i++) {
    char *sep = strstr(block, "\n\n");
    if (sep) *sep = 0;
    parse_props(block, &u[i]);
    if (!u[i].load[0]) goto end;
    got++;
    block = sep ? sep + 2 : block + strlen(block);
  }
  rc = got == n ? 0 : -1;
end:
  free(units);
  free(argv);
  free(out);
  return rc;
}

int rm__sd_show(int user, const char *name, rm__unit_props *u) {
  return rm__sd_show_many(user, &name, 1, u);
}
