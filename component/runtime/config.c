/* config.c - see config.h
 *
 * Every key is one row of config__keys: its section, its name, the parser
 * that checks it and where it goes in struct config. A new key, or a new
 * section, is a new row (and a field in struct config); the unknown-key,
 * unknown-section and missing-key checks follow from the table.
 */
#include "runtime/config.h"

#include "runtime/jid.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config__parse;
struct config__key;

/* A parser checks value and stores it; on a bad value it reports one error
 * through config__fail. */
typedef void config__parser(struct config__parse *p,
                            const struct config__key *k, const char *value);

struct config__key {
    const char *section, *key;
    config__parser *parse;
    size_t off;    /* where the value goes in struct config */
    size_t size;   /* strings: the size of the field */
    long min, max; /* numbers: the range */
    int required;
};

static config__parser config__string, config__number, config__timeout,
    config__domain, config__admins, config__level, config__listen, config__url,
    config__pg_url, config__multicast, config__connections;

#define CONFIG__AT(field) offsetof(struct config, field)
#define CONFIG__STR(field) CONFIG__AT(field), sizeof((struct config *)0)->field

static const struct config__key config__keys[] = {
    {"component", "jid", config__domain, CONFIG__STR(jid), 0, 0, 1},
    {"component", "secret", config__string, CONFIG__STR(secret), 0, 0, 1},
    {"component", "host", config__string, CONFIG__STR(host), 0, 0, 0},
    {"component", "port", config__number, CONFIG__AT(port), 0, 1, 65535, 0},
    {"component", "reconnect_max", config__number, CONFIG__AT(reconnect_max),
     0, 1, 3600, 0},
    {"component", "multicast", config__multicast, CONFIG__STR(multicast), 0,
     0, 0},
    {"component", "connections", config__connections, CONFIG__AT(connections),
     0, 1, 64, 0},
    {"component", "connections_max", config__number,
     CONFIG__AT(connections_max), 0, 1, 64, 0},
    /* one of path and url: config__check_required */
    {"database", "path", config__string, CONFIG__STR(db_path), 0, 0, 0},
    {"database", "url", config__pg_url, CONFIG__STR(db_url), 0, 0, 0},
    {"admins", "jids", config__admins, 0, 0, 0, 0, 0},
    {"chat", "answer_timeout", config__timeout, CONFIG__AT(answer_timeout), 0,
     CONFIG_TIMEOUT_MIN, CONFIG_TIMEOUT_MAX, 0},
    {"chat", "idle_timeout", config__timeout, CONFIG__AT(idle_timeout), 0,
     CONFIG_TIMEOUT_MIN, CONFIG_TIMEOUT_MAX, 0},
    {"chat", "away_after", config__number, CONFIG__AT(away_after), 0, 1,
     86400, 0},
    {"chat", "rejoin_grace", config__number, CONFIG__AT(rejoin_grace), 0, 0,
     600, 0},
    {"log", "level", config__level, CONFIG__AT(log_level), 0, 0, 0, 0},
    {"retention", "messages_days", config__number,
     CONFIG__AT(retention_days), 0, 0, 36500, 0},
    {"limits", "stanzas_per_second", config__number, CONFIG__AT(limit_rate),
     0, 0, 100000, 0},
    {"limits", "burst", config__number, CONFIG__AT(limit_burst), 0, 1, 100000,
     0},
    {"limits", "max_stanza_bytes", config__number,
     CONFIG__AT(max_stanza_bytes), 0, 16384, 4194304, 0},
    {"metrics", "listen", config__listen, 0, 0, 0, 0, 0},
    {"psa", "webhook_url", config__url, CONFIG__STR(psa_url), 0, 0, 0},
    {"psa", "webhook_secret", config__string, CONFIG__STR(psa_secret), 0, 0,
     0},
    {"psa", "timeout", config__number, CONFIG__AT(psa_timeout), 0, 1, 300, 0},
    {"psa", "retry_max", config__number, CONFIG__AT(psa_retry_max), 0, 1,
     86400, 0},
    {"psa", "ca_file", config__string, CONFIG__STR(psa_ca_file), 0, 0, 0},
};

enum { CONFIG__NKEYS = sizeof config__keys / sizeof config__keys[0] };
enum { CONFIG__MAX_SECTIONS = 32 };

/* Parse state: libinih calls the handler right after reading each line, so
 * the reader's line count is the line of the key being handled. */
struct config__parse {
    struct config *cfg;
    const char *name;
    int line;
    int failed; /* errors reported */
    char *err;
    size_t errlen;
    unsigned char seen[CONFIG__NKEYS];
    struct {
        char name[64];
        int line;
    } sections[CONFIG__MAX_SECTIONS]; /* each [section] header's line */
    size_t n_sections;
    /* source: a FILE or a string cursor */
    FILE *file;
    const char *cursor;
};

/* Append "NAME:LINE: KEY: message" to the error text, one line each. */
static void config__fail(struct config__parse *p, int line, const char *key,
                         const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t used = strlen(p->err);
    if (used + 1 < p->errlen)
        snprintf(p->err + used, p->errlen - used, "%s%s:%d: %s: %s",
                 used ? "\n" : "", p->name, line, key, msg);
    p->failed++;
}

static void *config__field(struct config__parse *p,
                           const struct config__key *k)
{
    return (char *)p->cfg + k->off;
}

static void config__string(struct config__parse *p,
                           const struct config__key *k, const char *value)
{
    if (!*value)
        config__fail(p, p->line, k->key, "must not be empty");
    else if (strlen(value) >= k->size)
        config__fail(p, p->line, k->key, "is too long (at most %zu bytes)",
                     k->size - 1);
    else
        memcpy(config__field(p, k), value, strlen(value) + 1);
}

static void config__number(struct config__parse *p,
                           const struct config__key *k, const char *value)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (!*value || *end || errno || v < k->min || v > k->max)
        config__fail(p, p->line, k->key,
                     "must be a whole number from %ld to %ld, not '%s'",
                     k->min, k->max, value);
    else
        *(int *)config__field(p, k) = (int)v;
}

int config_timeout_parse(const char *value, long *out, char *err,
                         size_t errlen)
{
    char *end = NULL;
    long v = -1;
    if (value && *value && strspn(value, "0123456789") == strlen(value)) {
        errno = 0;
        v = strtol(value, &end, 10);
        if (errno)
            v = -1;
    }
    if (v < CONFIG_TIMEOUT_MIN || v > CONFIG_TIMEOUT_MAX) {
        snprintf(err, errlen,
                 "must be a whole number of seconds from %d to %d, not "
                 "\"%s\"",
                 CONFIG_TIMEOUT_MIN, CONFIG_TIMEOUT_MAX, value ? value : "");
        return -1;
    }
    *out = v;
    return 0;
}

static void config__timeout(struct config__parse *p,
                            const struct config__key *k, const char *value)
{
    char why[512];
    long v;
    if (config_timeout_parse(value, &v, why, sizeof why) != 0)
        config__fail(p, p->line, k->key, "%s", why);
    else
        *(int *)config__field(p, k) = (int)v;
}

/* 1 if s is a plausible DNS domain: not empty, no spaces, no '@', '/' or
 * characters XML or a JID forbids. */
static int config__is_domain(const char *s, const char *end)
{
    if (s == end)
        return 0;
    for (; s < end; s++)
        if (isspace((unsigned char)*s) || strchr("@/\"&'<>:", *s))
            return 0;
    return 1;
}

static void config__domain(struct config__parse *p,
                           const struct config__key *k, const char *value)
{
    if (!config__is_domain(value, value + strlen(value))) {
        config__fail(p, p->line, k->key,
                     "'%s' is not a bare domain like helpdesk.example.com",
                     value);
        return;
    }
    config__string(p, k, value);
    char *dst = config__field(p, k);
    jid_bare_lower(dst, dst, k->size);
}

/* 1 if tok is a bare JID local@domain (both parts present, no resource). */
/* local@domain: no resource ('/' anywhere), no control character. */
static int config__is_bare_jid(const char *tok)
{
    const char *at = strchr(tok, '@');
    for (const unsigned char *c = (const unsigned char *)tok; *c; c++)
        if (*c < 0x20 || *c == 0x7F || *c == '/')
            return 0;
    return at && at > tok && !strchr(at + 1, '@') && strlen(tok) < 256 &&
           config__is_domain(at + 1, tok + strlen(tok));
}

static void config__admins(struct config__parse *p,
                           const struct config__key *k, const char *value)
{
    char buf[4096];
    if (strlen(value) >= sizeof buf) {
        config__fail(p, p->line, k->key, "is too long");
        return;
    }
    strcpy(buf, value);
    struct config *c = p->cfg;
    c->n_admins = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save)) {
        if (c->n_admins == CONFIG_MAX_ADMINS) {
            config__fail(p, p->line, k->key, "more than %d admins",
                         CONFIG_MAX_ADMINS);
            return;
        }
        if (!config__is_bare_jid(tok)) {
            config__fail(p, p->line, k->key,
                         "'%s' is not a bare JID like admin@example.com", tok);
            return;
        }
        jid_bare_lower(tok, c->admins[c->n_admins++], sizeof c->admins[0]);
    }
}

/* auto, off, or the service's domain. */
static void config__multicast(struct config__parse *p,
                              const struct config__key *k, const char *value)
{
    if (!strcasecmp(value, "auto") || !strcasecmp(value, "off")) {
        char *dst = config__field(p, k);
        config__string(p, k, value);
        jid_bare_lower(dst, dst, k->size);
        return;
    }
    if (!config__is_domain(value, value + strlen(value))) {
        config__fail(p, p->line, k->key,
                     "must be auto, off or the multicast service's domain "
                     "like multicast.example.com, not '%s'",
                     value);
        return;
    }
    config__domain(p, k, value);
}

/* auto (0), or a number of connections. */
static void config__connections(struct config__parse *p,
                                const struct config__key *k,
                                const char *value)
{
    if (!strcasecmp(value, "auto")) {
        *(int *)config__field(p, k) = 0;
        return;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (!*value || *end || errno || v < k->min || v > k->max)
        config__fail(p, p->line, k->key,
                     "must be auto or a whole number from %ld to %ld, not "
                     "'%s'",
                     k->min, k->max, value);
    else
        *(int *)config__field(p, k) = (int)v;
}

static void config__level(struct config__parse *p,
                          const struct config__key *k, const char *value)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(value, names[i])) {
            *(int *)config__field(p, k) = i;
            return;
        }
    }
    config__fail(p, p->line, k->key,
                 "must be error, warn, info or debug, not '%s'", value);
}

/* HOST:PORT with a numeric IPv4 host, or [IPv6]:PORT. */
static void config__listen(struct config__parse *p,
                           const struct config__key *k, const char *value)
{
    struct config *c = p->cfg;
    const char *colon = strrchr(value, ':');
    const char *host = value;
    size_t len = colon ? (size_t)(colon - value) : 0;
    if (len >= 2 && value[0] == '[' && value[len - 1] == ']')
        host++, len -= 2;
    char addr[sizeof c->metrics_host];
    unsigned char bin[16];
    if (!colon || !len || len >= sizeof addr) {
        config__fail(p, p->line, k->key,
                     "must be HOST:PORT like 127.0.0.1:9643, not '%s'", value);
        return;
    }
    memcpy(addr, host, len);
    addr[len] = '\0';
    int family = host == value ? AF_INET : AF_INET6;
    if (inet_pton(family, addr, bin) != 1) {
        config__fail(p, p->line, k->key,
                     "'%s' is not an IP address (IPv6 goes in brackets)",
                     addr);
        return;
    }
    struct config__key port = {k->section, k->key, config__number,
                               CONFIG__AT(metrics_port), 0, 1, 65535, 0};
    int failed = p->failed;
    config__number(p, &port, colon + 1);
    if (p->failed == failed)
        memcpy(c->metrics_host, addr, len + 1);
}

/* An http:// or https:// URL with something after the scheme. */
static void config__url(struct config__parse *p, const struct config__key *k,
                        const char *value)
{
    size_t scheme = !strncasecmp(value, "http://", 7)    ? 7
                    : !strncasecmp(value, "https://", 8) ? 8
                                                         : 0;
    if (!scheme || !value[scheme])
        config__fail(p, p->line, k->key,
                     "must be an http:// or https:// URL, not '%s'", value);
    else
        config__string(p, k, value);
}

/* A PostgreSQL connection URI that libpq can read. */
static void config__pg_url(struct config__parse *p,
                           const struct config__key *k, const char *value)
{
    char *why = NULL;
    PQconninfoOption *opts = NULL;
    if (strncmp(value, "postgresql://", 13) &&
        strncmp(value, "postgres://", 11))
        config__fail(p, p->line, k->key,
                     "must be a postgresql:// URI like "
                     "postgresql://chatdesk@db.example.com/chatdesk, not '%s'",
                     value);
    else if (!(opts = PQconninfoParse(value, &why)))
        config__fail(p, p->line, k->key, "'%s' is not a valid URI: %.*s",
                     value, why ? (int)strcspn(why, "\n") : 14,
                     why ? why : "out of memory");
    else
        config__string(p, k, value);
    PQconninfoFree(opts);
    PQfreemem(why);
}

static int config__known_section(const char *section)
{
    for (size_t i = 0; i < CONFIG__NKEYS; i++)
        if (!strcmp(config__keys[i].section, section))
            return 1;
    return 0;
}

static int config__handler(void *user, const char *section, const char *key,
                           const char *value)
{
    struct config__parse *p = user;
    for (size_t i = 0; i < CONFIG__NKEYS; i++) {
        const struct config__key *k = &config__keys[i];
        if (!strcmp(k->section, section) && !strcmp(k->key, key)) {
            p->seen[i] = 1;
            k->parse(p, k, value);
            return 1;
        }
    }
    if (config__known_section(section))
        config__fail(p, p->line, key, "unknown key in section [%s]", section);
    else
        config__fail(p, p->line, key, "unknown section [%s]", section);
    return 1;
}

/* Note the line of a "[section]" header, for the missing-key errors. */
static void config__note_section(struct config__parse *p, const char *line)
{
    while (isspace((unsigned char)*line))
        line++;
    const char *close = strchr(line, ']');
    if (*line != '[' || !close || p->n_sections == CONFIG__MAX_SECTIONS)
        return;
    size_t len = (size_t)(close - line - 1);
    if (len >= sizeof p->sections[0].name)
        return;
    memcpy(p->sections[p->n_sections].name, line + 1, len);
    p->sections[p->n_sections].name[len] = '\0';
    p->sections[p->n_sections++].line = p->line;
}

static char *config__reader(char *str, int num, void *stream)
{
    struct config__parse *p = stream;
    char *got = NULL;
    if (p->file) {
        got = fgets(str, num, p->file);
    } else if (*p->cursor) {
        const char *nl = strchr(p->cursor, '\n');
        size_t len = nl ? (size_t)(nl - p->cursor) + 1 : strlen(p->cursor);
        if (len > (size_t)num - 1)
            len = (size_t)num - 1;
        memcpy(str, p->cursor, len);
        str[len] = '\0';
        p->cursor += len;
        got = str;
    }
    if (got) {
        p->line++;
        config__note_section(p, got);
    }
    return got;
}

/* The line of section's first header, or 0 when the file has none. */
static int config__section_line(const struct config__parse *p,
                                 const char *section)
{
    for (size_t i = 0; i < p->n_sections; i++)
        if (!strcmp(p->sections[i].name, section))
            return p->sections[i].line;
    return 0;
}

static void config__check_required(struct config__parse *p)
{
    for (size_t i = 0; i < CONFIG__NKEYS; i++) {
        const struct config__key *k = &config__keys[i];
        if (!k->required || p->seen[i])
            continue;
        int line = config__section_line(p, k->section);
        if (line)
            config__fail(p, line, k->key,
                         "missing: section [%s] must set this key",
                         k->section);
        else
            config__fail(p, 0, k->key,
                         "missing: the file has no section [%s]", k->section);
    }
    const struct config *c = p->cfg;
    if (!*c->db_path && !*c->db_url) {
        int line = config__section_line(p, "database");
        config__fail(p, line, "path",
                     line ? "missing: section [database] must set path "
                            "(sqlite) or url (PostgreSQL)"
                          : "missing: the file has no section [database]");
    } else if (*c->db_path && *c->db_url) {
        config__fail(p, config__section_line(p, "database"), "url",
                     "set path (sqlite) or url (PostgreSQL), not both");
    }
    if (*p->cfg->psa_url && !*p->cfg->psa_secret)
        config__fail(p, config__section_line(p, "psa"), "webhook_secret",
                     "missing: required when webhook_url is set");
}

static int config__run(struct config__parse *p)
{
    config_defaults(p->cfg);
    p->err[0] = '\0';
    int rc = ini_parse_stream(config__reader, p, config__handler, p);
    if (rc > 0)
        config__fail(p, rc, "syntax",
                     "expected [section] or key = value (first bad line)");
    else if (rc != 0)
        config__fail(p, 0, "file", "cannot be read");
    config__check_required(p);
    return p->failed ? -1 : 0;
}

const char *config_db_target(const struct config *cfg)
{
    return *cfg->db_url ? cfg->db_url : cfg->db_path;
}

int config_load(struct config *cfg, const char *path, char *err,
                size_t errlen)
{
    struct config__parse p = {.cfg = cfg, .name = path, .err = err,
                              .errlen = errlen};
    p.file = fopen(path, "r");
    if (!p.file) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = config__run(&p);
    fclose(p.file);
    return rc;
}

int config_load_string(struct config *cfg, const char *text, const char *name,
                       char *err, size_t errlen)
{
    struct config__parse p = {.cfg = cfg, .name = name, .err = err,
                              .errlen = errlen, .cursor = text};
    return config__run(&p);
}

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->host, "127.0.0.1");
    cfg->port = 5347;
    cfg->reconnect_max = 30;
    strcpy(cfg->multicast, "off");
    cfg->connections = 1;
    cfg->connections_max = 8;
    cfg->answer_timeout = 60;
    cfg->idle_timeout = 3600;
    cfg->away_after = 300;
    cfg->rejoin_grace = 30;
    cfg->log_level = 2;
    cfg->limit_rate = 30;
    cfg->limit_burst = 150;
    cfg->max_stanza_bytes = CONFIG_MAX_STANZA_BYTES;
    cfg->psa_timeout = 10;
    cfg->psa_retry_max = 300;
}

int config_is_admin(const struct config *cfg, const char *bare_jid)
{
    for (size_t i = 0; i < cfg->n_admins; i++)
        if (!strcasecmp(cfg->admins[i], bare_jid))
            return 1;
    return 0;
}
