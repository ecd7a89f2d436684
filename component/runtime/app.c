/* app.c - see app.h */
#include "runtime/app.h"

#include "runtime/config.h"
#include "runtime/log.h"

#include <stdio.h>
#include <string.h>

#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

/* An upper bound of the bytes st serializes to: every character of a name,
 * attribute or text may become an entity of at most 6 bytes, plus the
 * markup around each element and attribute. */
static size_t app__bound(xmpp_stanza_t *st)
{
    size_t n = 0;
    if (xmpp_stanza_is_text(st)) {
        const char *t = xmpp_stanza_get_text_ptr(st);
        return t ? 6 * strlen(t) : 0;
    }
    const char *name = xmpp_stanza_get_name(st);
    n += 2 * (name ? strlen(name) : 0) + 8;
    int count = xmpp_stanza_get_attribute_count(st);
    const char *attrs[2 * 64];
    if (count > 64)
        return (size_t)1 << 40; /* too many to bound cheaply: measure */
    xmpp_stanza_get_attributes(st, attrs, 2 * 64);
    for (int i = 0; i < 2 * count; i++)
        n += 6 * strlen(attrs[i]) + 4;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c))
        n += app__bound(c);
    return n;
}

int app_holds_domain(struct app *app)
{
    return !app->holds_domain || app->holds_domain(app);
}

size_t app_stanza_size(struct app *app, xmpp_stanza_t *st, size_t max)
{
    size_t bound = app__bound(st), len = 0;
    char *buf = NULL;
    if (bound <= max)
        return bound;
    if (xmpp_stanza_to_text(st, &buf, &len) != XMPP_EOK)
        return 0;
    xmpp_free(app->ctx, buf);
    return len;
}

/* Answer, instead of an iq result too large to send, an error to the same
 * requester and id that says why and what to do. */
static void app__refuse_iq(struct app *app, xmpp_stanza_t *iq, size_t size,
                           size_t max)
{
    char text[320];
    xmpp_stanza_t *err = xmpp_iq_new(app->ctx, "error", xmpp_stanza_get_id(iq));
    xmpp_stanza_t *e = xmpp_stanza_new(app->ctx);
    xmpp_stanza_t *cond = xmpp_stanza_new(app->ctx);
    xmpp_stanza_t *t = xmpp_stanza_new(app->ctx);
    xmpp_stanza_t *body = xmpp_stanza_new(app->ctx);
    snprintf(text, sizeof text,
             "The answer would be %zu bytes, more than chatdesk sends in one "
             "stanza (%zu, [limits] max_stanza_bytes); ask for less (a "
             "smaller page or range), or read a long transcript from the "
             "room's archive (MAM).",
             size, max);
    xmpp_stanza_set_to(err, xmpp_stanza_get_to(iq));
    xmpp_stanza_set_from(err, xmpp_stanza_get_from(iq));
    xmpp_stanza_set_name(e, "error");
    xmpp_stanza_set_type(e, "wait");
    xmpp_stanza_set_name(cond, "resource-constraint");
    xmpp_stanza_set_ns(cond, NS_STANZAS);
    xmpp_stanza_set_name(t, "text");
    xmpp_stanza_set_ns(t, NS_STANZAS);
    xmpp_stanza_set_attribute(t, "xml:lang", "en");
    xmpp_stanza_set_text(body, text);
    xmpp_stanza_add_child_ex(t, body, 0);
    xmpp_stanza_add_child_ex(e, cond, 0);
    xmpp_stanza_add_child_ex(e, t, 0);
    xmpp_stanza_add_child_ex(err, e, 0);
    app->send(app->send_ud, err);
    xmpp_stanza_release(err);
}

/* 1 when st is over the configured maximum and was refused instead. */
static int app__oversize(struct app *app, xmpp_stanza_t *st)
{
    size_t max = app_max_stanza(app);
    size_t size = app_stanza_size(app, st, max);
    if (size <= max)
        return 0;
    const char *name = xmpp_stanza_get_name(st);
    const char *type = xmpp_stanza_get_type(st);
    log_error("app",
              "refused to send a <%s/> of %zu bytes to %s (max_stanza_bytes "
              "%zu): the server would close the stream",
              name ? name : "?", size, xmpp_stanza_get_to(st), max);
    if (name && !strcmp(name, "iq") && type && !strcmp(type, "result"))
        app__refuse_iq(app, st, size, max);
    return 1;
}

size_t app_max_stanza(const struct app *app)
{
    return app && app->cfg && app->cfg->max_stanza_bytes > 0
               ? (size_t)app->cfg->max_stanza_bytes
               : CONFIG_MAX_STANZA_BYTES;
}

void app_send(struct app *app, xmpp_stanza_t *stanza)
{
    if (!xmpp_stanza_get_from(stanza) && app->jid)
        xmpp_stanza_set_from(stanza, app->jid);
    if (app->send && !app__oversize(app, stanza))
        app->send(app->send_ud, stanza);
}

void app_send_each(struct app *app, xmpp_stanza_t *stanza,
                   const char *const *to, size_t n)
{
    size_t longest = 0;
    for (size_t i = 1; i < n; i++)
        if (strlen(to[i]) > strlen(to[longest]))
            longest = i;
    int once = n > 1 && app->send && app->send_each;
    if (once) { /* every copy fits when the longest does (else: each) */
        size_t max = app_max_stanza(app);
        xmpp_stanza_set_to(stanza, to[longest]);
        once = app_stanza_size(app, stanza, max) <= max;
    }
    if (!once) {
        for (size_t i = 0; i < n; i++) {
            xmpp_stanza_set_to(stanza, to[i]);
            app_send(app, stanza);
        }
        return;
    }
    if (!xmpp_stanza_get_from(stanza) && app->jid)
        xmpp_stanza_set_from(stanza, app->jid);
    xmpp_stanza_del_attribute(stanza, "to");
    app->send_each(app->send_ud, stanza, to, n);
}
