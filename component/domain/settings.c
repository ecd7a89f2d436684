/* settings.c - see settings.h */
#include "domain/settings.h"

#include "domain/directory.h"
#include "runtime/config.h"
#include "runtime/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum settings__stmt { S_GET, S_PUT, S_DEL, S_ALL, S_COUNT };

static const char *const settings__sql[S_COUNT] = {
    [S_GET] = "SELECT value FROM settings WHERE key = ?1",
    [S_PUT] = ("INSERT INTO settings (key, value) VALUES (?1, ?2) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    [S_DEL] = "DELETE FROM settings WHERE key = ?1",
    [S_ALL] = "SELECT key, value FROM settings ORDER BY key",
};

struct settings_store {
    struct db *db;
    struct db_stmt *stmt[S_COUNT];
};

const char *const settings_keys[] = {
    "chat",     "pre_ticket",     "callback",     "timezone", "office_hours",
    "holidays", "answer_timeout", "idle_timeout", NULL};

enum settings__key {
    K_CHAT,
    K_PRE_TICKET,
    K_CALLBACK,
    K_TIMEZONE,
    K_OFFICE_HOURS,
    K_HOLIDAYS,
    K_ANSWER_TIMEOUT,
    K_IDLE_TIMEOUT,
    K_COUNT
};

/* Index of key (with '-' read as '_'), or -1. */
static int settings__key(const char *key)
{
    char norm[32];
    size_t i = 0;
    if (!key)
        return -1;
    for (; key[i] && i + 1 < sizeof norm; i++)
        norm[i] = key[i] == '-' ? '_' : key[i];
    if (key[i])
        return -1;
    norm[i] = '\0';
    for (int k = 0; k < K_COUNT; k++) {
        if (!strcmp(norm, settings_keys[k]))
            return k;
    }
    return -1;
}

void settings_defaults_apply(struct settings *s,
                             const struct settings_defaults *defs)
{
    memset(s, 0, sizeof *s);
    s->chat = true;
    s->pre_ticket = true;
    s->callback = true;
    s->answer_timeout = defs ? defs->answer_timeout : 60;
    s->idle_timeout = defs ? defs->idle_timeout : 3600;
    office_hours_init(&s->hours);
}

/* ---- parsing one value into s ----------------------------------------- */

static int settings__flag(bool *dst, const char *key, const char *value,
                          char *err, size_t errlen)
{
    enum tristate t;
    if (tristate_parse(value, &t) != 0 || t == TRI_INHERIT) {
        snprintf(err, errlen, "%s: \"%s\" is not on or off", key, value);
        return -1;
    }
    *dst = t == TRI_ON;
    return 0;
}

/* A timeout under config_timeout_parse()'s one rule. */
static int settings__seconds(long *dst, const char *key, const char *value,
                             char *err, size_t errlen)
{
    char why[512];
    if (config_timeout_parse(value, dst, why, sizeof why) == 0)
        return 0;
    snprintf(err, errlen, "%s: %s", key, why);
    return -1;
}

/* Parse value for key k into s (s unchanged on error). */
static int settings__apply(struct settings *s, int k, const char *value,
                           char *err, size_t errlen)
{
    char why[512];
    int rc = -1;
    const char *key = settings_keys[k];
    switch (k) {
    case K_CHAT:
        return settings__flag(&s->chat, key, value, err, errlen);
    case K_PRE_TICKET:
        return settings__flag(&s->pre_ticket, key, value, err, errlen);
    case K_CALLBACK:
        return settings__flag(&s->callback, key, value, err, errlen);
    case K_ANSWER_TIMEOUT:
        return settings__seconds(&s->answer_timeout, key, value, err, errlen);
    case K_IDLE_TIMEOUT:
        return settings__seconds(&s->idle_timeout, key, value, err, errlen);
    case K_TIMEZONE:
        rc = office_hours_set_timezone(&s->hours, value, why, sizeof why);
        break;
    case K_OFFICE_HOURS:
        rc = office_hours_parse_week(&s->hours, value, why, sizeof why);
        break;
    case K_HOLIDAYS:
        rc = office_hours_parse_holidays(&s->hours, value, why, sizeof why);
        break;
    }
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", key, why);
    return rc;
}

int settings_value(const struct settings *s, const char *key, char *buf,
                   size_t buflen)
{
    int n = 0;
    switch (settings__key(key)) {
    case K_CHAT:
        n = snprintf(buf, buflen, "%s", s->chat ? "on" : "off");
        break;
    case K_PRE_TICKET:
        n = snprintf(buf, buflen, "%s", s->pre_ticket ? "on" : "off");
        break;
    case K_CALLBACK:
        n = snprintf(buf, buflen, "%s", s->callback ? "on" : "off");
        break;
    case K_TIMEZONE:
        n = snprintf(buf, buflen, "%s", s->hours.timezone);
        break;
    case K_OFFICE_HOURS:
        return office_hours_format_week(&s->hours, buf, buflen);
    case K_HOLIDAYS:
        return office_hours_format_holidays(&s->hours, buf, buflen);
    case K_ANSWER_TIMEOUT:
        n = snprintf(buf, buflen, "%ld", s->answer_timeout);
        break;
    case K_IDLE_TIMEOUT:
        n = snprintf(buf, buflen, "%ld", s->idle_timeout);
        break;
    default:
        return -1;
    }
    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

/* ---- store ------------------------------------------------------------ */

struct settings_store *settings_open(struct store *st, char *err, size_t errlen)
{
    struct settings_store *ss = calloc(1, sizeof *ss);
    if (!ss) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ss->db = store_db(st);
    if (store_prepare_all(ss->db, settings__sql, ss->stmt, S_COUNT, "settings",
                          err, errlen)) {
        settings_close(ss);
        return NULL;
    }
    return ss;
}

void settings_close(struct settings_store *ss)
{
    if (!ss)
        return;
    store_finalize_all(ss->stmt, S_COUNT);
    free(ss);
}

int settings_load(struct settings_store *ss,
                  const struct settings_defaults *defs, struct settings *out,
                  char *err, size_t errlen)
{
    struct db_stmt *s = ss->stmt[S_ALL];
    int rc;
    settings_defaults_apply(out, defs);
    db_reset(s);
    while ((rc = db_step(s)) == DB_ROW) {
        int k = settings__key((const char *)db_column_text(s, 0));
        const char *value = (const char *)db_column_text(s, 1);
        if (k < 0)
            continue; /* a key this version does not know */
        if (settings__apply(out, k, value ? value : "", err, errlen) != 0) {
            db_reset(s);
            return -1;
        }
    }
    db_reset(s);
    if (rc != DB_DONE) {
        snprintf(err, errlen, "settings: cannot read: %s",
                 db_errmsg(ss->db));
        return -1;
    }
    return 0;
}

static int settings__exec(struct settings_store *ss, struct db_stmt *s,
                          char *err, size_t errlen)
{
    int rc = db_step(s);
    db_reset(s);
    db_clear_bindings(s);
    if (rc == DB_DONE)
        return 0;
    snprintf(err, errlen, "settings: cannot write: %s", db_errmsg(ss->db));
    return -1;
}

int settings_set(struct settings_store *ss, const char *key, const char *value,
                 char *err, size_t errlen)
{
    int k = settings__key(key);
    if (k < 0) {
        snprintf(err, errlen, "unknown setting \"%s\"", key ? key : "");
        return -1;
    }
    struct settings *scratch = malloc(sizeof *scratch);
    char *canon = malloc(SETTINGS_VALUE_MAX);
    int rc = -1;
    if (!scratch || !canon) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    settings_defaults_apply(scratch, NULL);
    if (settings__apply(scratch, k, value ? value : "", err, errlen) != 0)
        goto out;
    if (settings_value(scratch, settings_keys[k], canon, SETTINGS_VALUE_MAX)) {
        snprintf(err, errlen, "%s: value too long", settings_keys[k]);
        goto out;
    }
    struct db_stmt *s = ss->stmt[S_PUT];
    db_bind_text(s, 1, settings_keys[k], -1, DB_STATIC);
    db_bind_text(s, 2, canon, -1, DB_STATIC);
    rc = settings__exec(ss, s, err, errlen);
out:
    free(scratch);
    free(canon);
    return rc;
}

int settings_unset(struct settings_store *ss, const char *key, char *err,
                   size_t errlen)
{
    int k = settings__key(key);
    if (k < 0) {
        snprintf(err, errlen, "unknown setting \"%s\"", key ? key : "");
        return -1;
    }
    struct db_stmt *s = ss->stmt[S_DEL];
    db_bind_text(s, 1, settings_keys[k], -1, DB_STATIC);
    return settings__exec(ss, s, err, errlen);
}

int settings_is_stored(struct settings_store *ss, const char *key)
{
    int k = settings__key(key);
    if (k < 0)
        return -1;
    struct db_stmt *s = ss->stmt[S_GET];
    db_bind_text(s, 1, settings_keys[k], -1, DB_STATIC);
    int rc = db_step(s);
    db_reset(s);
    db_clear_bindings(s);
    if (rc == DB_ROW)
        return 1;
    return rc == DB_DONE ? 0 : -1;
}
