/* stanza.c - see stanza.h */
#include "runtime/stanza.h"

#include "runtime/app.h"

#include <string.h>

xmpp_stanza_t *stanza_iq_result(xmpp_ctx_t *ctx, xmpp_stanza_t *iq)
{
    xmpp_stanza_t *res = xmpp_iq_new(ctx, "result", xmpp_stanza_get_id(iq));
    const char *from = xmpp_stanza_get_from(iq);
    const char *to = xmpp_stanza_get_to(iq);
    if (from)
        xmpp_stanza_set_to(res, from);
    if (to)
        xmpp_stanza_set_from(res, to);
    return res;
}

xmpp_stanza_t *stanza_add_child_ns(xmpp_stanza_t *parent, const char *name,
                                   const char *ns)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(parent);
    xmpp_stanza_t *child = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(child, name);
    if (ns)
        xmpp_stanza_set_ns(child, ns);
    xmpp_stanza_add_child_ex(parent, child, 0);
    return child;
}

xmpp_stanza_t *stanza_add_text_child(xmpp_stanza_t *parent, const char *name,
                                     const char *ns, const char *text)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(parent);
    xmpp_stanza_t *child = stanza_add_child_ns(parent, name, ns);
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);
    xmpp_stanza_set_text(t, text ? text : "");
    xmpp_stanza_add_child_ex(child, t, 0);
    return child;
}

char *stanza_child_text(xmpp_stanza_t *parent, const char *name,
                        const char *ns)
{
    xmpp_stanza_t *child =
        ns ? xmpp_stanza_get_child_by_name_and_ns(parent, name, ns)
           : xmpp_stanza_get_child_by_name(parent, name);
    return child ? xmpp_stanza_get_text(child) : NULL;
}

static xmpp_stanza_t *stanza__error_reply(xmpp_ctx_t *ctx,
                                          xmpp_stanza_t *request)
{
    const char *kind = xmpp_stanza_get_name(request);
    xmpp_stanza_t *reply = xmpp_stanza_new(ctx);
    const char *id = xmpp_stanza_get_id(request);
    const char *from = xmpp_stanza_get_from(request);
    const char *to = xmpp_stanza_get_to(request);
    xmpp_stanza_set_name(reply, kind ? kind : "iq");
    xmpp_stanza_set_type(reply, "error");
    if (id)
        xmpp_stanza_set_id(reply, id);
    if (from)
        xmpp_stanza_set_to(reply, from);
    if (to)
        xmpp_stanza_set_from(reply, to);
    return reply;
}

void stanza_add_error(xmpp_stanza_t *reply, const char *type,
                      const char *condition, const char *text)
{
    xmpp_stanza_t *err = stanza_add_child_ns(reply, "error", NULL);
    xmpp_stanza_set_type(err, type);
    stanza_add_child_ns(err, condition, NS_STANZAS);
    if (text && *text) {
        xmpp_stanza_t *t = stanza_add_text_child(err, "text", NS_STANZAS, text);
        xmpp_stanza_set_attribute(t, "xml:lang", "en");
    }
}

void send_error(struct app *app, xmpp_stanza_t *request, const char *type,
                const char *condition, const char *text)
{
    xmpp_stanza_t *reply = stanza__error_reply(app->ctx, request);
    stanza_add_error(reply, type, condition, text);
    app_send(app, reply);
    xmpp_stanza_release(reply);
}

void send_iq_result(struct app *app, xmpp_stanza_t *iq)
{
    xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
    app_send(app, res);
    xmpp_stanza_release(res);
}
