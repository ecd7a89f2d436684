/* rating.c - see commands/rating.h */
#include "commands/rating.h"

#include "chat/errors.h"
#include "commands/fields.h"
#include "domain/domain.h"
#include "domain/report.h"
#include "domain/sessions.h"
#include "runtime/app.h"
#include "runtime/clock.h"
#include "xep0004_forms.h"
#include "xep0050_adhoc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATING__DAY 86400

/* ---- rate (contact) ----------------------------------------------------- */

static struct form *rating__rate_form(void)
{
    static const char *const scores[] = {"1", "2", "3", "4", "5"};
    struct form *f = form_new(FORM_FORM, NULL);
    if (!f)
        return NULL;
    form_set_title(f, "Rate your chat");
    form_add_value_field(f, FIELD_TEXT_SINGLE, "session", "Session", NULL, 1);
    struct form_field *fl = form_add_value_field(
        f, FIELD_LIST_SINGLE, "score", "Score (5 = very good)", NULL, 1);
    for (size_t i = 0; fl && i < 5; i++)
        form_field_add_option(fl, scores[i], scores[i]);
    form_add_field(f, FIELD_TEXT_MULTI, "comment", "Comment");
    return f;
}

static void rating__rate(struct adhoc_request *req, struct adhoc_reply *reply,
                         int64_t id, const char *score, const char *comment)
{
    struct sessions *s = req->app->domain->sessions;
    if (strlen(score) != 1 || score[0] < '1' || score[0] > '5') {
        adhoc_reply_bad(reply,
                        "Field 'score' must be a whole number from 1 to 5; "
                        "got \"%.100s\"",
                        score);
        return;
    }
    int rc = sessions_rate(s, id, req->bare, score[0] - '0', comment);
    if (rc != SESS_OK) {
        const struct xmpp_cond *c = errors_sess(rc, ERRORS_COMMAND);
        adhoc_reply_error(reply, c->type, c->cond, sessions_error(s));
        return;
    }
    adhoc_reply_completed(reply, NULL);
    adhoc_reply_note(reply, "info", "Thank you for your rating.");
}

static void rating__rate_step(struct adhoc_request *req,
                              struct adhoc_reply *reply)
{
    int64_t id;
    if (!req->form) {
        struct form *f = rating__rate_form();
        adhoc_reply_ask(reply, f);
        return;
    }
    if (fields_read_id(reply, FIELDS_SESSION, req->form, &id) != 0)
        return;
    char *score = fields_text(req->form, "score");
    char *comment = fields_text(req->form, "comment");
    if (!score || !comment)
        adhoc_reply_no_memory(reply);
    else
        rating__rate(req, reply, id, score, comment);
    free(score);
    free(comment);
}

/* ---- report (admin) ----------------------------------------------------- */

static struct form *rating__report_form(void)
{
    struct form *f = form_new(FORM_FORM, NULL);
    if (!f)
        return NULL;
    form_set_title(f, "Chat report");
    form_set_instructions(f, "Dates as YYYY-MM-DD (UTC); empty: the last 30 "
                             "days up to today.");
    form_add_value_field(f, FIELD_TEXT_SINGLE, "since", "Since", NULL, 0);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "until", "Until", NULL, 0);
    return f;
}

/* Field var of the form as a day into *out (dflt when empty). 0, or -1
 * after answering. */
static int rating__day(const struct form *form, struct adhoc_reply *reply,
                       const char *var, time_t dflt, time_t *out)
{
    char *v = fields_text(form, var);
    int rc = 0;
    if (!v) {
        adhoc_reply_no_memory(reply);
        return -1;
    }
    if (!*v)
        *out = dflt;
    else if (report_parse_day(v, out) != 0) {
        adhoc_reply_bad(reply,
                        "Field '%s' must be a date YYYY-MM-DD; got \"%.100s\"",
                        var, v);
        rc = -1;
    }
    free(v);
    return rc;
}

static void rating__columns(struct form *res)
{
    static const char *const cols[][2] = {
        {"by", "By"},
        {"name", "Name"},
        {"sessions", "Sessions"},
        {"median_answer", "Median time to answer (s)"},
        {"abandoned", "Abandoned"},
        {"callbacks", "Callbacks"},
        {"avg_rating", "Average rating"},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        form_add_reported(res, FIELD_TEXT_SINGLE, cols[i][0], cols[i][1]);
}

static void rating__row(struct form *res, const struct report_row *r)
{
    char n[5][32];
    struct form_item *item = form_add_item(res);
    if (!item)
        return;
    const char *name = r->by == REPORT_TECH && r->name[0] ? r->name : r->key;
    snprintf(n[0], sizeof n[0], "%ld", r->sessions);
    snprintf(n[1], sizeof n[1], "%ld", r->median_answer);
    snprintf(n[2], sizeof n[2], "%ld", r->abandoned);
    snprintf(n[3], sizeof n[3], "%ld", r->callbacks);
    snprintf(n[4], sizeof n[4], "%.1f", r->avg_rating);
    form_item_set(item, "by", r->by == REPORT_TECH ? "tech" : "company");
    form_item_set(item, "name", *name ? name : "(none)");
    form_item_set(item, "sessions", n[0]);
    form_item_set(item, "median_answer", r->median_answer < 0 ? "" : n[1]);
    form_item_set(item, "abandoned", n[2]);
    form_item_set(item, "callbacks", n[3]);
    form_item_set(item, "avg_rating", r->ratings ? n[4] : "");
}

static void rating__report(struct adhoc_request *req, struct adhoc_reply *reply,
                           time_t since, time_t until)
{
    struct report rep;
    char err[300], title[96];
    if (reports_build(req->app->domain->reports, since, until + RATING__DAY,
                      &rep, err, sizeof err) != 0) {
        adhoc_reply_store_fail(reply, "build the report", err);
        return;
    }
    struct form *res = form_new(FORM_RESULT, NULL);
    if (!res) {
        report_free(&rep);
        adhoc_reply_no_memory(reply);
        return;
    }
    snprintf(title, sizeof title, "Chat report: %zu rows", rep.n);
    form_set_title(res, title);
    rating__columns(res);
    for (size_t i = 0; i < rep.n; i++)
        rating__row(res, &rep.rows[i]);
    report_free(&rep);
    adhoc_reply_completed(reply, res);
}

static void rating__report_step(struct adhoc_request *req,
                                struct adhoc_reply *reply)
{
    time_t today = clock_now() / RATING__DAY * RATING__DAY, since, until;
    if (!req->form) {
        struct form *f = rating__report_form();
        adhoc_reply_ask(reply, f);
        return;
    }
    if (rating__day(req->form, reply, "until", today, &until) != 0 ||
        rating__day(req->form, reply, "since", until - 29 * RATING__DAY,
                    &since) != 0)
        return;
    if (since > until)
        adhoc_reply_bad(reply, "Field 'since' must not be after 'until'");
    else
        rating__report(req, reply, since, until);
}

int commands_rating_register(struct app *app)
{
    static const struct adhoc_command cmds[] = {
        {"rate", "Rate a chat", ADHOC_ROLE_CONTACT, rating__rate_step, NULL,
         NULL},
        {"report", "Chat report per tech and company", ADHOC_ROLE_ADMIN,
         rating__report_step, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (adhoc_add_command(app, &cmds[i]) != 0)
            return -1;
    return 0;
}
