/* canned.c - see canned.h */
#include "domain/canned.h"

#include "runtime/store.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum canned__stmt { C_INSERT, C_UPDATE, C_DELETE, C_GET, C_NAMES, C_COUNT };

static const char *const canned__sql[C_COUNT] = {
    [C_INSERT] = "INSERT INTO canned (name, text) VALUES (?1, ?2)",
    [C_UPDATE] = "UPDATE canned SET text = ?2 WHERE name = ?1",
    [C_DELETE] = "DELETE FROM canned WHERE name = ?1",
    [C_GET] = "SELECT text FROM canned WHERE name = ?1",
    [C_NAMES] = ("SELECT group_concat(name, ', ') FROM "
                 "(SELECT name FROM canned ORDER BY name)"),
};

/* PostgreSQL: no group_concat; string_agg keeps the order. */
static const char *const canned__pg_sql[C_COUNT] = {
    [C_NAMES] = "SELECT string_agg(name, ', ' ORDER BY name) FROM canned",
};

struct canned {
    struct db *db;
    struct db_stmt *stmt[C_COUNT];
    char err[CANNED_TEXT_MAX / 8 + 256];
};

__attribute__((format(printf, 3, 4))) static int
canned__fail(struct canned *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return code;
}

static int canned__store_fail(struct canned *c, const char *what)
{
    return canned__fail(c, CANNED_ERR_STORE,
                        "Could not %s (%s); try again later.", what,
                        db_errmsg(c->db));
}

struct canned *canned_open(struct store *st, char *err, size_t errlen)
{
    struct canned *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "canned: out of memory");
        return NULL;
    }
    c->db = store_db(st);
    if (store_prepare_engines(c->db, canned__sql, canned__pg_sql, c->stmt,
                              C_COUNT, "canned", err, errlen) != 0) {
        canned_close(c);
        return NULL;
    }
    return c;
}

void canned_close(struct canned *c)
{
    if (!c)
        return;
    store_finalize_all(c->stmt, C_COUNT);
    free(c);
}

const char *canned_error(const struct canned *c)
{
    return c->err;
}

/* name checked and lowercased into out (CANNED_NAME_MAX + 1 bytes). */
static int canned__name(struct canned *c, const char *name, char *out)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n >= 1 && n <= CANNED_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        out[i] = (char)tolower((unsigned char)name[i]);
        ok =
            isalnum((unsigned char)name[i]) || name[i] == '-' || name[i] == '_';
    }
    if (!ok)
        return canned__fail(c, CANNED_ERR_INVALID,
                            "Field 'name' must be 1 to %d letters, digits, "
                            "'-' or '_' (what follows '!'); got \"%.100s\"",
                            CANNED_NAME_MAX, name ? name : "");
    out[n] = '\0';
    return CANNED_OK;
}

static int canned__text(struct canned *c, const char *text)
{
    if (text && *text && strlen(text) <= CANNED_TEXT_MAX)
        return CANNED_OK;
    return canned__fail(
        c, CANNED_ERR_INVALID, "Field 'text' must be 1 to %d bytes of text%s",
        CANNED_TEXT_MAX, text && *text ? "; it is too long" : "; it is empty");
}

/* Run st (bound) to DB_DONE; CANNED_OK, NOT_FOUND when it changed no
 * row, or the store failure. */
static int canned__write(struct canned *c, struct db_stmt *st, const char *name,
                         const char *what)
{
    int rc = db_step(st);
    int ext = db_extended_errcode(c->db);
    db_reset(st);
    if (rc == DB_CONSTRAINT && ext == DB_CONSTRAINT_PRIMARYKEY)
        return canned__fail(c, CANNED_ERR_EXISTS,
                            "There is already a canned reply \"!%s\"; edit "
                            "it instead.",
                            name);
    if (rc != DB_DONE)
        return canned__store_fail(c, what);
    if (db_changes(c->db) == 0)
        return canned__fail(c, CANNED_ERR_NOT_FOUND,
                            "There is no canned reply \"!%s\".", name);
    return CANNED_OK;
}

int canned_add(struct canned *c, const char *name, const char *text)
{
    char key[CANNED_NAME_MAX + 1];
    int rc = canned__name(c, name, key);
    if (rc == CANNED_OK)
        rc = canned__text(c, text);
    if (rc != CANNED_OK)
        return rc;
    struct db_stmt *st = c->stmt[C_INSERT];
    db_bind_text(st, 1, key, -1, DB_STATIC);
    db_bind_text(st, 2, text, -1, DB_STATIC);
    return canned__write(c, st, key, "save the canned reply");
}

int canned_get(struct canned *c, const char *name, char **text)
{
    char key[CANNED_NAME_MAX + 1];
    *text = NULL;
    int rc = canned__name(c, name, key);
    if (rc != CANNED_OK)
        return rc;
    struct db_stmt *st = c->stmt[C_GET];
    db_bind_text(st, 1, key, -1, DB_STATIC);
    rc = db_step(st);
    if (rc == DB_ROW)
        *text = strdup((const char *)db_column_text(st, 0));
    db_reset(st);
    if (rc == DB_DONE)
        return canned__fail(c, CANNED_ERR_NOT_FOUND,
                            "There is no canned reply \"!%s\".", key);
    if (!*text)
        return canned__store_fail(c, "read the canned reply");
    return CANNED_OK;
}

/* The old text of name into *old when old is not NULL (NULL otherwise). */
static int canned__old(struct canned *c, const char *name, char **old)
{
    char *text = NULL;
    int rc = canned_get(c, name, &text);
    if (old)
        *old = text;
    else
        free(text);
    return rc;
}

int canned_edit(struct canned *c, const char *name, const char *text,
                char **old)
{
    char key[CANNED_NAME_MAX + 1];
    int rc = canned__text(c, text);
    if (rc == CANNED_OK)
        rc = canned__old(c, name, old);
    if (rc != CANNED_OK)
        return rc;
    canned__name(c, name, key);
    struct db_stmt *st = c->stmt[C_UPDATE];
    db_bind_text(st, 1, key, -1, DB_STATIC);
    db_bind_text(st, 2, text, -1, DB_STATIC);
    return canned__write(c, st, key, "save the canned reply");
}

int canned_remove(struct canned *c, const char *name, char **old)
{
    char key[CANNED_NAME_MAX + 1];
    int rc = canned__old(c, name, old);
    if (rc != CANNED_OK)
        return rc;
    canned__name(c, name, key);
    struct db_stmt *st = c->stmt[C_DELETE];
    db_bind_text(st, 1, key, -1, DB_STATIC);
    return canned__write(c, st, key, "remove the canned reply");
}

int canned_names(struct canned *c, char **names)
{
    struct db_stmt *st = c->stmt[C_NAMES];
    int rc = db_step(st);
    const char *v =
        rc == DB_ROW ? (const char *)db_column_text(st, 0) : NULL;
    *names = rc == DB_ROW ? strdup(v ? v : "") : NULL;
    db_reset(st);
    return *names ? CANNED_OK : canned__store_fail(c, "list canned replies");
}

int canned_call(const char *body, char *out, size_t outlen)
{
    if (!body || body[0] != '!')
        return 0;
    size_t n = strlen(body + 1);
    if (n < 1 || n > CANNED_NAME_MAX || n >= outlen)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[1 + i];
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return 0;
        out[i] = (char)tolower(ch);
    }
    out[n] = '\0';
    return 1;
}

char *canned_expand(const char *text, const char *contact, const char *tech)
{
    size_t cap = strlen(text) + 1, len = 0;
    char *out = malloc(cap);
    for (const char *p = text; out && *p;) {
        const char *put = NULL;
        size_t skip = 1;
        if (!strncmp(p, "{contact}", 9))
            put = contact, skip = 9;
        else if (!strncmp(p, "{tech}", 6))
            put = tech, skip = 6;
        size_t add = put ? strlen(put) : 1;
        if (len + add + 1 > cap) {
            char *grown = realloc(out, cap = 2 * (len + add + 1));
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + len, put ? put : p, add);
        len += add;
        p += skip;
    }
    if (out)
        out[len] = '\0';
    return out;
}
