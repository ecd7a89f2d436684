/* fuzz_forms.c - libFuzzer target: the XEP-0004 forms parser
 * (xep/xep0004_forms.c) on any XML.
 *
 * The input is the XML text of one stanza (an <x xmlns='jabber:x:data'/> or
 * a stanza holding one; make a seed with any form a client sends). It is
 * parsed with libstrophe and handed to form_parse(). Besides ASan, UBSan
 * and LeakSanitizer, the target aborts when a contract breaks:
 *  - form_parse() returns something other than FORM_OK, FORM_ENOFORM,
 *    FORM_EINVALID or FORM_ENOMEM; an error leaves *out set or, for
 *    FORM_EINVALID, err empty (the person gets no reason);
 *  - a form it accepted breaks its own limits (FORM_MAX_*), or does not
 *    come back the same from form_to_stanza() and form_parse() (a form
 *    chatdesk sends must parse: same type, fields, values and items);
 *  - a reader (form_get_string/joined/bool/int/required) misbehaves on any
 *    field of it.
 * Seeds: corpus-forms/.
 */
#include "xep0004_forms.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FORMS_MAX 131072 /* bytes of XML tried */

static void fuzz_forms__fail(const char *what)
{
    fprintf(stderr, "fuzz_forms: %s\n", what);
    abort();
}

/* 1 when a and b hold the same strings (both may be NULL). */
static int fuzz_forms__same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int fuzz_forms__same_field(const struct form_field *a,
                                  const struct form_field *b)
{
    if (!fuzz_forms__same(a->var, b->var) || a->type != b->type ||
        a->n_values != b->n_values || a->n_options != b->n_options)
        return 0;
    for (size_t i = 0; i < a->n_values; i++)
        if (!fuzz_forms__same(a->values[i], b->values[i]))
            return 0;
    return 1;
}

/* The limits form_parse() promises. */
static void fuzz_forms__limits(const struct form *f)
{
    size_t total = 0;
    if (f->n_fields > FORM_MAX_FIELDS || f->n_reported > FORM_MAX_FIELDS ||
        f->n_items > FORM_MAX_ITEMS)
        fuzz_forms__fail("an accepted form over the field or item limits");
    for (size_t i = 0; i < f->n_fields; i++) {
        const struct form_field *fl = f->fields[i];
        if (fl->n_values > FORM_MAX_VALUES || fl->n_options > FORM_MAX_OPTIONS)
            fuzz_forms__fail("an accepted field over the value limits");
        if (!fl->var && fl->type != FIELD_FIXED)
            fuzz_forms__fail("an accepted field without var");
        for (size_t v = 0; v < fl->n_values; v++)
            total += strlen(fl->values[v]);
    }
    if (total > FORM_MAX_TOTAL_LEN)
        fuzz_forms__fail("an accepted form over FORM_MAX_TOTAL_LEN");
}

/* Every reader on every field: no crash, and results that agree. */
static void fuzz_forms__read(const struct form *f)
{
    char err[FORM_ERR_LEN];
    for (size_t i = 0; i < f->n_fields; i++) {
        const char *var = f->fields[i]->var;
        if (!var)
            continue;
        const char *s = form_get_string(f, var), *req = NULL;
        char *joined = form_get_joined(f, var);
        int b = 0;
        long n = 0;
        if (s && joined && strncmp(joined, s, strlen(s)))
            fuzz_forms__fail("form_get_joined does not start with the value");
        free(joined);
        err[0] = '\0';
        if (form_get_bool(f, var, 0, &b, err, sizeof err) == FORM_EINVALID &&
            !err[0])
            fuzz_forms__fail("form_get_bool refused without a reason");
        err[0] = '\0';
        if (form_get_int(f, var, -5, 86400, 1, &n, err, sizeof err) ==
                FORM_OK &&
            (n < -5 || n > 86400))
            fuzz_forms__fail("form_get_int out of its range");
        if (form_get_required(f, var, &req, err, sizeof err) == FORM_OK && !req)
            fuzz_forms__fail("form_get_required without a value");
    }
    (void)form_get_form_type(f);
}

/* f serialised and parsed again is f. */
static void fuzz_forms__round_trip(xmpp_ctx_t *ctx, const struct form *f)
{
    char err[FORM_ERR_LEN] = "";
    struct form *back = NULL;
    xmpp_stanza_t *x = form_to_stanza(f, ctx);
    if (!x)
        return; /* out of memory */
    int rc = form_parse(x, &back, err, sizeof err);
    xmpp_stanza_release(x);
    if (rc == FORM_ENOMEM)
        return;
    if (rc != FORM_OK) {
        fprintf(stderr, "fuzz_forms: %s\n", err);
        fuzz_forms__fail("a form chatdesk would send does not parse");
    }
    int same = back->type == f->type && back->n_fields == f->n_fields &&
               back->n_items == f->n_items && back->n_reported == f->n_reported;
    for (size_t i = 0; same && i < f->n_fields; i++)
        same = fuzz_forms__same_field(f->fields[i], back->fields[i]);
    form_free(back);
    if (!same)
        fuzz_forms__fail("form_to_stanza + form_parse changed the form");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    xmpp_initialize();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_FORMS_MAX)
        return 0;
    char *xml = malloc(size + 1);
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    if (!xml || !ctx)
        fuzz_forms__fail("out of memory");
    memcpy(xml, data, size);
    xml[size] = '\0';
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
    free(xml);
    if (st) {
        char err[FORM_ERR_LEN] = "";
        static struct form sentinel; /* form_parse must overwrite it */
        struct form *f = &sentinel;
        int rc = form_parse(st, &f, err, sizeof err);
        if (rc != FORM_OK && rc != FORM_ENOFORM && rc != FORM_EINVALID &&
            rc != FORM_ENOMEM)
            fuzz_forms__fail("form_parse returned an unknown code");
        if (rc != FORM_OK && f)
            fuzz_forms__fail("a refused form left *out set");
        if (rc == FORM_EINVALID && !err[0])
            fuzz_forms__fail("a refused form without a reason");
        if (rc == FORM_OK) {
            fuzz_forms__limits(f);
            fuzz_forms__read(f);
            fuzz_forms__round_trip(ctx, f);
            form_free(f);
        }
        xmpp_stanza_release(st);
    }
    xmpp_ctx_free(ctx);
    return 0;
}
