-- Prosody configuration for chatdesk: a template.
--
-- scripts/demo and the end-to-end tests (tests/e2e/harness.py) fill in the
-- placeholders between double at-signs. Everything listens on
-- loopback only. To attach chatdesk to a Prosody you already run, you need
-- only the Component block at the end (and mod_websocket for the portal):
-- see README.md.

-- Run by hand as root inside a test or demo directory.
run_as_root = true
pidfile = "@@DIR@@/prosody.pid"
data_path = "@@DIR@@/data"
certificates = "@@DIR@@/certs"
log = {
    { levels = { min = "@@LOG_LEVEL@@" }, to = "file",
      filename = "@@DIR@@/prosody.log" };
}

interfaces = { "127.0.0.1" }
c2s_ports = { @@C2S_PORT@@ }
component_interfaces = { "127.0.0.1" }
component_ports = { @@COMPONENT_PORT@@ }
http_interfaces = { "127.0.0.1" }
http_ports = { @@HTTP_PORT@@ }
https_ports = { }
s2s_ports = { }

-- Prosody leaves Nagle on by default: single small stanzas then stall for
-- tens of milliseconds. Helpdesk chat is all small stanzas.
network_settings = { nagle = false }

modules_enabled = {
    "roster"; "saslauth"; "disco"; "ping"; "time"; "version";
    "posix"; "websocket"; "http_files";
}
modules_disabled = { "s2s"; "tls" }

-- Loopback tests and the demo run without certificates; a production
-- server keeps its TLS settings and drops these three lines.
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true

cross_domain_websocket = true
authentication = "internal_hashed"
storage = "internal"
-- The portal page (portal/), served by Prosody's own HTTP in the demo.
http_files_dir = "@@PORTAL_DIR@@"
http_paths = { files = "/portal"; websocket = "/xmpp-websocket" }
-- Serve the portal whatever host name the browser used (127.0.0.1 too).
http_default_host = "@@DOMAIN@@"

VirtualHost "@@DOMAIN@@"

-- File sharing (XEP-0363, SPEC §9): the portal's attach button and the
-- techs' clients upload here; the room carries the link (XEP-0066).
-- Files go to data_path/http_file_share and expire after a week. The
-- upload URLs use the HTTP host the portal is served from (same origin:
-- no name to resolve for upload.DOMAIN); a production server names its
-- public https URL with http_file_share_base_url or http_external_url.
Component "upload.@@DOMAIN@@" "http_file_share"
    http_host = "@@DOMAIN@@"
    http_file_share_size_limit = 10 * 1024 * 1024
    http_file_share_daily_quota = 100 * 1024 * 1024
    http_file_share_expires_after = 7 * 86400

-- chatdesk attaches here (XEP-0114).
Component "@@COMPONENT@@"
    component_secret = "@@SECRET@@"
