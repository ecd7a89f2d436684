/* audit.c - see commands/audit.h */
#include "commands/audit.h"

#include "domain/audit.h"
#include "domain/domain.h"
#include "runtime/app.h"
#include "xep0004_forms.h"
#include "xep0050_adhoc.h"
#include "xep0203_delay.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define AUDIT_CMD__PAGE_LIMIT 100000

struct audit_cmd__state {
    size_t page;
};

static struct form *audit_cmd__table(const struct audit_list *l, size_t n)
{
    static const char *const cols[][2] = {
        {"at", "When"}, {"who", "Who"}, {"object", "Object"},
        {"key", "Key"}, {"old", "Old"}, {"new", "New"},
    };
    struct form *res = form_new(FORM_RESULT, NULL);
    char at[32];
    if (!res)
        return NULL;
    form_set_title(res, "Audit trail");
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        form_add_reported(res, FIELD_TEXT_SINGLE, cols[i][0], cols[i][1]);
    for (size_t i = 0; i < n && i < l->n; i++) {
        const struct audit_entry *e = &l->items[i];
        struct form_item *item = form_add_item(res);
        if (!item) {
            form_free(res);
            return NULL;
        }
        delay_format(e->at, at, sizeof at);
        form_item_set(item, "at", at);
        form_item_set(item, "who", e->who);
        form_item_set(item, "object", e->object);
        form_item_set(item, "key", e->key);
        form_item_set(item, "old", e->old_value);
        form_item_set(item, "new", e->new_value);
    }
    return res;
}

static void audit_cmd__note(struct adhoc_reply *reply, size_t page,
                            size_t shown, bool more)
{
    char note[200];
    size_t first = (page - 1) * COMMANDS_AUDIT_PAGE + 1;
    if (shown == 0)
        snprintf(note, sizeof note,
                 page == 1 ? "No change recorded yet"
                           : "Page %zu is past the last page: no change there",
                 page);
    else
        snprintf(note, sizeof note, "Page %zu (changes %zu-%zu)%s", page, first,
                 first + shown - 1,
                 more       ? "; there are older ones: choose next"
                 : page > 1 ? "; this is the last page"
                            : "");
    adhoc_reply_note(reply, "info", note);
}

static void audit_cmd__page(struct adhoc_request *req,
                            struct adhoc_reply *reply, size_t page, bool done)
{
    struct audit *a = req->app->domain->audit;
    struct audit_list l;
    if (audit_list(a, (page - 1) * COMMANDS_AUDIT_PAGE, COMMANDS_AUDIT_PAGE + 1,
                   &l) != AUDIT_OK) {
        adhoc_reply_error(reply, "wait", "internal-server-error",
                          audit_error(a));
        return;
    }
    bool more = l.n > COMMANDS_AUDIT_PAGE;
    size_t shown = more ? COMMANDS_AUDIT_PAGE : l.n;
    struct form *res = audit_cmd__table(&l, shown);
    audit_list_free(&l);
    if (!res) {
        adhoc_reply_no_memory(reply);
        return;
    }
    bool prev = page > 1 && req->stage >= 1;
    if (done || (page == 1 && !more))
        adhoc_reply_completed(reply, res);
    else
        adhoc_reply_executing(reply, res,
                              ADHOC_COMPLETE | (more ? ADHOC_NEXT : 0u) |
                                  (prev ? ADHOC_PREV : 0u),
                              more ? ADHOC_NEXT : ADHOC_COMPLETE);
    audit_cmd__note(reply, page, shown, more);
}

static struct form *audit_cmd__form(void)
{
    struct form *f = form_new(FORM_FORM, NULL);
    struct form_field *fl;
    if (!f)
        return NULL;
    form_set_title(f, "Audit trail");
    fl = form_add_value_field(f, FIELD_TEXT_SINGLE, "page", "Page", NULL, 0);
    if (fl)
        form_field_set_desc(fl, "Which page of 50 changes (1 = the newest)");
    return f;
}

static void audit_cmd__step(struct adhoc_request *req,
                            struct adhoc_reply *reply)
{
    struct audit_cmd__state *s = req->state;
    bool paging = s != NULL;
    if (!s && !req->form) {
        struct form *f = audit_cmd__form();
        adhoc_reply_ask(reply, f);
        return;
    }
    if (!s) {
        char err[FORM_ERR_LEN];
        long v = 1;
        if (form_get_int(req->form, "page", 1, AUDIT_CMD__PAGE_LIMIT, 1, &v,
                         err, sizeof err) != FORM_OK) {
            adhoc_reply_error(reply, "modify", "bad-request", err);
            return;
        }
        if (!(s = calloc(1, sizeof *s))) {
            adhoc_reply_no_memory(reply);
            return;
        }
        s->page = (size_t)v;
        req->state = s;
    } else if (req->action == ADHOC_NEXT) {
        s->page++;
    } else if (req->action == ADHOC_PREV && s->page > 1) {
        s->page--;
    }
    audit_cmd__page(req, reply, s->page,
                    paging && req->action == ADHOC_COMPLETE);
}

int commands_audit_register(struct app *app)
{
    static const struct adhoc_command cmd = {"audit",
                                             "Audit trail of admin changes",
                                             ADHOC_ROLE_ADMIN,
                                             audit_cmd__step,
                                             free,
                                             NULL};
    return adhoc_add_command(app, &cmd);
}
