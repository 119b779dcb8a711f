# The installed package: `cmake --install BUILD [--prefix P]` puts dkv's
# libraries in P/lib, its headers in P/include/dkv (with their source-tree
# paths: #include "actors/raft/raft_node.hpp") and a CMake package in
# P/lib/cmake/dkv, so that an outside project says
#
#   find_package(dkv 0.1 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE dkv::sim_cluster)
#
# The imported targets keep the names the build uses (dkv::store,
# dkv::actors, dkv::sim, dkv::check, dkv::net_peer, …); their dependencies are found again
# by the package config (find_dependency), with the find modules for CAF and
# xxHash installed next to it (Debian ships no CMake config for them). The
# package holds no absolute path of this build: the prefix can move.
#
# Included from the top-level CMakeLists.txt after every library is defined.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The libraries of the package, as `dkv_<name>` targets exported as `dkv::<name>`.
set(dkv_package_libraries store actors sim sim_disk check history_recorder report sim_cluster sim_run net_peer)
set(dkv_install_includedir "${CMAKE_INSTALL_INCLUDEDIR}/dkv")
set(dkv_install_cmakedir "${CMAKE_INSTALL_LIBDIR}/cmake/dkv")

foreach(name IN LISTS dkv_package_libraries)
  set(target dkv_${name})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  # The libraries name the source tree as their include directory; in the
  # package that is include/dkv instead (install(TARGETS … INCLUDES) below).
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  set(wrapped "")
  foreach(dir IN LISTS dirs)
    string(FIND "${dir}" "${PROJECT_SOURCE_DIR}" in_source)
    string(FIND "${dir}" "${PROJECT_BINARY_DIR}" in_binary)
    if(in_source EQUAL 0 OR in_binary EQUAL 0)
      list(APPEND wrapped "$<BUILD_INTERFACE:${dir}>")
    else()
      list(APPEND wrapped "${dir}")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${wrapped}")
endforeach()

# The headers use C++20: a consumer compiles them as C++20 whatever its own default.
set_property(TARGET dkv_store APPEND PROPERTY INTERFACE_COMPILE_FEATURES cxx_std_20)
# A sanitizer build's libraries need the sanitizers' runtimes at link time.
# (jemalloc is not part of the package: only dkv's own programs link it.)
if(DKV_SANITIZE)
  set_property(TARGET dkv_store APPEND PROPERTY INTERFACE_LINK_OPTIONS "$<INSTALL_INTERFACE:-fsanitize=address,undefined>")
endif()

list(TRANSFORM dkv_package_libraries PREPEND dkv_ OUTPUT_VARIABLE dkv_package_targets)
install(TARGETS ${dkv_package_targets}
  EXPORT dkvTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${dkv_install_includedir})

# Every header of the layers the libraries are built from, at its source-tree
# path — but those of sim/scenario and sim/shrink (dkv-sim's scenario files
# and shrinker, with a TOML dependency), whose libraries are not in the
# package yet.
foreach(layer store check actors sim)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/${layer}" DESTINATION ${dkv_install_includedir}
    FILES_MATCHING PATTERN "*.hpp"
    PATTERN "sim/scenario" EXCLUDE
    PATTERN "sim/shrink" EXCLUDE)
endforeach()

# Of net/, only the peer network is in the package (dkv::net_peer, the TCP
# transport between a cluster's processes); the protocol, the server and the
# network client stay out until their libraries are installed too.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/net/peer" DESTINATION "${dkv_install_includedir}/net"
  FILES_MATCHING PATTERN "*.hpp")

install(EXPORT dkvTargets NAMESPACE dkv:: DESTINATION ${dkv_install_cmakedir})

# The config: the dependencies through find_dependency (with dkv's own find
# modules for the two without a CMake config), then the targets.
file(WRITE "${PROJECT_BINARY_DIR}/package/dkvConfig.cmake" [=[
# dkv's CMake package (written by dkv's cmake/install.cmake).
# Imported targets: dkv::store, dkv::actors, dkv::sim, dkv::sim_disk,
# dkv::check, dkv::history_recorder, dkv::report, dkv::sim_cluster, dkv::sim_run,
# dkv::net_peer.
# Public entry points: actors/actors.hpp, sim/sim.hpp, check/check.hpp,
# net/peer/peer_network.hpp.
include(CMakeFindDependencyMacro)
set(_dkv_module_path "${CMAKE_MODULE_PATH}")
list(PREPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
find_dependency(Threads)
find_dependency(xxHash)
find_dependency(CAF)
find_dependency(nlohmann_json 3)
find_dependency(fmt)
# dkv::net_peer's Boost.Asio (headers only); Boost 1.70 and later ship BoostConfig.cmake.
find_dependency(Boost 1.74)
set(CMAKE_MODULE_PATH "${_dkv_module_path}")
unset(_dkv_module_path)
include("${CMAKE_CURRENT_LIST_DIR}/dkvTargets.cmake")
]=])
write_basic_package_version_file("${PROJECT_BINARY_DIR}/package/dkvConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  # Before 1.0 a minor version may break the API: 0.1.x only satisfies 0.1.
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/package/dkvConfig.cmake"
  "${PROJECT_BINARY_DIR}/package/dkvConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindxxHash.cmake"
  DESTINATION ${dkv_install_cmakedir})
