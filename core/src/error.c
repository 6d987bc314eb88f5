/* SPDX-License-Identifier: MIT */
/*
 * error.c: the names and sentences of the codes, from one table.
 */
#include "internal.h"

#define RM_CODE_MAP(XX)                                                       \
  XX(0, "ERROR_SUCCESS", "The operation completed successfully.")            \
  XX(2, "ERROR_FILE_NOT_FOUND", "No such filter or process exists.")         \
  XX(5, "ERROR_ACCESS_DENIED",                                               \
     "Access is denied: a registered path is a directory, or the process "   \
     "cannot be inspected.")                                                 \
  XX(6, "ERROR_INVALID_HANDLE",                                              \
     "No session exists for this handle in this process.")                   \
  XX(14, "ERROR_OUTOFMEMORY", "Not enough memory to complete the operation.")\
  XX(29, "ERROR_WRITE_FAULT",                                                \
     "The session store could not be read or written, or is not safe to "    \
     "use.")                                                                 \
  XX(121, "ERROR_SEM_TIMEOUT",                                               \
     "The session store lock was not obtained in time.")                     \
  XX(160, "ERROR_BAD_ARGUMENTS", "One or more arguments are not valid.")     \
  XX(234, "ERROR_MORE_DATA",                                                 \
     "The buffer is too small; the needed size was returned.")               \
  XX(350, "ERROR_FAIL_NOACTION_REBOOT",                                      \
     "Nothing was shut down because a system restart is required.")          \
  XX(351, "ERROR_FAIL_SHUTDOWN",                                             \
     "Some applications could not be shut down.")                            \
  XX(352, "ERROR_FAIL_RESTART",                                              \
     "One or more applications could not be restarted.")                     \
  XX(353, "ERROR_MAX_SESSIONS_REACHED",                                      \
     "The maximum number of sessions for this user has been reached.")       \
  XX(776, "ERROR_REQUEST_OUT_OF_SEQUENCE",                                   \
     "The request is out of sequence: restart before shutdown, or another "  \
     "shutdown or restart is running.")                                      \
  XX(1219, "ERROR_SESSION_CREDENTIAL_CONFLICT",                              \
     "The session key is not valid, the session has ended, or the caller "   \
     "is not the session's primary installer.")                              \
  XX(1223, "ERROR_CANCELLED", "The operation was cancelled.")                \
  XX(3010, "ERROR_SUCCESS_REBOOT_REQUIRED",                                  \
     "The new files are in place; something keeps using an old one until "   \
     "the next boot.")

const char *rm_error_name(uint32_t code) {
  switch (code) {
#define XX(num, name, text) case num: return name;
    RM_CODE_MAP(XX)
#undef XX
  default: return "ERROR_UNKNOWN";
  }
}

const char *rm_strerror(uint32_t code) {
  switch (code) {
#define XX(num, name, text) case num: return text;
    RM_CODE_MAP(XX)
#undef XX
  default: return "Unknown error code.";
  }
}

const char *rm_version(void) { return RM_VERSION_STRING; }
