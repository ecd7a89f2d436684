/* test_forms.c - XEP-0004 data forms: build, serialise, parse, read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xep0004_forms.h"

static xmpp_ctx_t *ctx;

static int group_setup(void **state)
{
    (void)state;
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    return ctx ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return 0;
}

/* Parse xml (a whole stanza) and read the form out of it. */
static int parse_xml(const char *xml, struct form **out, char *err,
                     size_t errlen)
{
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx, xml);
    int rc;

    assert_non_null(s);
    rc = form_parse(s, out, err, errlen);
    xmpp_stanza_release(s);
    return rc;
}

/* The nth (0-based) child element called name of parent, or NULL. */
static xmpp_stanza_t *nth_child(xmpp_stanza_t *parent, const char *name, int n)
{
    xmpp_stanza_t *c;

    for (c = xmpp_stanza_get_children(parent); c; c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_tag(c) &&
            strcmp(xmpp_stanza_get_name(c), name) == 0 && n-- == 0)
            return c;
    }
    return NULL;
}

static int count_children(xmpp_stanza_t *parent, const char *name)
{
    int n = 0;

    while (nth_child(parent, name, n))
        n++;
    return n;
}

static struct form *sample_form(void)
{
    struct form *f = form_new(FORM_FORM, "urn:chatdesk:test");
    struct form_field *fld;

    assert_non_null(f);
    assert_int_equal(form_set_title(f, "Company <settings>"), 0);
    assert_int_equal(form_set_instructions(f, "Line one\nLine & two"), 0);
    assert_non_null(form_add_value_field(f, FIELD_TEXT_SINGLE, "name",
                                         "Company name", "Acme & Co", 1));
    assert_non_null(form_add_boolean(f, "chat", "Chat enabled", 1));
    fld = form_add_value_field(f, FIELD_LIST_SINGLE, "view", "View", "mine", 0);
    assert_non_null(fld);
    assert_int_equal(form_field_add_option(fld, "My sessions", "mine"), 0);
    assert_int_equal(form_field_add_option(fld, NULL, "waiting"), 0);
    assert_int_equal(form_field_set_desc(fld, "Which list to show"), 0);
    assert_non_null(
        form_add_text_multi(f, "note", "Note", "first line\r\nsecond line"));
    assert_non_null(form_add_value_field(f, FIELD_JID_SINGLE, "room", NULL,
                                         "chat-1@helpdesk.localhost", 0));
    assert_non_null(form_add_fixed(f, "Section header"));
    return f;
}

static void test_build_to_stanza(void **state)
{
    struct form *f = sample_form();
    xmpp_stanza_t *x = form_to_stanza(f, ctx);
    xmpp_stanza_t *fld, *hidden;

    (void)state;
    assert_non_null(x);
    assert_string_equal(xmpp_stanza_get_name(x), "x");
    assert_string_equal(xmpp_stanza_get_ns(x), NS_DATA);
    assert_string_equal(xmpp_stanza_get_type(x), "form");
    assert_int_equal(count_children(x, "instructions"), 2);
    assert_int_equal(count_children(x, "field"), 7);
    hidden = nth_child(x, "field", 0);
    assert_string_equal(xmpp_stanza_get_attribute(hidden, "var"), "FORM_TYPE");
    assert_string_equal(xmpp_stanza_get_attribute(hidden, "type"), "hidden");
    fld = nth_child(x, "field", 1);
    assert_non_null(xmpp_stanza_get_child_by_name(fld, "required"));
    fld = nth_child(x, "field", 3);
    assert_int_equal(count_children(fld, "option"), 2);
    assert_non_null(xmpp_stanza_get_child_by_name(fld, "desc"));
    fld = nth_child(x, "field", 4);
    assert_int_equal(count_children(fld, "value"), 2);
    fld = nth_child(x, "field", 6);
    assert_null(xmpp_stanza_get_attribute(fld, "var"));
    assert_string_equal(xmpp_stanza_get_attribute(fld, "type"), "fixed");
    xmpp_stanza_release(x);
    form_free(f);
}

static void test_round_trip(void **state)
{
    struct form *f = sample_form(), *back = NULL;
    xmpp_stanza_t *x = form_to_stanza(f, ctx);
    char *xml = NULL, err[FORM_ERR_LEN];
    size_t len;
    const struct form_field *view;

    (void)state;
    assert_int_equal(xmpp_stanza_to_text(x, &xml, &len), XMPP_EOK);
    xmpp_stanza_release(x);
    assert_int_equal(parse_xml(xml, &back, err, sizeof(err)), FORM_OK);
    xmpp_free(ctx, xml);
    assert_int_equal(back->type, FORM_FORM);
    assert_string_equal(back->title, "Company <settings>");
    assert_string_equal(back->instructions, "Line one\nLine & two");
    assert_int_equal(back->n_fields, f->n_fields);
    assert_string_equal(form_get_form_type(back), "urn:chatdesk:test");
    assert_string_equal(form_get_string(back, "name"), "Acme & Co");
    assert_int_equal(form_field_find(back, "name")->required, 1);
    view = form_field_find(back, "view");
    assert_int_equal(view->type, FIELD_LIST_SINGLE);
    assert_int_equal(view->n_options, 2);
    assert_string_equal(view->options[0].label, "My sessions");
    assert_null(view->options[1].label);
    assert_string_equal(view->options[1].value, "waiting");
    assert_string_equal(view->desc, "Which list to show");
    assert_int_equal(form_field_find(back, "note")->n_values, 2);
    assert_int_equal(back->fields[6]->type, FIELD_FIXED);
    assert_null(back->fields[6]->var);
    assert_string_equal(back->fields[6]->values[0], "Section header");
    form_free(back);
    form_free(f);
}

static void test_parse_submit_in_command(void **state)
{
    struct form *f = NULL;
    char err[FORM_ERR_LEN];
    char *joined;

    (void)state;
    assert_int_equal(
        parse_xml("<command xmlns='http://jabber.org/protocol/commands' "
                  "node='x'><x xmlns='jabber:x:data' type='submit'>"
                  "<field var='description'><value>Printer</value>"
                  "<value>is on fire</value></field>"
                  "<field var='empty'><value/></field>"
                  "<field var='novalue'/>"
                  "<field var='weird' type='no-such-type'><value>v</value>"
                  "</field><unknown/></x></command>",
                  &f, err, sizeof(err)),
        FORM_OK);
    assert_int_equal(f->type, FORM_SUBMIT);
    joined = form_get_joined(f, "description");
    assert_string_equal(joined, "Printer\nis on fire");
    free(joined);
    assert_string_equal(form_get_string(f, "empty"), "");
    assert_null(form_get_string(f, "novalue"));
    assert_null(form_get_string(f, "absent"));
    assert_null(form_get_joined(f, "absent"));
    assert_int_equal(form_field_find(f, "weird")->type, FIELD_TEXT_SINGLE);
    form_free(f);
}

static void expect_invalid(const char *xml, const char *needle)
{
    struct form *f = (struct form *)1;
    char err[FORM_ERR_LEN] = "";

    assert_int_equal(parse_xml(xml, &f, err, sizeof(err)), FORM_EINVALID);
    assert_null(f);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void test_malformed(void **state)
{
    struct form *f = (struct form *)1;
    char err[FORM_ERR_LEN];

    (void)state;
    assert_int_equal(parse_xml("<command xmlns='c'/>", &f, err, sizeof(err)),
                     FORM_ENOFORM);
    assert_null(f);
    expect_invalid("<x xmlns='jabber:x:data'/>", "'type'");
    expect_invalid("<x xmlns='jabber:x:data' type='bogus'/>", "'type'");
    expect_invalid("<x xmlns='jabber:x:data' type='submit'>"
                   "<field var='a'/><field><value>1</value></field></x>",
                   "Field number 2 has no 'var'");
    expect_invalid("<x xmlns='jabber:x:data' type='submit'>"
                   "<field var='phone'/><field var='phone'/></x>",
                   "Field 'phone' appears twice");
    expect_invalid("<x xmlns='jabber:x:data' type='submit'>"
                   "<field var='view' type='list-single'><value>a</value>"
                   "<value>b</value></field></x>",
                   "Field 'view' has more than one value");
    expect_invalid("<x xmlns='jabber:x:data' type='form'>"
                   "<field var='view' type='list-single'><option label='x'/>"
                   "</field></x>",
                   "Field 'view' has an option without value");
    expect_invalid("<x xmlns='jabber:x:data' type='result'><reported>"
                   "<field var='a'/></reported><reported><field var='b'/>"
                   "</reported></x>",
                   "two <reported/>");
}

/* A form with one field whose value is n characters of 'a'. */
static char *big_form(const char *var, size_t n, int fields)
{
    size_t cap = (n + 64) * (size_t)fields + 128;
    char *xml = malloc(cap), *w = xml;
    int i;

    assert_non_null(xml);
    w += sprintf(w, "<x xmlns='jabber:x:data' type='submit'>");
    for (i = 0; i < fields; i++) {
        w += sprintf(w, "<field var='%s%d'><value>", var, i);
        memset(w, 'a', n);
        w += n;
        w += sprintf(w, "</value></field>");
    }
    sprintf(w, "</x>");
    return xml;
}

static void test_limits(void **state)
{
    char *xml;
    char longvar[FORM_MAX_NAME_LEN + 10];
    char buf[FORM_MAX_NAME_LEN + 128];

    (void)state;
    xml = big_form("phone", FORM_MAX_VALUE_LEN + 1, 1);
    expect_invalid(xml, "Field 'phone0': value is longer than 8192");
    free(xml);
    xml = big_form("f", FORM_MAX_VALUE_LEN, 9);
    expect_invalid(xml, "too large");
    free(xml);
    xml = big_form("f", 1, FORM_MAX_FIELDS + 1);
    expect_invalid(xml, "more than 100 fields");
    free(xml);
    memset(longvar, 'v', sizeof(longvar) - 1);
    longvar[sizeof(longvar) - 1] = '\0';
    snprintf(buf, sizeof(buf),
             "<x xmlns='jabber:x:data' type='submit'><field var='%s'/></x>",
             longvar);
    expect_invalid(buf, "Field number 1 has a 'var' longer than 256");
    xml = big_form("ok", FORM_MAX_VALUE_LEN, 1); /* exactly at the cap */
    {
        struct form *f = NULL;
        char err[FORM_ERR_LEN];

        assert_int_equal(parse_xml(xml, &f, err, sizeof(err)), FORM_OK);
        assert_int_equal(strlen(form_get_string(f, "ok0")), FORM_MAX_VALUE_LEN);
        form_free(f);
    }
    free(xml);
}

static struct form *typed_form(void)
{
    struct form *f = NULL;
    char err[FORM_ERR_LEN];

    assert_int_equal(
        parse_xml("<x xmlns='jabber:x:data' type='submit'>"
                  "<field var='t1'><value>1</value></field>"
                  "<field var='t2'><value>true</value></field>"
                  "<field var='f1'><value>0</value></field>"
                  "<field var='f2'><value>false</value></field>"
                  "<field var='bad'><value>yes</value></field>"
                  "<field var='n'><value> 42 </value></field>"
                  "<field var='neg'><value>-5</value></field>"
                  "<field var='nan'><value>12abc</value></field>"
                  "<field var='huge'><value>99999999999999999999999</value>"
                  "</field>"
                  "<field var='blank'><value>   </value></field>"
                  "<field var='view'><value>waiting</value></field>"
                  "</x>",
                  &f, err, sizeof(err)),
        FORM_OK);
    return f;
}

static void test_bool_getter(void **state)
{
    struct form *f = typed_form();
    char err[FORM_ERR_LEN] = "";
    int b = -1;

    (void)state;
    assert_int_equal(form_get_bool(f, "t1", 0, &b, err, sizeof(err)), FORM_OK);
    assert_int_equal(b, 1);
    assert_int_equal(form_get_bool(f, "t2", 0, &b, err, sizeof(err)), FORM_OK);
    assert_int_equal(b, 1);
    assert_int_equal(form_get_bool(f, "f1", 1, &b, err, sizeof(err)), FORM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(form_get_bool(f, "f2", 1, &b, err, sizeof(err)), FORM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(form_get_bool(f, "absent", 1, &b, err, sizeof(err)),
                     FORM_OK);
    assert_int_equal(b, 1);
    assert_int_equal(form_get_bool(f, "bad", 0, &b, err, sizeof(err)),
                     FORM_EINVALID);
    assert_non_null(strstr(err, "Field 'bad' must be a boolean"));
    form_free(f);
}

static void test_int_getter(void **state)
{
    struct form *f = typed_form();
    char err[FORM_ERR_LEN] = "";
    long n = 0;

    (void)state;
    assert_int_equal(form_get_int(f, "n", 1, 100, 7, &n, err, sizeof(err)),
                     FORM_OK);
    assert_int_equal(n, 42);
    assert_int_equal(form_get_int(f, "absent", 1, 100, 7, &n, err, sizeof(err)),
                     FORM_OK);
    assert_int_equal(n, 7);
    assert_int_equal(form_get_int(f, "blank", 1, 100, 8, &n, err, sizeof(err)),
                     FORM_OK);
    assert_int_equal(n, 8);
    assert_int_equal(form_get_int(f, "neg", 0, 100, 7, &n, err, sizeof(err)),
                     FORM_EINVALID);
    assert_string_equal(err,
                        "Field 'neg' must be a whole number from 0 to 100");
    assert_int_equal(form_get_int(f, "nan", 0, 100, 7, &n, err, sizeof(err)),
                     FORM_EINVALID);
    assert_int_equal(form_get_int(f, "huge", 0, 100, 7, &n, err, sizeof(err)),
                     FORM_EINVALID);
    form_free(f);
}

static void test_required_and_options(void **state)
{
    struct form *f = typed_form(), *spec = form_new(FORM_FORM, NULL);
    struct form_field *v;
    char err[FORM_ERR_LEN] = "";
    const char *s;

    (void)state;
    assert_int_equal(form_get_required(f, "t1", &s, err, sizeof(err)), FORM_OK);
    assert_string_equal(s, "1");
    assert_int_equal(form_get_required(f, "blank", &s, err, sizeof(err)),
                     FORM_EINVALID);
    assert_string_equal(err, "Field 'blank' is required");
    v = form_add_field(spec, FIELD_LIST_SINGLE, "view", "View");
    assert_int_equal(form_field_add_option(v, NULL, "mine"), 0);
    assert_int_equal(form_field_add_option(v, NULL, "waiting"), 0);
    v = form_add_field(spec, FIELD_LIST_SINGLE, "n", "Number");
    assert_int_equal(form_field_add_option(v, NULL, "1"), 0);
    assert_int_equal(form_field_add_option(v, NULL, "2"), 0);
    assert_int_equal(form_get_option(f, spec, "view", &s, err, sizeof(err)),
                     FORM_OK);
    assert_string_equal(s, "waiting");
    assert_int_equal(form_get_option(f, spec, "n", &s, err, sizeof(err)),
                     FORM_EINVALID);
    assert_string_equal(err, "Field 'n' must be one of: 1, 2");
    assert_int_equal(form_get_option(f, spec, "absent", &s, err, sizeof(err)),
                     FORM_OK);
    assert_null(s);
    assert_int_equal(form_check_required(f, spec, err, sizeof(err)), FORM_OK);
    assert_non_null(form_add_value_field(spec, FIELD_TEXT_SINGLE, "phone",
                                         "Phone", NULL, 1));
    assert_int_equal(form_check_required(f, spec, err, sizeof(err)),
                     FORM_EINVALID);
    assert_string_equal(err, "Field 'phone' (Phone) is required");
    form_free(spec);
    form_free(f);
}

static void test_result_table(void **state)
{
    struct form *f = form_new(FORM_RESULT, NULL), *back = NULL;
    struct form_item *row;
    xmpp_stanza_t *x, *item, *fld;
    char *xml, err[FORM_ERR_LEN];
    size_t len;

    (void)state;
    assert_non_null(
        form_add_reported(f, FIELD_TEXT_SINGLE, "session", "Session"));
    assert_non_null(form_add_reported(f, FIELD_JID_SINGLE, "room", "Room"));
    assert_non_null(form_add_reported(f, FIELD_TEXT_SINGLE, "state", "State"));
    row = form_add_item(f);
    assert_int_equal(form_item_set(row, "state", "waiting"), 0);
    assert_int_equal(form_item_set(row, "session", "1"), 0);
    assert_int_equal(form_item_set(row, "session", "11"), 0); /* replace */
    row = form_add_item(f);
    assert_int_equal(form_item_set(row, "room", "chat-2@h"), 0);
    x = form_to_stanza(f, ctx);
    assert_non_null(x);
    assert_int_equal(count_children(x, "reported"), 1);
    assert_int_equal(count_children(x, "item"), 2);
    item = nth_child(x, "item", 0);
    assert_int_equal(count_children(item, "field"), 3);
    fld = nth_child(item, "field", 0); /* column order, not set order */
    assert_string_equal(xmpp_stanza_get_attribute(fld, "var"), "session");
    fld = nth_child(item, "field", 1); /* unset column: empty value */
    assert_non_null(xmpp_stanza_get_child_by_name(fld, "value"));
    assert_int_equal(xmpp_stanza_to_text(x, &xml, &len), XMPP_EOK);
    xmpp_stanza_release(x);
    assert_int_equal(parse_xml(xml, &back, err, sizeof(err)), FORM_OK);
    xmpp_free(ctx, xml);
    assert_int_equal(back->n_reported, 3);
    assert_string_equal(back->reported[1]->label, "Room");
    assert_int_equal(back->n_items, 2);
    assert_string_equal(back->items[0]->fields[0]->values[0], "11");
    assert_string_equal(back->items[0]->fields[2]->values[0], "waiting");
    assert_string_equal(back->items[1]->fields[1]->values[0], "chat-2@h");
    assert_string_equal(back->items[1]->fields[2]->values[0], "");
    form_free(back);
    form_free(f);
}

static void test_items_text(void **state)
{
    struct form *f = form_new(FORM_RESULT, NULL);
    struct form_item *row;
    char *text;

    (void)state;
    assert_null(form_items_text(NULL));
    form_add_reported(f, FIELD_TEXT_SINGLE, "session", "Session");
    form_add_reported(f, FIELD_JID_SINGLE, "room", NULL);
    form_add_reported(f, FIELD_TEXT_SINGLE, "note", "Note");
    assert_null(form_items_text(f)); /* no rows: no text */
    row = form_add_item(f);
    form_item_set(row, "note", "call back at 5; urgent");
    form_item_set(row, "session", "11");
    row = form_add_item(f);
    form_item_set(row, "room", "chat-2@h");
    form_item_set(row, "note", "");
    text = form_items_text(f);
    assert_non_null(text);
    assert_string_equal(text, "Session: 11; Note: call back at 5; urgent\n"
                              "room: chat-2@h");
    free(text);
    form_free(f);
}

static void test_build_guards(void **state)
{
    struct form *f = form_new(FORM_SUBMIT, NULL);
    int i;

    (void)state;
    assert_null(form_add_field(f, FIELD_TEXT_SINGLE, NULL, "no var"));
    assert_null(form_add_field(NULL, FIELD_TEXT_SINGLE, "a", NULL));
    for (i = 0; i < FORM_MAX_FIELDS; i++) {
        char var[16];

        snprintf(var, sizeof(var), "f%d", i);
        assert_non_null(form_add_field(f, FIELD_TEXT_SINGLE, var, NULL));
    }
    assert_null(form_add_field(f, FIELD_TEXT_SINGLE, "one-too-many", NULL));
    assert_int_equal(form_field_add_value(NULL, "x"), -1);
    assert_int_equal(form_item_set(NULL, "a", "b"), -1);
    assert_string_equal(form_type_name(FORM_CANCEL), "cancel");
    assert_string_equal(form_field_type_name(FIELD_JID_MULTI), "jid-multi");
    assert_int_equal(form_field_type_from_name("hidden"), FIELD_HIDDEN);
    assert_int_equal(form_field_type_from_name(NULL), FIELD_TEXT_SINGLE);
    form_free(f);
    form_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_to_stanza),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_submit_in_command),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bool_getter),
        cmocka_unit_test(test_int_getter),
        cmocka_unit_test(test_required_and_options),
        cmocka_unit_test(test_result_table),
        cmocka_unit_test(test_items_text),
        cmocka_unit_test(test_build_guards),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
