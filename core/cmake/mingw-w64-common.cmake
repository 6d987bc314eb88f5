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
