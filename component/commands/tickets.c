/* tickets.c - see commands/tickets.h */
#include "commands/tickets.h"

#include "chat/errors.h"
#include "commands/fields.h"
#include "commands/table.h"
#include "runtime/app.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/tickets.h"
#include "xep0004_forms.h"
#include "xep0050_adhoc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICKET_CMD__TEXT 512
#define TICKET_CMD__NOTES_MAX 48000 /* bytes of note text in one answer */
#define TICKET_CMD__NOTE_MAX 8000   /* bytes of a closing note */

/* ---- replies and fields ------------------------------------------------- */

static struct directory *ticket_cmd__dir(const struct adhoc_request *req)
{
    return req->app->domain->dir;
}

/* t as "2026-01-31T09:00:00Z" into buf; "" for 0. */
static void ticket_cmd__iso(time_t t, char *buf, size_t len)
{
    struct tm tm;
    buf[0] = '\0';
    if (t > 0 && gmtime_r(&t, &tm))
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The contact named by the JID in field var into out. 0, or -1 after
 * answering (unknown contact, bad JID, store failure). */
static int ticket_cmd__contact(struct adhoc_request *req,
                               struct adhoc_reply *reply, const char *var,
                               const char *jid, struct contact *out)
{
    struct directory *dir = ticket_cmd__dir(req);
    int rc;

    if (strchr(jid, '/')) {
        adhoc_reply_bad(reply,
                        "Field '%s' must be a bare JID like user@example.com "
                        "(without /resource)",
                        var);
        return -1;
    }
    rc = directory_contact_find(dir, jid, out);
    if (rc == DIR_OK)
        return 0;
    if (rc == DIR_ERR_STORE)
        adhoc_reply_store_fail(reply, "read the directory",
                               directory_error(dir));
    else
        adhoc_reply_bad(reply, "Field '%s': %.300s is not a known contact", var,
                        jid);
    return -1;
}

/* Answer a failure of the ticket store (an enum ticket_result) while doing
 * what. */
static void ticket_cmd__fail(struct adhoc_request *req,
                             struct adhoc_reply *reply, int rc,
                             const char *what)
{
    struct ticket_store *ts = req->app->domain->tickets;
    const struct xmpp_cond *e = errors_ticket(rc);
    if (errors_internal(e))
        adhoc_reply_store_fail(reply, what, ticket_store_error(ts));
    else
        adhoc_reply_error(reply, e->type, e->cond, ticket_store_error(ts));
}

/* The one-field form of a command on one ticket (plus a note field when
 * note_label is not NULL), or NULL when out of memory. */
static struct form *ticket_cmd__id_form(const char *title,
                                        const char *note_label)
{
    struct form *f = form_new(FORM_FORM, NULL);
    if (!f)
        return NULL;
    form_set_title(f, title);
    if (!form_add_value_field(f, FIELD_TEXT_SINGLE, "ticket", "Ticket", NULL,
                              1) ||
        (note_label &&
         !form_add_field(f, FIELD_TEXT_MULTI, "note", note_label))) {
        form_free(f);
        return NULL;
    }
    return f;
}

/* ---- create-ticket ------------------------------------------------------- */

static struct form *ticket_cmd__create_form(void)
{
    struct form *f = form_new(FORM_FORM, NULL);
    struct form_field *fl;

    if (!f)
        return NULL;
    form_set_title(f, "Create a ticket");
    fl = form_add_value_field(f, FIELD_JID_SINGLE, "contact", "Contact", NULL,
                              1);
    form_field_set_desc(fl, "The contact's JID, e.g. alice@example.com");
    form_add_value_field(f, FIELD_TEXT_SINGLE, "summary", "Summary", NULL, 1);
    return f;
}

/* Check the submission; on success create the ticket and complete. */
static void ticket_cmd__create(struct adhoc_request *req,
                               struct adhoc_reply *reply, const char *jid,
                               const char *summary)
{
    struct ticket_store *ts = req->app->domain->tickets;
    struct ticket_draft draft = {0, 0, summary};
    char text[TICKET_CMD__TEXT], id[32];
    struct contact c;
    struct form *res;
    int64_t ticket = 0;
    int rc;

    if (!*jid || !*summary) {
        adhoc_reply_bad(reply, "Field '%s' is required",
                        *jid ? "summary" : "contact");
        return;
    }
    if (strlen(summary) > TICKET_SUMMARY_MAX) {
        adhoc_reply_bad(reply, "Field 'summary' is too long (at most %d bytes)",
                        TICKET_SUMMARY_MAX);
        return;
    }
    if (ticket_cmd__contact(req, reply, "contact", jid, &c) != 0)
        return;
    draft.contact_id = c.id;
    rc = ticket_create(ts, &draft, &ticket);
    if (rc != TICKET_OK) {
        ticket_cmd__fail(req, reply, rc, "create the ticket");
        return;
    }
    snprintf(id, sizeof id, "%" PRId64, ticket);
    res = form_new(FORM_RESULT, NULL);
    form_add_value_field(res, FIELD_TEXT_SINGLE, "ticket", "Ticket", id, 0);
    adhoc_reply_completed(reply, res);
    snprintf(text, sizeof text, "Ticket #%s created for %.300s", id, c.jid);
    adhoc_reply_note(reply, "info", text);
}

static void ticket_cmd__create_step(struct adhoc_request *req,
                                    struct adhoc_reply *reply)
{
    char *jid, *summary;

    if (req->stage == 0) {
        struct form *f = ticket_cmd__create_form();

        adhoc_reply_ask(reply, f);
        return;
    }
    jid = fields_text(req->form, "contact");
    summary = fields_text(req->form, "summary");
    if (jid && summary)
        ticket_cmd__create(req, reply, jid, summary);
    else
        adhoc_reply_no_memory(reply);
    free(jid);
    free(summary);
}

/* ---- tickets ----------------------------------------------------------------
 */

static struct form *ticket_cmd__list_form(void)
{
    struct form *f = form_new(FORM_FORM, NULL);
    struct form_field *fl;

    if (!f)
        return NULL;
    form_set_title(f, "Tickets");
    form_set_instructions(f, "Every filter is optional; newest tickets come "
                             "first.");
    fl = form_add_value_field(f, FIELD_TEXT_SINGLE, "company", "Company", NULL,
                              0);
    form_field_set_desc(fl, "A company name (empty: every company)");
    fl = form_add_value_field(f, FIELD_JID_SINGLE, "contact", "Contact", NULL,
                              0);
    form_field_set_desc(fl, "A contact's JID (empty: every contact)");
    fl = form_add_value_field(f, FIELD_LIST_SINGLE, "status", "Status", "all",
                              0);
    form_field_add_option(fl, "Open", "open");
    form_field_add_option(fl, "Closed", "closed");
    form_field_add_option(fl, "All", "all");
    return f;
}

/* The status filter from its text. 0, or -1 after answering. */
static int ticket_cmd__status(const char *s, enum ticket_status_filter *out,
                              struct adhoc_reply *reply)
{
    if (!*s || !strcmp(s, "all"))
        *out = TICKET_FILTER_ANY;
    else if (!strcmp(s, "open"))
        *out = TICKET_FILTER_OPEN;
    else if (!strcmp(s, "closed"))
        *out = TICKET_FILTER_CLOSED;
    else {
        adhoc_reply_bad(reply, "Field 'status' must be open, closed or all");
        return -1;
    }
    return 0;
}

/* The company filter from a name ("" = any). 0, or -1 after answering. */
static int ticket_cmd__company(struct adhoc_request *req,
                               struct adhoc_reply *reply, const char *name,
                               int64_t *out)
{
    struct directory *dir = ticket_cmd__dir(req);
    struct company co;
    int rc;

    *out = 0;
    if (!*name)
        return 0;
    rc = directory_company_find(dir, name, &co);
    if (rc == DIR_OK) {
        *out = co.id;
        return 0;
    }
    if (rc == DIR_ERR_STORE)
        adhoc_reply_store_fail(reply, "read the directory",
                               directory_error(dir));
    else
        adhoc_reply_bad(reply,
                        "Field 'company': there is no company named "
                        "\"%.200s\"",
                        name);
    return -1;
}

/* Read the three filters of the submission into f. 0, or -1 after
 * answering. */
static int ticket_cmd__filter(struct adhoc_request *req,
                              struct adhoc_reply *reply,
                              struct ticket_filter *f)
{
    char *company = fields_text(req->form, "company");
    char *contact = fields_text(req->form, "contact");
    char *status = fields_text(req->form, "status");
    struct contact c;
    int rc = -1;

    memset(f, 0, sizeof *f);
    memset(&c, 0, sizeof c);
    if (!company || !contact || !status)
        adhoc_reply_no_memory(reply);
    else if (ticket_cmd__status(status, &f->status, reply) == 0 &&
             ticket_cmd__company(req, reply, company, &f->company_id) == 0 &&
             (!*contact ||
              ticket_cmd__contact(req, reply, "contact", contact, &c) == 0)) {
        f->contact_id = *contact ? c.id : 0;
        rc = 0;
    }
    free(company);
    free(contact);
    free(status);
    return rc;
}

/* Name of directory record id (company or contact JID) into buf; "" for
 * none. 0, or -1 on a store failure. */
static int ticket_cmd__name(struct directory *dir, int64_t id, int contact,
                            char *buf, size_t len)
{
    struct company co;
    struct contact c;
    int rc;

    buf[0] = '\0';
    if (!id)
        return 0;
    rc = contact ? directory_contact_get(dir, id, &c)
                 : directory_company_get(dir, id, &co);
    if (rc == DIR_OK)
        snprintf(buf, len, "%s", contact ? c.jid : co.name);
    return rc == DIR_ERR_STORE ? -1 : 0;
}

static void ticket_cmd__add_columns(struct form *res)
{
    static const char *const cols[][2] = {
        {"ticket", "Ticket"},   {"company", "Company"}, {"contact", "Contact"},
        {"summary", "Summary"}, {"status", "Status"},   {"created", "Created"},
    };

    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        form_add_reported(res, i == 2 ? FIELD_JID_SINGLE : FIELD_TEXT_SINGLE,
                          cols[i][0], cols[i][1]);
}

/* Append one row for t if it fits (commands/table.h): 1 added, 0 no room
 * left, -1 on a directory store failure, -2 out of memory. */
static int ticket_cmd__add_row(struct directory *dir, struct table *tab,
                               const struct ticket *t)
{
    char id[32], created[32], company[DIR_NAME_MAX], contact[DIR_JID_MAX];

    if (ticket_cmd__name(dir, t->company_id, 0, company, sizeof company) ||
        ticket_cmd__name(dir, t->contact_id, 1, contact, sizeof contact))
        return -1;
    snprintf(id, sizeof id, "%" PRId64, t->id);
    ticket_cmd__iso(t->created, created, sizeof created);
    const struct table_cell cells[] = {
        {"ticket", id},
        {"company", company},
        {"contact", contact},
        {"summary", t->summary},
        {"status", ticket_status_name(t->status)},
        {"created", created}};
    int rc = table_add_row(tab, cells, sizeof cells / sizeof cells[0]);
    return rc < 0 ? -2 : rc;
}

/* The result table for the tickets in l (at most the row limit). */
static void ticket_cmd__list_result(struct adhoc_request *req,
                                    struct adhoc_reply *reply,
                                    const struct ticket_list *l)
{
    struct directory *dir = ticket_cmd__dir(req);
    struct form *res = form_new(FORM_RESULT, NULL);
    size_t n = 0;
    struct table tab;
    char note[160];
    int rc = 1;

    if (!res) {
        adhoc_reply_no_memory(reply);
        return;
    }
    form_set_title(res, "Tickets");
    ticket_cmd__add_columns(res);
    table_init(&tab, res, req->app);
    while (rc == 1 && n < l->n && n < COMMANDS_TICKETS_MAX_ROWS)
        if ((rc = ticket_cmd__add_row(dir, &tab, &l->items[n])) == 1)
            n++;
    if (rc < 0) {
        form_free(res);
        if (rc == -2)
            adhoc_reply_no_memory(reply);
        else
            adhoc_reply_store_fail(reply, "read the directory",
                                   directory_error(dir));
        return;
    }
    adhoc_reply_completed(reply, res);
    if (l->n > n) {
        snprintf(note, sizeof note,
                 "Showing the newest %zu tickets; more match%s, so narrow "
                 "the filters to see older ones",
                 n,
                 n < COMMANDS_TICKETS_MAX_ROWS
                     ? " than fit in one answer ([limits] max_stanza_bytes)"
                     : "");
        adhoc_reply_note(reply, "info", note);
    } else if (n == 0) {
        adhoc_reply_note(reply, "info", "No ticket matches");
    }
}

static void ticket_cmd__list_step(struct adhoc_request *req,
                                  struct adhoc_reply *reply)
{
    struct ticket_store *ts = req->app->domain->tickets;
    struct ticket_list l = {NULL, 0};
    struct ticket_filter f;

    if (req->stage == 0) {
        struct form *form = ticket_cmd__list_form();

        adhoc_reply_ask(reply, form);
        return;
    }
    if (ticket_cmd__filter(req, reply, &f) != 0)
        return;
    f.limit = COMMANDS_TICKETS_MAX_ROWS + 1; /* one more: are there more? */
    if (ticket_list(ts, &f, &l) != TICKET_OK) {
        adhoc_reply_store_fail(reply, "list the tickets",
                               ticket_store_error(ts));
        return;
    }
    ticket_cmd__list_result(req, reply, &l);
    ticket_list_free(&l);
}

/* ---- view-ticket --------------------------------------------------------- */

/* The ticket's own fields into res. 0, or -1 on a directory failure. */
static int ticket_cmd__details(struct directory *dir, struct form *res,
                               const struct ticket *t)
{
    char id[32], created[32], closed[32], company[DIR_NAME_MAX],
        contact[DIR_JID_MAX];
    if (ticket_cmd__name(dir, t->company_id, 0, company, sizeof company) ||
        ticket_cmd__name(dir, t->contact_id, 1, contact, sizeof contact))
        return -1;
    snprintf(id, sizeof id, "%" PRId64, t->id);
    ticket_cmd__iso(t->created, created, sizeof created);
    ticket_cmd__iso(t->closed, closed, sizeof closed);
    const struct {
        enum form_field_type type;
        const char *var, *label, *value;
    } fields[] = {
        {FIELD_TEXT_SINGLE, "ticket", "Ticket", id},
        {FIELD_TEXT_SINGLE, "summary", "Summary", t->summary},
        {FIELD_TEXT_SINGLE, "status", "Status", ticket_status_name(t->status)},
        {FIELD_TEXT_SINGLE, "company", "Company", company},
        {FIELD_JID_SINGLE, "contact", "Contact", contact},
        {FIELD_TEXT_SINGLE, "external_id", "External id",
         t->external_id ? t->external_id : ""},
        {FIELD_TEXT_SINGLE, "created", "Created", created},
        {FIELD_TEXT_SINGLE, "closed", "Closed", closed},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        form_add_value_field(res, fields[i].type, fields[i].var,
                             fields[i].label, fields[i].value, 0);
    return 0;
}

/* Note n (1-based) of a ticket as text-multi fields note-N, one line a
 * value, going on in note-N-2, ... past FORM_MAX_VALUES lines. The label
 * says "Note N: KIND by AUTHOR at TIME". 0, or -1 when it does not fit. */
static int ticket_cmd__note(struct form *res, size_t n,
                            const struct ticket_note *note)
{
    char var[48], label[400], at[32];
    ticket_cmd__iso(note->created, at, sizeof at);
    snprintf(label, sizeof label, "Note %zu: %s by %.300s at %s", n,
             ticket_note_kind_name(note->kind), note->author, at);
    snprintf(var, sizeof var, "note-%zu", n);
    return fields_add_lines(res, note->text, var, label, NULL, SIZE_MAX);
}

/* Every note, oldest first, while they fit in one form (the text of all
 * notes up to TICKET_CMD__NOTES_MAX bytes). Returns how many were added. */
static size_t ticket_cmd__notes(struct form *res, const struct ticket *t)
{
    size_t bytes = 0, i = 0;
    for (; i < t->n_notes; i++) {
        bytes += strlen(t->notes[i].text);
        if (bytes > TICKET_CMD__NOTES_MAX ||
            ticket_cmd__note(res, i + 1, &t->notes[i]) != 0)
            break;
    }
    return i;
}

static void ticket_cmd__view(struct adhoc_request *req,
                             struct adhoc_reply *reply, int64_t id)
{
    struct ticket_store *ts = req->app->domain->tickets;
    struct directory *dir = ticket_cmd__dir(req);
    struct ticket t;
    char text[160];
    int rc = ticket_get(ts, id, &t);
    if (rc != TICKET_OK) {
        ticket_cmd__fail(req, reply, rc, "read the ticket");
        return;
    }
    struct form *res = form_new(FORM_RESULT, NULL);
    snprintf(text, sizeof text, "Ticket %" PRId64, id);
    if (!res) {
        adhoc_reply_no_memory(reply);
    } else if (form_set_title(res, text),
               ticket_cmd__details(dir, res, &t) != 0) {
        form_free(res);
        adhoc_reply_store_fail(reply, "read the directory",
                               directory_error(dir));
    } else {
        size_t shown = ticket_cmd__notes(res, &t);
        adhoc_reply_completed(reply, res);
        if (shown < t.n_notes) {
            snprintf(text, sizeof text,
                     "Showing the first %zu of %zu notes; `chatdeskctl "
                     "ticket show %" PRId64 "` prints them all",
                     shown, t.n_notes, id);
            adhoc_reply_note(reply, "warn", text);
        } else if (t.n_notes == 0) {
            adhoc_reply_note(reply, "info", "This ticket has no notes yet");
        }
    }
    ticket_clear(&t);
}

static void ticket_cmd__view_step(struct adhoc_request *req,
                                  struct adhoc_reply *reply)
{
    int64_t id;
    if (!req->form) {
        struct form *f = ticket_cmd__id_form("View a ticket", NULL);
        adhoc_reply_ask(reply, f);
        return;
    }
    if (fields_read_id(reply, FIELDS_TICKET, req->form, &id) == 0)
        ticket_cmd__view(req, reply, id);
}

/* ---- close-ticket -------------------------------------------------------- */

static void ticket_cmd__close(struct adhoc_request *req,
                              struct adhoc_reply *reply, int64_t id,
                              const char *note)
{
    struct ticket_store *ts = req->app->domain->tickets;
    char text[96], num[32];
    int rc = ticket_close(ts, id, req->bare, note);
    if (rc != TICKET_OK) {
        ticket_cmd__fail(req, reply, rc, "close the ticket");
        return;
    }
    struct form *res = form_new(FORM_RESULT, NULL);
    snprintf(num, sizeof num, "%" PRId64, id);
    form_add_value_field(res, FIELD_TEXT_SINGLE, "ticket", "Ticket", num, 0);
    form_add_value_field(res, FIELD_TEXT_SINGLE, "status", "Status",
                         "closed", 0);
    adhoc_reply_completed(reply, res);
    snprintf(text, sizeof text, "Ticket #%s closed%s", num,
             *note ? " with a closing note" : "");
    adhoc_reply_note(reply, "info", text);
}

static void ticket_cmd__close_step(struct adhoc_request *req,
                                   struct adhoc_reply *reply)
{
    int64_t id;
    if (!req->form) {
        struct form *f = ticket_cmd__id_form("Close a ticket",
                                             "Closing note (optional)");
        adhoc_reply_ask(reply, f);
        return;
    }
    char *note;
    if (fields_read_id_note(reply, FIELDS_TICKET, req->form,
                            TICKET_CMD__NOTE_MAX, &id, &note) != 0)
        return;
    ticket_cmd__close(req, reply, id, note);
    free(note);
}

/* ---- registration
 * ------------------------------------------------------------ */

static const struct adhoc_command ticket_cmd__table[] = {
    {"create-ticket", "Create a ticket", ADHOC_ROLE_TECH,
     ticket_cmd__create_step, NULL, NULL},
    {"tickets", "List tickets", ADHOC_ROLE_TECH, ticket_cmd__list_step, NULL,
     NULL},
    {"view-ticket", "View a ticket and its notes", ADHOC_ROLE_TECH,
     ticket_cmd__view_step, NULL, NULL},
    {"close-ticket", "Close a ticket", ADHOC_ROLE_TECH, ticket_cmd__close_step,
     NULL, NULL},
};

int commands_tickets_register(struct app *app)
{
    for (size_t i = 0;
         i < sizeof ticket_cmd__table / sizeof ticket_cmd__table[0]; i++) {
        if (adhoc_add_command(app, &ticket_cmd__table[i]) != 0)
            return -1;
    }
    return 0;
}
