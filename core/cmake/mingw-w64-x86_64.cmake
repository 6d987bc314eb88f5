# SPDX-License-Identifier: MIT
# mingw-w64-x86_64.cmake: cross-compiles restartmgr for 64-bit Windows with
# Debian's mingw-w64 (x86_64-w64-mingw32, win32 thread model) and runs the
# cross-built tests under Wine.
#
#   cmake --workflow --preset mingw64
#
# Compilers, sysroot and static libgcc: mingw-w64-common.cmake.  When
# Wine is installed, ctest runs each test through core/cmake/wine-run.sh
# with a private prefix in the build tree (WINEDEBUG=-all, no display
# needed).

set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(RM_MINGW_TRIPLE x86_64-w64-mingw32)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)

# The Wine emulator, for the real project only (try_compile projects read
# this file too, from another binary directory).
get_property(_rm_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT _rm_in_try_compile)
  find_program(RM_WINE NAMES wine64 wine
    PATHS /usr/lib/wine /usr/lib64/wine /opt/wine-stable/bin
    NO_CMAKE_FIND_ROOT_PATH)
  # The 32-bit loader (wine32:i386), for the test that starts 32-bit apps
  # from a 64-bit installer (the wow64 part of wine.rstrtmgr).
  rm_find_wine_loader(RM_WINE32 wine)
  if(RM_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR
      "/bin/sh;${CMAKE_CURRENT_LIST_DIR}/wine-run.sh;${CMAKE_BINARY_DIR}/wineprefix;${RM_WINE}")
  else()
    message(WARNING "Wine not found: the Windows tests are built but cannot run here")
  endif()
endif()
