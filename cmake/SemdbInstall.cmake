# Install rules and the exported CMake package: after `cmake --install`,
# another project can find_package(semdb) and link semdb::semdb.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/semdb DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS semdb_text semdb_checksum semdb_storage semdb_index semdb_embedders semdb
        EXPORT semdbTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS semdb_shell RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The shared library and its pkg-config file, for builds without CMake.
install(TARGETS semdb_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
configure_file(cmake/semdb.pc.in ${CMAKE_CURRENT_BINARY_DIR}/semdb.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/semdb.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(EXPORT semdbTargets NAMESPACE semdb::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/semdb)
configure_package_config_file(cmake/semdbConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/semdbConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/semdb)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/semdbConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/semdbConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/semdbConfigVersion.cmake
              cmake/SemdbSystemLibraries.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/semdb)
