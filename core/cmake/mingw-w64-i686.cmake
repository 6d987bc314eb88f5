# SPDX-License-Identifier: MIT
# mingw-w64-i686.cmake: cross-compiles restartmgr for 32-bit Windows with
# Debian's mingw-w64 (i686-w64-mingw32, win32 thread model): most
# installers are 32-bit, and they load the 32-bit rstrtmgr.dll from
# SysWOW64.
#
#   cmake --workflow --preset mingw32
#
# Like mingw-w64-x86_64.cmake, but Wine runs 32-bit programs only with
# Debian's wine32 (i386 multiarch) installed: the 32-bit loader is looked
# for on its own (rm_find_wine_loader, mingw-w64-common.cmake), and
# without it the tests are built but only the host-side one
# (rstrtmgr.exports) runs: the others are registered disabled.

set(CMAKE_SYSTEM_PROCESSOR x86)
set(RM_MINGW_TRIPLE i686-w64-mingw32)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)

get_property(_rm_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT _rm_in_try_compile)
  # Debian's wine32 puts the 32-bit loader at /usr/lib/wine/wine; wine64's
  # loader cannot start 32-bit programs in Wine 8.0.  wine64 beside it
  # makes the test prefix a 64-bit one (WOW64), where the tests also start
  # 64-bit programs (RM_WINE64: the wow64 part of wine.rstrtmgr).
  rm_find_wine_loader(RM_WINE32 wine)
  rm_find_wine_loader(RM_WINE64 wine64)
  if(RM_WINE32)
    set(CMAKE_CROSSCOMPILING_EMULATOR
      "/bin/sh;${CMAKE_CURRENT_LIST_DIR}/wine-run.sh;${CMAKE_BINARY_DIR}/wineprefix;${RM_WINE32}")
  else()
    message(STATUS "32-bit Wine (Debian's wine32:i386) not installed or not "
      "working: the 32-bit programs are built, their C tests registered "
      "disabled, the wine.* tests not registered; only rstrtmgr.exports runs")
  endif()
endif()
