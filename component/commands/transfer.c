/* transfer.c - see commands/transfer.h */
#include "commands/transfer.h"

#include "chat/errors.h"
#include "chat/notices.h"
#include "chat/rooms.h"
#include "commands/fields.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/presence.h"
#include "domain/sessions.h"
#include "runtime/app.h"
#include "xep0004_forms.h"
#include "xep0050_adhoc.h"
#include "xep0249_invite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct form *transfer__form(void)
{
    struct form *f = form_new(FORM_FORM, NULL);
    struct form_field *fl;
    if (!f)
        return NULL;
    form_set_title(f, "Transfer a chat");
    form_add_value_field(f, FIELD_TEXT_SINGLE, "session", "Session", NULL, 1);
    fl = form_add_value_field(f, FIELD_JID_SINGLE, "to", "To technician", NULL,
                              0);
    if (fl)
        form_field_set_desc(fl, "A technician's JID; empty puts the chat "
                                "back in the queue");
    return f;
}

/* The target `to` is a tech of the directory and Online: 0, or -1 after
 * answering. */
static int transfer__target(struct app *app, struct adhoc_reply *reply,
                            const char *to)
{
    struct tech t;
    char text[700];
    if (directory_tech_find(app->domain->dir, to, &t) != DIR_OK) {
        adhoc_reply_bad(reply,
                        "Field 'to' must be a technician's JID or empty "
                        "(back to the queue); \"%.300s\" is not a "
                        "technician",
                        to);
        return -1;
    }
    enum cd_presence p = presence_of(app->domain->presence, to, true);
    if (p == CD_ONLINE)
        return 0;
    snprintf(text, sizeof text,
             "%.300s is %s: a chat is transferred only to an Online "
             "technician.",
             t.name[0] ? t.name : t.jid, presence_name(p));
    adhoc_reply_error(reply, "cancel", "not-acceptable", text);
    return -1;
}

/* Who is told after the transfer of session id to `to` ("" = queue). */
static void transfer__tell(struct app *app, const char *from, int64_t id,
                           const char *to, const char *room)
{
    char who[256], whom[256], text[1100];
    if (!*to) {
        chat_notify_request(app, id);
        chat_notify_position(app, id);
        return;
    }
    chat_display_name(app, from, who, sizeof who);
    chat_display_name(app, to, whom, sizeof whom);
    snprintf(text, sizeof text, "%s hands the chat in %s over to you.", who,
             room);
    xep0249_send_invite(app, to, room, text, NULL);
    snprintf(text, sizeof text, "%s handed the chat in %s over to %s.", who,
             room, whom);
    chat_queue_post(app, text);
}

static void transfer__do(struct adhoc_request *req, struct adhoc_reply *reply,
                         int64_t id, const char *to)
{
    struct app *app = req->app;
    struct sess_result r;
    char room[CHAT_JID_MAX], num[32];
    if (*to && transfer__target(app, reply, to) != 0)
        return;
    int rc = sessions_transfer(app->domain->sessions, id, req->bare, to, &r);
    if (rc != SESS_OK) {
        const struct xmpp_cond *c = errors_sess(rc, ERRORS_COMMAND);
        adhoc_reply_error(reply, c->type, c->cond,
                          sessions_error(app->domain->sessions));
        return;
    }
    chat_after_transition(app, &r);
    chat_room_jid(app, id, room, sizeof room);
    transfer__tell(app, req->bare, id, to, room);
    struct form *res = form_new(FORM_RESULT, NULL);
    snprintf(num, sizeof num, "%" PRId64, id);
    form_add_value_field(res, FIELD_TEXT_SINGLE, "session", "Session", num, 0);
    form_add_value_field(res, FIELD_JID_SINGLE, "room", "Room", room, 0);
    form_add_value_field(res, FIELD_JID_SINGLE, "to", "To technician", to, 0);
    adhoc_reply_completed(reply, res);
    adhoc_reply_note(reply, "info",
                     *to ? "The technician was invited to the room."
                         : "The chat is back in the queue.");
}

static void transfer__step(struct adhoc_request *req, struct adhoc_reply *reply)
{
    int64_t id;
    if (!req->form) {
        struct form *f = transfer__form();
        adhoc_reply_ask(reply, f);
        return;
    }
    if (fields_read_id(reply, FIELDS_SESSION, req->form, &id) != 0)
        return;
    char *to = fields_text(req->form, "to");
    if (!to)
        adhoc_reply_no_memory(reply);
    else
        transfer__do(req, reply, id, to);
    free(to);
}

int commands_transfer_register(struct app *app)
{
    static const struct adhoc_command cmd = {
        "transfer",
        "Transfer a chat to a technician or the queue",
        ADHOC_ROLE_TECH,
        transfer__step,
        NULL,
        NULL};
    return adhoc_add_command(app, &cmd);
}
