# SPDX-License-Identifier: MIT
# lua-windows.cmake: Lua 5.4 for Windows, built with the cross compiler
# from Debian's lua5.4 source package, so that the Lua module links
# against a real lua54.dll and runs under a real lua.exe.
#
# Included right after project(restartmgr) by the mingw-w64 toolchain
# file (CMAKE_PROJECT_restartmgr_INCLUDE), so before lua/ is added.  The
# source comes from core/cmake/fetch-lua-source.sh (run once, as root,
# before configuring: it needs a deb-src entry and the network); the build
# itself is offline.  Produces, in
# ${CMAKE_BINARY_DIR}/lua-windows/:
#   lua54.dll, liblua54.dll.a (import library), lua.exe
# and sets what FindLua would: LUA_INCLUDE_DIR, LUA_LIBRARY, LUA_LIBRARIES
# (the lua54 target), LUA_VERSION_STRING, LUA_FOUND, plus RM_LUA_EXE (the
# lua.exe target) and RM_LUA_WINDOWS_DIR.  A later find_package(Lua) keeps
# these cached values.  Nothing is done with -DRM_BUILD_LUA=OFF.

if(DEFINED RM_BUILD_LUA AND NOT RM_BUILD_LUA)
  return()
endif()

set(RM_LUA_SOURCE_CACHE "${PROJECT_SOURCE_DIR}/build/lua5.4-source" CACHE PATH
  "Where fetch-lua-source.sh unpacked Debian's lua5.4 source package")

file(GLOB _rm_lua_src_dirs LIST_DIRECTORIES true "${RM_LUA_SOURCE_CACHE}/lua5.4-*/src")
set(RM_LUA_SRC "")
foreach(_dir IN LISTS _rm_lua_src_dirs)
  if(EXISTS "${_dir}/lua.h" AND EXISTS "${_dir}/lapi.c")
    set(RM_LUA_SRC "${_dir}")
  endif()
endforeach()
if(NOT RM_LUA_SRC)
  message(FATAL_ERROR
    "The Windows build needs Debian's lua5.4 source package, unpacked in\n"
    "  ${RM_LUA_SOURCE_CACHE}\n"
    "Fetch it once (it adds a deb-src entry as root and downloads):\n"
    "  sh ${CMAKE_CURRENT_LIST_DIR}/fetch-lua-source.sh\n"
    "or configure with -DRM_BUILD_LUA=OFF.")
endif()
message(STATUS "Lua for Windows from ${RM_LUA_SRC}")

# The core and the standard libraries (everything but the two programs).
set(_rm_lua_core lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject
  lopcodes lparser lstate lstring ltable ltm lundump lvm lzio
  lauxlib lbaselib lcorolib ldblib liolib lmathlib loadlib loslib lstrlib
  ltablib lutf8lib linit)
list(TRANSFORM _rm_lua_core PREPEND "${RM_LUA_SRC}/")
list(TRANSFORM _rm_lua_core APPEND ".c")

set(RM_LUA_WINDOWS_DIR "${CMAKE_BINARY_DIR}/lua-windows")

# lua54.dll: what Lua's own "mingw" make target builds, plus Debian's
# LUA_COMPAT_5_3, as in Debian's liblua5.4.
add_library(lua54 SHARED ${_rm_lua_core})
target_compile_definitions(lua54 PUBLIC LUA_BUILD_AS_DLL PRIVATE LUA_COMPAT_5_3)
target_include_directories(lua54 PUBLIC "${RM_LUA_SRC}")
target_link_options(lua54 PRIVATE -static-libgcc)
set_target_properties(lua54 PROPERTIES
  PREFIX "" OUTPUT_NAME lua54 IMPORT_PREFIX "lib" IMPORT_SUFFIX ".dll.a"
  C_STANDARD 99 C_EXTENSIONS ON
  RUNTIME_OUTPUT_DIRECTORY "${RM_LUA_WINDOWS_DIR}"
  ARCHIVE_OUTPUT_DIRECTORY "${RM_LUA_WINDOWS_DIR}")

add_executable(rm_lua_exe "${RM_LUA_SRC}/lua.c")
target_link_libraries(rm_lua_exe PRIVATE lua54)
target_compile_definitions(rm_lua_exe PRIVATE LUA_COMPAT_5_3)
target_link_options(rm_lua_exe PRIVATE -static-libgcc)
set_target_properties(rm_lua_exe PROPERTIES OUTPUT_NAME lua
  RUNTIME_OUTPUT_DIRECTORY "${RM_LUA_WINDOWS_DIR}")

# What FindLua sets, so lua/CMakeLists.txt works unchanged.
foreach(_part MAJOR MINOR RELEASE)
  file(STRINGS "${RM_LUA_SRC}/lua.h" _rm_lua_${_part}
    REGEX "^#define LUA_VERSION_${_part}[ \t]+\"[0-9]+\"")
  string(REGEX REPLACE ".*\"([0-9]+)\".*" "\\1" _rm_lua_${_part} "${_rm_lua_${_part}}")
endforeach()
set(LUA_INCLUDE_DIR "${RM_LUA_SRC}" CACHE PATH "Lua 5.4 headers (Windows build)" FORCE)
set(LUA_LIBRARY lua54 CACHE STRING "Lua 5.4 library (Windows build: the lua54 target)" FORCE)
set(LUA_LIBRARIES lua54)
set(LUA_VERSION_STRING "${_rm_lua_MAJOR}.${_rm_lua_MINOR}.${_rm_lua_RELEASE}")
set(LUA_VERSION_MAJOR ${_rm_lua_MAJOR})
set(LUA_VERSION_MINOR ${_rm_lua_MINOR})
set(LUA_FOUND TRUE)
set(RM_LUA_EXE rm_lua_exe)
