/* audit.c - see audit.h */
#include "domain/audit.h"

#include "runtime/clock.h"
#include "runtime/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum audit__stmt { A_INSERT, A_LIST, A_COUNT };

static const char *const audit__sql[A_COUNT] = {
    [A_INSERT] = "INSERT INTO audit (at, who, object, key, old_value, "
                 "new_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [A_LIST] = "SELECT id, at, who, object, key, old_value, new_value "
               "FROM audit ORDER BY id DESC LIMIT ?2 OFFSET ?1",
};

struct audit {
    struct store *store;
    struct db *db;
    struct db_stmt *stmt[A_COUNT];
    char err[300];
};

struct audit *audit_open(struct store *st, char *err, size_t errlen)
{
    struct audit *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "audit: out of memory");
        return NULL;
    }
    a->store = st;
    a->db = store_db(st);
    if (store_prepare_all(a->db, audit__sql, a->stmt, A_COUNT, "audit", err,
                          errlen) != 0) {
        audit_close(a);
        return NULL;
    }
    return a;
}

void audit_close(struct audit *a)
{
    if (!a)
        return;
    store_finalize_all(a->stmt, A_COUNT);
    free(a);
}

const char *audit_error(const struct audit *a)
{
    return a->err;
}

enum audit_change audit_change_begin(struct audit *a)
{
    if (store_begin(a->store) == 0)
        return AUDIT_CHANGE_DONE;
    snprintf(a->err, sizeof a->err, "%s", db_errmsg(a->db));
    return AUDIT_CHANGE_BEGIN;
}

enum audit_change audit_change_end(struct audit *a, int recorded)
{
    if (recorded && store_commit(a->store) == 0)
        return AUDIT_CHANGE_DONE;
    if (recorded) /* before the rollback: its message is the commit's */
        snprintf(a->err, sizeof a->err, "%s", db_errmsg(a->db));
    store_rollback(a->store);
    return recorded ? AUDIT_CHANGE_COMMIT : AUDIT_CHANGE_RECORD;
}

void audit_change_cancel(struct audit *a)
{
    store_rollback(a->store);
}

const char *audit_change_what(enum audit_change r)
{
    static const char *const what[] = {
        [AUDIT_CHANGE_DONE] = "",
        [AUDIT_CHANGE_BEGIN] = "start a transaction",
        [AUDIT_CHANGE_RECORD] = "record the change in the audit trail",
        [AUDIT_CHANGE_COMMIT] = "commit the change",
    };
    return (size_t)r < sizeof what / sizeof what[0] ? what[r] : "";
}

static int audit__fail(struct audit *a, const char *what)
{
    snprintf(a->err, sizeof a->err, "Could not %s (%s); try again later.", what,
             db_errmsg(a->db));
    return AUDIT_ERR_STORE;
}

int audit_record(struct audit *a, const char *who, const char *object,
                 const char *key, const char *old_value, const char *new_value)
{
    const char *o = old_value ? old_value : "";
    const char *n = new_value ? new_value : "";
    if (!strcmp(o, n))
        return AUDIT_OK;
    struct db_stmt *st = a->stmt[A_INSERT];
    db_bind_int64(st, 1, (int64_t)clock_now());
    db_bind_text(st, 2, who ? who : "", -1, DB_STATIC);
    db_bind_text(st, 3, object ? object : "", -1, DB_STATIC);
    db_bind_text(st, 4, key ? key : "*", -1, DB_STATIC);
    db_bind_text(st, 5, o, -1, DB_STATIC);
    db_bind_text(st, 6, n, -1, DB_STATIC);
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? AUDIT_OK : audit__fail(a, "record the change");
}

void audit_list_free(struct audit_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct audit_entry *e = &l->items[i];
        free(e->who);
        free(e->object);
        free(e->key);
        free(e->old_value);
        free(e->new_value);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static char *audit__col(struct db_stmt *st, int col)
{
    const unsigned char *t = db_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

/* The current row into a new entry of out. 0 or -1 (memory). */
static int audit__row(struct db_stmt *st, struct audit_list *out)
{
    struct audit_entry *grown =
        realloc(out->items, (out->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    out->items = grown;
    struct audit_entry *e = &out->items[out->n++];
    e->id = db_column_int64(st, 0);
    e->at = (time_t)db_column_int64(st, 1);
    e->who = audit__col(st, 2);
    e->object = audit__col(st, 3);
    e->key = audit__col(st, 4);
    e->old_value = audit__col(st, 5);
    e->new_value = audit__col(st, 6);
    return e->who && e->object && e->key && e->old_value && e->new_value ? 0
                                                                         : -1;
}

int audit_list(struct audit *a, size_t offset, size_t limit,
               struct audit_list *out)
{
    struct db_stmt *st = a->stmt[A_LIST];
    int rc, failed = 0;
    memset(out, 0, sizeof *out);
    db_bind_int64(st, 1, (int64_t)offset);
    db_bind_int64(st, 2, (int64_t)limit);
    while (!failed && (rc = db_step(st)) == DB_ROW)
        failed = audit__row(st, out) != 0;
    db_reset(st);
    if (!failed && rc == DB_DONE)
        return AUDIT_OK;
    audit_list_free(out);
    if (failed) {
        snprintf(a->err, sizeof a->err, "Out of memory reading the audit.");
        return AUDIT_ERR_STORE;
    }
    return audit__fail(a, "read the audit");
}
