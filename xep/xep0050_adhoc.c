/* xep0050_adhoc.c - XEP-0050 ad-hoc commands. See xep0050_adhoc.h. */
#include "xep0050_adhoc.h"

#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"
#include "xep0004_forms.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADHOC__MAX_NOTES                                                       \
    (sizeof(((struct adhoc_reply *)0)->notes) /                                \
     sizeof(((struct adhoc_reply *)0)->notes[0]))
#define ADHOC__STEP_ACTIONS (ADHOC_NEXT | ADHOC_PREV | ADHOC_COMPLETE)

struct adhoc__entry {
    struct adhoc_command cmd; /* node and name point to the copies below */
    char *node;
    char *name;
};

struct adhoc__session {
    struct adhoc__session *next;
    char id[64];
    char *owner; /* full JID */
    char *bare;
    const struct adhoc__entry *entry;
    void *state;
    unsigned stage;   /* screen shown to the requester */
    unsigned actions; /* allowed by the last executing reply */
    enum adhoc_action dflt;
    time_t last; /* clock_now() of the last request */
};

struct adhoc {
    struct adhoc__entry **cmds;
    size_t n_cmds;
    struct adhoc__session *sessions;
    adhoc_role_fn role_fn;
    void *role_ud;
    long timeout;
    unsigned long counter;
};

/* ---- state ---------------------------------------------------------- */

static struct adhoc *adhoc__get(struct app *app)
{
    if (!app)
        return NULL;
    if (!app->adhoc) {
        app->adhoc = calloc(1, sizeof(*app->adhoc));
        if (app->adhoc)
            app->adhoc->timeout = ADHOC_DEFAULT_TIMEOUT;
    }
    return app->adhoc;
}

static void adhoc__session_free(struct adhoc__session *s)
{
    if (!s)
        return;
    if (s->state && s->entry->cmd.free_state)
        s->entry->cmd.free_state(s->state);
    free(s->owner);
    free(s->bare);
    free(s);
}

/* Unlink s from the list and free it. */
static void adhoc__session_end(struct adhoc *a, struct adhoc__session *s)
{
    struct adhoc__session **pp;

    for (pp = &a->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            adhoc__session_free(s);
            return;
        }
    }
}

void xep0050_free(struct app *app)
{
    struct adhoc *a;
    size_t i;

    if (!app || !app->adhoc)
        return;
    a = app->adhoc;
    while (a->sessions)
        adhoc__session_end(a, a->sessions);
    for (i = 0; i < a->n_cmds; i++) {
        free(a->cmds[i]->node);
        free(a->cmds[i]->name);
        free(a->cmds[i]);
    }
    free(a->cmds);
    free(a);
    app->adhoc = NULL;
}

static struct adhoc__entry *adhoc__find_cmd(struct adhoc *a, const char *node)
{
    size_t i;

    for (i = 0; node && i < a->n_cmds; i++) {
        if (strcmp(a->cmds[i]->node, node) == 0)
            return a->cmds[i];
    }
    return NULL;
}

int adhoc_add_command(struct app *app, const struct adhoc_command *cmd)
{
    struct adhoc *a = adhoc__get(app);
    struct adhoc__entry *e, **grown;

    if (!a || !cmd || !cmd->node || !*cmd->node || !cmd->name || !cmd->step ||
        adhoc__find_cmd(a, cmd->node))
        return -1;
    e = calloc(1, sizeof(*e));
    grown = realloc(a->cmds, (a->n_cmds + 1) * sizeof(*grown));
    if (grown)
        a->cmds = grown;
    if (!e || !grown || !(e->node = strdup(cmd->node)) ||
        !(e->name = strdup(cmd->name))) {
        if (e)
            free(e->node);
        free(e);
        return -1;
    }
    e->cmd = *cmd;
    e->cmd.node = e->node;
    e->cmd.name = e->name;
    a->cmds[a->n_cmds++] = e;
    return 0;
}

int adhoc_set_role_fn(struct app *app, adhoc_role_fn fn, void *ud)
{
    struct adhoc *a = adhoc__get(app);

    if (!a)
        return -1;
    a->role_fn = fn;
    a->role_ud = ud;
    return 0;
}

unsigned adhoc_roles_of(struct app *app, const char *bare_jid)
{
    struct adhoc *a = adhoc__get(app);
    unsigned roles;

    if (!a || !a->role_fn || !bare_jid)
        return ADHOC_ROLE_NONE;
    roles = a->role_fn(app, bare_jid, a->role_ud);
    if (roles & ADHOC_ROLE_ADMIN)
        roles |= ADHOC_ROLE_TECH;
    return roles;
}

int adhoc_set_timeout(struct app *app, long seconds)
{
    struct adhoc *a = adhoc__get(app);

    if (!a || seconds <= 0)
        return -1;
    a->timeout = seconds;
    return 0;
}

size_t adhoc_reap(struct app *app)
{
    struct adhoc *a = app ? app->adhoc : NULL;
    struct adhoc__session **pp;
    time_t now = clock_now();
    size_t n = 0;

    if (!a)
        return 0;
    pp = &a->sessions;
    while (*pp) {
        struct adhoc__session *s = *pp;

        if (now - s->last >= a->timeout) {
            *pp = s->next;
            adhoc__session_free(s);
            n++;
        } else {
            pp = &s->next;
        }
    }
    return n;
}

size_t adhoc_session_count(struct app *app)
{
    const struct adhoc__session *s;
    size_t n = 0;

    for (s = app && app->adhoc ? app->adhoc->sessions : NULL; s; s = s->next)
        n++;
    return n;
}

static struct adhoc__session *adhoc__find_session(struct adhoc *a,
                                                  const char *id)
{
    struct adhoc__session *s;

    for (s = a->sessions; s; s = s->next) {
        if (strcmp(s->id, id) == 0)
            return s;
    }
    return NULL;
}

static size_t adhoc__sessions_of(struct adhoc *a, const char *bare)
{
    const struct adhoc__session *s;
    size_t n = 0;

    for (s = a->sessions; s; s = s->next) {
        if (strcmp(s->bare, bare) == 0)
            n++;
    }
    return n;
}

static void adhoc__new_id(struct adhoc *a, char *buf, size_t len)
{
    snprintf(buf, len, "%lld-%lu", (long long)clock_now(), ++a->counter);
}

/* ---- replies filled by steps ---------------------------------------- */

static int adhoc__dup_into(char **slot, const char *s)
{
    free(*slot);
    *slot = s ? strdup(s) : NULL;
    return !s || *slot ? 0 : -1;
}

static void adhoc__reply_clear(struct adhoc_reply *reply)
{
    size_t i;

    form_free(reply->form);
    for (i = 0; i < reply->n_notes; i++) {
        free(reply->notes[i].type);
        free(reply->notes[i].text);
    }
    free(reply->err_type);
    free(reply->err_condition);
    free(reply->err_text);
    memset(reply, 0, sizeof(*reply));
}

static void adhoc__reply_set_form(struct adhoc_reply *reply, struct form *form)
{
    if (reply->form != form)
        form_free(reply->form);
    reply->form = form;
}

int adhoc_reply_executing(struct adhoc_reply *reply, struct form *form,
                          unsigned actions, enum adhoc_action dflt)
{
    if (!reply) {
        form_free(form);
        return -1;
    }
    adhoc__reply_set_form(reply, form);
    actions &= ADHOC__STEP_ACTIONS;
    if (!actions)
        actions = ADHOC_COMPLETE;
    if (!(dflt & actions) || dflt == ADHOC_PREV)
        dflt = (actions & ADHOC_NEXT) ? ADHOC_NEXT : ADHOC_COMPLETE;
    reply->executing = 1;
    reply->actions = actions;
    reply->dflt = dflt;
    return 0;
}

void adhoc_reply_ask(struct adhoc_reply *reply, struct form *form)
{
    if (form)
        adhoc_reply_executing(reply, form, 0, 0);
    else
        adhoc_reply_no_memory(reply);
}

int adhoc_reply_completed(struct adhoc_reply *reply, struct form *form)
{
    if (!reply) {
        form_free(form);
        return -1;
    }
    adhoc__reply_set_form(reply, form);
    reply->executing = 0;
    reply->actions = 0;
    return 0;
}

int adhoc_reply_note(struct adhoc_reply *reply, const char *type,
                     const char *text)
{
    struct adhoc_note *n;

    if (!reply || !text || reply->n_notes >= ADHOC__MAX_NOTES)
        return -1;
    if (!type ||
        (strcmp(type, "info") && strcmp(type, "warn") && strcmp(type, "error")))
        type = "info";
    n = &reply->notes[reply->n_notes];
    n->type = strdup(type);
    n->text = strdup(text);
    if (!n->type || !n->text) {
        free(n->type);
        free(n->text);
        n->type = n->text = NULL;
        return -1;
    }
    reply->n_notes++;
    return 0;
}

int adhoc_reply_error(struct adhoc_reply *reply, const char *type,
                      const char *condition, const char *text)
{
    if (!reply || !type || !condition)
        return -1;
    if (adhoc__dup_into(&reply->err_type, type) ||
        adhoc__dup_into(&reply->err_condition, condition) ||
        adhoc__dup_into(&reply->err_text, text))
        return -1;
    return 0;
}

void adhoc_reply_bad(struct adhoc_reply *reply, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    adhoc_reply_error(reply, "modify", "bad-request", text);
}

void adhoc_reply_store_fail(struct adhoc_reply *reply, const char *what,
                            const char *why)
{
    char text[600];
    snprintf(text, sizeof text, "Could not %s (%.300s); try again later",
             what, why);
    adhoc_reply_error(reply, "wait", "internal-server-error", text);
}

void adhoc_reply_no_memory(struct adhoc_reply *reply)
{
    adhoc_reply_error(reply, "wait", "resource-constraint",
                      "Out of memory; try again");
}

/* ---- stanzas out ---------------------------------------------------- */

/* An iq error for iq, with an optional XEP-0050 specific condition. */
static void adhoc__send_error(struct app *app, xmpp_stanza_t *iq,
                              const char *type, const char *condition,
                              const char *specific, const char *text)
{
    xmpp_stanza_t *reply, *err;

    if (!specific) {
        send_error(app, iq, type, condition, text);
        return;
    }
    reply = stanza_iq_result(app->ctx, iq);
    xmpp_stanza_set_type(reply, "error");
    err = stanza_add_child_ns(reply, "error", NULL);
    xmpp_stanza_set_type(err, type);
    stanza_add_child_ns(err, condition, NS_STANZAS);
    stanza_add_child_ns(err, specific, NS_COMMANDS);
    if (text && *text) {
        xmpp_stanza_t *t = stanza_add_text_child(err, "text", NS_STANZAS, text);
        xmpp_stanza_set_attribute(t, "xml:lang", "en");
    }
    app_send(app, reply);
    xmpp_stanza_release(reply);
}

static void adhoc__add_actions(xmpp_stanza_t *command,
                               const struct adhoc_reply *reply)
{
    xmpp_stanza_t *actions;

    if (!reply->actions)
        return;
    actions = stanza_add_child_ns(command, "actions", NULL);
    xmpp_stanza_set_attribute(actions, "execute",
                              reply->dflt == ADHOC_NEXT ? "next" : "complete");
    if (reply->actions & ADHOC_PREV)
        stanza_add_child_ns(actions, "prev", NULL);
    if (reply->actions & ADHOC_NEXT)
        stanza_add_child_ns(actions, "next", NULL);
    if (reply->actions & ADHOC_COMPLETE)
        stanza_add_child_ns(actions, "complete", NULL);
}

static void adhoc__add_note(xmpp_stanza_t *command, const char *type,
                            const char *text)
{
    xmpp_stanza_t *note = stanza_add_text_child(command, "note", NULL, text);

    xmpp_stanza_set_attribute(note, "type", type);
}

/* The rows as a text-multi field ADHOC_ROWS_VAR appended to the form
 * stanza x (the form itself is left as it is). */
static void adhoc__add_rows_field(struct app *app, xmpp_stanza_t *x,
                                  const char *rows)
{
    struct form *t = form_new(FORM_RESULT, NULL);
    xmpp_stanza_t *tx = NULL;

    if (t && form_add_text_multi(t, ADHOC_ROWS_VAR, "Rows (as text)", rows))
        tx = form_to_stanza(t, app->ctx);
    form_free(t);
    if (!tx)
        return;
    for (xmpp_stanza_t *f = xmpp_stanza_get_children(tx); f;
         f = xmpp_stanza_get_next(f))
        xmpp_stanza_add_child(x, f); /* takes a reference */
    xmpp_stanza_release(tx);
}

/* The payload; a result table's rows once more as text (SPEC §8) in
 * text_copies places: 2 a note (Converse shows the notes of a result) and
 * a field (profanity and poezio show its fields), 1 the note, 0 none. */
static void adhoc__add_payload(struct app *app, xmpp_stanza_t *command,
                               const struct adhoc_reply *reply,
                               int text_copies)
{
    char *rows = text_copies ? form_items_text(reply->form) : NULL;
    size_t i;

    adhoc__add_actions(command, reply);
    for (i = 0; i < reply->n_notes; i++)
        adhoc__add_note(command, reply->notes[i].type, reply->notes[i].text);
    if (rows)
        adhoc__add_note(command, "info", rows);
    if (reply->form) {
        xmpp_stanza_t *x = form_to_stanza(reply->form, app->ctx);

        if (x && rows && text_copies > 1)
            adhoc__add_rows_field(app, x, rows);
        if (x && xmpp_stanza_add_child_ex(command, x, 0) != XMPP_EOK)
            xmpp_stanza_release(x);
    }
    free(rows);
}

/* The iq result: <command node sessionid status/> with the reply's
 * payload (reply may be NULL). */
static void adhoc__send_result(struct app *app, xmpp_stanza_t *iq,
                               const char *node, const char *sessionid,
                               const char *status,
                               const struct adhoc_reply *reply)
{
    size_t max = app_max_stanza(app);

    /* the text copies of a table go first when the answer would not fit */
    for (int copies = 2; copies >= 0; copies--) {
        xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
        xmpp_stanza_t *command =
            stanza_add_child_ns(res, "command", NS_COMMANDS);

        xmpp_stanza_set_attribute(command, "node", node);
        if (sessionid)
            xmpp_stanza_set_attribute(command, "sessionid", sessionid);
        xmpp_stanza_set_attribute(command, "status", status);
        if (reply)
            adhoc__add_payload(app, command, reply, copies);
        if (copies == 0 || !reply || !reply->form ||
            reply->form->n_items == 0 ||
            app_stanza_size(app, res, max) <= max) {
            app_send(app, res);
            xmpp_stanza_release(res);
            return;
        }
        xmpp_stanza_release(res);
    }
}

/* ---- disco#items ---------------------------------------------------- */

static int adhoc__may_run(unsigned roles, const struct adhoc__entry *e)
{
    return (roles & e->cmd.roles) != 0;
}

static void adhoc__disco_items(struct app *app, const char *from,
                               xmpp_stanza_t *query, void *ud)
{
    struct adhoc *a = adhoc__get(app);
    char *bare = from ? xmpp_jid_bare(app->ctx, from) : NULL;
    unsigned roles = adhoc_roles_of(app, bare);
    size_t i;

    (void)ud;
    for (i = 0; a && i < a->n_cmds; i++) {
        xmpp_stanza_t *item;

        if (!adhoc__may_run(roles, a->cmds[i]))
            continue;
        item = stanza_add_child_ns(query, "item", NULL);
        if (app->jid)
            xmpp_stanza_set_attribute(item, "jid", app->jid);
        xmpp_stanza_set_attribute(item, "node", a->cmds[i]->node);
        xmpp_stanza_set_attribute(item, "name", a->cmds[i]->name);
    }
    if (bare)
        xmpp_free(app->ctx, bare);
}

/* ---- requests ------------------------------------------------------- */

/* Everything one <command/> request carries, parsed. */
struct adhoc__call {
    struct app *app;
    struct adhoc *a;
    xmpp_stanza_t *iq;
    xmpp_stanza_t *command;
    const char *from;
    char *bare; /* xmpp_free */
    unsigned roles;
    struct adhoc__entry *entry;
    const char *sessionid;
    enum adhoc_action action; /* as asked; ADHOC_EXECUTE when absent */
};

static int adhoc__parse_action(const char *s, enum adhoc_action *out)
{
    static const struct {
        const char *name;
        enum adhoc_action action;
    } names[] = {{"execute", ADHOC_EXECUTE},
                 {"next", ADHOC_NEXT},
                 {"prev", ADHOC_PREV},
                 {"complete", ADHOC_COMPLETE},
                 {"cancel", ADHOC_CANCEL}};
    size_t i;

    *out = ADHOC_EXECUTE;
    if (!s)
        return 0;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].action;
            return 0;
        }
    }
    return -1;
}

/* "contacts", "techs and admins", ... for the roles of a command. */
static void adhoc__role_names(unsigned roles, char *buf, size_t len)
{
    const char *names[3];
    size_t n = 0;

    if (roles & ADHOC_ROLE_CONTACT)
        names[n++] = "contacts";
    if (roles & ADHOC_ROLE_TECH)
        names[n++] = "techs";
    if (roles & (ADHOC_ROLE_TECH | ADHOC_ROLE_ADMIN))
        names[n++] = "admins";
    if (n == 0)
        snprintf(buf, len, "nobody");
    else if (n == 1)
        snprintf(buf, len, "%s", names[0]);
    else if (n == 2)
        snprintf(buf, len, "%s and %s", names[0], names[1]);
    else
        snprintf(buf, len, "%s, %s and %s", names[0], names[1], names[2]);
}

/* Role check: 0 when the requester may run the command, else answers. */
static int adhoc__check_role(struct adhoc__call *c)
{
    char text[512], who[64];

    if (adhoc__may_run(c->roles, c->entry))
        return 0;
    if (c->roles == ADHOC_ROLE_NONE) {
        snprintf(text, sizeof(text),
                 "%.300s is not a contact or tech of this helpdesk; ask your "
                 "provider to add you before running commands",
                 c->bare ? c->bare : "This JID");
        adhoc__send_error(c->app, c->iq, "auth", "not-authorized", NULL, text);
        return -1;
    }
    adhoc__role_names(c->entry->cmd.roles, who, sizeof(who));
    snprintf(text, sizeof(text), "The '%.100s' command is for chatdesk %s only",
             c->entry->cmd.node, who);
    adhoc__send_error(c->app, c->iq, "cancel", "forbidden", NULL, text);
    return -1;
}

/* Parse the request into c; answers and returns -1 when it cannot go on. */
static int adhoc__parse_call(struct adhoc__call *c)
{
    const char *node = xmpp_stanza_get_attribute(c->command, "node");
    char text[256];

    c->from = xmpp_stanza_get_from(c->iq);
    c->sessionid = xmpp_stanza_get_attribute(c->command, "sessionid");
    if (!node || !*node || !c->from) {
        adhoc__send_error(c->app, c->iq, "modify", "bad-request", NULL,
                          "The command request needs a 'node' and a sender");
        return -1;
    }
    if (adhoc__parse_action(xmpp_stanza_get_attribute(c->command, "action"),
                            &c->action) != 0) {
        adhoc__send_error(c->app, c->iq, "modify", "bad-request",
                          "malformed-action",
                          "Unknown action: use execute, next, prev, "
                          "complete or cancel");
        return -1;
    }
    c->entry = adhoc__find_cmd(c->a, node);
    if (!c->entry) {
        snprintf(text, sizeof(text), "There is no command '%.100s' here", node);
        adhoc__send_error(c->app, c->iq, "cancel", "item-not-found", NULL,
                          text);
        return -1;
    }
    c->bare = xmpp_jid_bare(c->app->ctx, c->from);
    c->roles = adhoc_roles_of(c->app, c->bare);
    return adhoc__check_role(c);
}

/* Read the submitted form, if any. 0, or -1 after answering bad-payload. */
static int adhoc__read_form(struct adhoc__call *c, struct form **out)
{
    char err[FORM_ERR_LEN];
    int rc = form_parse(c->command, out, err, sizeof(err));

    if (rc == FORM_OK && (*out)->type == FORM_CANCEL)
        (*out)->type = FORM_SUBMIT; /* as XEP-0050 "Use of Data Forms" asks */
    if (rc == FORM_OK || rc == FORM_ENOFORM)
        return 0;
    if (rc == FORM_ENOMEM)
        adhoc__send_error(c->app, c->iq, "wait", "resource-constraint", NULL,
                          "Out of memory reading the form; try again");
    else
        adhoc__send_error(c->app, c->iq, "modify", "bad-request", "bad-payload",
                          err);
    return -1;
}

/* Keep a new session for the first executing reply. NULL on failure. */
static struct adhoc__session *adhoc__session_new(struct adhoc__call *c,
                                                 const char *id, void *state)
{
    struct adhoc__session *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->owner = strdup(c->from);
    s->bare = strdup(c->bare ? c->bare : c->from);
    s->entry = c->entry;
    if (!s->owner || !s->bare) {
        adhoc__session_free(s); /* state stays with the caller */
        return NULL;
    }
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->state = state;
    s->next = c->a->sessions;
    c->a->sessions = s;
    return s;
}

/* Answer after the step of the first request (no session yet). */
static void adhoc__finish_new(struct adhoc__call *c, struct adhoc_request *req,
                              struct adhoc_reply *reply)
{
    const char *node = c->entry->cmd.node;
    struct adhoc__session *s;

    if (!reply->executing) {
        if (req->state && c->entry->cmd.free_state)
            c->entry->cmd.free_state(req->state);
        adhoc__send_result(c->app, c->iq, node, req->sessionid, "completed",
                           reply);
        return;
    }
    s = adhoc__session_new(c, req->sessionid, req->state);
    if (!s) {
        if (req->state && c->entry->cmd.free_state)
            c->entry->cmd.free_state(req->state);
        adhoc__send_error(c->app, c->iq, "wait", "resource-constraint", NULL,
                          "Out of memory starting the command; try again");
        return;
    }
    s->stage = 1;
    s->actions = reply->actions;
    s->dflt = reply->dflt;
    s->last = clock_now();
    adhoc__send_result(c->app, c->iq, node, s->id, "executing", reply);
}

/* Answer after the step of a later request of session s. */
static void adhoc__finish_session(struct adhoc__call *c,
                                  struct adhoc__session *s,
                                  enum adhoc_action action,
                                  struct adhoc_reply *reply)
{
    const char *node = c->entry->cmd.node;

    if (!reply->executing) {
        adhoc__send_result(c->app, c->iq, node, s->id, "completed", reply);
        adhoc__session_end(c->a, s);
        return;
    }
    s->stage = action == ADHOC_PREV ? s->stage - 1 : s->stage + 1;
    s->actions = reply->actions;
    s->dflt = reply->dflt;
    adhoc__send_result(c->app, c->iq, node, s->id, "executing", reply);
}

/* Run the step for the request (s NULL: first request) and answer. */
static void adhoc__run_step(struct adhoc__call *c, struct adhoc__session *s,
                            enum adhoc_action action)
{
    struct adhoc_request req;
    struct adhoc_reply reply;
    struct form *form = NULL;
    char id[64] = "";

    if (adhoc__read_form(c, &form) != 0)
        return;
    if (!s)
        adhoc__new_id(c->a, id, sizeof(id));
    memset(&reply, 0, sizeof(reply));
    req = (struct adhoc_request){.app = c->app,
                                 .cmd = &c->entry->cmd,
                                 .from = c->from,
                                 .bare = c->bare ? c->bare : c->from,
                                 .roles = c->roles,
                                 .sessionid = s ? s->id : id,
                                 .action = action,
                                 .stage = s ? s->stage : 0,
                                 .form = form,
                                 .command = c->command,
                                 .state = s ? s->state : NULL};
    c->entry->cmd.step(&req, &reply);
    form_free(form);
    if (s) {
        s->state = req.state;
        s->last = clock_now();
    }
    if (reply.err_condition) {
        if (!s && req.state && c->entry->cmd.free_state)
            c->entry->cmd.free_state(req.state);
        adhoc__send_error(c->app, c->iq, reply.err_type, reply.err_condition,
                          NULL, reply.err_text);
    } else if (s) {
        adhoc__finish_session(c, s, action, &reply);
    } else {
        adhoc__finish_new(c, &req, &reply);
    }
    adhoc__reply_clear(&reply);
}

/* The action a request on session s stands for, or 0 (after answering
 * bad-action) when the last reply did not allow it. */
static enum adhoc_action adhoc__resolve(struct adhoc__call *c,
                                        const struct adhoc__session *s)
{
    enum adhoc_action action = c->action;

    if (action == ADHOC_EXECUTE)
        action = s->dflt;
    /* the last stage: next means complete (poezio always sends next) */
    if (action == ADHOC_NEXT && !(s->actions & ADHOC_NEXT))
        action = ADHOC_COMPLETE;
    if ((action & s->actions) && !(action == ADHOC_PREV && s->stage < 2))
        return action;
    adhoc__send_error(c->app, c->iq, "modify", "bad-request", "bad-action",
                      "That action is not offered at this step of the "
                      "command");
    return 0;
}

/* A request carrying a sessionid. */
static void adhoc__continue(struct adhoc__call *c)
{
    struct adhoc__session *s = adhoc__find_session(c->a, c->sessionid);
    enum adhoc_action action;

    if (!s) {
        if (c->action == ADHOC_CANCEL)
            adhoc__send_result(c->app, c->iq, c->entry->cmd.node, c->sessionid,
                               "canceled", NULL);
        else
            adhoc__send_error(c->app, c->iq, "cancel", "not-allowed",
                              "session-expired",
                              "This command session has ended or timed "
                              "out; start the command again");
        return;
    }
    if (strcmp(s->owner, c->from) != 0 || s->entry != c->entry) {
        adhoc__send_error(c->app, c->iq, "modify", "bad-request",
                          "bad-sessionid",
                          "This session id belongs to another requester "
                          "or command");
        return;
    }
    if (c->action == ADHOC_CANCEL) {
        adhoc__send_result(c->app, c->iq, c->entry->cmd.node, s->id, "canceled",
                           NULL);
        adhoc__session_end(c->a, s);
        return;
    }
    action = adhoc__resolve(c, s);
    if (action)
        adhoc__run_step(c, s, action);
}

/* A request without sessionid: start the command. */
static void adhoc__start(struct adhoc__call *c)
{
    char text[128];

    if (c->action == ADHOC_CANCEL) {
        adhoc__send_result(c->app, c->iq, c->entry->cmd.node, NULL, "canceled",
                           NULL);
        return;
    }
    if (c->action == ADHOC_PREV) {
        adhoc__send_error(c->app, c->iq, "modify", "bad-request", "bad-action",
                          "There is no previous step before the first one");
        return;
    }
    if (adhoc__sessions_of(c->a, c->bare ? c->bare : c->from) >=
        ADHOC_MAX_SESSIONS_PER_JID) {
        snprintf(text, sizeof(text),
                 "You have %d unfinished commands; finish or cancel one "
                 "first",
                 ADHOC_MAX_SESSIONS_PER_JID);
        adhoc__send_error(c->app, c->iq, "wait", "resource-constraint", NULL,
                          text);
        return;
    }
    adhoc__run_step(c, NULL, ADHOC_EXECUTE);
}

static void adhoc__on_command(struct app *app, xmpp_stanza_t *iq,
                              xmpp_stanza_t *payload, void *ud)
{
    struct adhoc__call c;

    (void)ud;
    memset(&c, 0, sizeof(c));
    c.app = app;
    c.a = adhoc__get(app);
    c.iq = iq;
    c.command = payload;
    if (!c.a) {
        send_error(app, iq, "wait", "resource-constraint",
                   "Out of memory; try again");
        return;
    }
    adhoc_reap(app);
    if (adhoc__parse_call(&c) == 0) {
        if (c.sessionid && *c.sessionid)
            adhoc__continue(&c);
        else
            adhoc__start(&c);
    }
    if (c.bare)
        xmpp_free(app->ctx, c.bare);
}

int xep0050_register(struct app *app)
{
    if (!adhoc__get(app) || !app->dispatch || !app->disco)
        return -1;
    if (disco_add_feature(app->disco, NS_COMMANDS) != 0 ||
        disco_add_feature(app->disco, NS_DATA) != 0 ||
        disco_add_items_node(app->disco, NS_COMMANDS, adhoc__disco_items,
                             NULL) != 0)
        return -1;
    return dispatch_add_iq(app->dispatch, "set", "command", NS_COMMANDS,
                           adhoc__on_command, NULL);
}
