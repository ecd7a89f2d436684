/* sessions.c - see commands/sessions.h */
#include "commands/sessions.h"

#include "chat/errors.h"
#include "chat/rooms.h"
#include "commands/fields.h"
#include "commands/table.h"
#include "runtime/app.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/history.h"
#include "domain/sessions.h"
#include "xep0004_forms.h"
#include "xep0050_adhoc.h"
#include "xep0203_delay.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESS_CMD__TEXT 600
#define SESS_CMD__PAGE_LIMIT 100000 /* highest page number accepted */

/* ---- replies --------------------------------------------------------------
 */

/* Answer a failure of the history module: code is an enum hist_code, text
 * its sentence. */
static void sess_cmd__fail(struct adhoc_reply *reply, int code,
                           const char *text)
{
    const struct xmpp_cond *c = errors_hist(code);
    adhoc_reply_error(reply, c->type, c->cond, text);
}

/* Answer a refusal of the sessions module (an enum sess_code). */
static void sess_cmd__sess_fail(struct app *app, struct adhoc_reply *reply,
                                int rc)
{
    const struct xmpp_cond *c = errors_sess(rc, ERRORS_COMMAND);
    adhoc_reply_error(reply, c->type, c->cond,
                      sessions_error(app->domain->sessions));
}

/* The app's history handle (modules.c), or NULL after answering. */
static struct history *sess_cmd__open(struct adhoc_request *req,
                                      struct adhoc_reply *reply)
{
    struct history *h = req->app->history;
    if (!h)
        adhoc_reply_error(reply, "wait", "internal-server-error",
                          "Could not read the sessions (the history is not "
                          "open); try again later");
    return h;
}

/* ---- forms ------------------------------------------------------------- */

static void sess_cmd__iso(time_t t, char *buf, size_t len)
{
    buf[0] = '\0';
    if (t > 0)
        delay_format(t, buf, len);
}

static struct form *sess_cmd__form(const char *title, const char *how)
{
    struct form *f = form_new(FORM_FORM, NULL);
    if (f) {
        form_set_title(f, title);
        if (how)
            form_set_instructions(f, how);
    }
    return f;
}

/* ---- result tables ------------------------------------------------------ */

#define SESS_CMD__N_COLS 9 /* the columns of sess_cmd__columns() */
#define SESS_CMD__N_PAST 2 /* history's: sess_cmd__past_columns() */

/* Rows of a history page: COMMANDS_SESSIONS_PAGE, fewer when
 * max_stanza_bytes is too small for that many (commands/table.h). */
static size_t sess_cmd__page_rows(const struct app *app)
{
    return table_page_rows(app, SESS_CMD__N_COLS + SESS_CMD__N_PAST,
                           COMMANDS_SESSIONS_PAGE);
}

static void sess_cmd__columns(struct form *res)
{
    static const struct {
        const char *var, *label;
        enum form_field_type type;
    } cols[] = {
        {"session", "Session", FIELD_TEXT_SINGLE},
        {"room", "Room", FIELD_JID_SINGLE},
        {"ticket", "Ticket", FIELD_TEXT_SINGLE},
        {"company", "Company", FIELD_TEXT_SINGLE},
        {"contact", "Contact", FIELD_JID_SINGLE},
        {"state", "State", FIELD_TEXT_SINGLE},
        {"created", "Created", FIELD_TEXT_SINGLE},
        {"phone", "Phone", FIELD_TEXT_SINGLE},
        {"note", "Note", FIELD_TEXT_SINGLE},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        form_add_reported(res, cols[i].type, cols[i].var, cols[i].label);
}

/* The values of the table's columns for r (strings point into bufs or r). */
struct sess_cmd__cells {
    char session[32], room[DIR_JID_MAX], ticket[32], created[32];
    const char *note;
};

static void sess_cmd__cells(struct app *app, const struct hist_row *r,
                            struct sess_cmd__cells *c)
{
    char local[64];
    snprintf(c->session, sizeof c->session, "%" PRId64, r->s.id);
    snprintf(c->room, sizeof c->room, "%s@%s",
             sessions_room_localpart(r->s.id, local, sizeof local), app->jid);
    snprintf(c->ticket, sizeof c->ticket, "%" PRId64, r->s.ticket_id);
    sess_cmd__iso(r->s.created, c->created, sizeof c->created);
    c->note = hist_row_note(r);
}

/* Who handed session id over to whom, "tom@x -> tina@x; tina@x -> queue"
 * (oldest first) into buf; "" for none. */
static void sess_cmd__transfers(struct app *app, int64_t id, char *buf,
                                size_t len)
{
    struct sess_transfer_list l;
    size_t used = 0;
    buf[0] = '\0';
    if (sessions_transfers(app->domain->sessions, id, &l) != SESS_OK)
        return;
    for (size_t i = 0; i < l.n && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s -> %s", i ? "; " : "",
                         l.items[i].from_jid,
                         *l.items[i].to_jid ? l.items[i].to_jid : "queue");
        used += n > 0 ? (size_t)n : 0;
    }
    sess_transfer_list_free(&l);
}

/* history's columns beyond the list's (SPEC §9). */
static void sess_cmd__past_columns(struct form *res)
{
    form_add_reported(res, FIELD_TEXT_SINGLE, "transfers", "Transfers");
    form_add_reported(res, FIELD_TEXT_SINGLE, "rating", "Rating");
}

/* The transfers and the rating (the score 1..5, "" when not rated) of r. */
static void sess_cmd__past_values(struct app *app, const struct hist_row *r,
                                  char *transfers, size_t len, char rating[8])
{
    int score;
    sess_cmd__transfers(app, r->s.id, transfers, len);
    rating[0] = '\0';
    if (sessions_rating(app->domain->sessions, r->s.id, &score, NULL) ==
        SESS_OK)
        snprintf(rating, 8, "%d", score);
}

/* One row per session, the first n of rows, as many as fit in one answer
 * (commands/table.h); past: history's columns too; *shown gets how many.
 * NULL when out of memory. */
static struct form *sess_cmd__table(struct app *app, const char *title,
                                    const struct hist_rows *rows, size_t n,
                                    bool past, size_t *shown)
{
    struct form *res = form_new(FORM_RESULT, NULL);
    struct sess_cmd__cells c;
    struct table t;
    int rc = 1;
    *shown = 0;
    if (!res)
        return NULL;
    form_set_title(res, title);
    sess_cmd__columns(res);
    if (past)
        sess_cmd__past_columns(res);
    table_init(&t, res, app);
    for (size_t i = 0; rc == 1 && i < n && i < rows->n; i++) {
        const struct hist_row *r = &rows->items[i];
        sess_cmd__cells(app, r, &c);
        char transfers[1024] = "", rating[8] = "";
        if (past)
            sess_cmd__past_values(app, r, transfers, sizeof transfers, rating);
        const struct table_cell cells[SESS_CMD__N_COLS + SESS_CMD__N_PAST] = {
            {"session", c.session},
            {"room", c.room},
            {"ticket", c.ticket},
            {"company", r->company},
            {"contact", r->s.contact_jid},
            {"state", sess_state_name(r->s.state)},
            {"created", c.created},
            {"phone", r->s.callback_phone},
            {"note", c.note},
            {"transfers", transfers},
            {"rating", rating}};
        rc = table_add_row(&t, cells,
                           SESS_CMD__N_COLS + (past ? SESS_CMD__N_PAST : 0));
        *shown += rc == 1;
    }
    if (rc < 0) {
        form_free(res);
        return NULL;
    }
    return res;
}

/* ---- sessions ------------------------------------------------------------ */

static const struct {
    const char *name, *label, *title;
    enum sess_view view;
} sess_cmd__views[] = {
    {"mine", "My sessions", "My sessions", SESS_VIEW_MINE},
    {"waiting", "Waiting", "Waiting chat requests", SESS_VIEW_WAITING},
    {"abandoned", "Abandoned", "Abandoned sessions", SESS_VIEW_ABANDONED},
    {"callbacks", "Callbacks", "Callback requests", SESS_VIEW_CALLBACKS},
};
#define SESS_CMD__N_VIEWS (sizeof sess_cmd__views / sizeof sess_cmd__views[0])

static struct form *sess_cmd__list_form(void)
{
    struct form *f = sess_cmd__form("Chat sessions", NULL);
    struct form_field *fl;
    if (!f)
        return NULL;
    fl = form_add_value_field(f, FIELD_LIST_SINGLE, "view", "List", "mine", 0);
    for (size_t i = 0; fl && i < SESS_CMD__N_VIEWS; i++)
        form_field_add_option(fl, sess_cmd__views[i].label,
                              sess_cmd__views[i].name);
    form_field_set_desc(fl, "mine: your open sessions (waiting, active, "
                            "callback; active first); "
                            "waiting, abandoned, callbacks: oldest first");
    return f;
}

/* The view named in the form ("" = mine); its index, or -1 after
 * answering. */
static int sess_cmd__view(const struct form *form, struct adhoc_reply *reply)
{
    char *v = fields_text(form, "view");
    int found = -1;
    if (!v) {
        adhoc_reply_no_memory(reply);
        return -1;
    }
    for (size_t i = 0; i < SESS_CMD__N_VIEWS && found < 0; i++)
        if (!*v || !strcmp(v, sess_cmd__views[i].name))
            found = (int)i;
    if (found < 0)
        adhoc_reply_bad(reply,
                        "Field 'view' must be mine, waiting, abandoned or "
                        "callbacks; got '%.100s'",
                        v);
    free(v);
    return found;
}

static void sess_cmd__list(struct adhoc_request *req, struct adhoc_reply *reply,
                           struct history *h, int view)
{
    struct hist_rows rows = {NULL, 0};
    char note[256];
    int rc = history_view(h, sess_cmd__views[view].view, req->bare,
                          COMMANDS_SESSIONS_MAX_ROWS + 1, &rows);
    if (rc != HIST_OK) {
        sess_cmd__fail(reply, rc, history_error(h));
        return;
    }
    size_t shown = 0;
    struct form *res =
        sess_cmd__table(req->app, sess_cmd__views[view].title, &rows,
                        COMMANDS_SESSIONS_MAX_ROWS, false, &shown);
    if (!res) {
        adhoc_reply_no_memory(reply);
    } else {
        adhoc_reply_completed(reply, res);
        if (rows.n > shown) {
            snprintf(note, sizeof note,
                     "Showing the first %zu sessions; more are in this list%s",
                     shown,
                     shown < COMMANDS_SESSIONS_MAX_ROWS
                         ? " than fit in one answer ([limits] max_stanza_bytes)"
                         : "");
            adhoc_reply_note(reply, "info", note);
        } else if (rows.n == 0) {
            adhoc_reply_note(reply, "info", "No session in this list");
        }
    }
    hist_rows_free(&rows);
}

static void sess_cmd__list_step(struct adhoc_request *req,
                                struct adhoc_reply *reply)
{
    if (!req->form) {
        struct form *f = sess_cmd__list_form();
        adhoc_reply_ask(reply, f);
        return;
    }
    int view = sess_cmd__view(req->form, reply);
    struct history *h = view >= 0 ? sess_cmd__open(req, reply) : NULL;
    if (h)
        sess_cmd__list(req, reply, h, view);
}

/* ---- history: filters ---------------------------------------------------- */

/* The accepted filters of a history session and the page shown. */
struct sess_cmd__hist {
    struct hist_filter f;
    char *contact, *text; /* owned; f points at them */
    size_t page;
};

static void sess_cmd__hist_free(void *state)
{
    struct sess_cmd__hist *s = state;
    if (!s)
        return;
    free(s->contact);
    free(s->text);
    free(s);
}

static struct form *sess_cmd__hist_form(const struct app *app)
{
    char page_desc[96];
    snprintf(page_desc, sizeof page_desc,
             "Which page of %zu results (1 = the newest)",
             sess_cmd__page_rows(app));
    const struct {
        const char *var, *label, *desc;
        enum form_field_type type;
    } fields[] = {
        {"company", "Company", "A company name (empty: every company)",
         FIELD_TEXT_SINGLE},
        {"contact", "Contact", "A contact's JID (empty: every contact)",
         FIELD_JID_SINGLE},
        {"text", "Text",
         "Words that must all occur in the transcript; "
         "end a word with * to match its beginning",
         FIELD_TEXT_SINGLE},
        {"since", "Since",
         "YYYY-MM-DD or an ISO 8601 time (UTC unless it "
         "says otherwise)",
         FIELD_TEXT_SINGLE},
        {"until", "Until",
         "YYYY-MM-DD (the whole day counts) or an ISO 8601 "
         "time",
         FIELD_TEXT_SINGLE},
        {"page", "Page", page_desc, FIELD_TEXT_SINGLE},
    };
    struct form *f = sess_cmd__form("Session history",
                                    "Every filter is optional; the newest "
                                    "past sessions come first.");
    for (size_t i = 0; f && i < sizeof fields / sizeof fields[0]; i++) {
        struct form_field *fl = form_add_value_field(
            f, fields[i].type, fields[i].var, fields[i].label,
            strcmp(fields[i].var, "page") ? NULL : "1", 0);
        form_field_set_desc(fl, fields[i].desc);
    }
    return f;
}

/* since / until from the field var ("" = none). 0, or -1 after answering. */
static int sess_cmd__time(const struct form *form, struct adhoc_reply *reply,
                          const char *var, bool end_of_day, bool *has,
                          time_t *out)
{
    const char *v = form_get_string(form, var);
    *has = false;
    if (!v || !v[strspn(v, " \t")])
        return 0;
    if (history_parse_time(v, end_of_day, out) == 0) {
        *has = true;
        return 0;
    }
    adhoc_reply_bad(reply,
                    "Field '%s' must be a date like 2026-01-31 or a time like "
                    "2026-01-31T09:30:00Z; got '%.100s'",
                    var, v);
    return -1;
}

/* The company filter by name. 0, or -1 after answering. */
static int sess_cmd__company(struct app *app, const struct form *form,
                             struct adhoc_reply *reply, int64_t *id)
{
    char *name = fields_text(form, "company");
    struct company co;
    int rc = DIR_OK;
    *id = 0;
    if (!name) {
        adhoc_reply_no_memory(reply);
        return -1;
    }
    if (*name)
        rc = directory_company_find(app->domain->dir, name, &co);
    if (*name && rc == DIR_OK)
        *id = co.id;
    else if (rc == DIR_ERR_STORE)
        adhoc_reply_error(reply, "wait", "internal-server-error",
                          directory_error(app->domain->dir));
    else if (rc != DIR_OK)
        adhoc_reply_bad(reply,
                        "Field 'company': there is no company named "
                        "\"%.200s\"",
                        name);
    free(name);
    return rc == DIR_OK ? 0 : -1;
}

/* The contact filter: a known contact's JID, stored bare in s->contact. */
static int sess_cmd__contact(struct app *app, const struct form *form,
                             struct adhoc_reply *reply,
                             struct sess_cmd__hist *s)
{
    struct contact c;
    s->contact = fields_text(form, "contact");
    if (!s->contact) {
        adhoc_reply_no_memory(reply);
        return -1;
    }
    if (!*s->contact)
        return 0;
    int rc = strchr(s->contact, '/')
                 ? DIR_ERR_INVALID
                 : directory_contact_find(app->domain->dir, s->contact, &c);
    if (rc == DIR_OK) {
        free(s->contact);
        s->contact = strdup(c.jid);
        s->f.contact = s->contact;
        if (!s->contact)
            adhoc_reply_no_memory(reply);
        return s->contact ? 0 : -1;
    }
    if (rc == DIR_ERR_STORE)
        adhoc_reply_error(reply, "wait", "internal-server-error",
                          directory_error(app->domain->dir));
    else
        adhoc_reply_bad(reply,
                        "Field 'contact': %.300s is not a known contact's "
                        "bare JID",
                        s->contact);
    return -1;
}

/* The text filter; 0, or -1 after answering. */
static int sess_cmd__text(const struct form *form, struct adhoc_reply *reply,
                          struct sess_cmd__hist *s)
{
    char fts[HIST_FTS_MAX];
    s->text = fields_text(form, "text");
    if (!s->text) {
        adhoc_reply_no_memory(reply);
        return -1;
    }
    if (!*s->text)
        return 0;
    int words = history_fts_query(s->text, fts, sizeof fts);
    if (words > 0) {
        s->f.text = s->text;
        return 0;
    }
    if (words < 0)
        adhoc_reply_bad(reply,
                        "Field 'text' is too long: at most %d words and %d "
                        "bytes",
                        HIST_WORDS_MAX, HIST_TEXT_MAX);
    else
        adhoc_reply_bad(reply, "Field 'text' has no word to search for");
    return -1;
}

static int sess_cmd__page(const struct form *form, struct adhoc_reply *reply,
                          size_t *page)
{
    char err[FORM_ERR_LEN];
    long v;
    if (form_get_int(form, "page", 1, SESS_CMD__PAGE_LIMIT, 1, &v, err,
                     sizeof err) != FORM_OK) {
        adhoc_reply_error(reply, "modify", "bad-request", err);
        return -1;
    }
    *page = (size_t)v;
    return 0;
}

/* Read and check every filter of the submitted form into a new state.
 * NULL after answering. */
static struct sess_cmd__hist *sess_cmd__hist_filters(struct adhoc_request *req,
                                                     struct adhoc_reply *reply)
{
    struct sess_cmd__hist *s = calloc(1, sizeof *s);
    const struct form *form = req->form;
    if (!s) {
        adhoc_reply_no_memory(reply);
        return NULL;
    }
    if (sess_cmd__company(req->app, form, reply, &s->f.company_id) != 0 ||
        sess_cmd__contact(req->app, form, reply, s) != 0 ||
        sess_cmd__text(form, reply, s) != 0 ||
        sess_cmd__time(form, reply, "since", false, &s->f.has_since,
                       &s->f.since) != 0 ||
        sess_cmd__time(form, reply, "until", true, &s->f.has_until,
                       &s->f.until) != 0 ||
        sess_cmd__page(form, reply, &s->page) != 0) {
        sess_cmd__hist_free(s);
        return NULL;
    }
    if (s->f.has_since && s->f.has_until && s->f.until < s->f.since) {
        adhoc_reply_bad(reply, "Field 'until' is before field 'since'");
        sess_cmd__hist_free(s);
        return NULL;
    }
    return s;
}

/* ---- history: pages ------------------------------------------------------ */

/* The note of a page: where it is and what comes next. */
static void sess_cmd__page_note(struct adhoc_reply *reply, size_t page,
                                size_t per_page, size_t shown, bool more)
{
    char note[256];
    size_t first = (page - 1) * per_page + 1;
    if (shown == 0 && page == 1) {
        adhoc_reply_note(reply, "info", "No past session matches");
        return;
    }
    if (shown == 0)
        snprintf(note, sizeof note,
                 "Page %zu is past the last page: no session there", page);
    else
        snprintf(note, sizeof note, "Page %zu (sessions %zu-%zu)%s", page,
                 first, first + shown - 1,
                 more       ? "; more match: choose next"
                 : page > 1 ? "; this is the last page"
                            : "");
    adhoc_reply_note(reply, "info", note);
}

/* Show page s->page; completes when it is the only page or when done. */
static void sess_cmd__hist_page(struct adhoc_request *req,
                                struct adhoc_reply *reply,
                                struct sess_cmd__hist *s, bool done)
{
    struct hist_rows rows = {NULL, 0};
    struct history *h = sess_cmd__open(req, reply);
    if (!h)
        return;
    size_t per_page = sess_cmd__page_rows(req->app), shown = 0;
    s->f.offset = (s->page - 1) * per_page;
    s->f.limit = per_page + 1; /* one more: is there more? */
    int rc = history_search(h, &s->f, &rows);
    if (rc != HIST_OK) {
        sess_cmd__fail(reply, rc, history_error(h));
        return;
    }
    bool more = rows.n > per_page;
    struct form *res =
        sess_cmd__table(req->app, "Session history", &rows, per_page, true,
                        &shown);
    hist_rows_free(&rows);
    if (!res) {
        adhoc_reply_no_memory(reply);
        return;
    }
    /* prev needs a screen before this one (the framework counts them) */
    bool prev = s->page > 1 && req->stage >= 1;
    if (done || (s->page == 1 && !more))
        adhoc_reply_completed(reply, res);
    else
        adhoc_reply_executing(reply, res,
                              ADHOC_COMPLETE | (more ? ADHOC_NEXT : 0u) |
                                  (prev ? ADHOC_PREV : 0u),
                              more ? ADHOC_NEXT : ADHOC_COMPLETE);
    sess_cmd__page_note(reply, s->page, per_page, shown, more);
}

static void sess_cmd__hist_step(struct adhoc_request *req,
                                struct adhoc_reply *reply)
{
    struct sess_cmd__hist *s = req->state;
    bool paging = s != NULL; /* a page was shown: the filters are set */
    if (!s && !req->form) {
        struct form *f = sess_cmd__hist_form(req->app);
        adhoc_reply_ask(reply, f);
        return;
    }
    if (!s) {
        s = sess_cmd__hist_filters(req, reply);
        if (!s)
            return;
        req->state = s;
    } else if (req->action == ADHOC_NEXT) {
        s->page++;
    } else if (req->action == ADHOC_PREV && s->page > 1) {
        s->page--;
    }
    sess_cmd__hist_page(req, reply, s, paging && req->action == ADHOC_COMPLETE);
}

/* ---- view-session ---------------------------------------------------------
 */

/* The details of r as fields of res. */
static void sess_cmd__details(struct app *app, struct form *res,
                              const struct hist_row *r)
{
    struct sess_cmd__cells c;
    char answered[32], ended[32];
    sess_cmd__cells(app, r, &c);
    sess_cmd__iso(r->s.answered_at, answered, sizeof answered);
    sess_cmd__iso(r->s.ended_at, ended, sizeof ended);
    const struct {
        enum form_field_type type;
        const char *var, *label, *value;
    } fields[] = {
        {FIELD_TEXT_SINGLE, "session", "Session", c.session},
        {FIELD_JID_SINGLE, "room", "Room", c.room},
        {FIELD_TEXT_SINGLE, "ticket", "Ticket", c.ticket},
        {FIELD_TEXT_SINGLE, "company", "Company", r->company},
        {FIELD_JID_SINGLE, "contact", "Contact", r->s.contact_jid},
        {FIELD_TEXT_SINGLE, "state", "State", sess_state_name(r->s.state)},
        {FIELD_TEXT_SINGLE, "created", "Created", c.created},
        {FIELD_TEXT_SINGLE, "phone", "Phone", r->s.callback_phone},
        {FIELD_TEXT_MULTI, "note", "Note", c.note},
        {FIELD_TEXT_SINGLE, "description", "Description", r->s.description},
        {FIELD_JID_SINGLE, "answered_by", "Answered by", r->s.answered_by},
        {FIELD_TEXT_SINGLE, "answered_at", "Answered at", answered},
        {FIELD_TEXT_SINGLE, "ended_at", "Ended at", ended},
        {FIELD_JID_SINGLE, "closer", "Closer", r->s.closer_jid},
        {FIELD_TEXT_MULTI, "closing_note", "Closing note", r->s.closing_note},
        {FIELD_TEXT_MULTI, "callback_note", "Callback note",
         r->s.callback_note},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].type == FIELD_TEXT_MULTI)
            form_add_text_multi(res, fields[i].var, fields[i].label,
                                fields[i].value);
        else
            form_add_value_field(res, fields[i].type, fields[i].var,
                                 fields[i].label, fields[i].value, 0);
    }
}

/* The note of a transcript shown in part: where all of it is. */
static void sess_cmd__cut_note(struct app *app, struct adhoc_reply *reply,
                               int rc, const struct hist_row *r)
{
    char note[CHAT_JID_MAX + 300], room[CHAT_JID_MAX];
    chat_room_jid(app, r->s.id, room, sizeof room);
    snprintf(note, sizeof note,
             "The transcript is %s to show whole in one answer; shown is its "
             "beginning. The room's archive (MAM on %s) and ticket %" PRId64
             " hold all of it.",
             rc > 0 ? "too large" : "too long", room, r->s.ticket_id);
    adhoc_reply_note(reply, "warn", note);
}

static void sess_cmd__view_session(struct adhoc_request *req,
                                   struct adhoc_reply *reply, struct history *h,
                                   int64_t id)
{
    struct hist_row r;
    char *text = NULL, title[64], transfers[1024];
    int rc = history_session(h, id, &r);
    if (rc != HIST_OK) {
        sess_cmd__fail(reply, rc, history_error(h));
        return;
    }
    rc = sessions_transcript(req->app->domain->sessions, id, &text);
    struct form *res = rc == SESS_OK ? form_new(FORM_RESULT, NULL) : NULL;
    if (rc != SESS_OK) {
        sess_cmd__sess_fail(req->app, reply, rc);
    } else if (!res) {
        adhoc_reply_no_memory(reply);
    } else {
        snprintf(title, sizeof title, "Session %" PRId64, id);
        form_set_title(res, title);
        sess_cmd__details(req->app, res, &r);
        sess_cmd__transfers(req->app, id, transfers, sizeof transfers);
        form_add_text_multi(res, "transfers", "Transfers", transfers);
        rc = fields_add_lines(res, text, "transcript", "Transcript",
                              "Transcript (continued)",
                              table_budget(req->app));
        if (rc != 0)
            sess_cmd__cut_note(req->app, reply, rc, &r);
        adhoc_reply_completed(reply, res);
    }
    free(text);
    hist_row_clear(&r);
}

static void sess_cmd__view_step(struct adhoc_request *req,
                                struct adhoc_reply *reply)
{
    int64_t id;
    if (!req->form) {
        struct form *f = sess_cmd__form("View a session", NULL);
        if (!f || !form_add_value_field(f, FIELD_TEXT_SINGLE, "session",
                                        "Session", NULL, 1)) {
            form_free(f);
            adhoc_reply_no_memory(reply);
        } else {
            adhoc_reply_executing(reply, f, 0, 0);
        }
        return;
    }
    if (fields_read_id(reply, FIELDS_SESSION, req->form, &id) != 0)
        return;
    struct history *h = sess_cmd__open(req, reply);
    if (h)
        sess_cmd__view_session(req, reply, h, id);
}

/* ---- closing-note -----------------------------------------------------------
 */

static struct form *sess_cmd__note_form(void)
{
    struct form *f =
        sess_cmd__form("Closing note", "Only the tech who ended or closed the "
                                       "session may write its closing note.");
    struct form_field *fl;
    if (!f)
        return NULL;
    form_add_value_field(f, FIELD_TEXT_SINGLE, "session", "Session", NULL, 1);
    fl = form_add_field(f, FIELD_TEXT_MULTI, "note", "Closing note");
    form_field_set_desc(fl, "Empty removes the note");
    return f;
}

static void sess_cmd__note(struct adhoc_request *req, struct adhoc_reply *reply,
                           int64_t id, const char *note)
{
    struct sessions *s = req->app->domain->sessions;
    char num[32];
    int rc = sessions_set_closing_note(s, id, req->bare, note);
    if (rc != SESS_OK) {
        sess_cmd__sess_fail(req->app, reply, rc);
        return;
    }
    struct form *res = form_new(FORM_RESULT, NULL);
    snprintf(num, sizeof num, "%" PRId64, id);
    form_add_value_field(res, FIELD_TEXT_SINGLE, "session", "Session", num, 0);
    form_add_text_multi(res, "note", "Closing note", note);
    adhoc_reply_completed(reply, res);
    adhoc_reply_note(reply, "info",
                     *note ? "Closing note saved; it was added to the ticket"
                           : "Closing note removed");
}

static void sess_cmd__note_step(struct adhoc_request *req,
                                struct adhoc_reply *reply)
{
    int64_t id;
    if (!req->form) {
        struct form *f = sess_cmd__note_form();
        adhoc_reply_ask(reply, f);
        return;
    }
    char *note;
    if (fields_read_id_note(reply, FIELDS_SESSION, req->form,
                            SESS_CLOSING_NOTE_MAX, &id, &note) != 0)
        return;
    sess_cmd__note(req, reply, id, note);
    free(note);
}

/* ---- registration -----------------------------------------------------------
 */

static const struct adhoc_command sess_cmd__table_def[] = {
    {"sessions", "List chat sessions", ADHOC_ROLE_TECH, sess_cmd__list_step,
     NULL, NULL},
    {"history", "Search past chat sessions", ADHOC_ROLE_TECH,
     sess_cmd__hist_step, sess_cmd__hist_free, NULL},
    {"view-session", "View a chat session and its transcript", ADHOC_ROLE_TECH,
     sess_cmd__view_step, NULL, NULL},
    {"closing-note", "Add or edit a closing note", ADHOC_ROLE_TECH,
     sess_cmd__note_step, NULL, NULL},
};

int commands_sessions_register(struct app *app)
{
    for (size_t i = 0;
         i < sizeof sess_cmd__table_def / sizeof sess_cmd__table_def[0]; i++) {
        if (adhoc_add_command(app, &sess_cmd__table_def[i]) != 0)
            return -1;
    }
    return 0;
}
