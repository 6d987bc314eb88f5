# mingw-w64-x86_64.cmake: cross-compiles restartmgr for 64-bit Windows with
# Debian's mingw-w64 (x86_64-w64-mingw32, win32 thread model) and runs the
# cross-built tests under Wine.
#
#   cmake --workflow --preset mingw64
#
# Programs come from the host; libraries and headers only from the mingw
# sysroot (and the Lua built by core/cmake/lua-windows.cmake).  Every
# binary links libgcc statically, so nothing but Windows' own DLLs (and
# lua54.dll for Lua) is needed at run time.  When Wine is installed, ctest
# runs each test through core/cmake/wine-run.sh with a private prefix in
# the build tree (WINEDEBUG=-all, no display needed).

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(RM_MINGW_TRIPLE x86_64-w64-mingw32)

set(CMAKE_C_COMPILER ${RM_MINGW_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${RM_MINGW_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${RM_MINGW_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${RM_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc")

# Lua 5.4 for Windows (lua54.dll, lua.exe) is built right after the
# project() call of restartmgr, before lua/ asks for LUA_LIBRARIES.
set(CMAKE_PROJECT_restartmgr_INCLUDE ${CMAKE_CURRENT_LIST_DIR}/lua-windows.cmake)

# The Wine emulator, for the real project only (try_compile projects read
# this file too, from another binary directory).
get_property(_rm_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT _rm_in_try_compile)
  find_program(RM_WINE NAMES wine64 wine
    PATHS /usr/lib/wine /usr/lib64/wine /opt/wine-stable/bin
    NO_CMAKE_FIND_ROOT_PATH)
  if(RM_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR
      "/bin/sh;${CMAKE_CURRENT_LIST_DIR}/wine-run.sh;${CMAKE_BINARY_DIR}/wineprefix;${RM_WINE}")
  else()
    message(WARNING "Wine not found: the Windows tests are built but cannot run here")
  endif()
endif()
