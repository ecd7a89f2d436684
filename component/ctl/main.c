/* main.c - chatdeskctl: bulk import and scripted set-up on the same
 * database as the component (SPEC §5).
 *
 *   chatdeskctl -d DBPATH import companies|contacts|techs FILE.csv
 *   chatdeskctl -d DBPATH list companies|contacts|techs
 *   chatdeskctl -d DBPATH set chat|pre-ticket|callback on|off
 *   chatdeskctl -d DBPATH set chat|pre-ticket|callback on|off|inherit
 *                             --company NAME
 *   chatdeskctl -d DBPATH set chat on|off|inherit --contact JID
 *   chatdeskctl -d DBPATH set timezone|office-hours|holidays|
 *                             answer-timeout|idle-timeout VALUE
 *   chatdeskctl -d DBPATH unset SETTING
 *   chatdeskctl -d DBPATH remove tech JID
 *   chatdeskctl -d DBPATH show settings
 *   chatdeskctl -d DBPATH ticket list [open|closed] | show ID |
 *                             close ID [NOTE]
 *   chatdeskctl -d DBPATH outbox list | retry EVENT-ID
 *   chatdeskctl -d DBPATH audit [PAGE]
 *
 * Changes of settings and removals of techs are recorded in the audit
 * trail (domain/audit.h) with who "chatdeskctl", like the admin commands'.
 * -c FILE instead of -d takes the database path from chatdesk's config
 * file ([database] path), so both programs are started the same way.
 * Import is all or nothing: every row is checked inside one transaction and
 * any bad row (reported as FILE:LINE: reason) rolls the whole file back.
 * Rows are upserts keyed by company name / JID; a column missing from the
 * header leaves that field of an existing record unchanged.
 * Exit codes: 0 ok, 2 usage or bad input, 1 any other failure.
 */
#include "ctl/ctl.h"
#include "domain/audit.h"
#include "domain/directory.h"
#include "domain/settings.h"
#include "domain/tickets.h"
#include "runtime/config.h"
#include "runtime/store.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CTL_MAX_COLS 8
#define CTL_MAX_REPORTED 20
#define CTL_MAX_FILE (256L * 1024 * 1024)

static const char ctl__usage[] =
    "usage: chatdeskctl -d DBPATH COMMAND [ARGS]\n"
    "       chatdeskctl -c FILE COMMAND [ARGS]   (the database of chatdesk's\n"
    "                                             config file)\n"
    "\n"
    "commands:\n"
    "  import companies|contacts|techs FILE.csv\n"
    "      CSV with a header row. Columns:\n"
    "        companies: name[,chat,pre_ticket,callback]\n"
    "        contacts:  jid,company,name,phone[,chat]\n"
    "        techs:     jid,name[,admin]\n"
    "      overrides are on|off|inherit (empty = inherit); admin yes|no.\n"
    "      All rows or none: a bad row is reported as FILE:LINE and\n"
    "      nothing is imported.\n"
    "  list companies|contacts|techs      print as CSV (same columns)\n"
    "  set chat|pre-ticket|callback on|off          global setting\n"
    "  set chat|pre-ticket|callback on|off|inherit --company NAME\n"
    "  set chat on|off|inherit --contact JID\n"
    "  set timezone|office-hours|holidays|answer-timeout|idle-timeout "
    "VALUE\n"
    "      e.g. set office-hours \"mon-fri 09:00-17:00; sat 10:00-12:00\"\n"
    "           set holidays 2026-12-25,2026-12-26\n"
    "  unset SETTING                      back to the default\n"
    "  remove tech JID\n"
    "  show settings\n"
    "  audit [PAGE]                       the audit trail of admin changes,\n"
    "      newest first, 50 a page (tab-separated: when, who, object,\n"
    "      key, old, new)\n"
    "  backup FILE                        a consistent copy of the database\n"
    "      in FILE (sqlite online backup), also while chatdesk runs\n"
    "  ticket list [open|closed]          id, status, created, summary\n"
    "  ticket show ID                     the ticket and every note\n"
    "  ticket close ID [NOTE]             close it (NOTE: a closing note)\n"
    "  outbox list                        the PSA events: event id, ticket,\n"
    "                                     type, status, attempts, last answer\n"
    "  outbox retry EVENT-ID              send a dead letter again\n"
    "\n"
    "exit status: 0 ok, 2 usage or bad input, 1 other failure\n";

static int ctl__usage_error(const char *what)
{
    ctl_err("%s (see chatdeskctl --help)", what);
    return CTL_USAGE;
}

static int ctl__open(struct ctl *c, const char *path)
{
    char err[512];
    memset(c, 0, sizeof *c);
    c->st = store_open(path, err, sizeof err);
    if (c->st)
        c->dir = directory_open(c->st, err, sizeof err);
    if (c->dir)
        c->ss = settings_open(c->st, err, sizeof err);
    if (c->ss)
        c->ts = ticket_store_sqlite_new(c->st, err, sizeof err);
    if (c->ts)
        c->audit = audit_open(c->st, err, sizeof err);
    if (c->audit)
        return 0;
    ctl_err("%s", err);
    ticket_store_destroy(c->ts);
    settings_close(c->ss);
    directory_close(c->dir);
    store_close(c->st);
    return -1;
}

static void ctl__close(struct ctl *c)
{
    audit_close(c->audit);
    ticket_store_destroy(c->ts);
    settings_close(c->ss);
    directory_close(c->dir);
    store_close(c->st);
}

/* ---- CSV reading (RFC 4180, plus trimming of unquoted fields) ------------
 * The file is read whole; records may span lines inside quotes. */

struct ctl__csv {
    char *text;    /* the whole file */
    const char *p; /* next unread byte */
    const char *end;
    long line;        /* line of *p */
    long record_line; /* line the last record started on */
    char *buf;        /* the fields of the last record, NUL-separated */
    size_t len, cap;
    size_t starts[CTL_MAX_COLS + 1];
    size_t nf;     /* fields in the last record */
    bool too_many; /* more than CTL_MAX_COLS fields */
    const char *field[CTL_MAX_COLS];
};

static int ctl__csv_load(struct ctl__csv *c, const char *path)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || size > CTL_MAX_FILE || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    c->text = malloc((size_t)size + 1);
    size_t got = c->text ? fread(c->text, 1, (size_t)size, f) : 0;
    fclose(f);
    if (!c->text || got != (size_t)size) {
        free(c->text);
        return -1;
    }
    c->text[size] = '\0';
    c->p = c->text;
    c->end = c->text + size;
    c->line = 1;
    if (size >= 3 && !memcmp(c->p, "\xEF\xBB\xBF", 3))
        c->p += 3; /* UTF-8 byte order mark */
    return 0;
}

static void ctl__csv_free(struct ctl__csv *c)
{
    free(c->text);
    free(c->buf);
}

static int ctl__csv_put(struct ctl__csv *c, char ch)
{
    if (c->len + 1 >= c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        char *nb = realloc(c->buf, ncap);
        if (!nb)
            return -1;
        c->buf = nb;
        c->cap = ncap;
    }
    c->buf[c->len++] = ch;
    return 0;
}

/* Close the current field; start the next one. */
static int ctl__csv_end_field(struct ctl__csv *c)
{
    if (ctl__csv_put(c, '\0') != 0)
        return -1;
    if (c->nf < CTL_MAX_COLS)
        c->starts[++c->nf] = c->len;
    else
        c->too_many = true;
    return 0;
}

static int ctl__csv_peek(const struct ctl__csv *c)
{
    return c->p < c->end ? (unsigned char)*c->p : EOF;
}

/* An unquoted field: up to ',' or end of line; surrounding blanks dropped. */
static int ctl__csv_unquoted(struct ctl__csv *c, const char **why)
{
    size_t keep = c->len;
    int ch;
    while ((ch = ctl__csv_peek(c)) != EOF && ch != ',' && ch != '\n') {
        if (ch == '"') {
            *why = "a quote inside an unquoted field (put the whole field "
                   "in quotes and double the quote)";
            return -1;
        }
        if (ctl__csv_put(c, (char)ch) != 0)
            return -1;
        if (!isspace(ch))
            keep = c->len;
        c->p++;
    }
    c->len = keep;
    return 0;
}

/* A quoted field; c->p is just after the opening quote. */
static int ctl__csv_quoted(struct ctl__csv *c, const char **why)
{
    for (;;) {
        int ch = ctl__csv_peek(c);
        if (ch == EOF) {
            *why = "a quoted field is not closed";
            return -1;
        }
        c->p++;
        if (ch == '\n')
            c->line++;
        if (ch == '"') {
            if (ctl__csv_peek(c) != '"')
                break;
            c->p++;
        }
        if (ctl__csv_put(c, (char)ch) != 0)
            return -1;
    }
    while (ctl__csv_peek(c) == ' ' || ctl__csv_peek(c) == '\t' ||
           ctl__csv_peek(c) == '\r')
        c->p++;
    int next = ctl__csv_peek(c);
    if (next != ',' && next != '\n' && next != EOF) {
        *why = "text after a closing quote (double a quote inside quotes)";
        return -1;
    }
    return 0;
}

/* Read one record into c->field / c->nf. Returns 1, 0 at the end, or -1
 * with the reason in *why. */
static int ctl__csv_record(struct ctl__csv *c, const char **why)
{
    *why = "out of memory";
    if (c->p >= c->end)
        return 0;
    c->record_line = c->line;
    c->len = 0;
    c->nf = 0;
    c->too_many = false;
    c->starts[0] = 0;
    for (;;) {
        while (ctl__csv_peek(c) == ' ' || ctl__csv_peek(c) == '\t')
            c->p++;
        int rc = ctl__csv_peek(c) == '"' ? (c->p++, ctl__csv_quoted(c, why))
                                         : ctl__csv_unquoted(c, why);
        if (rc != 0 || ctl__csv_end_field(c) != 0)
            return -1;
        int ch = ctl__csv_peek(c);
        if (ch != EOF)
            c->p++;
        if (ch == ',')
            continue;
        if (ch == '\n')
            c->line++;
        break;
    }
    for (size_t i = 0; i < c->nf; i++)
        c->field[i] = c->buf + c->starts[i];
    return 1;
}

/* Like ctl__csv_record, skipping blank lines. */
static int ctl__csv_next(struct ctl__csv *c, const char **why)
{
    int rc;
    while ((rc = ctl__csv_record(c, why)) == 1) {
        if (c->nf > 1 || c->too_many || c->field[0][0])
            return 1;
    }
    return rc;
}

/* ---- CSV writing -------------------------------------------------------- */

static void ctl__csv_write(FILE *out, const char *s, bool last)
{
    bool quote = s[0] == ' ' || (s[0] && s[strlen(s) - 1] == ' ') ||
                 strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        fputs(s, out);
    } else {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    }
    fputc(last ? '\n' : ',', out);
}

/* ---- import ------------------------------------------------------------- */

/* The row of one record, by the kind's column index. */
struct ctl__row {
    const char *v[CTL_MAX_COLS]; /* "" when the column is absent */
    bool has[CTL_MAX_COLS];      /* column present in the header */
};

enum ctl__row_result { ROW_CREATED, ROW_UPDATED, ROW_BAD, ROW_FATAL };

struct ctl__kind {
    const char *name;
    const char *columns[CTL_MAX_COLS]; /* NULL-terminated */
    size_t n_required;                 /* the first n are required */
    enum ctl__row_result (*row)(struct ctl *c, const struct ctl__row *r,
                                char *err, size_t errlen);
};

static enum ctl__row_result ctl__dir_result(struct ctl *c, int rc, char *err,
                                            size_t errlen)
{
    if (rc == DIR_OK)
        return ROW_CREATED;
    snprintf(err, errlen, "%s", directory_error(c->dir));
    return rc == DIR_ERR_STORE ? ROW_FATAL : ROW_BAD;
}

/* Parse an optional tri-state column into *dst when present. */
static int ctl__tri_col(const struct ctl__row *r, int col, const char *name,
                        enum tristate *dst, char *err, size_t errlen)
{
    if (!r->has[col])
        return 0;
    if (tristate_parse(r->v[col], dst) == 0)
        return 0;
    snprintf(err, errlen, "%s: \"%s\" is not on, off or inherit", name,
             r->v[col]);
    return -1;
}

static int ctl__text_col(const char *value, char *dst, size_t dstlen,
                         const char *name, char *err, size_t errlen)
{
    if (strlen(value) < dstlen) {
        memcpy(dst, value, strlen(value) + 1);
        return 0;
    }
    snprintf(err, errlen, "%s is too long (max %zu bytes)", name, dstlen - 1);
    return -1;
}

static enum ctl__row_result ctl__company_row(struct ctl *c,
                                             const struct ctl__row *r,
                                             char *err, size_t errlen)
{
    struct company co = {0};
    bool exists = false;
    int rc = directory_company_find(c->dir, r->v[0], &co);
    if (rc == DIR_ERR_STORE)
        return ctl__dir_result(c, rc, err, errlen);
    exists = rc == DIR_OK;
    if (!exists && ctl__text_col(r->v[0], co.name, sizeof co.name,
                                 "company name", err, errlen) != 0)
        return ROW_BAD;
    if (ctl__tri_col(r, 1, "chat", &co.chat, err, errlen) ||
        ctl__tri_col(r, 2, "pre_ticket", &co.pre_ticket, err, errlen) ||
        ctl__tri_col(r, 3, "callback", &co.callback, err, errlen))
        return ROW_BAD;
    rc = exists ? directory_company_update(c->dir, &co)
                : directory_company_create(c->dir, &co, NULL);
    enum ctl__row_result res = ctl__dir_result(c, rc, err, errlen);
    return res == ROW_CREATED && exists ? ROW_UPDATED : res;
}

static enum ctl__row_result ctl__contact_row(struct ctl *c,
                                             const struct ctl__row *r,
                                             char *err, size_t errlen)
{
    struct contact ct = {0};
    struct company co;
    int rc = directory_company_find(c->dir, r->v[1], &co);
    if (rc != DIR_OK)
        return ctl__dir_result(c, rc, err, errlen);
    rc = directory_contact_find(c->dir, r->v[0], &ct);
    if (rc == DIR_ERR_STORE)
        return ctl__dir_result(c, rc, err, errlen);
    bool exists = rc == DIR_OK;
    ct.company_id = co.id;
    if (ctl__text_col(r->v[0], ct.jid, sizeof ct.jid, "jid", err, errlen) ||
        ctl__text_col(r->v[2], ct.name, sizeof ct.name, "name", err, errlen) ||
        ctl__text_col(r->v[3], ct.phone, sizeof ct.phone, "phone", err,
                      errlen) ||
        ctl__tri_col(r, 4, "chat", &ct.chat, err, errlen))
        return ROW_BAD;
    rc = exists ? directory_contact_update(c->dir, &ct)
                : directory_contact_create(c->dir, &ct, NULL);
    enum ctl__row_result res = ctl__dir_result(c, rc, err, errlen);
    return res == ROW_CREATED && exists ? ROW_UPDATED : res;
}

static enum ctl__row_result
ctl__tech_row(struct ctl *c, const struct ctl__row *r, char *err, size_t errlen)
{
    struct tech t = {0};
    enum tristate admin = TRI_OFF;
    int rc = directory_tech_find(c->dir, r->v[0], &t);
    if (rc == DIR_ERR_STORE)
        return ctl__dir_result(c, rc, err, errlen);
    bool exists = rc == DIR_OK;
    if (r->has[2] && (tristate_parse(r->v[2], &admin) != 0 ||
                      (r->v[2][0] && admin == TRI_INHERIT))) {
        snprintf(err, errlen, "admin: \"%s\" is not yes or no", r->v[2]);
        return ROW_BAD;
    }
    if (r->has[2] || !exists)
        t.admin = admin == TRI_ON;
    if (ctl__text_col(r->v[0], t.jid, sizeof t.jid, "jid", err, errlen) ||
        ctl__text_col(r->v[1], t.name, sizeof t.name, "name", err, errlen))
        return ROW_BAD;
    rc = exists ? directory_tech_update(c->dir, &t)
                : directory_tech_create(c->dir, &t, NULL);
    enum ctl__row_result res = ctl__dir_result(c, rc, err, errlen);
    return res == ROW_CREATED && exists ? ROW_UPDATED : res;
}

static const struct ctl__kind ctl__kinds[] = {
    {"companies",
     {"name", "chat", "pre_ticket", "callback", NULL},
     1,
     ctl__company_row},
    {"contacts",
     {"jid", "company", "name", "phone", "chat", NULL},
     4,
     ctl__contact_row},
    {"techs", {"jid", "name", "admin", NULL}, 2, ctl__tech_row},
};

static const struct ctl__kind *ctl__kind(const char *name)
{
    for (size_t i = 0; i < sizeof ctl__kinds / sizeof ctl__kinds[0]; i++) {
        if (!strcmp(name, ctl__kinds[i].name))
            return &ctl__kinds[i];
    }
    return NULL;
}

static int ctl__column(const struct ctl__kind *k, const char *header)
{
    char norm[32];
    size_t i = 0;
    for (; header[i] && i + 1 < sizeof norm; i++)
        norm[i] =
            header[i] == '-' ? '_' : (char)tolower((unsigned char)header[i]);
    norm[i] = '\0';
    for (int col = 0; k->columns[col]; col++) {
        if (!strcmp(norm, k->columns[col]))
            return col;
    }
    return -1;
}

/* Map header fields to the kind's columns in map[]. */
static int ctl__header(const struct ctl__kind *k, const struct ctl__csv *csv,
                       int *map, char *err, size_t errlen)
{
    bool seen[CTL_MAX_COLS] = {false};
    for (size_t i = 0; i < csv->nf; i++) {
        int col = ctl__column(k, csv->field[i]);
        if (col < 0 || seen[col]) {
            snprintf(err, errlen, "%s column \"%s\" in the header",
                     col < 0 ? "unknown" : "repeated", csv->field[i]);
            return -1;
        }
        seen[col] = true;
        map[i] = col;
    }
    for (size_t col = 0; col < k->n_required; col++) {
        if (!seen[col]) {
            snprintf(err, errlen, "the header lacks the column \"%s\"",
                     k->columns[col]);
            return -1;
        }
    }
    return 0;
}

struct ctl__import_state {
    const char *path;
    const struct ctl__kind *kind;
    struct ctl__csv csv;
    int map[CTL_MAX_COLS];
    size_t n_cols;
    long created, updated, bad;
};

static void ctl__bad_row(struct ctl__import_state *s, long line,
                         const char *why)
{
    if (++s->bad <= CTL_MAX_REPORTED)
        fprintf(stderr, "%s:%ld: %s\n", s->path, line, why);
}

/* Check and apply one data record. Returns -1 only on a fatal error. */
static int ctl__import_record(struct ctl *c, struct ctl__import_state *s)
{
    struct ctl__row r;
    char err[600];
    if (s->csv.too_many || s->csv.nf != s->n_cols) {
        snprintf(err, sizeof err, "expected %zu fields, found %s%zu", s->n_cols,
                 s->csv.too_many ? "more than " : "", s->csv.nf);
        ctl__bad_row(s, s->csv.record_line, err);
        return 0;
    }
    memset(&r, 0, sizeof r);
    for (size_t col = 0; col < CTL_MAX_COLS; col++)
        r.v[col] = "";
    for (size_t i = 0; i < s->csv.nf; i++) {
        r.v[s->map[i]] = s->csv.field[i];
        r.has[s->map[i]] = true;
    }
    for (size_t col = 0; col < s->kind->n_required; col++) {
        if (!r.v[col][0] && strcmp(s->kind->columns[col], "name") != 0 &&
            strcmp(s->kind->columns[col], "phone") != 0) {
            snprintf(err, sizeof err, "%s is empty", s->kind->columns[col]);
            ctl__bad_row(s, s->csv.record_line, err);
            return 0;
        }
    }
    switch (s->kind->row(c, &r, err, sizeof err)) {
    case ROW_CREATED:
        s->created++;
        return 0;
    case ROW_UPDATED:
        s->updated++;
        return 0;
    case ROW_BAD:
        ctl__bad_row(s, s->csv.record_line, err);
        return 0;
    default:
        ctl_err("%s:%ld: %s", s->path, s->csv.record_line, err);
        return -1;
    }
}

/* Read the header and every record. Returns CTL_OK, CTL_USAGE (bad input,
 * reported) or CTL_FAIL. */
static int ctl__import_rows(struct ctl *c, struct ctl__import_state *s)
{
    const char *why = NULL;
    char err[256];
    int rc = ctl__csv_next(&s->csv, &why);
    if (rc == 0) {
        ctl__bad_row(s, 1, "the file is empty (it needs a header row)");
        return CTL_USAGE;
    }
    if (rc < 0 || s->csv.too_many ||
        ctl__header(s->kind, &s->csv, s->map, err, sizeof err) != 0) {
        ctl__bad_row(s, s->csv.record_line,
                     rc < 0            ? why
                     : s->csv.too_many ? "too many columns"
                                       : err);
        return CTL_USAGE;
    }
    s->n_cols = s->csv.nf;
    while ((rc = ctl__csv_next(&s->csv, &why)) == 1) {
        if (ctl__import_record(c, s) != 0)
            return CTL_FAIL;
    }
    if (rc < 0) {
        ctl__bad_row(s, s->csv.record_line, why);
        return CTL_USAGE; /* cannot resynchronise after a broken record */
    }
    return s->bad ? CTL_USAGE : CTL_OK;
}

static int ctl__import(struct ctl *c, const char *kind, const char *path)
{
    struct ctl__import_state s;
    memset(&s, 0, sizeof s);
    s.path = path;
    s.kind = ctl__kind(kind);
    if (!s.kind)
        return ctl__usage_error("import what? companies, contacts or techs");
    if (ctl__csv_load(&s.csv, path) != 0) {
        ctl_err("cannot read %s", path);
        return CTL_USAGE;
    }
    if (store_begin(c->st) != 0) {
        ctl__csv_free(&s.csv);
        ctl_err("cannot start a transaction: %s", db_errmsg(store_db(c->st)));
        return CTL_FAIL;
    }
    int rc = ctl__import_rows(c, &s);
    if (rc == CTL_OK && store_commit(c->st) != 0) {
        ctl_err("commit failed: %s", db_errmsg(store_db(c->st)));
        rc = CTL_FAIL;
    }
    if (rc != CTL_OK) {
        store_rollback(c->st);
        if (s.bad > CTL_MAX_REPORTED)
            ctl_err("... and %ld more bad rows", s.bad - CTL_MAX_REPORTED);
        ctl_err("%s: nothing imported", path);
    } else {
        printf("imported %ld %s from %s (%ld created, %ld updated)\n",
               s.created + s.updated, kind, path, s.created, s.updated);
    }
    ctl__csv_free(&s.csv);
    return rc;
}

/* ---- list --------------------------------------------------------------- */

static int ctl__print_company(const struct company *co, void *ud)
{
    FILE *out = ud;
    ctl__csv_write(out, co->name, false);
    ctl__csv_write(out, tristate_name(co->chat), false);
    ctl__csv_write(out, tristate_name(co->pre_ticket), false);
    ctl__csv_write(out, tristate_name(co->callback), true);
    return 0;
}

static int ctl__print_contact(const struct contact *ct, void *ud)
{
    struct ctl *c = ud;
    struct company co;
    if (directory_company_get(c->dir, ct->company_id, &co) != DIR_OK)
        co.name[0] = '\0';
    ctl__csv_write(stdout, ct->jid, false);
    ctl__csv_write(stdout, co.name, false);
    ctl__csv_write(stdout, ct->name, false);
    ctl__csv_write(stdout, ct->phone, false);
    ctl__csv_write(stdout, tristate_name(ct->chat), true);
    return 0;
}

static int ctl__print_tech(const struct tech *t, void *ud)
{
    FILE *out = ud;
    ctl__csv_write(out, t->jid, false);
    ctl__csv_write(out, t->name, false);
    ctl__csv_write(out, t->admin ? "yes" : "no", true);
    return 0;
}

static int ctl__list(struct ctl *c, const char *kind)
{
    int rc;
    if (!strcmp(kind, "companies")) {
        puts("name,chat,pre_ticket,callback");
        rc = directory_company_list(c->dir, ctl__print_company, stdout);
    } else if (!strcmp(kind, "contacts")) {
        puts("jid,company,name,phone,chat");
        rc = directory_contact_list(c->dir, 0, ctl__print_contact, c);
    } else if (!strcmp(kind, "techs")) {
        puts("jid,name,admin");
        rc = directory_tech_list(c->dir, ctl__print_tech, stdout);
    } else {
        return ctl__usage_error("list what? companies, contacts or techs");
    }
    if (rc == DIR_OK)
        return CTL_OK;
    ctl_err("%s", directory_error(c->dir));
    return CTL_FAIL;
}

/* ---- set / unset / show / remove ---------------------------------------- */

/* set FLAG VALUE --company NAME */
static int ctl__set_company(struct ctl *c, const char *flag,
                            enum tristate value, const char *name)
{
    struct company co;
    int rc = directory_company_find(c->dir, name, &co);
    if (rc == DIR_OK) {
        if (!strcmp(flag, "chat"))
            co.chat = value;
        else if (!strcmp(flag, "pre-ticket"))
            co.pre_ticket = value;
        else
            co.callback = value;
        rc = directory_company_update(c->dir, &co);
    }
    if (rc == DIR_OK)
        return CTL_OK;
    ctl_err("%s", directory_error(c->dir));
    return rc == DIR_ERR_STORE ? CTL_FAIL : CTL_USAGE;
}

/* set chat VALUE --contact JID */
static int ctl__set_contact(struct ctl *c, enum tristate value, const char *jid)
{
    struct contact ct;
    int rc = directory_contact_find(c->dir, jid, &ct);
    if (rc == DIR_OK) {
        ct.chat = value;
        rc = directory_contact_update(c->dir, &ct);
    }
    if (rc == DIR_OK)
        return CTL_OK;
    ctl_err("%s", directory_error(c->dir));
    return rc == DIR_ERR_STORE ? CTL_FAIL : CTL_USAGE;
}

/* Record the change of setting key from before (SETTINGS_VALUE_MAX bytes
 * of buffer, reused) to its value now. 0 or -1 (printed). */
static int ctl__audit_setting(struct ctl *c, const char *key, char *before)
{
    char name[64], *after = malloc(SETTINGS_VALUE_MAX);
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof name; i++)
        name[i] = key[i] == '-' ? '_' : key[i];
    name[i] = '\0';
    if (after)
        ctl_setting_value(c, key, after, SETTINGS_VALUE_MAX);
    int rc = ctl_audit_record(c, "settings", name, before, after ? after : "?");
    free(after);
    return rc;
}

/* set or (value NULL) unset the setting key, with its audit entry. */
static int ctl__set_setting(struct ctl *c, const char *key, const char *value)
{
    char err[600], *before = malloc(SETTINGS_VALUE_MAX);
    if (!before) {
        ctl_err("out of memory");
        return CTL_FAIL;
    }
    ctl_setting_value(c, key, before, SETTINGS_VALUE_MAX);
    if (ctl_change_begin(c) != 0) {
        free(before);
        return CTL_FAIL;
    }
    int rc = value ? settings_set(c->ss, key, value, err, sizeof err)
                   : settings_unset(c->ss, key, err, sizeof err);
    int audited = rc == 0 && ctl__audit_setting(c, key, before) == 0;
    free(before);
    if (ctl_change_end(c, audited) == 0)
        return CTL_OK;
    if (rc == 0)
        return CTL_FAIL; /* the audit entry or the commit failed: printed */
    ctl_err("%s", err);
    if (!value)
        return strstr(err, "unknown") ? CTL_USAGE : CTL_FAIL;
    return strstr(err, "cannot write") ? CTL_FAIL : CTL_USAGE;
}

/* set FLAG VALUE [--company NAME | --contact JID] */
static int ctl__set_flag(struct ctl *c, int argc, char **argv)
{
    const char *flag = argv[0];
    enum tristate value;
    if (argc != 2 && argc != 4)
        return ctl__usage_error("set FLAG VALUE [--company NAME | "
                                "--contact JID]");
    if (tristate_parse(argv[1], &value) != 0 || !argv[1][0])
        return ctl__usage_error("the value must be on, off or inherit");
    if (argc == 2) {
        if (value == TRI_INHERIT)
            return ctl__usage_error("a global flag takes only on or off");
        return ctl__set_setting(c, flag, argv[1]);
    }
    if (!strcmp(argv[2], "--company"))
        return ctl__set_company(c, flag, value, argv[3]);
    if (strcmp(argv[2], "--contact") != 0)
        return ctl__usage_error("expected --company NAME or --contact JID");
    if (strcmp(flag, "chat") != 0)
        return ctl__usage_error("only chat can be set per contact; "
                                "pre-ticket and callback are set globally "
                                "or per company");
    return ctl__set_contact(c, value, argv[3]);
}

static int ctl__set(struct ctl *c, int argc, char **argv)
{
    if (argc < 1)
        return ctl__usage_error("set what?");
    const char *what = argv[0];
    if (!strcmp(what, "chat") || !strcmp(what, "pre-ticket") ||
        !strcmp(what, "callback"))
        return ctl__set_flag(c, argc, argv);
    if (settings_is_stored(c->ss, what) < 0)
        return ctl__usage_error("unknown setting");
    if (argc != 2)
        return ctl__usage_error("set SETTING VALUE (quote values with "
                                "spaces)");
    return ctl__set_setting(c, what, argv[1]);
}

static int ctl__show_settings(struct ctl *c)
{
    struct settings s;
    char err[600];
    static char value[SETTINGS_VALUE_MAX];
    if (settings_load(c->ss, NULL, &s, err, sizeof err) != 0) {
        ctl_err("%s", err);
        return CTL_FAIL;
    }
    for (size_t i = 0; settings_keys[i]; i++) {
        const char *key = settings_keys[i];
        int stored = settings_is_stored(c->ss, key);
        bool from_config = strstr(key, "timeout") != NULL;
        if (stored == 1 || !from_config)
            settings_value(&s, key, value, sizeof value);
        else
            snprintf(value, sizeof value, "(config file value)");
        printf("%s = %s%s\n", key, value,
               stored == 1 || from_config ? "" : " (default)");
    }
    return CTL_OK;
}

static int ctl__command(struct ctl *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    char err[600];
    if (!strcmp(cmd, "import") && argc == 3)
        return ctl__import(c, argv[1], argv[2]);
    if (!strcmp(cmd, "list") && argc == 2)
        return ctl__list(c, argv[1]);
    if (!strcmp(cmd, "set"))
        return ctl__set(c, argc - 1, argv + 1);
    if (!strcmp(cmd, "ticket"))
        return ctl_ticket(c, argc, argv);
    if (!strcmp(cmd, "outbox"))
        return ctl_outbox(c, argc, argv);
    if (!strcmp(cmd, "show") && argc == 2 && !strcmp(argv[1], "settings"))
        return ctl__show_settings(c);
    if (!strcmp(cmd, "unset") && argc == 2)
        return ctl__set_setting(c, argv[1], NULL);
    if (!strcmp(cmd, "audit"))
        return ctl_audit(c, argc, argv);
    if (!strcmp(cmd, "backup") && argc == 2) {
        if (store_backup(c->st, argv[1], err, sizeof err) == 0)
            return CTL_OK;
        ctl_err("%s", err);
        return CTL_FAIL;
    }
    if (!strcmp(cmd, "remove") && argc == 3 && !strcmp(argv[1], "tech")) {
        if (ctl_change_begin(c) != 0)
            return CTL_FAIL;
        int rc = directory_tech_remove(c->dir, argv[2]);
        char object[DIR_JID_MAX + 8];
        snprintf(object, sizeof object, "tech:%s", argv[2]);
        int audited =
            rc == DIR_OK && ctl_audit_record(c, object, "*", "tech", "") == 0;
        if (ctl_change_end(c, audited) == 0)
            return CTL_OK;
        if (rc == DIR_OK)
            return CTL_FAIL;
        ctl_err("%s", directory_error(c->dir));
        return rc == DIR_ERR_STORE ? CTL_FAIL : CTL_USAGE;
    }
    return ctl__usage_error("unknown command or wrong arguments");
}

/* The database path from -d PATH or -c FILE; argv index of the command in
 * *next. NULL after printing (exit code in *code). */
static const char *ctl__db_arg(int argc, char **argv, int *next, int *code)
{
    static struct config cfg;
    const char *db = NULL;
    char err[1024];
    int i = 1;
    *code = CTL_OK;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(ctl__usage, stdout);
            return NULL;
        }
        bool d = !strcmp(argv[i], "-d"), c = !strcmp(argv[i], "-c");
        if ((!d && !c) || i + 1 >= argc) {
            *code = ctl__usage_error(d || c ? "-d and -c need a path"
                                            : "unknown option");
            return NULL;
        }
        db = argv[++i];
        if (c && config_load(&cfg, db, err, sizeof err) != 0) {
            ctl_err("%s", err);
            *code = CTL_USAGE;
            return NULL;
        }
        if (c)
            db = config_db_target(&cfg);
    }
    *next = i;
    if (!db)
        *code = ctl__usage_error("give the database with -d DBPATH or the "
                                 "config with -c FILE");
    else if (i >= argc)
        *code = ctl__usage_error("no command given");
    return *code == CTL_OK ? db : NULL;
}

int main(int argc, char **argv)
{
    int i = 0, code;
    const char *db = ctl__db_arg(argc, argv, &i, &code);
    if (!db)
        return code;
    struct ctl c;
    if (ctl__open(&c, db) != 0)
        return CTL_FAIL;
    int rc = ctl__command(&c, argc - i, argv + i);
    ctl__close(&c);
    return rc;
}
