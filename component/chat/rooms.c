/* rooms.c - see rooms.h */
#include "chat/rooms.h"

#include "domain/directory.h"
#include "domain/domain.h"
#include "runtime/app.h"
#include "runtime/nick.h"
#include "xep0045_muc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *chat_room_jid(struct app *app, int64_t id, char *buf, size_t len)
{
    snprintf(buf, len, "chat-%" PRId64 "@%s", id, app->jid);
    return buf;
}

void chat_display_name(struct app *app, const char *bare, char *buf, size_t len)
{
    struct contact c;
    struct tech t;
    struct directory *dir = app->domain->dir;
    if (directory_contact_find(dir, bare, &c) == DIR_OK &&
        nick_clean_text(c.name, buf, len))
        return;
    if (directory_tech_find(dir, bare, &t) == DIR_OK &&
        nick_clean_text(t.name, buf, len))
        return;
    const char *at = strchr(bare, '@');
    snprintf(buf, len, "%.*s", at ? (int)(at - bare) : (int)strlen(bare), bare);
}

void chat_broadcast_stored(struct app *app, int64_t session_id,
                           const struct sess_stored *notice)
{
    if (!notice->stored)
        return;
    char room[64];
    sessions_room_localpart(session_id, room, sizeof room);
    app->chat->prestored = notice;
    muc_send_notice(app->chat->muc, room, notice->body, NULL);
    app->chat->prestored = NULL;
}

void chat_queue_post(struct app *app, const char *text)
{
    muc_send_notice(app->chat->muc, CHAT_QUEUE_ROOM, text, NULL);
}

int chat_revoke_contact_voice(struct app *app, const struct sess_info *s)
{
    char room[64];
    sessions_room_localpart(s->id, room, sizeof room);
    if (muc_role_of(app->chat->muc, room, s->contact_jid) == MUC_ROLE_NONE)
        return 0;
    muc_set_role(app->chat->muc, room, s->contact_jid, MUC_ROLE_VISITOR,
                 "The chat has ended.");
    return 1;
}

int chat_tell_place(struct app *app, int64_t session_id, int place)
{
    struct sess_info s;
    char room[64], text[128];
    if (sessions_get(app->domain->sessions, session_id, &s) != SESS_OK)
        return 0;
    sessions_room_localpart(session_id, room, sizeof room);
    int here = muc_role_of(app->chat->muc, room, s.contact_jid) !=
               MUC_ROLE_NONE;
    if (here) {
        snprintf(text, sizeof text, "You are number %d in line.", place);
        muc_send_notice(app->chat->muc, room, text, NULL);
    }
    sess_info_clear(&s);
    return here;
}

int chat_tell_position(struct app *app, int64_t session_id)
{
    int pos = 0;
    if (sessions_queue_position(app->domain->sessions, session_id, &pos) !=
        SESS_OK)
        return 0;
    return chat_tell_place(app, session_id, pos);
}
