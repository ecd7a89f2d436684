/* admin.c - see commands/admin.h */
#include "commands/admin.h"

#include "commands/change.h"
#include "commands/fields.h"
#include "domain/audit.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/office_hours.h"
#include "domain/settings.h"
#include "runtime/app.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "xep0004_forms.h"
#include "xep0050_adhoc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ADMIN_CMD__TEXT 512

/* ---- the audit trail (SPEC §9; the transaction: commands/change.h) ------ */

static int admin_cmd__audit_company(const struct adhoc_request *req,
                                    const struct company *o,
                                    const struct company *n)
{
    int failed = 0;
    char object[DIR_NAME_MAX + 16];
    snprintf(object, sizeof object, "company:%s", n->name);
    failed += change_record(req, object, "name", o->name, n->name);
    failed += change_record(req, object, "chat", tristate_name(o->chat),
                               tristate_name(n->chat));
    failed += change_record(req, object, "pre_ticket",
                               tristate_name(o->pre_ticket),
                               tristate_name(n->pre_ticket));
    failed +=
        change_record(req, object, "callback", tristate_name(o->callback),
                         tristate_name(n->callback));
    return failed;
}

static int admin_cmd__audit_contact(const struct adhoc_request *req,
                                    const struct contact *o,
                                    const struct contact *n)
{
    int failed = 0;
    char object[DIR_JID_MAX + 16], a[32] = "", b[32];
    snprintf(object, sizeof object, "contact:%s", n->jid);
    if (o->company_id)
        snprintf(a, sizeof a, "%lld", (long long)o->company_id);
    snprintf(b, sizeof b, "%lld", (long long)n->company_id);
    failed += change_record(req, object, "company_id", a, b);
    failed += change_record(req, object, "name", o->name, n->name);
    failed += change_record(req, object, "phone", o->phone, n->phone);
    failed += change_record(req, object, "chat",
                               o->id ? tristate_name(o->chat) : "",
                               tristate_name(n->chat));
    return failed;
}

static int admin_cmd__audit_tech(const struct adhoc_request *req,
                                 const struct tech *o, const struct tech *n)
{
    int failed = 0;
    char object[DIR_JID_MAX + 16];
    snprintf(object, sizeof object, "tech:%s", n->jid);
    failed += change_record(req, object, "*", o->id ? "tech" : "", "tech");
    failed += change_record(req, object, "name", o->name, n->name);
    failed += change_record(req, object, "admin",
                               o->id ? (o->admin ? "yes" : "no") : "",
                               n->admin ? "yes" : "no");
    return failed;
}

/* ---- replies ---------------------------------------------------------- */

/* Answer a failed directory call: a store failure is internal, anything
 * else a bad request, prefixed with the field at fault when known. */
static void admin_cmd__dir_fail(struct adhoc_reply *reply,
                                struct directory *dir, int rc,
                                const char *field)
{
    const char *why = directory_error(dir);

    if (rc == DIR_ERR_STORE)
        adhoc_reply_store_fail(reply, "use the directory", why);
    else if (field)
        adhoc_reply_bad(reply, "Field '%s': %s", field, why);
    else
        adhoc_reply_bad(reply, "%s", why);
}

static struct directory *admin_cmd__dir(const struct adhoc_request *req)
{
    return req->app->domain->dir;
}

/* ---- reading submitted fields ------------------------------------------ */

/* Field var, trimmed, into out; an absent field gives dflt (NULL: "").
 * -1 after answering when the value is too long. */
static int admin_cmd__text(const struct form *form, const char *var,
                           const char *dflt, char *out, size_t outlen,
                           struct adhoc_reply *reply)
{
    const char *v = form_get_string(form, var);

    if (!v) {
        snprintf(out, outlen, "%s", dflt ? dflt : "");
        return 0;
    }
    if (fields_trim(v, out, outlen) == 0)
        return 0;
    adhoc_reply_bad(reply, "Field '%s' is too long (at most %zu bytes)", var,
                    outlen - 1);
    return -1;
}

/* Like admin_cmd__text without default, and the value must not be empty. */
static int admin_cmd__required(const struct form *form, const char *var,
                               char *out, size_t outlen,
                               struct adhoc_reply *reply)
{
    if (admin_cmd__text(form, var, NULL, out, outlen, reply) != 0)
        return -1;
    if (*out)
        return 0;
    adhoc_reply_bad(reply, "Field '%s' is required", var);
    return -1;
}

/* A required bare JID, normalised into out (DIR_JID_MAX bytes). */
static int admin_cmd__jid(const struct form *form, const char *var, char *out,
                          struct adhoc_reply *reply)
{
    char raw[DIR_JID_MAX];

    if (admin_cmd__required(form, var, raw, sizeof raw, reply) != 0)
        return -1;
    if (strchr(raw, '/')) {
        adhoc_reply_bad(reply,
                        "Field '%s' must be a bare JID like user@example.com "
                        "(without /resource)",
                        var);
        return -1;
    }
    if (directory_jid_bare(raw, out, DIR_JID_MAX) != 0) {
        adhoc_reply_bad(reply,
                        "Field '%s': \"%.200s\" is not a JID like "
                        "user@example.com",
                        var, raw);
        return -1;
    }
    return 0;
}

/* An inherit/on/off field; absent keeps dflt. */
static int admin_cmd__tri(const struct form *form, const char *var,
                          enum tristate dflt, enum tristate *out,
                          struct adhoc_reply *reply)
{
    const char *v = form_get_string(form, var);
    char buf[16];

    *out = dflt;
    if (!v)
        return 0;
    if (fields_trim(v, buf, sizeof buf) == 0 && tristate_parse(buf, out) == 0)
        return 0;
    adhoc_reply_bad(reply, "Field '%s' must be inherit, on or off", var);
    return -1;
}

/* A boolean field (1/true/0/false); absent keeps dflt. */
static int admin_cmd__bool(const struct form *form, const char *var, bool dflt,
                           bool *out, struct adhoc_reply *reply)
{
    char err[FORM_ERR_LEN];
    int v;

    if (form_get_bool(form, var, dflt, &v, err, sizeof err) != FORM_OK) {
        adhoc_reply_error(reply, "modify", "bad-request", err);
        return -1;
    }
    *out = v != 0;
    return 0;
}

/* ---- building forms ----------------------------------------------------- */

static void admin_cmd__add_tri(struct form *f, const char *var,
                               const char *label, enum tristate value)
{
    struct form_field *fl = form_add_value_field(
        f, FIELD_LIST_SINGLE, var, label, tristate_name(value), 0);

    form_field_add_option(fl, "Inherit", "inherit");
    form_field_add_option(fl, "On", "on");
    form_field_add_option(fl, "Off", "off");
}

static int admin_cmd__count_company(const struct company *c, void *ud)
{
    (void)c;
    (*(size_t *)ud)++;
    return 0;
}

static int admin_cmd__option_company(const struct company *c, void *ud)
{
    return form_field_add_option(ud, c->name, c->name) != 0;
}

/* A required field var naming a company, preset to value: list-single with
 * every company (and "new" first when with_new), or text-single when there
 * are more companies than a form may list. DIR_OK or the failure. */
static int admin_cmd__company_field(struct directory *dir, struct form *f,
                                    const char *var, const char *value,
                                    bool with_new)
{
    size_t n = with_new ? 1 : 0;
    struct form_field *fl;
    int rc = directory_company_list(dir, admin_cmd__count_company, &n);

    if (rc != DIR_OK)
        return rc;
    if (n > FORM_MAX_OPTIONS) {
        fl = form_add_value_field(f, FIELD_TEXT_SINGLE, var, "Company", value,
                                  1);
        form_field_set_desc(fl, with_new ? "A company name, or new"
                                         : "A company name");
        return DIR_OK;
    }
    fl = form_add_value_field(f, FIELD_LIST_SINGLE, var, "Company", value, 1);
    if (!fl)
        return DIR_OK;
    if (with_new)
        form_field_add_option(fl, "New company", "new");
    return directory_company_list(dir, admin_cmd__option_company, fl);
}

/* ---- settings ------------------------------------------------------------ */

enum admin_cmd__kind { SK_FLAG, SK_SECONDS, SK_ZONE, SK_WEEK, SK_HOLIDAYS };

struct admin_cmd__setting {
    const char *key; /* settings key and field var */
    enum admin_cmd__kind kind;
    size_t off; /* SK_FLAG: bool, SK_SECONDS: long in struct settings */
    const char *label;
    const char *desc;
};

static const struct admin_cmd__setting admin_cmd__settings[] = {
    {"chat", SK_FLAG, offsetof(struct settings, chat), "Contacts may chat",
     "Global chat permission; companies and contacts may override it"},
    {"pre_ticket", SK_FLAG, offsetof(struct settings, pre_ticket),
     "Pre-ticket chat enabled", NULL},
    {"callback", SK_FLAG, offsetof(struct settings, callback),
     "Chat callbacks enabled", NULL},
    {"timezone", SK_ZONE, 0, "Timezone of the office hours",
     "An IANA name such as Europe/London"},
    {"office_hours", SK_WEEK, 0, "Office hours",
     "e.g. mon-fri 09:00-17:00; sat 10:00-12:00 (or always, none)"},
    {"holidays", SK_HOLIDAYS, 0, "Holidays",
     "Dates like 2026-12-25,2026-12-26 (empty: none)"},
    {"answer_timeout", SK_SECONDS, offsetof(struct settings, answer_timeout),
     "Answer timeout (seconds)",
     "How long a waiting contact waits before it may end or ask for a "
     "callback"},
    {"idle_timeout", SK_SECONDS, offsetof(struct settings, idle_timeout),
     "Idle timeout (seconds)",
     "Silence after which a contact may end an active chat"},
};

#define ADMIN_CMD__N_SETTINGS                                                  \
    (sizeof admin_cmd__settings / sizeof admin_cmd__settings[0])

static struct form *admin_cmd__settings_form(const struct settings *s)
{
    struct form *f = form_new(FORM_FORM, NULL);
    char *buf = malloc(SETTINGS_VALUE_MAX);

    if (!f || !buf) {
        form_free(f);
        free(buf);
        return NULL;
    }
    form_set_title(f, "Helpdesk settings");
    form_set_instructions(f, "Change any value and submit; every value is "
                             "checked before anything is saved.");
    for (size_t i = 0; i < ADMIN_CMD__N_SETTINGS; i++) {
        const struct admin_cmd__setting *e = &admin_cmd__settings[i];
        struct form_field *fl;

        if (settings_value(s, e->key, buf, SETTINGS_VALUE_MAX) != 0)
            buf[0] = '\0';
        if (e->kind == SK_FLAG)
            fl = form_add_boolean(f, e->key, e->label, !strcmp(buf, "on"));
        else
            fl = form_add_value_field(f, FIELD_TEXT_SINGLE, e->key, e->label,
                                      buf, e->kind != SK_HOLIDAYS);
        if (fl && e->desc)
            form_field_set_desc(fl, e->desc);
    }
    free(buf);
    return f;
}

/* A timeout under config_timeout_parse()'s one rule. */
static int admin_cmd__seconds(const char *key, const char *v, long *out,
                              char *err, size_t errlen)
{
    char why[300];

    if (config_timeout_parse(v, out, why, sizeof why) == 0)
        return 0;
    snprintf(err, errlen, "Field '%s' %s", key, why);
    return -1;
}

/* Parse the trimmed text value v of a text setting into next. */
static int admin_cmd__parse_setting(const struct admin_cmd__setting *e,
                                    const char *v, struct settings *next,
                                    char *err, size_t errlen)
{
    char why[300];
    int rc;

    switch (e->kind) {
    case SK_SECONDS:
        return admin_cmd__seconds(e->key, v, (long *)((char *)next + e->off),
                                  err, errlen);
    case SK_ZONE:
        rc = office_hours_check_timezone(v, why, sizeof why);
        if (rc == 0)
            rc = office_hours_set_timezone(&next->hours, v, why, sizeof why);
        break;
    case SK_WEEK:
        rc = office_hours_parse_week(&next->hours, v, why, sizeof why);
        break;
    default:
        rc = office_hours_parse_holidays(&next->hours, v, why, sizeof why);
        break;
    }
    if (rc != 0)
        snprintf(err, errlen, "Field '%s': %s", e->key, why);
    return rc;
}

/* Read setting e from form into next (an absent field keeps its value).
 * 0, or -1 with a sentence naming the field in err. */
static int admin_cmd__read_setting(const struct form *form,
                                   const struct admin_cmd__setting *e,
                                   struct settings *next, char *err,
                                   size_t errlen)
{
    const char *raw = form_get_string(form, e->key);
    char *v;
    int v_bool, rc;

    if (!raw)
        return 0;
    if (e->kind == SK_FLAG) {
        bool *slot = (bool *)((char *)next + e->off);

        if (form_get_bool(form, e->key, *slot, &v_bool, err, errlen))
            return -1;
        *slot = v_bool != 0;
        return 0;
    }
    v = malloc(strlen(raw) + 1);
    if (!v) {
        snprintf(err, errlen, "Out of memory reading field '%s'", e->key);
        return -1;
    }
    fields_trim(raw, v, strlen(raw) + 1);
    rc = admin_cmd__parse_setting(e, v, next, err, errlen);
    free(v);
    return rc;
}

/* Store every setting whose canonical value differs between cur and next,
 * each with its audit entry, in one transaction. 0 with *changed counted,
 * or -1 with err. */
static int admin_cmd__settings_store(const struct adhoc_request *req,
                                     const struct settings *cur,
                                     const struct settings *next,
                                     size_t *changed, char *err, size_t errlen)
{
    struct app *app = req->app;
    struct audit *au = app->domain->audit;
    char *a = malloc(SETTINGS_VALUE_MAX), *b = malloc(SETTINGS_VALUE_MAX);
    int rc = -1;

    snprintf(err, errlen, "cannot start a transaction");
    if (!a || !b || audit_change_begin(au) != AUDIT_CHANGE_DONE)
        goto out;
    for (size_t i = 0; i < ADMIN_CMD__N_SETTINGS; i++) {
        const char *key = admin_cmd__settings[i].key;

        if (settings_value(cur, key, a, SETTINGS_VALUE_MAX) != 0 ||
            settings_value(next, key, b, SETTINGS_VALUE_MAX) != 0) {
            snprintf(err, errlen, "%s: value too long", key);
            goto rollback;
        }
        if (strcmp(a, b) == 0)
            continue;
        if (settings_set(app->domain->settings, key, b, err, errlen) != 0)
            goto rollback;
        /* in the transaction: no change without its audit entry */
        if (audit_record(au, req->bare, "settings", key, a, b) != AUDIT_OK) {
            snprintf(err, errlen, "%s", audit_error(au));
            goto rollback;
        }
        (*changed)++;
    }
    snprintf(err, errlen, "cannot commit the transaction");
    if (audit_change_end(au, 1) == AUDIT_CHANGE_DONE)
        rc = 0;
    goto out;
rollback:
    audit_change_cancel(au);
out:
    free(a);
    free(b);
    return rc;
}

static void admin_cmd__settings_save(struct adhoc_request *req,
                                     struct adhoc_reply *reply)
{
    struct settings cur, next;
    char err[ADMIN_CMD__TEXT], note[128];
    size_t changed = 0;

    if (domain_settings(req->app->domain, &cur, err, sizeof err) != 0) {
        adhoc_reply_store_fail(reply, "read the settings", err);
        return;
    }
    next = cur;
    for (size_t i = 0; i < ADMIN_CMD__N_SETTINGS; i++) {
        if (admin_cmd__read_setting(req->form, &admin_cmd__settings[i], &next,
                                    err, sizeof err) != 0) {
            adhoc_reply_error(reply, "modify", "bad-request", err);
            return;
        }
    }
    if (admin_cmd__settings_store(req, &cur, &next, &changed, err,
                                  sizeof err) != 0) {
        adhoc_reply_store_fail(reply, "save the settings", err);
        return;
    }
    adhoc_reply_completed(reply, NULL);
    if (changed)
        snprintf(note, sizeof note, "Settings saved (%zu changed)", changed);
    else
        snprintf(note, sizeof note, "Settings saved (nothing changed)");
    adhoc_reply_note(reply, "info", note);
}

static void admin_cmd__settings_step(struct adhoc_request *req,
                                     struct adhoc_reply *reply)
{
    struct settings cur;
    char err[ADMIN_CMD__TEXT];
    struct form *f;

    if (req->stage > 0) {
        admin_cmd__settings_save(req, reply);
        return;
    }
    if (domain_settings(req->app->domain, &cur, err, sizeof err) != 0) {
        adhoc_reply_store_fail(reply, "read the settings", err);
        return;
    }
    f = admin_cmd__settings_form(&cur);
    if (!f) {
        adhoc_reply_no_memory(reply);
        return;
    }
    adhoc_reply_executing(reply, f, 0, 0);
}

/* ---- company ------------------------------------------------------------- */

struct admin_cmd__tri_field {
    const char *var;
    const char *label;
    size_t off; /* enum tristate in struct company */
};

static const struct admin_cmd__tri_field admin_cmd__company_tris[] = {
    {"chat", "Chat permission", offsetof(struct company, chat)},
    {"pre_ticket", "Pre-ticket chat", offsetof(struct company, pre_ticket)},
    {"callback", "Chat callbacks", offsetof(struct company, callback)},
};

static enum tristate *admin_cmd__company_tri(struct company *c, size_t i)
{
    return (enum tristate *)((char *)c + admin_cmd__company_tris[i].off);
}

struct admin_cmd__company_state {
    int64_t id; /* 0: a new company */
};

static void admin_cmd__company_choose(struct adhoc_request *req,
                                      struct adhoc_reply *reply)
{
    struct form *f = form_new(FORM_FORM, NULL);
    int rc;

    if (!f) {
        adhoc_reply_no_memory(reply);
        return;
    }
    form_set_title(f, "Company");
    form_set_instructions(f, "Pick the company to edit, or new to create one.");
    rc = admin_cmd__company_field(admin_cmd__dir(req), f, "company", "new",
                                  true);
    if (rc != DIR_OK) {
        form_free(f);
        admin_cmd__dir_fail(reply, admin_cmd__dir(req), rc, NULL);
        return;
    }
    adhoc_reply_executing(reply, f, ADHOC_NEXT, ADHOC_NEXT);
}

static void admin_cmd__company_edit(struct adhoc_request *req,
                                    struct adhoc_reply *reply,
                                    struct admin_cmd__company_state *st)
{
    char name[DIR_NAME_MAX];
    struct company c;
    struct form *f;
    int rc;

    memset(&c, 0, sizeof c);
    if (admin_cmd__required(req->form, "company", name, sizeof name, reply))
        return;
    if (strcasecmp(name, "new") != 0) {
        rc = directory_company_find(admin_cmd__dir(req), name, &c);
        if (rc != DIR_OK) {
            admin_cmd__dir_fail(reply, admin_cmd__dir(req), rc, "company");
            return;
        }
    }
    st->id = c.id;
    f = form_new(FORM_FORM, NULL);
    if (!f) {
        adhoc_reply_no_memory(reply);
        return;
    }
    form_set_title(f, c.id ? "Edit company" : "New company");
    form_add_value_field(f, FIELD_TEXT_SINGLE, "name", "Name", c.name, 1);
    for (size_t i = 0; i < 3; i++)
        admin_cmd__add_tri(f, admin_cmd__company_tris[i].var,
                           admin_cmd__company_tris[i].label,
                           *admin_cmd__company_tri(&c, i));
    adhoc_reply_executing(reply, f, ADHOC_PREV | ADHOC_COMPLETE,
                          ADHOC_COMPLETE);
}

static void admin_cmd__company_save(struct adhoc_request *req,
                                    struct adhoc_reply *reply,
                                    const struct admin_cmd__company_state *st)
{
    struct directory *dir = admin_cmd__dir(req);
    char name[DIR_NAME_MAX], note[ADMIN_CMD__TEXT];
    struct company c;
    int rc = DIR_OK;

    memset(&c, 0, sizeof c);
    if (st->id)
        rc = directory_company_get(dir, st->id, &c);
    if (rc != DIR_OK) {
        admin_cmd__dir_fail(reply, dir, rc, "company");
        return;
    }
    if (admin_cmd__text(req->form, "name", c.name, name, sizeof name, reply))
        return;
    if (!*name) {
        adhoc_reply_bad(reply, "Field 'name' is required");
        return;
    }
    struct company before = c;
    memcpy(c.name, name, sizeof name);
    for (size_t i = 0; i < 3; i++) {
        enum tristate *t = admin_cmd__company_tri(&c, i);

        if (admin_cmd__tri(req->form, admin_cmd__company_tris[i].var, *t, t,
                           reply))
            return;
    }
    if (change_begin(req, reply))
        return;
    rc = st->id ? directory_company_update(dir, &c)
                : directory_company_create(dir, &c, NULL);
    if (rc != DIR_OK) {
        change_cancel(req);
        admin_cmd__dir_fail(reply, dir, rc, "name");
        return;
    }
    if (change_end(req, reply, admin_cmd__audit_company(req, &before, &c)))
        return;
    adhoc_reply_completed(reply, NULL);
    snprintf(note, sizeof note, "Company \"%.300s\" %s", c.name,
             st->id ? "updated" : "created");
    adhoc_reply_note(reply, "info", note);
}

static void admin_cmd__company_step(struct adhoc_request *req,
                                    struct adhoc_reply *reply)
{
    struct admin_cmd__company_state *st = req->state;

    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) {
            adhoc_reply_no_memory(reply);
            return;
        }
        req->state = st;
    }
    if (req->stage == 0 || req->action == ADHOC_PREV)
        admin_cmd__company_choose(req, reply);
    else if (req->stage == 1)
        admin_cmd__company_edit(req, reply, st);
    else
        admin_cmd__company_save(req, reply, st);
}

/* ---- contact ------------------------------------------------------------- */

struct admin_cmd__person_state {
    int64_t id; /* 0: a new contact / tech */
    char jid[DIR_JID_MAX];
};

/* The person commands' state, created on the first request. */
static struct admin_cmd__person_state *
admin_cmd__person_state(struct adhoc_request *req, struct adhoc_reply *reply)
{
    if (!req->state) {
        req->state = calloc(1, sizeof(struct admin_cmd__person_state));
        if (!req->state)
            adhoc_reply_no_memory(reply);
    }
    return req->state;
}

/* Screen 1 of contact and tech: the JID (and for tech the action). */
static void admin_cmd__jid_screen(struct adhoc_reply *reply, const char *title,
                                  const char *jid, bool with_action)
{
    struct form *f = form_new(FORM_FORM, NULL);
    struct form_field *fl;

    if (!f) {
        adhoc_reply_no_memory(reply);
        return;
    }
    form_set_title(f, title);
    form_add_value_field(f, FIELD_JID_SINGLE, "jid", "JID",
                         jid && *jid ? jid : NULL, 1);
    if (with_action) {
        fl = form_add_value_field(f, FIELD_LIST_SINGLE, "action", "Action",
                                  NULL, 1);
        form_field_add_option(fl, "Create a tech", "create");
        form_field_add_option(fl, "Edit a tech", "edit");
        form_field_add_option(fl, "Remove a tech", "remove");
    }
    adhoc_reply_executing(reply, f, ADHOC_NEXT, ADHOC_NEXT);
}

/* The contact form of screen 2 for c (company_name "" when new). */
static void admin_cmd__contact_form(struct adhoc_request *req,
                                    struct adhoc_reply *reply,
                                    const struct contact *c,
                                    const char *company_name)
{
    struct form *f = form_new(FORM_FORM, NULL);
    char text[ADMIN_CMD__TEXT];
    int rc;

    if (!f) {
        adhoc_reply_no_memory(reply);
        return;
    }
    form_set_title(f, c->id ? "Edit contact" : "New contact");
    snprintf(text, sizeof text, "%s contact %.300s", c->id ? "Existing" : "New",
             c->jid);
    form_add_fixed(f, text);
    rc = admin_cmd__company_field(admin_cmd__dir(req), f, "company",
                                  *company_name ? company_name : NULL, false);
    if (rc != DIR_OK) {
        form_free(f);
        admin_cmd__dir_fail(reply, admin_cmd__dir(req), rc, NULL);
        return;
    }
    form_add_value_field(f, FIELD_TEXT_SINGLE, "name", "Name", c->name, 0);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "phone", "Phone", c->phone, 0);
    admin_cmd__add_tri(f, "chat", "Chat permission", c->chat);
    adhoc_reply_executing(reply, f, ADHOC_PREV | ADHOC_COMPLETE,
                          ADHOC_COMPLETE);
}

static void admin_cmd__contact_edit(struct adhoc_request *req,
                                    struct adhoc_reply *reply,
                                    struct admin_cmd__person_state *st)
{
    struct directory *dir = admin_cmd__dir(req);
    struct company co;
    struct contact c;
    struct tech t;
    int rc;

    if (admin_cmd__jid(req->form, "jid", st->jid, reply) != 0)
        return;
    rc = directory_tech_find(dir, st->jid, &t);
    if (rc == DIR_OK)
        adhoc_reply_bad(reply, "Field 'jid': %.300s is a tech, not a contact",
                        st->jid);
    if (rc != DIR_ERR_NOT_FOUND) {
        if (rc != DIR_OK)
            admin_cmd__dir_fail(reply, dir, rc, "jid");
        return;
    }
    memset(&c, 0, sizeof c);
    memset(&co, 0, sizeof co);
    rc = directory_contact_find(dir, st->jid, &c);
    if (rc == DIR_OK && c.company_id)
        rc = directory_company_get(dir, c.company_id, &co);
    if (rc != DIR_OK && rc != DIR_ERR_NOT_FOUND) {
        admin_cmd__dir_fail(reply, dir, rc, "jid");
        return;
    }
    snprintf(c.jid, sizeof c.jid, "%s", st->jid);
    st->id = c.id;
    admin_cmd__contact_form(req, reply, &c, co.name);
}

/* The company of the contact being saved into c->company_id. */
static int admin_cmd__contact_company(struct adhoc_request *req,
                                      struct adhoc_reply *reply,
                                      struct contact *c)
{
    char name[DIR_NAME_MAX];
    struct company co;
    int rc;

    if (admin_cmd__text(req->form, "company", NULL, name, sizeof name, reply))
        return -1;
    if (!*name && c->company_id)
        return 0; /* left out: keep the company */
    if (!*name) {
        adhoc_reply_bad(reply, "Field 'company' is required");
        return -1;
    }
    rc = directory_company_find(admin_cmd__dir(req), name, &co);
    if (rc != DIR_OK) {
        admin_cmd__dir_fail(reply, admin_cmd__dir(req), rc, "company");
        return -1;
    }
    c->company_id = co.id;
    return 0;
}

static void admin_cmd__contact_save(struct adhoc_request *req,
                                    struct adhoc_reply *reply,
                                    const struct admin_cmd__person_state *st)
{
    struct directory *dir = admin_cmd__dir(req);
    char name[DIR_NAME_MAX], phone[DIR_PHONE_MAX], note[ADMIN_CMD__TEXT];
    struct contact c;
    int rc = DIR_OK;

    memset(&c, 0, sizeof c);
    if (st->id)
        rc = directory_contact_get(dir, st->id, &c);
    if (rc != DIR_OK) {
        admin_cmd__dir_fail(reply, dir, rc, "jid");
        return;
    }
    snprintf(c.jid, sizeof c.jid, "%s", st->jid);
    struct contact before = c;
    if (admin_cmd__contact_company(req, reply, &c) ||
        admin_cmd__text(req->form, "name", c.name, name, sizeof name, reply) ||
        admin_cmd__text(req->form, "phone", c.phone, phone, sizeof phone,
                        reply) ||
        admin_cmd__tri(req->form, "chat", c.chat, &c.chat, reply))
        return;
    memcpy(c.name, name, sizeof name);
    memcpy(c.phone, phone, sizeof phone);
    if (change_begin(req, reply))
        return;
    rc = st->id ? directory_contact_update(dir, &c)
                : directory_contact_create(dir, &c, NULL);
    if (rc != DIR_OK) {
        change_cancel(req);
        admin_cmd__dir_fail(reply, dir, rc, "jid");
        return;
    }
    if (change_end(req, reply, admin_cmd__audit_contact(req, &before, &c)))
        return;
    if (req->app->person_added)
        req->app->person_added(req->app, c.jid);
    adhoc_reply_completed(reply, NULL);
    snprintf(note, sizeof note, "Contact %.300s %s", c.jid,
             st->id ? "updated" : "created");
    adhoc_reply_note(reply, "info", note);
}

static void admin_cmd__contact_step(struct adhoc_request *req,
                                    struct adhoc_reply *reply)
{
    struct admin_cmd__person_state *st = admin_cmd__person_state(req, reply);
    size_t n = 0;
    int rc;

    if (!st)
        return;
    if (req->stage == 1 && req->action != ADHOC_PREV) {
        admin_cmd__contact_edit(req, reply, st);
        return;
    }
    if (req->stage > 1 && req->action != ADHOC_PREV) {
        admin_cmd__contact_save(req, reply, st);
        return;
    }
    rc = directory_company_list(admin_cmd__dir(req), admin_cmd__count_company,
                                &n);
    if (rc != DIR_OK)
        admin_cmd__dir_fail(reply, admin_cmd__dir(req), rc, NULL);
    else if (n == 0)
        adhoc_reply_error(reply, "cancel", "item-not-found",
                          "There is no company yet: create one with the "
                          "'company' command first");
    else
        admin_cmd__jid_screen(reply, "Contact", st->jid, false);
}

/* ---- tech -----------------------------------------------------------------
 */

static void admin_cmd__tech_form(struct adhoc_reply *reply,
                                 const struct tech *t)
{
    struct form *f = form_new(FORM_FORM, NULL);
    char text[ADMIN_CMD__TEXT];

    if (!f) {
        adhoc_reply_no_memory(reply);
        return;
    }
    form_set_title(f, t->id ? "Edit tech" : "New tech");
    snprintf(text, sizeof text, "%s tech %.300s", t->id ? "Existing" : "New",
             t->jid);
    form_add_fixed(f, text);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "name", "Name", t->name, 0);
    form_add_boolean(f, "admin", "Admin (may run the admin commands)",
                     t->admin);
    adhoc_reply_executing(reply, f, ADHOC_PREV | ADHOC_COMPLETE,
                          ADHOC_COMPLETE);
}

static void admin_cmd__tech_remove(struct adhoc_request *req,
                                   struct adhoc_reply *reply, const char *jid)
{
    char note[ADMIN_CMD__TEXT], object[DIR_JID_MAX + 16];
    if (change_begin(req, reply))
        return;
    int rc = directory_tech_remove(admin_cmd__dir(req), jid);

    if (rc != DIR_OK) {
        change_cancel(req);
        admin_cmd__dir_fail(reply, admin_cmd__dir(req), rc, "jid");
        return;
    }
    snprintf(object, sizeof object, "tech:%s", jid);
    if (change_end(req, reply,
                       change_record(req, object, "*", "tech", "")))
        return;
    adhoc_reply_completed(reply, NULL);
    snprintf(note, sizeof note, "Tech %.300s removed", jid);
    adhoc_reply_note(reply, "info", note);
}

/* Screen 1 answered: check the JID against the action, then remove or show
 * the tech form. */
static void admin_cmd__tech_edit(struct adhoc_request *req,
                                 struct adhoc_reply *reply,
                                 struct admin_cmd__person_state *st)
{
    struct directory *dir = admin_cmd__dir(req);
    char action[16];
    struct contact c;
    struct tech t;
    int rc;

    if (admin_cmd__jid(req->form, "jid", st->jid, reply) ||
        admin_cmd__required(req->form, "action", action, sizeof action, reply))
        return;
    if (strcmp(action, "create") && strcmp(action, "edit") &&
        strcmp(action, "remove")) {
        adhoc_reply_bad(reply, "Field 'action' must be create, edit or remove");
        return;
    }
    memset(&t, 0, sizeof t);
    rc = directory_tech_find(dir, st->jid, &t);
    if (rc == DIR_ERR_NOT_FOUND && !strcmp(action, "create"))
        rc = directory_contact_find(dir, st->jid, &c) == DIR_OK
                 ? DIR_ERR_EXISTS
                 : DIR_ERR_NOT_FOUND;
    if (rc == DIR_ERR_STORE)
        admin_cmd__dir_fail(reply, dir, rc, "jid");
    else if (!strcmp(action, "create") && rc != DIR_ERR_NOT_FOUND)
        adhoc_reply_bad(reply, "Field 'jid': %.300s is already a %s", st->jid,
                        rc == DIR_OK ? "tech (choose edit)" : "contact");
    else if (strcmp(action, "create") && rc != DIR_OK)
        adhoc_reply_bad(reply, "Field 'jid': %.300s is not a tech", st->jid);
    else if (!strcmp(action, "remove"))
        admin_cmd__tech_remove(req, reply, st->jid);
    else {
        st->id = t.id;
        snprintf(t.jid, sizeof t.jid, "%s", st->jid);
        admin_cmd__tech_form(reply, &t);
    }
}

static void admin_cmd__tech_save(struct adhoc_request *req,
                                 struct adhoc_reply *reply,
                                 const struct admin_cmd__person_state *st)
{
    struct directory *dir = admin_cmd__dir(req);
    char name[DIR_NAME_MAX], note[ADMIN_CMD__TEXT];
    struct tech t;
    int rc = DIR_OK;

    memset(&t, 0, sizeof t);
    if (st->id)
        rc = directory_tech_get(dir, st->id, &t);
    if (rc != DIR_OK) {
        admin_cmd__dir_fail(reply, dir, rc, "jid");
        return;
    }
    snprintf(t.jid, sizeof t.jid, "%s", st->jid);
    struct tech before = t;
    if (admin_cmd__text(req->form, "name", t.name, name, sizeof name, reply) ||
        admin_cmd__bool(req->form, "admin", t.admin, &t.admin, reply))
        return;
    memcpy(t.name, name, sizeof name);
    if (change_begin(req, reply))
        return;
    rc = st->id ? directory_tech_update(dir, &t)
                : directory_tech_create(dir, &t, NULL);
    if (rc != DIR_OK) {
        change_cancel(req);
        admin_cmd__dir_fail(reply, dir, rc, "jid");
        return;
    }
    if (change_end(req, reply, admin_cmd__audit_tech(req, &before, &t)))
        return;
    if (req->app->person_added)
        req->app->person_added(req->app, t.jid);
    adhoc_reply_completed(reply, NULL);
    snprintf(note, sizeof note, "Tech %.300s %s%s", t.jid,
             st->id ? "updated" : "created", t.admin ? " (admin)" : "");
    adhoc_reply_note(reply, "info", note);
}

static void admin_cmd__tech_step(struct adhoc_request *req,
                                 struct adhoc_reply *reply)
{
    struct admin_cmd__person_state *st = admin_cmd__person_state(req, reply);

    if (!st)
        return;
    if (req->stage == 0 || req->action == ADHOC_PREV)
        admin_cmd__jid_screen(reply, "Tech", st->jid, true);
    else if (req->stage == 1)
        admin_cmd__tech_edit(req, reply, st);
    else
        admin_cmd__tech_save(req, reply, st);
}

/* ---- registration ----------------------------------------------------------
 */

static const struct adhoc_command admin_cmd__table[] = {
    {"settings", "Helpdesk settings", ADHOC_ROLE_ADMIN,
     admin_cmd__settings_step, NULL, NULL},
    {"company", "Create or edit a company", ADHOC_ROLE_ADMIN,
     admin_cmd__company_step, free, NULL},
    {"contact", "Create or edit a contact", ADHOC_ROLE_ADMIN,
     admin_cmd__contact_step, free, NULL},
    {"tech", "Create, edit or remove a tech", ADHOC_ROLE_ADMIN,
     admin_cmd__tech_step, free, NULL},
};

int commands_admin_register(struct app *app)
{
    for (size_t i = 0; i < sizeof admin_cmd__table / sizeof admin_cmd__table[0];
         i++) {
        if (adhoc_add_command(app, &admin_cmd__table[i]) != 0)
            return -1;
    }
    return 0;
}
