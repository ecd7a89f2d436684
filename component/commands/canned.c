/* canned.c - see commands/canned.h */
#include "commands/canned.h"

#include "chat/errors.h"
#include "commands/change.h"
#include "commands/fields.h"
#include "domain/canned.h"
#include "domain/domain.h"
#include "runtime/app.h"
#include "xep0004_forms.h"
#include "xep0050_adhoc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct form *canned_cmd__form(struct app *app)
{
    struct form *f = form_new(FORM_FORM, NULL);
    struct form_field *fl;
    char *names = NULL, how[1200];
    if (!f)
        return NULL;
    form_set_title(f, "Canned replies");
    canned_names(app->domain->canned, &names);
    snprintf(how, sizeof how,
             "A technician sends a reply by writing !name as the whole "
             "message; {contact} and {tech} in the text become their names. "
             "Replies now: %.1000s",
             names && *names ? names : "none");
    free(names);
    form_set_instructions(f, how);
    fl = form_add_value_field(f, FIELD_LIST_SINGLE, "action", "Action", "add",
                              1);
    form_field_add_option(fl, "Add", "add");
    form_field_add_option(fl, "Edit", "edit");
    form_field_add_option(fl, "Remove", "remove");
    form_add_value_field(f, FIELD_TEXT_SINGLE, "name", "Name (after !)", NULL,
                         1);
    form_add_field(f, FIELD_TEXT_MULTI, "text", "Text");
    return f;
}

/* Do action on name with text and record it in the audit trail (SPEC
 * §9), in one transaction: no change without its entry. The canned_code,
 * or -1 after answering (no transaction, or the entry could not be
 * written: nothing was changed). */
static int canned_cmd__apply(const struct adhoc_request *req,
                             struct adhoc_reply *reply, const char *action,
                             const char *name, const char *text)
{
    struct canned *c = req->app->domain->canned;
    char *old = NULL, object[CANNED_NAME_MAX + 16];
    int rc, remove = !strcmp(action, "remove");
    if (change_begin(req, reply))
        return -1;
    if (!strcmp(action, "add"))
        rc = canned_add(c, name, text);
    else if (!remove)
        rc = canned_edit(c, name, text, &old);
    else
        rc = canned_remove(c, name, &old);
    if (rc != CANNED_OK) {
        free(old);
        change_cancel(req);
        return rc;
    }
    snprintf(object, sizeof object, "canned:%s", name);
    for (char *p = object; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    int failed = change_record(req, object, "text", old, remove ? "" : text);
    free(old);
    return change_end(req, reply, failed) ? -1 : rc;
}

static void canned_cmd__do(struct adhoc_request *req, struct adhoc_reply *reply,
                           const char *action, const char *name,
                           const char *text)
{
    char note[200];
    if (strcmp(action, "add") && strcmp(action, "edit") &&
        strcmp(action, "remove")) {
        adhoc_reply_bad(reply,
                        "Field 'action' must be add, edit or remove; got "
                        "\"%.100s\"",
                        action);
        return;
    }
    int rc = canned_cmd__apply(req, reply, action, name, text);
    if (rc < 0)
        return;
    if (rc != CANNED_OK) {
        const struct xmpp_cond *c = errors_canned(rc);
        adhoc_reply_error(reply, c->type, c->cond,
                          canned_error(req->app->domain->canned));
        return;
    }
    snprintf(note, sizeof note, "Canned reply !%.40s %s.", name,
             !strcmp(action, "add")    ? "added"
             : !strcmp(action, "edit") ? "changed"
                                       : "removed");
    adhoc_reply_completed(reply, NULL);
    adhoc_reply_note(reply, "info", note);
}

static void canned_cmd__step(struct adhoc_request *req,
                             struct adhoc_reply *reply)
{
    if (!req->form) {
        struct form *f = canned_cmd__form(req->app);
        adhoc_reply_ask(reply, f);
        return;
    }
    char *action = fields_text(req->form, "action");
    char *name = fields_text(req->form, "name");
    char *text = fields_text(req->form, "text");
    if (!action || !name || !text)
        adhoc_reply_no_memory(reply);
    else
        canned_cmd__do(req, reply, *action ? action : "add", name, text);
    free(action);
    free(name);
    free(text);
}

int commands_canned_register(struct app *app)
{
    static const struct adhoc_command cmd = {
        "canned",
        "Add, edit or remove canned replies",
        ADHOC_ROLE_ADMIN,
        canned_cmd__step,
        NULL,
        NULL};
    return adhoc_add_command(app, &cmd);
}
