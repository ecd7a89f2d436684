/* config.c - see config.h */
#include "runtime/config.h"

#include "runtime/jid.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parse state: libinih calls the handler right after reading each line, so
 * the reader's line count is the line of the key being handled. */
struct config__parse {
    struct config *cfg;
    const char *name;
    int line;
    int failed;
    char *err;
    size_t errlen;
    /* source: a FILE or a string cursor */
    FILE *file;
    const char *cursor;
};

static int config__fail(struct config__parse *p, const char *fmt,
                        const char *a, const char *b)
{
    if (!p->failed) {
        char msg[512];
        snprintf(msg, sizeof msg, fmt, a, b);
        snprintf(p->err, p->errlen, "%s:%d: %s", p->name, p->line, msg);
        p->failed = 1;
    }
    return 0;
}

static int config__copy(struct config__parse *p, char *dst, size_t size,
                        const char *key, const char *value)
{
    if (!*value)
        return config__fail(p, "key '%s' must not be empty%s", key, "");
    if (strlen(value) >= size)
        return config__fail(p, "value of key '%s' is too long%s", key, "");
    memcpy(dst, value, strlen(value) + 1);
    return 1;
}

static int config__int(struct config__parse *p, int *dst, const char *key,
                       const char *value, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (!*value || *end || errno || v < min || v > max) {
        char range[64];
        snprintf(range, sizeof range, "a whole number from %ld to %ld", min,
                 max);
        return config__fail(p, "key '%s' must be %s", key, range);
    }
    *dst = (int)v;
    return 1;
}

static int config__admins(struct config__parse *p, const char *value)
{
    char buf[4096];
    if (strlen(value) >= sizeof buf)
        return config__fail(p, "value of key '%s' is too long%s", "jids", "");
    strcpy(buf, value);
    p->cfg->n_admins = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save)) {
        if (p->cfg->n_admins == CONFIG_MAX_ADMINS)
            return config__fail(p, "key '%s': more than 64 admins%s", "jids",
                                "");
        if (!strchr(tok, '@') || strchr(tok, '/') || strlen(tok) >= 256)
            return config__fail(p, "key 'jids': '%s' is not a bare JID%s",
                                tok, " like admin@example.com");
        jid_bare_lower(tok, p->cfg->admins[p->cfg->n_admins++],
                       sizeof p->cfg->admins[0]);
    }
    return 1;
}

static int config__level(struct config__parse *p, const char *value)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(value, names[i])) {
            p->cfg->log_level = i;
            return 1;
        }
    }
    return config__fail(p, "key 'level' must be error, warn, info or debug%s",
                        "", "");
}

static int config__component(struct config__parse *p, const char *key,
                             const char *value)
{
    struct config *c = p->cfg;
    if (!strcmp(key, "jid")) {
        if (strchr(value, '@') || strchr(value, '/'))
            return config__fail(p, "key 'jid' must be a bare domain like "
                                   "helpdesk.example.com, not '%s'%s",
                                value, "");
        if (!config__copy(p, c->jid, sizeof c->jid, key, value))
            return 0;
        jid_bare_lower(c->jid, c->jid, sizeof c->jid);
        return 1;
    }
    if (!strcmp(key, "secret"))
        return config__copy(p, c->secret, sizeof c->secret, key, value);
    if (!strcmp(key, "host"))
        return config__copy(p, c->host, sizeof c->host, key, value);
    if (!strcmp(key, "port"))
        return config__int(p, &c->port, key, value, 1, 65535);
    if (!strcmp(key, "reconnect_max"))
        return config__int(p, &c->reconnect_max, key, value, 1, 3600);
    return -1;
}

static int config__psa(struct config__parse *p, const char *key,
                       const char *value)
{
    struct config *c = p->cfg;
    if (!strcmp(key, "webhook_url")) {
        size_t scheme = !strncasecmp(value, "http://", 7)    ? 7
                        : !strncasecmp(value, "https://", 8) ? 8
                                                             : 0;
        if (!scheme || !value[scheme])
            return config__fail(p, "key 'webhook_url' must be an http:// or "
                                   "https:// URL, not '%s'%s", value, "");
        return config__copy(p, c->psa_url, sizeof c->psa_url, key, value);
    }
    if (!strcmp(key, "webhook_secret"))
        return config__copy(p, c->psa_secret, sizeof c->psa_secret, key,
                            value);
    if (!strcmp(key, "timeout"))
        return config__int(p, &c->psa_timeout, key, value, 1, 300);
    if (!strcmp(key, "retry_max"))
        return config__int(p, &c->psa_retry_max, key, value, 1, 86400);
    if (!strcmp(key, "ca_file"))
        return config__copy(p, c->psa_ca_file, sizeof c->psa_ca_file, key,
                            value);
    return -1;
}

static int config__handler(void *user, const char *section, const char *key,
                           const char *value)
{
    struct config__parse *p = user;
    struct config *c = p->cfg;
    int r = -1;
    if (!strcmp(section, "component"))
        r = config__component(p, key, value);
    else if (!strcmp(section, "database") && !strcmp(key, "path"))
        r = config__copy(p, c->db_path, sizeof c->db_path, key, value);
    else if (!strcmp(section, "admins") && !strcmp(key, "jids"))
        r = config__admins(p, value);
    else if (!strcmp(section, "chat") && !strcmp(key, "answer_timeout"))
        r = config__int(p, &c->answer_timeout, key, value, 1, 86400);
    else if (!strcmp(section, "chat") && !strcmp(key, "idle_timeout"))
        r = config__int(p, &c->idle_timeout, key, value, 1, 7 * 86400);
    else if (!strcmp(section, "chat") && !strcmp(key, "away_after"))
        r = config__int(p, &c->away_after, key, value, 1, 86400);
    else if (!strcmp(section, "log") && !strcmp(key, "level"))
        r = config__level(p, value);
    else if (!strcmp(section, "limits") && !strcmp(key, "stanzas_per_second"))
        r = config__int(p, &c->limit_rate, key, value, 0, 100000);
    else if (!strcmp(section, "limits") && !strcmp(key, "burst"))
        r = config__int(p, &c->limit_burst, key, value, 1, 100000);
    else if (!strcmp(section, "psa"))
        r = config__psa(p, key, value);
    if (r < 0)
        return config__fail(p, "unknown key '%s' in section [%s]", key,
                            section);
    return r;
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
    if (got)
        p->line++;
    return got;
}

static int config__check(struct config__parse *p)
{
    static const struct {
        const char *section, *key;
        size_t off;
    } required[] = {
        {"component", "jid", offsetof(struct config, jid)},
        {"component", "secret", offsetof(struct config, secret)},
        {"database", "path", offsetof(struct config, db_path)},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        const char *v = (const char *)p->cfg + required[i].off;
        if (!*v) {
            snprintf(p->err, p->errlen, "%s: missing key '%s' in section [%s]",
                     p->name, required[i].key, required[i].section);
            return -1;
        }
    }
    if (*p->cfg->psa_url && !*p->cfg->psa_secret) {
        snprintf(p->err, p->errlen, "%s: missing key 'webhook_secret' in "
                 "section [psa] (required when webhook_url is set)", p->name);
        return -1;
    }
    return 0;
}

static int config__run(struct config__parse *p)
{
    config_defaults(p->cfg);
    int rc = ini_parse_stream(config__reader, p, config__handler, p);
    if (rc > 0 && !p->failed) {
        snprintf(p->err, p->errlen,
                 "%s:%d: syntax error (expected [section] or key = value)",
                 p->name, rc);
        return -1;
    }
    if (rc != 0 || p->failed) {
        if (!p->failed)
            snprintf(p->err, p->errlen, "%s: cannot parse", p->name);
        return -1;
    }
    return config__check(p);
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
    cfg->answer_timeout = 60;
    cfg->idle_timeout = 3600;
    cfg->away_after = 300;
    cfg->log_level = 2;
    cfg->limit_rate = 30;
    cfg->limit_burst = 150;
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
