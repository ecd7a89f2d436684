# install.cmake - what `cmake --install` puts where (SPEC §10), with
# GNUInstallDirs. Both programs go to sbin (system administration, man
# section 8); with the prefix /usr the configuration goes to /etc/chatdesk.
include(GNUInstallDirs)

set(CHATDESK_SYSTEMD_UNITDIR lib/systemd/system CACHE STRING
    "systemd system unit directory, relative to the prefix")
set(CHATDESK_SYSUSERSDIR lib/sysusers.d CACHE STRING
    "sysusers.d directory, relative to the prefix")
set(CHATDESK_TMPFILESDIR lib/tmpfiles.d CACHE STRING
    "tmpfiles.d directory, relative to the prefix")
set(CHATDESK_FULL_SBINDIR ${CMAKE_INSTALL_FULL_SBINDIR})
set(CHATDESK_FULL_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/chatdesk)

install(TARGETS chatdesk chatdeskctl RUNTIME
        DESTINATION ${CMAKE_INSTALL_SBINDIR})

configure_file(${CMAKE_SOURCE_DIR}/config/systemd/chatdesk.service.in
               ${CMAKE_BINARY_DIR}/systemd/chatdesk.service @ONLY)
configure_file(${CMAKE_SOURCE_DIR}/config/systemd/chatdesk.tmpfiles.in
               ${CMAKE_BINARY_DIR}/systemd/chatdesk.tmpfiles @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/systemd/chatdesk.service
        DESTINATION ${CHATDESK_SYSTEMD_UNITDIR})
install(FILES ${CMAKE_SOURCE_DIR}/config/systemd/chatdesk.sysusers
        DESTINATION ${CHATDESK_SYSUSERSDIR} RENAME chatdesk.conf)
install(FILES ${CMAKE_BINARY_DIR}/systemd/chatdesk.tmpfiles
        DESTINATION ${CHATDESK_TMPFILESDIR} RENAME chatdesk.conf)

# The example configuration holds the component secret: 0640, and group
# chatdesk once the user exists (the tmpfiles entry above; the package's
# postinst runs it, install() cannot chgrp).
install(FILES ${CMAKE_SOURCE_DIR}/config/chatdesk.ini.example
        DESTINATION ${CHATDESK_FULL_CONFDIR} RENAME chatdesk.ini
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

install(FILES ${CMAKE_SOURCE_DIR}/docs/man/chatdesk.8
              ${CMAKE_SOURCE_DIR}/docs/man/chatdeskctl.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# The portal page and the one file of strophe.js it loads (npm ci in
# portal/ fetches it; scripts/test does).
set(CHATDESK_PORTAL_DIR ${CMAKE_INSTALL_DATADIR}/chatdesk/portal)
install(FILES portal/index.html portal/app.js portal/xmpp.js
              portal/portal.css
        DESTINATION ${CHATDESK_PORTAL_DIR})
set(CHATDESK_STROPHE portal/node_modules/strophe.js)
if(EXISTS ${CMAKE_SOURCE_DIR}/${CHATDESK_STROPHE}/dist/strophe.esm.js)
    install(FILES ${CHATDESK_STROPHE}/dist/strophe.esm.js
            DESTINATION ${CHATDESK_PORTAL_DIR}/node_modules/strophe.js/dist)
    install(FILES ${CHATDESK_STROPHE}/LICENSE.txt
            DESTINATION ${CHATDESK_PORTAL_DIR}/node_modules/strophe.js)
else()
    message(WARNING "${CHATDESK_STROPHE} is missing: the installed portal "
            "will not work; run `npm ci` in portal/ and configure again")
endif()
