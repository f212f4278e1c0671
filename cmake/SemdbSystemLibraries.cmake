# Imported targets for Debian libraries that ship no CMake package.
# Each becomes semdb_sys::<name>; the same file is installed with the
# package so that find_package(semdb) recreates them.

function(semdb_system_library name header library)
  if(TARGET semdb_sys::${name})
    return()
  endif()
  find_path(${name}_INCLUDE_DIR ${header} PATH_SUFFIXES ${ARGN})
  find_library(${name}_LIBRARY ${library})
  if(NOT ${name}_INCLUDE_DIR OR NOT ${name}_LIBRARY)
    message(FATAL_ERROR "semdb needs ${library} (${header}); run scripts/setup.sh")
  endif()
  add_library(semdb_sys::${name} UNKNOWN IMPORTED)
  set_target_properties(semdb_sys::${name} PROPERTIES
    IMPORTED_LOCATION "${${name}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${${name}_INCLUDE_DIR}")
endfunction()

semdb_system_library(openblas cblas.h openblas x86_64-linux-gnu/openblas-pthread)
semdb_system_library(lapacke lapacke.h lapacke)
semdb_system_library(utf8proc utf8proc.h utf8proc)
semdb_system_library(stemmer libstemmer.h stemmer)
semdb_system_library(edit editline/readline.h edit)
semdb_system_library(fasttext fasttext/fasttext.h fasttext)
semdb_system_library(zip zip.h zip)
semdb_system_library(dnnl oneapi/dnnl/dnnl.hpp dnnl)
