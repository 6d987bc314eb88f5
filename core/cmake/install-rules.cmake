# SPDX-License-Identifier: MIT
# Install rules for the C library (included by core/CMakeLists.txt when
# RM_INSTALL is on):
#
#   lib/librestartmgr.so.0.1.0, .so.0 (SONAME), .so; lib/librestartmgr.a
#   include/restartmgr.h
#   lib/pkgconfig/restartmgr.pc                   pkg-config restartmgr
#   lib/cmake/restartmgr/restartmgr-config.cmake  find_package(restartmgr CONFIG)
#
# lib is ${CMAKE_INSTALL_LIBDIR} (lib/<multiarch> for /usr on Debian).
# Components: "runtime" (the shared library) and "development" (the rest).
# The Lua module and the command are installed by lua/CMakeLists.txt.
if(RM_INSTALL_LUA_ONLY)
  return()
endif()

include(CMakePackageConfigHelpers)

set(RM_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/restartmgr" CACHE PATH
  "Where the CMake package (restartmgr-config.cmake) is installed")
set(RM_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig" CACHE PATH
  "Where restartmgr.pc is installed")

install(TARGETS restartmgr restartmgr_static EXPORT restartmgr-targets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
          NAMELINK_COMPONENT development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
install(FILES include/restartmgr.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)

# {===== CMake package: relocatable (every path is computed from where
# restartmgr-config.cmake was found), with a version file.  Versions are
# compatible while the major version is the same, as the SONAME is.

install(EXPORT restartmgr-targets NAMESPACE restartmgr::
  FILE restartmgr-targets.cmake
  DESTINATION ${RM_INSTALL_CMAKEDIR} COMPONENT development)
configure_package_config_file(cmake/restartmgr-config.cmake.in
  ${PROJECT_BINARY_DIR}/restartmgr-config.cmake
  INSTALL_DESTINATION ${RM_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/restartmgr-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/restartmgr-config.cmake
              ${PROJECT_BINARY_DIR}/restartmgr-config-version.cmake
  DESTINATION ${RM_INSTALL_CMAKEDIR} COMPONENT development)

# }=====
# {===== pkg-config file
#
# Written at install time, so that prefix= is the prefix actually
# installed to (`cmake --install --prefix DIR` included) and stays a plain
# path (/usr for the Debian package, which pkg-config then filters out)
# rather than one computed from ${pcfiledir}.

if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(RM_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(RM_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(RM_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(RM_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(RM_PC_PREFIX "@RM_PC_PREFIX@")     # filled in at install time
if(WIN32)
  set(RM_PC_LIBS_PRIVATE "-lbcrypt -ladvapi32 -lpsapi -luser32 -lshell32")
else()
  set(RM_PC_LIBS_PRIVATE "-pthread")
endif()
configure_file(cmake/restartmgr.pc.in ${PROJECT_BINARY_DIR}/restartmgr.pc.in @ONLY)
install(CODE "
  set(RM_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/restartmgr.pc.in\"
                 \"${PROJECT_BINARY_DIR}/restartmgr.pc\" @ONLY)"
  COMPONENT development)
install(FILES ${PROJECT_BINARY_DIR}/restartmgr.pc
  DESTINATION ${RM_INSTALL_PKGCONFIGDIR} COMPONENT development)

# }=====
