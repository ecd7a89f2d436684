# package.cmake - `cpack -G DEB` (SPEC §10): a Debian package of what
# install.cmake installs, with the library dependencies computed by
# dpkg-shlibdeps and the maintainer scripts of config/debian/. Configure
# with -DCMAKE_INSTALL_PREFIX=/usr (so the configuration lands in /etc).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chatdesk)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "chatdesk <dev@chatdesk.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "helpdesk chat component for XMPP servers (XEP-0114)")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# systemd-sysusers, systemd-tmpfiles and deb-systemd-helper for postinst
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, init-system-helpers")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prosody | ejabberd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/config/debian/postinst
    ${CMAKE_SOURCE_DIR}/config/debian/prerm
    ${CMAKE_SOURCE_DIR}/config/debian/postrm
    ${CMAKE_SOURCE_DIR}/config/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
