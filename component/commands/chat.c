/* chat.c - see commands/chat.h */
#include "commands/chat.h"

#include "chat/notices.h"
#include "chat/rooms.h"
#include "runtime/app.h"
#include "chat/errors.h"
#include "commands/fields.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/disco.h"
#include "domain/domain.h"
#include "domain/permissions.h"
#include "domain/presence.h"
#include "domain/tickets.h"
#include "xep0004_forms.h"
#include "xep0045_muc.h"
#include "xep0050_adhoc.h"
#include "xep0249_invite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAT_CMD_MAX_FIELDS 3
#define CHAT_CMD_VALUE_MAX 4096

struct chat_field {
    const char *var, *label;
    enum form_field_type type;
    int required;
};

struct chat_cmd;
typedef void (*chat_act_fn)(struct adhoc_request *req,
                            struct adhoc_reply *reply, char **values);

struct chat_cmd {
    const char *node, *name, *title;
    unsigned roles;
    struct chat_field fields[CHAT_CMD_MAX_FIELDS];
    size_t n_fields;
    chat_act_fn act;
};

/* ---- replies ----------------------------------------------------------- */

static void chat__fail(struct adhoc_reply *reply, const char *type,
                       const char *cond, const char *fmt, const char *a,
                       const char *b)
{
    char text[600];
    snprintf(text, sizeof text, fmt, a ? a : "", b ? b : "");
    adhoc_reply_error(reply, type, cond, text);
}

/* Answer a refused session transition with its condition and text. */
static void chat__sess_fail(struct app *app, struct adhoc_reply *reply,
                            int code)
{
    const struct xmpp_cond *c = errors_sess(code, ERRORS_COMMAND);
    adhoc_reply_error(reply, c->type, c->cond,
                      sessions_error(app->domain->sessions));
}

static struct form *chat__result_form(const char *room, int64_t session,
                                      int64_t ticket)
{
    char num[32];
    struct form *res = form_new(FORM_RESULT, NULL);
    if (!res)
        return NULL;
    if (room)
        form_add_value_field(res, FIELD_JID_SINGLE, "room", "Room", room, 0);
    snprintf(num, sizeof num, "%" PRId64, session);
    form_add_value_field(res, FIELD_TEXT_SINGLE, "session", "Session", num, 0);
    if (ticket) {
        snprintf(num, sizeof num, "%" PRId64, ticket);
        form_add_value_field(res, FIELD_TEXT_SINGLE, "ticket", "Ticket", num,
                             0);
    }
    return res;
}

static void chat__result(struct adhoc_reply *reply, const char *room,
                         int64_t session, int64_t ticket, const char *note)
{
    adhoc_reply_completed(reply, chat__result_form(room, session, ticket));
    if (note)
        adhoc_reply_note(reply, "info", note);
}

static int chat__count_tech(const char *tech, void *ud)
{
    (void)tech, (void)ud;
    return 0;
}

/* Leave a message (SPEC §9): the number of Online techs as field
 * techs_online of res (may be NULL); returns it. */
static int chat__techs_online(struct app *app, struct form *res)
{
    char num[32];
    size_t n = presence_each_online_tech(app->domain->presence,
                                         chat__count_tech, NULL);
    snprintf(num, sizeof num, "%zu", n);
    if (res)
        form_add_value_field(res, FIELD_TEXT_SINGLE, "techs_online",
                             "Technicians online", num, 0);
    return (int)n;
}

/* start-chat's result: the common fields and the place in the queue
 * (SPEC §9: position, 1 = next). */
static void chat__start_result(struct app *app, struct adhoc_reply *reply,
                               int64_t id, int64_t ticket)
{
    char room[CHAT_JID_MAX], num[32];
    int pos = 0;
    struct form *res = chat__result_form(
        chat_room_jid(app, id, room, sizeof room), id, ticket);
    if (res &&
        sessions_queue_position(app->domain->sessions, id, &pos) == SESS_OK) {
        snprintf(num, sizeof num, "%d", pos);
        form_add_value_field(res, FIELD_TEXT_SINGLE, "position",
                             "Place in the queue", num, 0);
    }
    int online = chat__techs_online(app, res);
    adhoc_reply_completed(reply, res);
    adhoc_reply_note(reply, "info",
                     "Your chat request is waiting for a tech. Join the room.");
    if (!online)
        adhoc_reply_note(reply, "warn",
                         "No technician is available right now. Your ticket "
                         "was created; you may wait, or ask for a callback.");
}

/* ---- fields ------------------------------------------------------------ */

static int chat__settings(struct app *app, struct adhoc_reply *reply,
                          struct settings *out)
{
    char err[256];
    if (domain_settings(app->domain, out, err, sizeof err) == 0)
        return 0;
    chat__fail(reply, "wait", "internal-server-error",
               "Cannot read the settings: %s%s", err, NULL);
    return -1;
}

/* ---- start-chat (contact) ---------------------------------------------- */

static int chat__may(struct app *app, struct adhoc_reply *reply,
                     const char *jid, enum perm_action action)
{
    struct settings st;
    struct perm_decision d;
    if (chat__settings(app, reply, &st) != 0)
        return -1;
    perm_check(app->domain->dir, &st, jid, action, clock_now(), NULL, &d);
    if (d.allowed)
        return 0;
    if (d.verdict == PERM_DENY_NOT_CONTACT)
        adhoc_reply_error(reply, "auth", "not-authorized", d.reason);
    else
        adhoc_reply_error(reply, "auth", "forbidden", d.reason);
    return -1;
}

static void chat__start(struct adhoc_request *req, struct adhoc_reply *reply,
                        char **v)
{
    struct app *app = req->app;
    struct contact c;
    if (chat__may(app, reply, req->bare, PERM_PRE_TICKET) != 0)
        return;
    if (directory_contact_find(app->domain->dir, req->bare, &c) != DIR_OK) {
        chat__fail(reply, "auth", "not-authorized",
                   "%s is not a contact of this helpdesk.%s", req->bare, NULL);
        return;
    }
    int64_t ticket = 0, id = 0;
    int rc = sessions_start_chat(app->domain->sessions, c.jid, c.id, v[0],
                                 &ticket, &id);
    if (rc != SESS_OK) {
        chat__sess_fail(app, reply, rc);
        return;
    }
    chat__start_result(app, reply, id, ticket);
    chat_notify_request(app, id);
}

/* ---- push-chat (tech) ------------------------------------------------- */

/* The contact of an open ticket into c; 0, or -1 after answering. */
static int chat__ticket_contact(struct app *app, struct adhoc_reply *reply,
                                int64_t ticket, struct contact *c)
{
    struct ticket t;
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, ticket);
    if (ticket <= 0 || ticket_get(app->domain->tickets, ticket, &t) != 0) {
        chat__fail(reply, "cancel", "item-not-found",
                   "There is no ticket #%s.%s", num, NULL);
        return -1;
    }
    int open = t.status == TICKET_OPEN;
    int64_t contact_id = t.contact_id;
    ticket_clear(&t);
    if (!open || !contact_id ||
        directory_contact_get(app->domain->dir, contact_id, c) != DIR_OK) {
        chat__fail(reply, "cancel", "not-acceptable",
                   open ? "Ticket #%s has no contact to chat with.%s"
                        : "Ticket #%s is closed.%s",
                   num, NULL);
        return -1;
    }
    return 0;
}

/* Invite the contact c to session id's room (XEP-0249 and mediated). */
static void chat__push_invite(struct adhoc_request *req,
                              const struct contact *c, int64_t id,
                              int64_t ticket, char *room, size_t roomlen)
{
    struct app *app = req->app;
    char local[64], tech[256], name[DIR_NAME_MAX], reason[600];
    chat_room_jid(app, id, room, roomlen);
    chat_display_name(app, req->bare, tech, sizeof tech);
    snprintf(reason, sizeof reason,
             "%s wants to chat with you about ticket #%" PRId64 ".", tech,
             ticket);
    xep0249_send_invite(app, c->jid, room, reason, NULL);
    sessions_room_localpart(id, local, sizeof local);
    muc_invite(app->chat->muc, local, req->from, c->jid, reason);
    chat_display_name(app, c->jid, name, sizeof name);
    snprintf(reason, sizeof reason,
             "Your chat with %.300s about ticket #%" PRId64 ".", name, ticket);
    xep0249_send_invite(app, req->from, room, reason, NULL); /* SPEC §8 */
}

/* The open (waiting or active) session of ticket with contact, or 0. */
static int64_t chat__open_session(struct app *app, const char *contact,
                                  int64_t ticket)
{
    struct sess_list l;
    int64_t id = 0;
    if (sessions_list(app->domain->sessions, SESS_VIEW_CONTACT_LIVE, contact,
                      0, &l) != SESS_OK)
        return 0;
    for (size_t i = 0; i < l.n && !id; i++)
        if (l.items[i].ticket_id == ticket)
            id = l.items[i].id;
    sess_list_free(&l);
    return id;
}

/* 0 when the contact c is Online, else -1 after answering. */
static int chat__push_online(struct app *app, struct adhoc_reply *reply,
                             const struct contact *c)
{
    enum cd_presence p = presence_of(app->domain->presence, c->jid, false);
    if (p == CD_ONLINE)
        return 0;
    char text[600], name[DIR_NAME_MAX];
    chat_display_name(app, c->jid, name, sizeof name);
    snprintf(text, sizeof text,
             "%.300s is %s: a push-chat needs the contact Online.", name,
             presence_name(p));
    adhoc_reply_error(reply, "cancel", "not-acceptable", text);
    return -1;
}

static void chat__push(struct adhoc_request *req, struct adhoc_reply *reply,
                       char **v)
{
    struct app *app = req->app;
    struct contact c;
    int64_t ticket, id;
    char room[CHAT_JID_MAX], note[300];
    if (fields_id(reply, FIELDS_TICKET, v[0], &ticket) != 0)
        return;
    if (chat__ticket_contact(app, reply, ticket, &c) != 0 ||
        chat__may(app, reply, c.jid, PERM_CHAT) != 0 ||
        chat__push_online(app, reply, &c) != 0)
        return;
    /* One open chat per ticket: a push on a ticket that has one invites
     * the contact to it again (docs/protocol.md). */
    if ((id = chat__open_session(app, c.jid, ticket)) != 0) {
        chat__push_invite(req, &c, id, ticket, room, sizeof room);
        snprintf(note, sizeof note,
                 "Ticket #%" PRId64 " already has an open chat (session "
                 "%" PRId64 "): the contact was invited to it again.",
                 ticket, id);
        chat__result(reply, room, id, ticket, note);
        return;
    }
    int rc = sessions_create_active(app->domain->sessions, ticket, c.jid,
                                    req->bare, &id);
    if (rc != SESS_OK) {
        chat__sess_fail(app, reply, rc);
        return;
    }
    chat__push_invite(req, &c, id, ticket, room, sizeof room);
    chat__result(reply, room, id, ticket, "The contact was invited.");
}

/* ---- end-session (tech), end-chat and callback (contact) ---------------- */

static void chat__end_session(struct adhoc_request *req,
                              struct adhoc_reply *reply, char **v)
{
    int64_t id;
    struct sess_result r;
    if (fields_id(reply, FIELDS_SESSION, v[0], &id) != 0)
        return;
    int rc = sessions_end_by_tech(req->app->domain->sessions, id, req->bare,
                                  v[1], &r);
    if (rc != SESS_OK) {
        chat__sess_fail(req->app, reply, rc);
        return;
    }
    chat_after_transition(req->app, &r);
    chat__result(reply, NULL, id, 0,
                 r.after == SESS_CLOSED ? "The session is closed."
                                        : "The session has ended.");
}

static void chat__end_chat(struct adhoc_request *req, struct adhoc_reply *reply,
                           char **v)
{
    int64_t id;
    struct settings st;
    struct sess_result r;
    if (fields_id(reply, FIELDS_SESSION, v[0], &id) != 0 ||
        chat__settings(req->app, reply, &st) != 0)
        return;
    int rc = sessions_end_by_contact(req->app->domain->sessions, id, req->bare,
                                     &st, clock_now(), &r);
    if (rc != SESS_OK) {
        chat__sess_fail(req->app, reply, rc);
        return;
    }
    chat_after_transition(req->app, &r);
    chat__result(reply, NULL, id, 0, "Your chat has ended.");
}

static void chat__callback(struct adhoc_request *req, struct adhoc_reply *reply,
                           char **v)
{
    int64_t id;
    struct settings st;
    struct sess_result r;
    if (fields_id(reply, FIELDS_SESSION, v[0], &id) != 0)
        return;
    if (sessions_phone_check(v[1]) != 0) {
        chat__fail(reply, "modify", "bad-request",
                   "Please enter a phone number we can call, for example "
                   "+1 555 0100: digits, with spaces, + - ( ) if you like "
                   "(3 to 32 characters).%s%s",
                   NULL, NULL);
        return;
    }
    if (chat__settings(req->app, reply, &st) != 0)
        return;
    bool nobody = chat__techs_online(req->app, NULL) == 0;
    int rc = sessions_callback(req->app->domain->sessions, id, req->bare, v[1],
                               v[2], &st, clock_now(), nobody, &r);
    if (rc != SESS_OK) {
        chat__sess_fail(req->app, reply, rc);
        return;
    }
    chat_after_transition(req->app, &r);
    chat__result(reply, NULL, id, 0,
                 "Your callback request was passed on to the techs.");
}

/* ---- the table and the one step function -------------------------------- */

/* clang-format off */
static const struct chat_cmd chat__cmds[] = {
    {"start-chat", "Start a chat", "Chat with support", ADHOC_ROLE_CONTACT,
     {{"description", "Describe your problem briefly", FIELD_TEXT_SINGLE, 1}},
     1, chat__start},
    {"push-chat", "Push a chat to a ticket's contact", "Push a chat",
     ADHOC_ROLE_TECH,
     {{"ticket", "Ticket number", FIELD_TEXT_SINGLE, 1}},
     1, chat__push},
    {"end-session", "End or close a chat session", "End a session",
     ADHOC_ROLE_TECH,
     {{"session", "Session", FIELD_TEXT_SINGLE, 1},
      {"note", "Closing note", FIELD_TEXT_MULTI, 0}},
     2, chat__end_session},
    {"end-chat", "End my chat", "End your chat", ADHOC_ROLE_CONTACT,
     {{"session", "Session", FIELD_TEXT_SINGLE, 1}},
     1, chat__end_chat},
    {"callback", "Ask for a callback", "Call me back", ADHOC_ROLE_CONTACT,
     {{"session", "Session", FIELD_TEXT_SINGLE, 1},
      {"phone", "Phone number", FIELD_TEXT_SINGLE, 1},
      {"note", "Note", FIELD_TEXT_MULTI, 0}},
     3, chat__callback},
};
/* clang-format on */

static struct form *chat__form(const struct chat_cmd *cmd)
{
    struct form *f = form_new(FORM_FORM, NULL);
    if (!f)
        return NULL;
    form_set_title(f, cmd->title);
    for (size_t i = 0; i < cmd->n_fields; i++)
        form_add_value_field(f, cmd->fields[i].type, cmd->fields[i].var,
                             cmd->fields[i].label, NULL,
                             cmd->fields[i].required);
    return f;
}

/* The callback form's phone starts as the contact's directory phone. */
static void chat__phone_default(struct app *app, const char *jid,
                                struct form *f)
{
    struct contact c;
    struct form_field *phone = form_field_find(f, "phone");
    if (phone &&
        directory_contact_find(app->domain->dir, jid, &c) == DIR_OK &&
        c.phone[0])
        form_field_add_value(phone, c.phone);
}

/* Trimmed copies of the submitted values; 0, or -1 after answering. */
static int chat__values(const struct chat_cmd *cmd, const struct form *form,
                        struct adhoc_reply *reply, char **v)
{
    for (size_t i = 0; i < cmd->n_fields; i++) {
        const char *var = cmd->fields[i].var;
        v[i] = fields_text(form, var);
        size_t n = v[i] ? strlen(v[i]) : 0;
        if (!v[i] || n > CHAT_CMD_VALUE_MAX ||
            (cmd->fields[i].required && !n)) {
            chat__fail(reply, "modify", "bad-request",
                       n ? "Field '%s' is too long (at most 4096 bytes).%s"
                         : "Field '%s' is required.%s",
                       var, NULL);
            return -1;
        }
    }
    return 0;
}

static void chat__step(struct adhoc_request *req, struct adhoc_reply *reply)
{
    const struct chat_cmd *cmd = req->cmd->ud;
    if (!req->form) {
        /* start-chat: say "not for you" before the contact types anything,
         * so a portal can hide its Chat option */
        if (cmd->act == chat__start &&
            chat__may(req->app, reply, req->bare, PERM_PRE_TICKET) != 0)
            return;
        struct form *f = chat__form(cmd);
        if (f && cmd->act == chat__callback)
            chat__phone_default(req->app, req->bare, f);
        if (f)
            adhoc_reply_executing(reply, f, 0, 0);
        else
            adhoc_reply_error(reply, "wait", "resource-constraint",
                              "Out of memory; try again.");
        return;
    }
    char *v[CHAT_CMD_MAX_FIELDS] = {0};
    if (chat__values(cmd, req->form, reply, v) == 0)
        cmd->act(req, reply, v);
    for (size_t i = 0; i < CHAT_CMD_MAX_FIELDS; i++)
        free(v[i]);
}

/* ---- what a portal needs to know (XEP-0128, docs/protocol.md) ---------- */

static void chat__portal_number(struct form *f, const char *var,
                                const char *label, long value)
{
    char num[32];
    snprintf(num, sizeof num, "%ld", value);
    form_add_value_field(f, FIELD_TEXT_SINGLE, var, label, num, 0);
}

/* The timing rules a contact's portal shows: answer_timeout, idle_timeout,
 * away_after (seconds) and whether the office is open now. */
static void chat__portal_info(struct app *app, xmpp_stanza_t *query, void *ud)
{
    (void)ud;
    struct settings st;
    char err[256];
    if (domain_settings(app->domain, &st, err, sizeof err) != 0)
        return; /* no extension rather than a wrong one */
    struct form *f = form_new(FORM_RESULT, CHAT_PORTAL_FORM_TYPE);
    if (!f)
        return;
    chat__portal_number(f, "answer_timeout", "Seconds before a waiting "
                        "contact may end or ask for a callback",
                        st.answer_timeout);
    chat__portal_number(f, "idle_timeout", "Seconds without messages "
                        "before a contact may end an active chat",
                        st.idle_timeout);
    chat__portal_number(f, "away_after", "Seconds without activity before "
                        "a portal reports away",
                        app->cfg ? app->cfg->away_after : 300);
    form_add_value_field(f, FIELD_BOOLEAN, "office_hours_open",
                         "Inside office hours now",
                         office_hours_is_open(&st.hours, clock_now()) ? "1"
                                                                       : "0",
                         0);
    xmpp_stanza_t *x = form_to_stanza(f, app->ctx);
    if (x) {
        xmpp_stanza_add_child(query, x);
        xmpp_stanza_release(x);
    }
    form_free(f);
}

int commands_chat_register(struct app *app)
{
    disco_set_info_ext(app->disco, chat__portal_info, NULL);
    for (size_t i = 0; i < sizeof chat__cmds / sizeof chat__cmds[0]; i++) {
        struct adhoc_command c = {
            .node = chat__cmds[i].node,
            .name = chat__cmds[i].name,
            .roles = chat__cmds[i].roles,
            .step = chat__step,
            .ud = (void *)&chat__cmds[i],
        };
        if (adhoc_add_command(app, &c) != 0)
            return -1;
    }
    return 0;
}
