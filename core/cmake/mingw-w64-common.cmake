# SPDX-License-Identifier: MIT
# mingw-w64-common.cmake: what the two mingw-w64 toolchain files share,
# included by each after it set CMAKE_SYSTEM_PROCESSOR and RM_MINGW_TRIPLE.
#
# Programs come from the host; libraries and headers only from the mingw
# sysroot (and the Lua built by core/cmake/lua-windows.cmake).  Every
# binary links libgcc statically, so nothing but Windows' own DLLs (and
# lua54.dll for Lua) is needed at run time.

set(CMAKE_SYSTEM_NAME Windows)

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

# rm_find_wine_loader(VAR NAME): one of Debian's Wine loaders, which live in
# /usr/lib/wine: "wine64" (package wine64) starts 64-bit programs, "wine"
# (wine32:i386, i386 multiarch) 32-bit ones; in a 64-bit prefix (WOW64,
# as Wine 8.0 creates one when wine64 is there) each hands programs of the
# other width to the other.  A loader counts only when it runs:
# `wine --version` loads the loader's ntdll, so an i386 loader whose i386
# libraries are missing or broken is not taken.  VAR is the loader's path,
# or empty.
macro(rm_find_wine_loader var name)
  find_program(${var} NAMES ${name} PATHS /usr/lib/wine NO_DEFAULT_PATH
    NO_CMAKE_FIND_ROOT_PATH)
  if(${var})
    execute_process(COMMAND ${${var}} --version RESULT_VARIABLE _rm_wine_rc
      OUTPUT_QUIET ERROR_QUIET TIMEOUT 120)
    if(NOT _rm_wine_rc EQUAL 0)
      message(STATUS "${${var}} is there but does not run: not used")
      set(${var} "")
    endif()
  endif()
endmacro()
