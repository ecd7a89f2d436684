/* archive.c - see archive.h */
#include "chat/archive.h"

#include "chat/errors.h"
#include "chat/rooms.h"

#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/history.h"
#include "runtime/app.h"
#include "xep0313_mam.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void archive__err(struct mam_err *err, const char *type,
                         const char *condition, const char *text)
{
    snprintf(err->type, sizeof err->type, "%s", type);
    snprintf(err->condition, sizeof err->condition, "%s", condition);
    snprintf(err->text, sizeof err->text, "%s", text);
}

/* A failure of the history module, with its sentence. */
static void archive__fail(struct app *app, int code, struct mam_err *err)
{
    const struct xmpp_cond *c = errors_hist(code);
    archive__err(err, c->type, c->cond, history_error(app->history));
}

static int archive__jid_bare(const char *jid, char *out, size_t len, void *ud)
{
    (void)ud;
    return directory_jid_bare(jid, out, len);
}

/* A requester who is neither contact nor tech (SPEC §1): -1 with
 * <not-authorized/>. */
static int archive__known_jid(struct app *app, const char *from,
                              struct mam_err *err)
{
    char bare[DIR_JID_MAX], text[MAM_ERR_TEXT];
    int parsed = from && directory_jid_bare(from, bare, sizeof bare) == 0;
    if (parsed && domain_role(app->domain, bare) != ROLE_NONE)
        return 0;
    snprintf(text, sizeof text,
             "%.300s is not a contact or tech of this helpdesk; ask your "
             "provider to add you before reading chat archives",
             parsed ? bare : "This JID");
    archive__err(err, "auth", "not-authorized", text);
    return -1;
}

/* The archive handle of the queue room (session ids start at 1). */
#define ARCHIVE__QUEUE 0

/* The queue room's archive: empty, for techs only. */
static int archive__open_queue(struct app *app, const char *from,
                               int64_t *archive, struct mam_err *err)
{
    char bare[DIR_JID_MAX];
    enum dir_role role = ROLE_NONE;

    if (directory_jid_bare(from, bare, sizeof bare) == 0)
        role = domain_role(app->domain, bare);
    if (role != ROLE_TECH && role != ROLE_ADMIN) {
        archive__err(err, "auth", "forbidden",
                     "Only techs may read the queue room's archive.");
        return -1;
    }
    *archive = ARCHIVE__QUEUE;
    return 0;
}

static int archive__open(struct app *app, const char *room, const char *from,
                         int64_t *archive, struct mam_err *err, void *ud)
{
    (void)ud;
    if (archive__known_jid(app, from, err) != 0)
        return -1;
    if (!strcmp(room, CHAT_QUEUE_ROOM))
        return archive__open_queue(app, from, archive, err);
    if (!app->history) {
        archive__err(err, "wait", "internal-server-error",
                     "The archive is not open; try again later.");
        return -1;
    }
    int rc =
        history_archive_access(app->history, room, from ? from : "", archive);
    if (rc == HIST_OK)
        return 0;
    archive__fail(app, rc, err);
    return -1;
}

/* The history's form of a query. room/Helpdesk is the notices' occupant:
 * filtering on it means the notices (any case, like the nick). */
static void archive__query(const struct mam_query *q,
                           struct hist_archive_query *hq)
{
    static const enum hist_with with[] = {[MAM_WITH_ANY] = HIST_WITH_ANY,
                                          [MAM_WITH_JID] = HIST_WITH_JID,
                                          [MAM_WITH_NICK] = HIST_WITH_NICK,
                                          [MAM_WITH_ROOM] = HIST_WITH_ROOM};
    *hq = (struct hist_archive_query){.has_start = q->has_start,
                                      .has_end = q->has_end,
                                      .start = q->start,
                                      .end = q->end,
                                      .with = with[q->with],
                                      .with_value = q->with_value,
                                      .after = q->after,
                                      .before = q->before,
                                      .has_index = q->has_index,
                                      .index = q->index,
                                      .max = q->max};
    if (q->with == MAM_WITH_NICK &&
        !strcasecmp(q->with_value, CHAT_NOTICE_NICK))
        hq->with = HIST_WITH_ROOM;
}

static int archive__page(struct app *app, int64_t archive,
                         const struct mam_query *q, mam_item_fn fn, void *fn_ud,
                         struct mam_page *out, struct mam_err *err, void *ud)
{
    struct hist_archive_query hq;
    struct hist_archive_page page;
    (void)ud;
    if (archive == ARCHIVE__QUEUE) { /* live posts only, none kept */
        *out = (struct mam_page){.complete = true};
        return 0;
    }
    archive__query(q, &hq);
    int rc = history_archive_query(app->history, archive, &hq, &page);
    if (rc != HIST_OK) {
        archive__fail(app, rc, err);
        return -1;
    }
    for (size_t i = 0; i < page.items.n; i++) {
        const struct sess_message *m = &page.items.items[i];
        bool notice = m->kind == SESS_MSG_SYSTEM;
        struct mam_item item = {.stanza_id = m->stanza_id,
                                .when = m->created,
                                .nick = notice ? CHAT_NOTICE_NICK : m->nick,
                                .from_jid = notice ? NULL : m->from_jid,
                                .body = m->body};
        fn(&item, fn_ud);
    }
    *out = (struct mam_page){.n = page.items.n,
                             .count = page.count,
                             .first_index = page.first_index,
                             .complete = page.complete};
    hist_page_free(&page);
    return 0;
}

static const struct mam_archive archive__sessions = {
    .jid_bare = archive__jid_bare,
    .open = archive__open,
    .page = archive__page,
};

int chat_archive_register(struct app *app)
{
    if (!app->store || !app->domain)
        return -1;
    return xep0313_register(app, &archive__sessions);
}
