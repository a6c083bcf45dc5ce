# Install layout beyond the binary and the plugins (installed by their own CMakeLists), and
# the Debian package (CPack DEB). Included at the end of the top-level CMakeLists.txt.
#
#   /usr/bin/ferry                        daemon/CMakeLists.txt
#   /usr/lib/ferry/plugins/*.so           plugins/CMakeLists.txt
#   /etc/ferry/ferry.yaml                 config/ec2-host.yaml (a conffile in the .deb)
#   /etc/default/ferry                    environment for the unit (conffile)
#   /usr/lib/systemd/system/ferry.service packaging/systemd/ferry.service
#   /usr/share/doc/ferry/                 README.md, copyright, changelog.gz, examples/*.yaml
#   /usr/share/lintian/overrides/ferry    what lintian reports that is so on purpose
#
# /etc follows GNUInstallDirs' rule: prefix /usr installs to /etc, any other prefix to
# <prefix>/etc, so `cmake --install build --prefix /tmp/stage` never writes outside the
# staging dir, and `DESTDIR=/stage cmake --install build --prefix /usr` (the Dockerfile, the
# .deb) yields the real layout.

set(FERRY_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR}/../packaging)
get_filename_component(FERRY_PACKAGING_DIR ${FERRY_PACKAGING_DIR} ABSOLUTE)

install(FILES ${FERRY_PACKAGING_DIR}/systemd/ferry.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Debian's machine-readable copyright, which points at /usr/share/common-licenses/Apache-2.0
# (LICENSE's full text there is what lintian refuses), and the changelog every Debian package
# carries, compressed as policy wants (gzip -9n: no name or time stamp, so reproducible).
install(FILES ${FERRY_PACKAGING_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
configure_file(${FERRY_PACKAGING_DIR}/debian/changelog.in ${CMAKE_BINARY_DIR}/packaging/changelog @ONLY)
execute_process(COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/packaging/changelog COMMAND_ERROR_IS_FATAL ANY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${FERRY_PACKAGING_DIR}/debian/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME ferry)
file(GLOB FERRY_EXAMPLE_CONFIGS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/config/*.yaml)
install(FILES ${FERRY_EXAMPLE_CONFIGS} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The prefix is only known at install time (cmake --install --prefix, CPack), so /etc is
# chosen then. file(INSTALL) adds $DESTDIR itself and records the files in the manifest.
install(CODE "set(FERRY_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
set(FERRY_PACKAGING_DIR \"${FERRY_PACKAGING_DIR}\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(ferry_etc "/etc")
  else()
    set(ferry_etc "${CMAKE_INSTALL_PREFIX}/etc")
  endif()
  file(INSTALL DESTINATION "${ferry_etc}/ferry" TYPE FILE RENAME ferry.yaml
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${FERRY_SOURCE_DIR}/config/ec2-host.yaml")
  file(INSTALL DESTINATION "${ferry_etc}/default" TYPE FILE RENAME ferry
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
       FILES "${FERRY_PACKAGING_DIR}/debian/ferry.default")
]])

# --- Debian package: `cpack -G DEB` in the build dir -------------------------------------
# cpack (like `ninja install`) would first build every target, tests included; packaging
# takes what is built, so the package test stays fast. Build before packaging.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "ferry")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "log shipping daemon (Fluent forward, tail; Datadog, Firehose, S3)")
# Lines of at most 80 columns (Debian policy 5.6.13; lintian checks it).
set(CPACK_PACKAGE_DESCRIPTION
    "ferry receives logs over the Fluent forward protocol or tails files, and ships\nthem to Datadog, Amazon Kinesis Data Firehose and Amazon S3 with at-least-once\ndelivery, bounded memory and an optional disk buffer. A drop-in replacement for\nFluent Bit as an ECS FireLens sidecar and as a host log shipper.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr) # the prefix CPack installs with when CPACK_SET_DESTDIR is on
# Install with DESTDIR and prefix /usr, so the /etc rule above sees the real prefix.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "ferry maintainers <ferry@example.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/ferry")
# Shared-library dependencies come from dpkg-shlibdeps (package dpkg-dev) when it is there;
# otherwise from this list, which matches Debian 12 (bookworm).
find_program(FERRY_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(FERRY_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # libcurl is dlopened on first use (lib/net/curl_loader.cc), so shlibdeps cannot see it.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates, passwd, libcurl4")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "ca-certificates, passwd, libc6, libstdc++6, libgcc-s1, libcurl4, libssl3, zlib1g, libzstd1, libdeflate0, libyaml-cpp0.7, libfmt9, libre2-9, libpcre2-8-0")
endif()
# Maintainer scripts and the conffile list (dpkg keeps a user's edits of these on upgrade).
set(FERRY_DEB_CONTROL_DIR ${CMAKE_BINARY_DIR}/packaging/debian)
file(MAKE_DIRECTORY ${FERRY_DEB_CONTROL_DIR})
file(WRITE ${FERRY_DEB_CONTROL_DIR}/conffiles "/etc/ferry/ferry.yaml\n/etc/default/ferry\n")
foreach(script postinst prerm postrm)
  configure_file(${FERRY_PACKAGING_DIR}/debian/${script} ${FERRY_DEB_CONTROL_DIR}/${script} COPYONLY)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${FERRY_DEB_CONTROL_DIR}/conffiles ${FERRY_DEB_CONTROL_DIR}/postinst
    ${FERRY_DEB_CONTROL_DIR}/prerm ${FERRY_DEB_CONTROL_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
