# Layering, enforced by include paths. A library's consumers see include/
# (the public API) and nothing else; its own folder is private to it and to
# the libraries built on it that ask for it by name.
#
# semdb_internal_headers(<folder> [DEPENDS <folder>...]) makes the INTERFACE
# target semdb_<folder>_headers: an include root that holds only <folder>/
# (a symbolic link to the sources, under the build tree), so that
# "<folder>/x.h" resolves and "<other folder>/y.h" does not. DEPENDS names the
# folders that <folder>'s headers themselves include.
#
# Link these targets wrapped in $<BUILD_INTERFACE:...>: they exist only in the
# build tree, never in the installed package.
function(semdb_internal_headers folder)
  cmake_parse_arguments(H "" "" "DEPENDS" ${ARGN})
  set(root "${PROJECT_BINARY_DIR}/include_roots/${folder}")
  file(MAKE_DIRECTORY "${root}")
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/${folder}" "${root}/${folder}" SYMBOLIC)
  add_library(semdb_${folder}_headers INTERFACE)
  target_include_directories(semdb_${folder}_headers INTERFACE "${root}")
  foreach(d IN LISTS H_DEPENDS)
    target_link_libraries(semdb_${folder}_headers INTERFACE semdb_${d}_headers)
  endforeach()
endfunction()

# The public include root of every installed library: include/ only.
function(semdb_public_headers target)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endfunction()
