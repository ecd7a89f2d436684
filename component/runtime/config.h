/* config.h - the INI configuration (SPEC §7, §10), read with libinih.
 *
 * Every unknown section or key, bad value and missing required key is an
 * error line "FILE:LINE: key: what is wrong" (LINE is the key's line; for a
 * missing key the line of its section's header, or 0 when the file has no
 * such section). All of them are reported, not only the first.
 */
#ifndef CHATDESK_CONFIG_H
#define CHATDESK_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_ADMINS 64

struct config {
    char jid[256];    /* [component] jid: the component's domain */
    char secret[256]; /* [component] secret */
    char host[256];   /* [component] host */
    int port;         /* [component] port */
    int reconnect_max; /* [component] reconnect_max: back-off cap, seconds */
    /* [component] connections: 1..64 component connections at start, or
     * 0 for "auto" (probe the server's route slots and fill them, up to
     * connections_max; runtime/slots.h). Default 1. */
    int connections;
    int connections_max; /* [component] connections_max: 1..64, default 8 */
    char multicast[256]; /* [component] multicast: "off" (default),
                            "auto" (a XEP-0033 service the server lists),
                            or the service's domain */
    char db_path[1024]; /* [database] path: the sqlite file */
    char db_url[1024];  /* [database] url: postgresql://... (SPEC §11) */
    char admins[CONFIG_MAX_ADMINS][256]; /* [admins] jids, bare, lowercase */
    size_t n_admins;
    int answer_timeout; /* [chat] seconds */
    int idle_timeout;   /* [chat] seconds */
    /* [chat] away_after, seconds (1..86400): the portal's idle time before
     * away; chatdesk only publishes it (disco#info, docs/protocol.md) */
    int away_after;
    /* [chat] rejoin_grace, seconds (0..600, default 30): a waiting
     * session's contact who leaves or goes Offline has this long to come
     * back into the room (a portal reload) before it is abandoned */
    int rejoin_grace;
    /* [retention] messages_days: room messages of finished sessions older
     * than this many days are purged (0 = kept forever; 0..36500) */
    int retention_days;
    int log_level;      /* [log] level: 0 error, 1 warn, 2 info, 3 debug */
    int limit_rate;     /* [limits] stanzas_per_second per bare JID; 0: off */
    int limit_burst;    /* [limits] burst: stanzas at once before the rate */
    /* [metrics] listen = HOST:PORT (numeric IPv4, or IPv6 in brackets);
     * metrics_port 0: no metrics server */
    char metrics_host[64];
    int metrics_port;
    /* [limits] max_stanza_bytes: no stanza chatdesk sends is larger
     * (16384..4194304); keep it under the server's own limit */
    int max_stanza_bytes;
    char psa_url[1024];     /* [psa] webhook_url: http(s) URL, "" = none */
    char psa_secret[256];   /* [psa] webhook_secret: needed with a URL */
    int psa_timeout;        /* [psa] timeout: seconds per request */
    int psa_retry_max;      /* [psa] retry_max: longest back-off, seconds */
    char psa_ca_file[1024]; /* [psa] ca_file: a CA added to the system's */
};

#define CONFIG_MAX_STANZA_BYTES 262144 /* [limits] max_stanza_bytes default */

/* The one rule for the chat timeouts (answer_timeout, idle_timeout) in
 * every place that sets them: this file's [chat] keys, the admin
 * `settings` command and `chatdeskctl set` (domain/settings): a whole
 * number of seconds in decimal digits, from CONFIG_TIMEOUT_MIN to
 * CONFIG_TIMEOUT_MAX. */
#define CONFIG_TIMEOUT_MIN 1
#define CONFIG_TIMEOUT_MAX 604800 /* one week */

/* value (as given: no blanks, no sign) under that rule into *out: 0; or -1
 * with "must be a whole number of seconds from 1 to 604800, not \"VALUE\""
 * (the whole value quoted) in err, for the caller to put after the key's
 * name. */
int config_timeout_parse(const char *value, long *out, char *err,
                         size_t errlen);

/* Fill cfg with the defaults. */
void config_defaults(struct config *cfg);

/* Parse the INI text in file path into cfg (defaults first). Returns 0, or
 * -1 with the error lines (above) in err, joined by '\n' and cut at errlen;
 * a file that cannot be opened is "PATH: cannot open: reason". Required
 * keys: [component] jid and secret, [database] path or url (one of them);
 * [psa] webhook_secret when webhook_url is set. */
int config_load(struct config *cfg, const char *path, char *err,
                size_t errlen);

/* Same, from a string; name is used in messages. */
int config_load_string(struct config *cfg, const char *text, const char *name,
                       char *err, size_t errlen);

/* What store_open() takes: [database] url when set, else path. */
const char *config_db_target(const struct config *cfg);

/* 1 if bare_jid is one of the configured admins (case-insensitive). */
int config_is_admin(const struct config *cfg, const char *bare_jid);

#endif
