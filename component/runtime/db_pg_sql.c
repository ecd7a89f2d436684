/* db_pg_sql.c - see db_pg.h */
#include "runtime/db_pg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rw {
    const char *in;
    char *out;
    size_t n, cap;
    struct db_pg_sql *s;
};

static int rw_put(struct rw *w, const char *p, size_t len)
{
    if (w->n + len + 1 > w->cap) {
        size_t cap = (w->cap + len + 1) * 2;
        char *grown = realloc(w->out, cap);
        if (!grown)
            return -1;
        w->out = grown;
        w->cap = cap;
    }
    memcpy(w->out + w->n, p, len);
    w->n += len;
    w->out[w->n] = '\0';
    return 0;
}

static int rw_grow_names(struct db_pg_sql *s, int n)
{
    if (n <= s->nparams)
        return 0;
    char **grown = realloc(s->names, (size_t)n * sizeof *grown);
    if (!grown)
        return -1;
    for (int i = s->nparams; i < n; i++)
        grown[i] = NULL;
    s->names = grown;
    s->nparams = n;
    return 0;
}

static int rw_param(struct rw *w, int n)
{
    char buf[16];
    if (n < 1 || n > 32766 || rw_grow_names(w->s, n) != 0)
        return -1;
    snprintf(buf, sizeof buf, "$%d", n);
    return rw_put(w, buf, strlen(buf));
}

/* ":name" at p (length len): its number, given one if new. */
static int rw_named(struct rw *w, const char *p, size_t len)
{
    struct db_pg_sql *s = w->s;
    for (int i = 0; i < s->nparams; i++)
        if (s->names[i] && strlen(s->names[i]) == len &&
            !memcmp(s->names[i], p, len))
            return rw_param(w, i + 1);
    int n = s->nparams + 1;
    char *name = strndup(p, len);
    if (!name || rw_param(w, n) != 0) {
        free(name);
        return -1;
    }
    s->names[n - 1] = name;
    return 0;
}

/* Copy a quoted run ('...', "...") or a comment starting at *p. */
static int rw_skip(struct rw *w, const char **pp)
{
    const char *p = *pp, *end;
    if (*p == '\'' || *p == '"') {
        end = strchr(p + 1, *p);
        if (!end)
            return -1;
        end++;
    } else if (p[0] == '-' && p[1] == '-') {
        end = p + strcspn(p, "\n");
    } else {
        end = strstr(p + 2, "*/");
        end = end ? end + 2 : p + strlen(p);
    }
    *pp = end;
    return rw_put(w, p, (size_t)(end - p));
}

static enum db_pg_sql_kind rw_kind(const char *sql)
{
    static const char *const control[] = {"BEGIN",    "COMMIT",    "END",
                                          "ROLLBACK", "SAVEPOINT", "RELEASE"};
    static const char *const write[] = {"INSERT", "UPDATE", "DELETE",
                                        "REPLACE"};
    while (isspace((unsigned char)*sql) || *sql == '(')
        sql++;
    for (size_t i = 0; i < sizeof control / sizeof *control; i++)
        if (!strncasecmp(sql, control[i], strlen(control[i])))
            return DB_PG_SQL_CONTROL;
    for (size_t i = 0; i < sizeof write / sizeof *write; i++)
        if (!strncasecmp(sql, write[i], strlen(write[i])))
            return DB_PG_SQL_WRITE;
    /* WITH ... INSERT/UPDATE/DELETE (upper case): a write too. */
    if (!strncasecmp(sql, "WITH", 4) &&
        (strstr(sql, "INSERT ") || strstr(sql, "UPDATE ") ||
         strstr(sql, "DELETE ")))
        return DB_PG_SQL_WRITE;
    return DB_PG_SQL_READ;
}

static int rw_one(struct rw *w, const char **pp)
{
    const char *p = *pp;
    if (*p == '\'' || *p == '"' || (p[0] == '-' && p[1] == '-') ||
        (p[0] == '/' && p[1] == '*'))
        return rw_skip(w, pp);
    if (*p == '?') {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (end == p + 1)
            n = w->s->nparams + 1;
        *pp = end;
        return rw_param(w, (int)n);
    }
    if (p[0] == ':' && p[1] == ':') {
        *pp = p + 2;
        return rw_put(w, p, 2);
    }
    if (*p == ':' && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
        const char *e = p + 1;
        while (isalnum((unsigned char)*e) || *e == '_')
            e++;
        *pp = e;
        return rw_named(w, p, (size_t)(e - p));
    }
    *pp = p + 1;
    return rw_put(w, p, 1);
}

int db_pg_sql_rewrite(const char *sql, struct db_pg_sql *out)
{
    struct rw w = {.in = sql, .s = out};
    memset(out, 0, sizeof *out);
    out->kind = rw_kind(sql);
    if (rw_put(&w, "", 0) != 0)
        return -1;
    for (const char *p = sql; *p;)
        if (rw_one(&w, &p) != 0) {
            free(w.out);
            db_pg_sql_free(out);
            return -1;
        }
    out->sql = w.out;
    return 0;
}

void db_pg_sql_free(struct db_pg_sql *s)
{
    for (int i = 0; s->names && i < s->nparams; i++)
        free(s->names[i]);
    free(s->names);
    free(s->sql);
    memset(s, 0, sizeof *s);
}

int db_pg_sql_param_index(const struct db_pg_sql *s, const char *name)
{
    for (int i = 0; name && i < s->nparams; i++)
        if (s->names[i] && !strcmp(s->names[i], name))
            return i + 1;
    return 0;
}
