/* directory.c - see directory.h */
#include "domain/directory.h"

#include "runtime/jid.h"
#include "runtime/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum directory__stmt {
    S_COMPANY_INSERT,
    S_COMPANY_UPDATE,
    S_COMPANY_GET,
    S_COMPANY_FIND,
    S_COMPANY_LIST,
    S_CONTACT_INSERT,
    S_CONTACT_UPDATE,
    S_CONTACT_GET,
    S_CONTACT_FIND,
    S_CONTACT_LIST,
    S_TECH_INSERT,
    S_TECH_UPDATE,
    S_TECH_GET,
    S_TECH_FIND,
    S_TECH_LIST,
    S_TECH_REMOVE,
    S_TECH_HINT,
    S_COUNT
};

#define COMPANY_COLS                                                           \
    "SELECT id, name, chat, pre_ticket, callback FROM companies"
#define CONTACT_COLS                                                           \
    "SELECT id, company_id, jid, name, phone, chat FROM contacts"
#define TECH_COLS "SELECT id, jid, name, admin FROM techs"

static const char *const directory__sql[S_COUNT] = {
    [S_COMPANY_INSERT] = "INSERT INTO companies (name, chat, pre_ticket, "
                         "callback) VALUES (?1, ?2, ?3, ?4) RETURNING id",
    [S_COMPANY_UPDATE] = "UPDATE companies SET name = ?2, chat = ?3, "
                         "pre_ticket = ?4, callback = ?5 WHERE id = ?1",
    [S_COMPANY_GET] = COMPANY_COLS " WHERE id = ?1",
    [S_COMPANY_FIND] = COMPANY_COLS " WHERE name = ?1",
    [S_COMPANY_LIST] = COMPANY_COLS " ORDER BY name",
    [S_CONTACT_INSERT] = "INSERT INTO contacts (company_id, jid, name, phone, "
                         "chat) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    [S_CONTACT_UPDATE] = "UPDATE contacts SET company_id = ?2, jid = ?3, "
                         "name = ?4, phone = ?5, chat = ?6 WHERE id = ?1",
    [S_CONTACT_GET] = CONTACT_COLS " WHERE id = ?1",
    [S_CONTACT_FIND] = CONTACT_COLS " WHERE jid = ?1",
    [S_CONTACT_LIST] =
        CONTACT_COLS " WHERE ?1 = 0 OR company_id = ?1 ORDER BY jid",
    [S_TECH_INSERT] = "INSERT INTO techs (jid, name, admin) "
                      "VALUES (?1, ?2, ?3) RETURNING id",
    [S_TECH_UPDATE] = "UPDATE techs SET jid = ?2, name = ?3, admin = ?4 "
                      "WHERE id = ?1",
    [S_TECH_GET] = TECH_COLS " WHERE id = ?1",
    [S_TECH_FIND] = TECH_COLS " WHERE jid = ?1",
    [S_TECH_LIST] = TECH_COLS " ORDER BY jid",
    [S_TECH_REMOVE] = "DELETE FROM techs WHERE jid = ?1",
    [S_TECH_HINT] = "UPDATE techs SET presence_hint = 1 "
                    "WHERE jid = ?1 AND presence_hint = 0",
};

struct directory {
    struct db *db;
    struct db_stmt *stmt[S_COUNT];
    char err[512];
};

/* ---- small helpers ---------------------------------------------------- */

const char *tristate_name(enum tristate t)
{
    switch (t) {
    case TRI_ON:
        return "on";
    case TRI_OFF:
        return "off";
    default:
        return "inherit";
    }
}

int tristate_parse(const char *s, enum tristate *out)
{
    static const char *const on[] = {"on", "yes", "true", "1"};
    static const char *const off[] = {"off", "no", "false", "0"};
    if (!s)
        return -1;
    if (!*s || !strcasecmp(s, "inherit")) {
        *out = TRI_INHERIT;
        return 0;
    }
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
        if (!strcasecmp(s, on[i])) {
            *out = TRI_ON;
            return 0;
        }
        if (!strcasecmp(s, off[i])) {
            *out = TRI_OFF;
            return 0;
        }
    }
    return -1;
}

const char *directory_role_name(enum dir_role role)
{
    switch (role) {
    case ROLE_CONTACT:
        return "contact";
    case ROLE_TECH:
        return "tech";
    case ROLE_ADMIN:
        return "admin";
    default:
        return "none";
    }
}

static bool directory__node_char_ok(unsigned char c)
{
    return c > 0x20 && c != 0x7f && !strchr("\"&'/:<>@", c);
}

int directory_jid_bare(const char *jid, char *out, size_t outlen)
{
    if (!jid || !out || outlen == 0)
        return -1;
    size_t len = strcspn(jid, "/");
    const char *at = memchr(jid, '@', len);
    if (!at || at == jid || (size_t)(at - jid) + 1 >= len)
        return -1;
    size_t node_len = (size_t)(at - jid);
    if (node_len > 1023 || len - node_len - 1 > 1023 ||
        jid_bare_lower(jid, out, outlen) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        if (i != node_len && !directory__node_char_ok(c) &&
            !(i > node_len && c == ':'))
            return -1;
    }
    return 0;
}

__attribute__((format(printf, 3, 4))) static int
directory__fail(struct directory *dir, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dir->err, sizeof dir->err, fmt, ap);
    va_end(ap);
    return code;
}

static int directory__store_fail(struct directory *dir, const char *what)
{
    return directory__fail(dir, DIR_ERR_STORE, "%s failed: %s", what,
                           db_errmsg(dir->db));
}

static struct db_stmt *directory__stmt(struct directory *dir,
                                     enum directory__stmt which)
{
    struct db_stmt *s = dir->stmt[which];
    db_reset(s);
    db_clear_bindings(s);
    return s;
}

static void directory__bind_tri(struct db_stmt *s, int col, enum tristate t)
{
    if (t == TRI_ON || t == TRI_OFF)
        db_bind_int(s, col, t == TRI_ON ? 1 : 0);
    else
        db_bind_null(s, col);
}

static enum tristate directory__col_tri(struct db_stmt *s, int col)
{
    if (db_column_type(s, col) == DB_NULL)
        return TRI_INHERIT;
    return db_column_int(s, col) ? TRI_ON : TRI_OFF;
}

static void directory__col_text(struct db_stmt *s, int col, char *dst,
                                size_t dstlen)
{
    const unsigned char *t = db_column_text(s, col);
    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

static bool directory__fits(const char *s, size_t max)
{
    return strnlen(s, max) < max;
}

/* Step a write statement once; map constraint failures to DIR_ERR_EXISTS
 * (unique) or DIR_ERR_NOT_FOUND (foreign key). */
static int directory__write_id(struct directory *dir, struct db_stmt *s,
                               const char *what, int64_t *id_out)
{
    int rc = db_step(s);
    if (rc == DB_ROW) { /* INSERT ... RETURNING id */
        if (id_out)
            *id_out = db_column_int64(s, 0);
        rc = db_step(s);
    }
    int ext = db_extended_errcode(dir->db);
    db_reset(s);
    if (rc == DB_DONE)
        return DIR_OK;
    if (ext == DB_CONSTRAINT_UNIQUE)
        return directory__fail(dir, DIR_ERR_EXISTS, "%s: already exists", what);
    if (ext == DB_CONSTRAINT_FOREIGNKEY)
        return directory__fail(dir, DIR_ERR_NOT_FOUND,
                               "%s: the company does not exist", what);
    return directory__store_fail(dir, what);
}

static int directory__write(struct directory *dir, struct db_stmt *s,
                            const char *what)
{
    return directory__write_id(dir, s, what, NULL);
}

/* Step the bound UPDATE s of the record id of kind what ("company",
 * "contact", "tech") like directory__write; DIR_ERR_NOT_FOUND when no
 * record has that id. */
static int directory__update(struct directory *dir, struct db_stmt *s,
                             const char *what, int64_t id)
{
    char op[32];
    snprintf(op, sizeof op, "update %s", what);
    int rc = directory__write(dir, s, op);
    if (rc == DIR_OK && db_changes(dir->db) == 0)
        return directory__fail(dir, DIR_ERR_NOT_FOUND, "no %s with id %lld",
                               what, (long long)id);
    return rc;
}

/* Run a read statement expected to give at most one row; row() copies it. */
static int directory__read_one(struct directory *dir, struct db_stmt *s,
                               void (*row)(struct db_stmt *, void *), void *out,
                               const char *what)
{
    int rc = db_step(s);
    if (rc == DB_ROW)
        row(s, out);
    db_reset(s);
    if (rc == DB_ROW)
        return DIR_OK;
    if (rc == DB_DONE)
        return directory__fail(dir, DIR_ERR_NOT_FOUND, "%s: not found", what);
    return directory__store_fail(dir, what);
}

/* Read with statement which the one record of kind what ("contact",
 * "tech") whose bare JID is that of jid; DIR_ERR_NOT_FOUND with a sentence
 * when jid is no JID or no such record exists. */
static int directory__find_jid(struct directory *dir,
                               enum directory__stmt which, const char *jid,
                               void (*row)(struct db_stmt *, void *), void *out,
                               const char *what)
{
    char bare[DIR_JID_MAX];
    if (directory_jid_bare(jid, bare, sizeof bare) != 0)
        return directory__fail(dir, DIR_ERR_NOT_FOUND,
                               "\"%s\" is not a valid JID", jid);
    struct db_stmt *s = directory__stmt(dir, which);
    db_bind_text(s, 1, bare, -1, DB_STATIC);
    int rc = directory__read_one(dir, s, row, out, what);
    if (rc == DIR_ERR_NOT_FOUND)
        directory__fail(dir, rc, "%s is not a %s", bare, what);
    return rc;
}

/* ---- open / close ----------------------------------------------------- */

struct directory *directory_open(struct store *st, char *err, size_t errlen)
{
    struct directory *dir = calloc(1, sizeof *dir);
    if (!dir) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    dir->db = store_db(st);
    if (store_prepare_all(dir->db, directory__sql, dir->stmt, S_COUNT,
                          "directory", err, errlen)) {
        directory_close(dir);
        return NULL;
    }
    return dir;
}

void directory_close(struct directory *dir)
{
    if (!dir)
        return;
    store_finalize_all(dir->stmt, S_COUNT);
    free(dir);
}

const char *directory_error(const struct directory *dir)
{
    return dir->err;
}

/* ---- companies -------------------------------------------------------- */

static void directory__company_row(struct db_stmt *s, void *out)
{
    struct company *c = out;
    c->id = db_column_int64(s, 0);
    directory__col_text(s, 1, c->name, sizeof c->name);
    c->chat = directory__col_tri(s, 2);
    c->pre_ticket = directory__col_tri(s, 3);
    c->callback = directory__col_tri(s, 4);
}

static int directory__company_check(struct directory *dir,
                                    const struct company *c)
{
    if (!directory__fits(c->name, sizeof c->name))
        return directory__fail(dir, DIR_ERR_INVALID,
                               "company name is too long (max %d bytes)",
                               DIR_NAME_MAX - 1);
    if (!c->name[0])
        return directory__fail(dir, DIR_ERR_INVALID,
                               "company name must not be empty");
    return DIR_OK;
}

static void directory__company_bind(struct db_stmt *s, int first,
                                    const struct company *c)
{
    db_bind_text(s, first, c->name, -1, DB_STATIC);
    directory__bind_tri(s, first + 1, c->chat);
    directory__bind_tri(s, first + 2, c->pre_ticket);
    directory__bind_tri(s, first + 3, c->callback);
}

int directory_company_create(struct directory *dir, const struct company *c,
                             int64_t *id_out)
{
    int rc = directory__company_check(dir, c);
    if (rc != DIR_OK)
        return rc;
    struct db_stmt *s = directory__stmt(dir, S_COMPANY_INSERT);
    directory__company_bind(s, 1, c);
    rc = directory__write_id(dir, s, "create company", id_out);
    if (rc == DIR_ERR_EXISTS)
        return directory__fail(dir, rc, "a company named \"%s\" exists",
                               c->name);
    return rc;
}

int directory_company_update(struct directory *dir, const struct company *c)
{
    int rc = directory__company_check(dir, c);
    if (rc != DIR_OK)
        return rc;
    struct db_stmt *s = directory__stmt(dir, S_COMPANY_UPDATE);
    db_bind_int64(s, 1, c->id);
    directory__company_bind(s, 2, c);
    rc = directory__update(dir, s, "company", c->id);
    if (rc == DIR_ERR_EXISTS)
        return directory__fail(dir, rc, "a company named \"%s\" exists",
                               c->name);
    return rc;
}

int directory_company_get(struct directory *dir, int64_t id,
                          struct company *out)
{
    struct db_stmt *s = directory__stmt(dir, S_COMPANY_GET);
    db_bind_int64(s, 1, id);
    return directory__read_one(dir, s, directory__company_row, out, "company");
}

int directory_company_find(struct directory *dir, const char *name,
                           struct company *out)
{
    struct db_stmt *s = directory__stmt(dir, S_COMPANY_FIND);
    db_bind_text(s, 1, name, -1, DB_STATIC);
    int rc =
        directory__read_one(dir, s, directory__company_row, out, "company");
    if (rc == DIR_ERR_NOT_FOUND)
        directory__fail(dir, rc, "no company named \"%s\"", name);
    return rc;
}

/* ---- contacts and techs: JID checks ----------------------------------- */

/* Normalise jid into out; refuse resources and malformed JIDs. */
static int directory__jid_arg(struct directory *dir, const char *jid, char *out,
                              size_t outlen, const char *what)
{
    if (!directory__fits(jid, DIR_JID_MAX))
        return directory__fail(dir, DIR_ERR_INVALID, "%s JID is too long",
                               what);
    if (strchr(jid, '/'))
        return directory__fail(dir, DIR_ERR_INVALID,
                               "%s JID \"%s\" must be bare (no /resource)",
                               what, jid);
    if (directory_jid_bare(jid, out, outlen) != 0)
        return directory__fail(dir, DIR_ERR_INVALID,
                               "%s JID \"%s\" is not a valid JID like "
                               "user@example.com",
                               what, jid);
    return DIR_OK;
}

/* Is jid (normalised) present in the given find statement's table, under a
 * different id than self_id? */
static int directory__jid_taken(struct directory *dir,
                                enum directory__stmt which, const char *jid,
                                int64_t self_id, bool *taken)
{
    struct db_stmt *s = directory__stmt(dir, which);
    db_bind_text(s, 1, jid, -1, DB_STATIC);
    int rc = db_step(s);
    *taken = rc == DB_ROW && db_column_int64(s, 0) != self_id;
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return directory__store_fail(dir, "JID lookup");
    return DIR_OK;
}

/* Refuse jid when it is in use by the other role or by another record of
 * the same role. */
static int directory__jid_free(struct directory *dir, const char *jid,
                               int64_t self_id, bool for_tech)
{
    bool taken = false;
    enum directory__stmt same = for_tech ? S_TECH_FIND : S_CONTACT_FIND;
    enum directory__stmt other = for_tech ? S_CONTACT_FIND : S_TECH_FIND;
    int rc = directory__jid_taken(dir, other, jid, 0, &taken);
    if (rc != DIR_OK)
        return rc;
    if (taken)
        return directory__fail(dir, DIR_ERR_EXISTS, "%s is already a %s", jid,
                               for_tech ? "contact" : "tech");
    rc = directory__jid_taken(dir, same, jid, self_id, &taken);
    if (rc != DIR_OK)
        return rc;
    if (taken)
        return directory__fail(dir, DIR_ERR_EXISTS, "%s is already a %s", jid,
                               for_tech ? "tech" : "contact");
    return DIR_OK;
}

/* ---- contacts --------------------------------------------------------- */

static void directory__contact_row(struct db_stmt *s, void *out)
{
    struct contact *c = out;
    c->id = db_column_int64(s, 0);
    c->company_id = db_column_int64(s, 1);
    directory__col_text(s, 2, c->jid, sizeof c->jid);
    directory__col_text(s, 3, c->name, sizeof c->name);
    directory__col_text(s, 4, c->phone, sizeof c->phone);
    c->chat = directory__col_tri(s, 5);
}

/* Validate c and normalise its JID into jid. */
static int directory__contact_check(struct directory *dir,
                                    const struct contact *c, char *jid)
{
    int rc = directory__jid_arg(dir, c->jid, jid, DIR_JID_MAX, "contact");
    if (rc != DIR_OK)
        return rc;
    if (!directory__fits(c->name, sizeof c->name))
        return directory__fail(dir, DIR_ERR_INVALID,
                               "contact name is too long (max %d bytes)",
                               DIR_NAME_MAX - 1);
    if (!directory__fits(c->phone, sizeof c->phone))
        return directory__fail(dir, DIR_ERR_INVALID,
                               "phone is too long (max %d bytes)",
                               DIR_PHONE_MAX - 1);
    struct company co;
    rc = directory_company_get(dir, c->company_id, &co);
    if (rc == DIR_ERR_NOT_FOUND)
        return directory__fail(dir, rc, "no company with id %lld",
                               (long long)c->company_id);
    if (rc != DIR_OK)
        return rc;
    return directory__jid_free(dir, jid, c->id, false);
}

static void directory__contact_bind(struct db_stmt *s, int first,
                                    const struct contact *c, const char *jid)
{
    db_bind_int64(s, first, c->company_id);
    db_bind_text(s, first + 1, jid, -1, DB_STATIC);
    db_bind_text(s, first + 2, c->name, -1, DB_STATIC);
    db_bind_text(s, first + 3, c->phone, -1, DB_STATIC);
    directory__bind_tri(s, first + 4, c->chat);
}

int directory_contact_create(struct directory *dir, const struct contact *c,
                             int64_t *id_out)
{
    char jid[DIR_JID_MAX];
    struct contact fresh = *c;
    fresh.id = 0;
    int rc = directory__contact_check(dir, &fresh, jid);
    if (rc != DIR_OK)
        return rc;
    struct db_stmt *s = directory__stmt(dir, S_CONTACT_INSERT);
    directory__contact_bind(s, 1, c, jid);
    rc = directory__write_id(dir, s, "create contact", id_out);
    return rc;
}

int directory_contact_update(struct directory *dir, const struct contact *c)
{
    char jid[DIR_JID_MAX];
    int rc = directory__contact_check(dir, c, jid);
    if (rc != DIR_OK)
        return rc;
    struct db_stmt *s = directory__stmt(dir, S_CONTACT_UPDATE);
    db_bind_int64(s, 1, c->id);
    directory__contact_bind(s, 2, c, jid);
    return directory__update(dir, s, "contact", c->id);
}

int directory_contact_get(struct directory *dir, int64_t id,
                          struct contact *out)
{
    struct db_stmt *s = directory__stmt(dir, S_CONTACT_GET);
    db_bind_int64(s, 1, id);
    return directory__read_one(dir, s, directory__contact_row, out, "contact");
}

int directory_contact_find(struct directory *dir, const char *jid,
                           struct contact *out)
{
    return directory__find_jid(dir, S_CONTACT_FIND, jid, directory__contact_row,
                               out, "contact");
}

/* ---- techs ------------------------------------------------------------ */

static void directory__tech_row(struct db_stmt *s, void *out)
{
    struct tech *t = out;
    t->id = db_column_int64(s, 0);
    directory__col_text(s, 1, t->jid, sizeof t->jid);
    directory__col_text(s, 2, t->name, sizeof t->name);
    t->admin = db_column_int(s, 3) != 0;
}

static int directory__tech_check(struct directory *dir, const struct tech *t,
                                 int64_t self_id, char *jid)
{
    int rc = directory__jid_arg(dir, t->jid, jid, DIR_JID_MAX, "tech");
    if (rc != DIR_OK)
        return rc;
    if (!directory__fits(t->name, sizeof t->name))
        return directory__fail(dir, DIR_ERR_INVALID,
                               "tech name is too long (max %d bytes)",
                               DIR_NAME_MAX - 1);
    return directory__jid_free(dir, jid, self_id, true);
}

int directory_tech_create(struct directory *dir, const struct tech *t,
                          int64_t *id_out)
{
    char jid[DIR_JID_MAX];
    int rc = directory__tech_check(dir, t, 0, jid);
    if (rc != DIR_OK)
        return rc;
    struct db_stmt *s = directory__stmt(dir, S_TECH_INSERT);
    db_bind_text(s, 1, jid, -1, DB_STATIC);
    db_bind_text(s, 2, t->name, -1, DB_STATIC);
    db_bind_int(s, 3, t->admin ? 1 : 0);
    rc = directory__write_id(dir, s, "create tech", id_out);
    return rc;
}

int directory_tech_update(struct directory *dir, const struct tech *t)
{
    char jid[DIR_JID_MAX];
    int rc = directory__tech_check(dir, t, t->id, jid);
    if (rc != DIR_OK)
        return rc;
    struct db_stmt *s = directory__stmt(dir, S_TECH_UPDATE);
    db_bind_int64(s, 1, t->id);
    db_bind_text(s, 2, jid, -1, DB_STATIC);
    db_bind_text(s, 3, t->name, -1, DB_STATIC);
    db_bind_int(s, 4, t->admin ? 1 : 0);
    return directory__update(dir, s, "tech", t->id);
}

int directory_tech_get(struct directory *dir, int64_t id, struct tech *out)
{
    struct db_stmt *s = directory__stmt(dir, S_TECH_GET);
    db_bind_int64(s, 1, id);
    return directory__read_one(dir, s, directory__tech_row, out, "tech");
}

int directory_tech_find(struct directory *dir, const char *jid,
                        struct tech *out)
{
    return directory__find_jid(dir, S_TECH_FIND, jid, directory__tech_row, out,
                               "tech");
}

int directory_tech_remove(struct directory *dir, const char *jid)
{
    char bare[DIR_JID_MAX];
    if (directory_jid_bare(jid, bare, sizeof bare) != 0)
        return directory__fail(dir, DIR_ERR_NOT_FOUND,
                               "\"%s\" is not a valid JID", jid);
    struct db_stmt *s = directory__stmt(dir, S_TECH_REMOVE);
    db_bind_text(s, 1, bare, -1, DB_STATIC);
    int rc = directory__write(dir, s, "remove tech");
    if (rc == DIR_OK && db_changes(dir->db) == 0)
        return directory__fail(dir, DIR_ERR_NOT_FOUND, "%s is not a tech",
                               bare);
    return rc;
}

int directory_tech_hint_once(struct directory *dir, const char *jid)
{
    char bare[DIR_JID_MAX];
    if (directory_jid_bare(jid, bare, sizeof bare) != 0)
        return 0;
    struct db_stmt *s = directory__stmt(dir, S_TECH_HINT);
    db_bind_text(s, 1, bare, -1, DB_STATIC);
    if (directory__write(dir, s, "mark the presence hint") != DIR_OK)
        return -1;
    return db_changes(dir->db) == 1;
}

/* ---- listing ---------------------------------------------------------- */

/* Walk the rows of s, copying each with row() into rec and calling
 * visit(rec, ud) until it returns non-zero. */
static int directory__walk(struct directory *dir, struct db_stmt *s,
                           void (*row)(struct db_stmt *, void *), void *rec,
                           int (*visit)(const void *, void *), void *ud)
{
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        row(s, rec);
        if (visit(rec, ud) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(s);
    return rc == DB_DONE ? DIR_OK : directory__store_fail(dir, "list");
}

struct directory__visit {
    directory_company_cb company;
    directory_contact_cb contact;
    directory_tech_cb tech;
    void *ud;
};

static int directory__visit_company(const void *rec, void *ud)
{
    const struct directory__visit *v = ud;
    return v->company(rec, v->ud);
}

static int directory__visit_contact(const void *rec, void *ud)
{
    const struct directory__visit *v = ud;
    return v->contact(rec, v->ud);
}

static int directory__visit_tech(const void *rec, void *ud)
{
    const struct directory__visit *v = ud;
    return v->tech(rec, v->ud);
}

int directory_company_list(struct directory *dir, directory_company_cb cb,
                           void *ud)
{
    struct company rec;
    struct directory__visit v = {.company = cb, .ud = ud};
    struct db_stmt *s = directory__stmt(dir, S_COMPANY_LIST);
    return directory__walk(dir, s, directory__company_row, &rec,
                           directory__visit_company, &v);
}

int directory_contact_list(struct directory *dir, int64_t company_id,
                           directory_contact_cb cb, void *ud)
{
    struct contact rec;
    struct directory__visit v = {.contact = cb, .ud = ud};
    struct db_stmt *s = directory__stmt(dir, S_CONTACT_LIST);
    db_bind_int64(s, 1, company_id);
    return directory__walk(dir, s, directory__contact_row, &rec,
                           directory__visit_contact, &v);
}

int directory_tech_list(struct directory *dir, directory_tech_cb cb, void *ud)
{
    struct tech rec;
    struct directory__visit v = {.tech = cb, .ud = ud};
    struct db_stmt *s = directory__stmt(dir, S_TECH_LIST);
    return directory__walk(dir, s, directory__tech_row, &rec,
                           directory__visit_tech, &v);
}

/* ---- roles ------------------------------------------------------------ */

static bool directory__is_config_admin(const char *bare,
                                       const char *const *admins, size_t n)
{
    char norm[DIR_JID_MAX];
    for (size_t i = 0; i < n; i++) {
        if (!admins || !admins[i])
            continue;
        if (directory_jid_bare(admins[i], norm, sizeof norm) == 0 &&
            !strcmp(norm, bare))
            return true;
    }
    return false;
}

enum dir_role directory_role(struct directory *dir, const char *bare_jid,
                             const char *const *admins, size_t n_admins)
{
    char bare[DIR_JID_MAX];
    if (directory_jid_bare(bare_jid, bare, sizeof bare) != 0)
        return ROLE_NONE;
    if (directory__is_config_admin(bare, admins, n_admins))
        return ROLE_ADMIN;
    struct tech t;
    enum dir_role role = ROLE_NONE;
    if (directory_tech_find(dir, bare, &t) == DIR_OK) {
        role = t.admin ? ROLE_ADMIN : ROLE_TECH;
    } else {
        struct db_stmt *s = directory__stmt(dir, S_CONTACT_FIND);
        db_bind_text(s, 1, bare, -1, DB_STATIC);
        if (db_step(s) == DB_ROW)
            role = ROLE_CONTACT;
        db_reset(s);
    }
    return role;
}
