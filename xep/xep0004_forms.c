/* xep0004_forms.c - XEP-0004 data forms. See xep0004_forms.h. */
#include "xep0004_forms.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const forms__type_names[] = {"form", "submit", "result",
                                                "cancel"};

static const char *const forms__field_type_names[] = {
    "text-single", "text-multi", "text-private", "list-single", "list-multi",
    "boolean",     "jid-single", "jid-multi",    "hidden",      "fixed"};

#define FORMS__N_FIELD_TYPES                                                   \
    (sizeof(forms__field_type_names) / sizeof(forms__field_type_names[0]))

/* ---- small helpers -------------------------------------------------- */

static void forms__err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void forms__err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static char *forms__dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Replace *slot with a copy of s (NULL clears). 0 or -1. */
static int forms__set_str(char **slot, const char *s)
{
    char *copy = NULL;

    if (s) {
        copy = strdup(s);
        if (!copy)
            return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static int forms__push_str(char ***arr, size_t *n, char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof(*grown));

    if (!grown)
        return -1;
    grown[(*n)++] = s;
    *arr = grown;
    return 0;
}

static int forms__push_field(struct form_field ***arr, size_t *n,
                             struct form_field *f)
{
    struct form_field **grown = realloc(*arr, (*n + 1) * sizeof(*grown));

    if (!grown)
        return -1;
    grown[(*n)++] = f;
    *arr = grown;
    return 0;
}

static int forms__is_blank(const char *s)
{
    for (; s && *s; s++) {
        if (!isspace((unsigned char)*s))
            return 0;
    }
    return 1;
}

/* ---- names ---------------------------------------------------------- */

const char *form_type_name(enum form_type type)
{
    if ((unsigned)type > FORM_CANCEL)
        return "form";
    return forms__type_names[type];
}

const char *form_field_type_name(enum form_field_type type)
{
    if ((unsigned)type >= FORMS__N_FIELD_TYPES)
        return "text-single";
    return forms__field_type_names[type];
}

enum form_field_type form_field_type_from_name(const char *name)
{
    size_t i;

    if (!name)
        return FIELD_TEXT_SINGLE;
    for (i = 0; i < FORMS__N_FIELD_TYPES; i++) {
        if (strcmp(name, forms__field_type_names[i]) == 0)
            return (enum form_field_type)i;
    }
    return FIELD_TEXT_SINGLE;
}

static int forms__type_from_name(const char *name, enum form_type *out)
{
    unsigned i;

    for (i = 0; name && i <= FORM_CANCEL; i++) {
        if (strcmp(name, forms__type_names[i]) == 0) {
            *out = (enum form_type)i;
            return 0;
        }
    }
    return -1;
}

/* ---- building ------------------------------------------------------- */

static void forms__field_free(struct form_field *f)
{
    size_t i;

    if (!f)
        return;
    for (i = 0; i < f->n_values; i++)
        free(f->values[i]);
    for (i = 0; i < f->n_options; i++) {
        free(f->options[i].label);
        free(f->options[i].value);
    }
    free(f->values);
    free(f->options);
    free(f->var);
    free(f->label);
    free(f->desc);
    free(f);
}

static void forms__fields_free(struct form_field **fields, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        forms__field_free(fields[i]);
    free(fields);
}

static struct form_field *forms__field_new(enum form_field_type type,
                                           const char *var, const char *label)
{
    struct form_field *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    f->type = type;
    f->has_type = 1;
    if ((var && !(f->var = strdup(var))) ||
        (label && !(f->label = strdup(label)))) {
        forms__field_free(f);
        return NULL;
    }
    return f;
}

struct form *form_new(enum form_type type, const char *form_type_ns)
{
    struct form *form = calloc(1, sizeof(*form));

    if (!form)
        return NULL;
    form->type = type;
    if (form_type_ns && !form_add_value_field(form, FIELD_HIDDEN, "FORM_TYPE",
                                              NULL, form_type_ns, 0)) {
        form_free(form);
        return NULL;
    }
    return form;
}

void form_free(struct form *form)
{
    size_t i;

    if (!form)
        return;
    forms__fields_free(form->fields, form->n_fields);
    forms__fields_free(form->reported, form->n_reported);
    for (i = 0; i < form->n_items; i++) {
        forms__fields_free(form->items[i]->fields, form->items[i]->n_fields);
        free(form->items[i]);
    }
    free(form->items);
    free(form->title);
    free(form->instructions);
    free(form);
}

int form_set_title(struct form *form, const char *text)
{
    return form ? forms__set_str(&form->title, text) : -1;
}

int form_set_instructions(struct form *form, const char *text)
{
    return form ? forms__set_str(&form->instructions, text) : -1;
}

struct form_field *form_add_field(struct form *form, enum form_field_type type,
                                  const char *var, const char *label)
{
    struct form_field *f;

    if (!form || (!var && type != FIELD_FIXED) ||
        form->n_fields >= FORM_MAX_FIELDS)
        return NULL;
    f = forms__field_new(type, var, label);
    if (!f)
        return NULL;
    if (forms__push_field(&form->fields, &form->n_fields, f) != 0) {
        forms__field_free(f);
        return NULL;
    }
    return f;
}

int form_field_add_value(struct form_field *field, const char *value)
{
    char *copy;

    if (!field || !value || field->n_values >= FORM_MAX_VALUES)
        return -1;
    copy = strdup(value);
    if (!copy)
        return -1;
    if (forms__push_str(&field->values, &field->n_values, copy) != 0) {
        free(copy);
        return -1;
    }
    return 0;
}

int form_field_add_option(struct form_field *field, const char *label,
                          const char *value)
{
    struct form_option *grown;
    struct form_option opt = {NULL, NULL};

    if (!field || !value || field->n_options >= FORM_MAX_OPTIONS)
        return -1;
    opt.label = forms__dup(label);
    opt.value = strdup(value);
    grown = realloc(field->options, (field->n_options + 1) * sizeof(*grown));
    if (!opt.value || (label && !opt.label) || !grown) {
        free(opt.label);
        free(opt.value);
        if (grown)
            field->options = grown;
        return -1;
    }
    grown[field->n_options++] = opt;
    field->options = grown;
    return 0;
}

int form_field_set_desc(struct form_field *field, const char *desc)
{
    return field ? forms__set_str(&field->desc, desc) : -1;
}

struct form_field *form_add_value_field(struct form *form,
                                        enum form_field_type type,
                                        const char *var, const char *label,
                                        const char *value, int required)
{
    struct form_field *f = form_add_field(form, type, var, label);

    if (!f)
        return NULL;
    f->required = required ? 1 : 0;
    if (value && form_field_add_value(f, value) != 0)
        return NULL; /* the field stays, without value; form_free frees it */
    return f;
}

struct form_field *form_add_boolean(struct form *form, const char *var,
                                    const char *label, int value)
{
    return form_add_value_field(form, FIELD_BOOLEAN, var, label,
                                value ? "1" : "0", 0);
}

/* Append the lines of text (split at \n, a \r before it dropped) as values
 * of f. 0 or -1. */
static int forms__add_lines(struct form_field *f, const char *text)
{
    const char *line = text;

    while (line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy;

        if (len > 0 && line[len - 1] == '\r')
            len--;
        copy = strndup(line, len);
        if (!copy || forms__push_str(&f->values, &f->n_values, copy) != 0) {
            free(copy);
            return -1;
        }
        if (f->n_values >= FORM_MAX_VALUES)
            return nl ? -1 : 0;
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

struct form_field *form_add_text_multi(struct form *form, const char *var,
                                       const char *label, const char *text)
{
    struct form_field *f = form_add_field(form, FIELD_TEXT_MULTI, var, label);

    if (!f)
        return NULL;
    if (text && forms__add_lines(f, text) != 0)
        return NULL;
    return f;
}

struct form_field *form_add_fixed(struct form *form, const char *text)
{
    return form_add_value_field(form, FIELD_FIXED, NULL, NULL, text, 0);
}

struct form_field *form_add_reported(struct form *form,
                                     enum form_field_type type, const char *var,
                                     const char *label)
{
    struct form_field *f;

    if (!form || !var || form->n_reported >= FORM_MAX_FIELDS)
        return NULL;
    f = forms__field_new(type, var, label);
    if (!f)
        return NULL;
    if (forms__push_field(&form->reported, &form->n_reported, f) != 0) {
        forms__field_free(f);
        return NULL;
    }
    return f;
}

struct form_item *form_add_item(struct form *form)
{
    struct form_item *item;
    struct form_item **grown;

    if (!form || form->n_items >= FORM_MAX_ITEMS)
        return NULL;
    item = calloc(1, sizeof(*item));
    if (!item)
        return NULL;
    grown = realloc(form->items, (form->n_items + 1) * sizeof(*grown));
    if (!grown) {
        free(item);
        return NULL;
    }
    grown[form->n_items++] = item;
    form->items = grown;
    return item;
}

static struct form_field *forms__find_in(struct form_field **fields, size_t n,
                                         const char *var)
{
    size_t i;

    for (i = 0; var && i < n; i++) {
        if (fields[i]->var && strcmp(fields[i]->var, var) == 0)
            return fields[i];
    }
    return NULL;
}

int form_item_set(struct form_item *item, const char *var, const char *value)
{
    struct form_field *f;

    if (!item || !var)
        return -1;
    f = forms__find_in(item->fields, item->n_fields, var);
    if (!f) {
        if (item->n_fields >= FORM_MAX_FIELDS)
            return -1;
        f = forms__field_new(FIELD_TEXT_SINGLE, var, NULL);
        if (!f)
            return -1;
        f->has_type = 0;
        if (forms__push_field(&item->fields, &item->n_fields, f) != 0) {
            forms__field_free(f);
            return -1;
        }
    }
    while (f->n_values > 0)
        free(f->values[--f->n_values]);
    return form_field_add_value(f, value ? value : "");
}

/* ---- serialising ---------------------------------------------------- */

/* Append a new <name/> to parent; returns it (borrowed) or NULL. */
static xmpp_stanza_t *forms__add_elem(xmpp_stanza_t *parent, const char *name)
{
    xmpp_stanza_t *el = xmpp_stanza_new(xmpp_stanza_get_context(parent));

    if (!el)
        return NULL;
    if (xmpp_stanza_set_name(el, name) != XMPP_EOK ||
        xmpp_stanza_add_child_ex(parent, el, 0) != XMPP_EOK) {
        xmpp_stanza_release(el);
        return NULL;
    }
    return el;
}

/* Append <name>text</name>; an empty text gives an empty element. */
static int forms__add_text_elem(xmpp_stanza_t *parent, const char *name,
                                const char *text)
{
    xmpp_stanza_t *el = forms__add_elem(parent, name);
    xmpp_stanza_t *t;

    if (!el)
        return -1;
    if (!text || !*text)
        return 0;
    t = xmpp_stanza_new(xmpp_stanza_get_context(parent));
    if (!t)
        return -1;
    if (xmpp_stanza_set_text(t, text) != XMPP_EOK ||
        xmpp_stanza_add_child_ex(el, t, 0) != XMPP_EOK) {
        xmpp_stanza_release(t);
        return -1;
    }
    return 0;
}

/* Each line of text as its own <name/> element. */
static int forms__add_lines_elems(xmpp_stanza_t *parent, const char *name,
                                  const char *text)
{
    char *copy = strdup(text);
    char *line, *save = NULL;
    int rc = 0;

    if (!copy)
        return -1;
    for (line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save))
        rc = forms__add_text_elem(parent, name, line);
    free(copy);
    return rc;
}

static int forms__set_attr(xmpp_stanza_t *el, const char *name,
                           const char *value)
{
    if (!value)
        return 0;
    return xmpp_stanza_set_attribute(el, name, value) == XMPP_EOK ? 0 : -1;
}

/* <field/> for f; values are written unless skip_values. */
static int forms__field_out(xmpp_stanza_t *parent, const struct form_field *f,
                            int skip_values)
{
    xmpp_stanza_t *el = forms__add_elem(parent, "field");
    size_t i;
    int rc;

    if (!el)
        return -1;
    rc = forms__set_attr(el, "var", f->var);
    rc |= forms__set_attr(el, "label", f->label);
    if (f->has_type)
        rc |= forms__set_attr(el, "type", form_field_type_name(f->type));
    if (f->desc)
        rc |= forms__add_text_elem(el, "desc", f->desc);
    if (f->required)
        rc |= forms__add_elem(el, "required") ? 0 : -1;
    for (i = 0; !skip_values && i < f->n_values; i++)
        rc |= forms__add_text_elem(el, "value", f->values[i]);
    for (i = 0; i < f->n_options; i++) {
        xmpp_stanza_t *opt = forms__add_elem(el, "option");

        if (!opt)
            return -1;
        rc |= forms__set_attr(opt, "label", f->options[i].label);
        rc |= forms__add_text_elem(opt, "value", f->options[i].value);
    }
    return rc ? -1 : 0;
}

/* One <item/>: a field per reported column, in column order. */
static int forms__item_out(xmpp_stanza_t *x, const struct form *form,
                           const struct form_item *item)
{
    xmpp_stanza_t *el = forms__add_elem(x, "item");
    size_t i;

    if (!el)
        return -1;
    for (i = 0; i < form->n_reported; i++) {
        const char *var = form->reported[i]->var;
        const struct form_field *f =
            forms__find_in(item->fields, item->n_fields, var);
        xmpp_stanza_t *fel = forms__add_elem(el, "field");

        if (!fel || forms__set_attr(fel, "var", var) != 0)
            return -1;
        if (forms__add_text_elem(fel, "value",
                                 f && f->n_values ? f->values[0] : "") != 0)
            return -1;
    }
    return 0;
}

static int forms__body_out(xmpp_stanza_t *x, const struct form *form)
{
    xmpp_stanza_t *reported;
    size_t i;

    if (form->title && forms__add_text_elem(x, "title", form->title) != 0)
        return -1;
    if (form->instructions &&
        forms__add_lines_elems(x, "instructions", form->instructions) != 0)
        return -1;
    for (i = 0; i < form->n_fields; i++) {
        if (forms__field_out(x, form->fields[i], 0) != 0)
            return -1;
    }
    if (form->n_reported == 0)
        return 0;
    reported = forms__add_elem(x, "reported");
    if (!reported)
        return -1;
    for (i = 0; i < form->n_reported; i++) {
        if (forms__field_out(reported, form->reported[i], 1) != 0)
            return -1;
    }
    for (i = 0; i < form->n_items; i++) {
        if (forms__item_out(x, form, form->items[i]) != 0)
            return -1;
    }
    return 0;
}

/* value, cut to FORM_TEXT_CELL_MAX bytes on a UTF-8 character boundary
 * with "…" after a cut. */
static void forms__cell_text(FILE *out, const char *value)
{
    size_t len = strlen(value);
    if (len <= FORM_TEXT_CELL_MAX) {
        fputs(value, out);
        return;
    }
    len = FORM_TEXT_CELL_MAX - 3;
    while (len > 0 && ((unsigned char)value[len] & 0xC0) == 0x80)
        len--;
    fprintf(out, "%.*s\xe2\x80\xa6", (int)len, value);
}

/* One row as "Label: value; Label: value" (empty cells left out). */
static void forms__item_text(FILE *out, const struct form *form,
                             const struct form_item *item)
{
    const char *sep = "";
    size_t i;

    for (i = 0; i < form->n_reported; i++) {
        const struct form_field *col = form->reported[i];
        const struct form_field *f =
            forms__find_in(item->fields, item->n_fields, col->var);

        if (!f || !f->n_values || !*f->values[0])
            continue;
        fprintf(out, "%s%s: ", sep, col->label ? col->label : col->var);
        forms__cell_text(out, f->values[0]);
        sep = "; ";
    }
}

char *form_items_text(const struct form *form)
{
    char *text = NULL;
    size_t len = 0, i;
    FILE *out;

    if (!form || form->n_items == 0)
        return NULL;
    out = open_memstream(&text, &len);
    if (!out)
        return NULL;
    for (i = 0; i < form->n_items; i++) {
        if (i > 0)
            fputc('\n', out);
        forms__item_text(out, form, form->items[i]);
    }
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

xmpp_stanza_t *form_to_stanza(const struct form *form, xmpp_ctx_t *ctx)
{
    xmpp_stanza_t *x;

    if (!form || !ctx)
        return NULL;
    x = xmpp_stanza_new(ctx);
    if (!x)
        return NULL;
    if (xmpp_stanza_set_name(x, "x") != XMPP_EOK ||
        xmpp_stanza_set_ns(x, NS_DATA) != XMPP_EOK ||
        xmpp_stanza_set_type(x, form_type_name(form->type)) != XMPP_EOK ||
        forms__body_out(x, form) != 0) {
        xmpp_stanza_release(x);
        return NULL;
    }
    return x;
}

/* ---- parsing -------------------------------------------------------- */

struct forms__parser {
    struct form *form;
    size_t total; /* bytes of values read so far */
    char *err;
    size_t errlen;
};

/* A child of the form in the data forms namespace (inherited or explicit)? */
static int forms__is_el(xmpp_stanza_t *el, const char *name)
{
    const char *ns;

    if (!xmpp_stanza_is_tag(el) || !xmpp_stanza_get_name(el))
        return 0;
    if (strcmp(xmpp_stanza_get_name(el), name) != 0)
        return 0;
    ns = xmpp_stanza_get_ns(el);
    return !ns || strcmp(ns, NS_DATA) == 0;
}

/* The text of el as a new malloc'd string ("" when empty) in *out. what and
 * var name the place in error messages. */
static int forms__text(struct forms__parser *p, xmpp_stanza_t *el,
                       const char *what, const char *var, char **out)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(el);
    char *text = xmpp_stanza_get_text(el);
    size_t len = text ? strlen(text) : 0;

    *out = NULL;
    if (len > FORM_MAX_VALUE_LEN || p->total + len > FORM_MAX_TOTAL_LEN) {
        if (text)
            xmpp_free(ctx, text);
        if (len <= FORM_MAX_VALUE_LEN)
            forms__err(p->err, p->errlen,
                       "The form is too large (at most %d characters of "
                       "values in all)",
                       FORM_MAX_TOTAL_LEN);
        else if (var)
            forms__err(p->err, p->errlen,
                       "Field '%.64s': %s is longer than %d characters", var,
                       what, FORM_MAX_VALUE_LEN);
        else
            forms__err(p->err, p->errlen,
                       "The form's %s is longer than %d characters", what,
                       FORM_MAX_VALUE_LEN);
        return FORM_EINVALID;
    }
    p->total += len;
    *out = strdup(text ? text : "");
    if (text)
        xmpp_free(ctx, text);
    return *out ? FORM_OK : FORM_ENOMEM;
}

static int forms__check_name(struct forms__parser *p, const char *attr,
                             const char *value, const char *var, int index)
{
    if (!value || strlen(value) <= FORM_MAX_NAME_LEN)
        return FORM_OK;
    if (var && strcmp(attr, "var") != 0)
        forms__err(p->err, p->errlen,
                   "Field '%.64s' has a '%s' longer than %d characters", var,
                   attr, FORM_MAX_NAME_LEN);
    else
        forms__err(p->err, p->errlen,
                   "Field number %d has a '%s' longer than %d characters",
                   index, attr, FORM_MAX_NAME_LEN);
    return FORM_EINVALID;
}

static int forms__parse_value(struct forms__parser *p, struct form_field *f,
                              xmpp_stanza_t *el)
{
    char *text;
    int rc;

    if (f->n_values >= FORM_MAX_VALUES) {
        forms__err(p->err, p->errlen, "Field '%.64s' has more than %d values",
                   f->var, FORM_MAX_VALUES);
        return FORM_EINVALID;
    }
    rc = forms__text(p, el, "value", f->var ? f->var : "(fixed)", &text);
    if (rc != FORM_OK)
        return rc;
    if (forms__push_str(&f->values, &f->n_values, text) != 0) {
        free(text);
        return FORM_ENOMEM;
    }
    return FORM_OK;
}

static int forms__parse_option(struct forms__parser *p, struct form_field *f,
                               xmpp_stanza_t *el)
{
    const char *label = xmpp_stanza_get_attribute(el, "label");
    xmpp_stanza_t *vel = xmpp_stanza_get_child_by_name(el, "value");
    char *value;
    int rc;

    if (forms__check_name(p, "label", label, f->var, 0) != FORM_OK)
        return FORM_EINVALID;
    if (!vel || f->n_options >= FORM_MAX_OPTIONS) {
        forms__err(p->err, p->errlen,
                   "Field '%.64s' has an option without value or more than "
                   "%d options",
                   f->var, FORM_MAX_OPTIONS);
        return FORM_EINVALID;
    }
    rc = forms__text(p, vel, "option", f->var, &value);
    if (rc != FORM_OK)
        return rc;
    rc = form_field_add_option(f, label, value) == 0 ? FORM_OK : FORM_ENOMEM;
    free(value);
    return rc;
}

static int forms__parse_field_child(struct forms__parser *p,
                                    struct form_field *f, xmpp_stanza_t *el)
{
    if (forms__is_el(el, "value"))
        return forms__parse_value(p, f, el);
    if (forms__is_el(el, "option"))
        return forms__parse_option(p, f, el);
    if (forms__is_el(el, "required")) {
        f->required = 1;
        return FORM_OK;
    }
    if (forms__is_el(el, "desc") && !f->desc)
        return forms__text(p, el, "description", f->var, &f->desc);
    return FORM_OK; /* unknown children are ignored */
}

static int forms__is_single_valued(const struct form_field *f)
{
    switch (f->type) {
    case FIELD_TEXT_MULTI:
    case FIELD_LIST_MULTI:
    case FIELD_JID_MULTI:
    case FIELD_HIDDEN:
        return 0;
    default:
        return f->has_type;
    }
}

/* Read one <field/>. index counts fields from 1 for messages. */
static int forms__parse_field(struct forms__parser *p, xmpp_stanza_t *el,
                              int index, struct form_field **out)
{
    const char *var = xmpp_stanza_get_attribute(el, "var");
    const char *type = xmpp_stanza_get_attribute(el, "type");
    const char *label = xmpp_stanza_get_attribute(el, "label");
    struct form_field *f;
    xmpp_stanza_t *c;
    int rc = FORM_OK;

    *out = NULL;
    if (!var && form_field_type_from_name(type) != FIELD_FIXED) {
        forms__err(p->err, p->errlen, "Field number %d has no 'var' attribute",
                   index);
        return FORM_EINVALID;
    }
    if (forms__check_name(p, "var", var, var, index) != FORM_OK ||
        forms__check_name(p, "type", type, var, index) != FORM_OK ||
        forms__check_name(p, "label", label, var, index) != FORM_OK)
        return FORM_EINVALID;
    f = forms__field_new(form_field_type_from_name(type), var, label);
    if (!f)
        return FORM_ENOMEM;
    f->has_type = type != NULL;
    for (c = xmpp_stanza_get_children(el); c && rc == FORM_OK;
         c = xmpp_stanza_get_next(c))
        rc = forms__parse_field_child(p, f, c);
    if (rc == FORM_OK && f->n_values > 1 && forms__is_single_valued(f)) {
        forms__err(p->err, p->errlen, "Field '%.64s' has more than one value",
                   var ? var : "(fixed)");
        rc = FORM_EINVALID;
    }
    if (rc != FORM_OK) {
        forms__field_free(f);
        return rc;
    }
    *out = f;
    return FORM_OK;
}

/* Read the <field/> children of el into (*arr, *n); max caps them and
 * unique refuses a repeated var. */
static int forms__parse_fields(struct forms__parser *p, xmpp_stanza_t *el,
                               struct form_field ***arr, size_t *n, size_t max,
                               int unique)
{
    xmpp_stanza_t *c;
    struct form_field *f;
    int rc;

    for (c = xmpp_stanza_get_children(el); c; c = xmpp_stanza_get_next(c)) {
        if (!forms__is_el(c, "field"))
            continue;
        if (*n >= max) {
            forms__err(p->err, p->errlen, "The form has more than %zu fields",
                       max);
            return FORM_EINVALID;
        }
        rc = forms__parse_field(p, c, (int)*n + 1, &f);
        if (rc != FORM_OK)
            return rc;
        if (unique && forms__find_in(*arr, *n, f->var)) {
            forms__err(p->err, p->errlen, "Field '%.64s' appears twice",
                       f->var);
            forms__field_free(f);
            return FORM_EINVALID;
        }
        if (forms__push_field(arr, n, f) != 0) {
            forms__field_free(f);
            return FORM_ENOMEM;
        }
    }
    return FORM_OK;
}

/* One <item/> of a result: after the <reported/> (XEP-0004 §3.4), with
 * fields that are its columns (what form_to_stanza() writes back). */
static int forms__parse_item(struct forms__parser *p, xmpp_stanza_t *el)
{
    struct form *form = p->form;
    struct form_item *item;
    int rc;

    if (form->n_items >= FORM_MAX_ITEMS) {
        forms__err(p->err, p->errlen, "The form has more than %d items",
                   FORM_MAX_ITEMS);
        return FORM_EINVALID;
    }
    if (form->n_reported == 0) {
        forms__err(p->err, p->errlen,
                   "An <item/> comes before a <reported/> naming its fields");
        return FORM_EINVALID;
    }
    item = form_add_item(form);
    if (!item)
        return FORM_ENOMEM;
    rc = forms__parse_fields(p, el, &item->fields, &item->n_fields,
                             FORM_MAX_FIELDS, 0);
    for (size_t i = 0; rc == FORM_OK && i < item->n_fields; i++) {
        const char *var = item->fields[i]->var;
        if (!var || !forms__find_in(form->reported, form->n_reported, var)) {
            forms__err(p->err, p->errlen,
                       "Field '%.64s' of item %zu is not in <reported/>",
                       var ? var : "(fixed)", form->n_items);
            rc = FORM_EINVALID;
        }
    }
    return rc;
}

/* Append a line of <instructions/> text. */
static int forms__parse_instructions(struct forms__parser *p, xmpp_stanza_t *el)
{
    struct form *form = p->form;
    char *line, *joined;
    int rc = forms__text(p, el, "instructions", NULL, &line);

    if (rc != FORM_OK)
        return rc;
    if (!form->instructions) {
        form->instructions = line;
        return FORM_OK;
    }
    joined = malloc(strlen(form->instructions) + strlen(line) + 2);
    if (!joined) {
        free(line);
        return FORM_ENOMEM;
    }
    sprintf(joined, "%s\n%s", form->instructions, line);
    free(line);
    free(form->instructions);
    form->instructions = joined;
    return FORM_OK;
}

static int forms__parse_child(struct forms__parser *p, xmpp_stanza_t *el)
{
    struct form *form = p->form;

    if (forms__is_el(el, "title") && !form->title)
        return forms__text(p, el, "title", NULL, &form->title);
    if (forms__is_el(el, "instructions"))
        return forms__parse_instructions(p, el);
    if (forms__is_el(el, "reported")) {
        if (form->n_reported > 0) {
            forms__err(p->err, p->errlen, "The form has two <reported/>");
            return FORM_EINVALID;
        }
        return forms__parse_fields(p, el, &form->reported, &form->n_reported,
                                   FORM_MAX_FIELDS, 1);
    }
    if (forms__is_el(el, "item"))
        return forms__parse_item(p, el);
    return FORM_OK; /* top-level fields are read separately */
}

static xmpp_stanza_t *forms__find_x(xmpp_stanza_t *stanza)
{
    const char *name = xmpp_stanza_get_name(stanza);
    const char *ns = xmpp_stanza_get_ns(stanza);

    if (name && ns && strcmp(name, "x") == 0 && strcmp(ns, NS_DATA) == 0)
        return stanza;
    return xmpp_stanza_get_child_by_name_and_ns(stanza, "x", NS_DATA);
}

int form_parse(xmpp_stanza_t *stanza, struct form **out, char *err,
               size_t errlen)
{
    struct forms__parser p = {NULL, 0, err, errlen};
    xmpp_stanza_t *x, *c;
    enum form_type type;
    int rc;

    *out = NULL;
    x = stanza ? forms__find_x(stanza) : NULL;
    if (!x) {
        forms__err(err, errlen, "No data form (jabber:x:data) was sent");
        return FORM_ENOFORM;
    }
    if (forms__type_from_name(xmpp_stanza_get_type(x), &type) != 0) {
        forms__err(err, errlen,
                   "The data form has no valid 'type' "
                   "(form, submit, result or cancel)");
        return FORM_EINVALID;
    }
    p.form = form_new(type, NULL);
    if (!p.form)
        return FORM_ENOMEM;
    rc = forms__parse_fields(&p, x, &p.form->fields, &p.form->n_fields,
                             FORM_MAX_FIELDS, 1);
    for (c = xmpp_stanza_get_children(x); c && rc == FORM_OK;
         c = xmpp_stanza_get_next(c))
        rc = forms__parse_child(&p, c);
    if (rc != FORM_OK) {
        if (rc == FORM_ENOMEM)
            forms__err(err, errlen, "Out of memory reading the data form");
        form_free(p.form);
        return rc;
    }
    *out = p.form;
    return FORM_OK;
}

/* ---- reading -------------------------------------------------------- */

struct form_field *form_field_find(const struct form *form, const char *var)
{
    if (!form)
        return NULL;
    return forms__find_in(form->fields, form->n_fields, var);
}

const char *form_get_string(const struct form *form, const char *var)
{
    const struct form_field *f = form_field_find(form, var);

    return f && f->n_values > 0 ? f->values[0] : NULL;
}

char *form_get_joined(const struct form *form, const char *var)
{
    const struct form_field *f = form_field_find(form, var);
    size_t i, len = 1;
    char *out, *w;

    if (!f)
        return NULL;
    for (i = 0; i < f->n_values; i++)
        len += strlen(f->values[i]) + 1;
    out = malloc(len);
    if (!out)
        return NULL;
    w = out;
    *w = '\0';
    for (i = 0; i < f->n_values; i++) {
        size_t n = strlen(f->values[i]);

        if (i > 0)
            *w++ = '\n';
        memcpy(w, f->values[i], n + 1);
        w += n;
    }
    return out;
}

const char *form_get_form_type(const struct form *form)
{
    const struct form_field *f = form_field_find(form, "FORM_TYPE");

    return f && f->n_values > 0 ? f->values[0] : NULL;
}

int form_get_required(const struct form *form, const char *var,
                      const char **out, char *err, size_t errlen)
{
    const char *v = form_get_string(form, var);

    *out = NULL;
    if (!v || forms__is_blank(v)) {
        forms__err(err, errlen, "Field '%.64s' is required", var);
        return FORM_EINVALID;
    }
    *out = v;
    return FORM_OK;
}

int form_get_bool(const struct form *form, const char *var, int dflt, int *out,
                  char *err, size_t errlen)
{
    const char *v = form_get_string(form, var);

    *out = dflt;
    if (!v || !*v)
        return FORM_OK;
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
        *out = 1;
        return FORM_OK;
    }
    if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0) {
        *out = 0;
        return FORM_OK;
    }
    forms__err(err, errlen,
               "Field '%.64s' must be a boolean (1, true, 0 or false)", var);
    return FORM_EINVALID;
}

int form_get_int(const struct form *form, const char *var, long min, long max,
                 long dflt, long *out, char *err, size_t errlen)
{
    const char *v = form_get_string(form, var);
    char *end;
    long n;

    *out = dflt;
    if (!v || forms__is_blank(v))
        return FORM_OK;
    errno = 0;
    n = strtol(v, &end, 10);
    while (*end && isspace((unsigned char)*end))
        end++;
    if (errno != 0 || end == v || *end || n < min || n > max) {
        forms__err(err, errlen,
                   "Field '%.64s' must be a whole number from %ld to %ld", var,
                   min, max);
        return FORM_EINVALID;
    }
    *out = n;
    return FORM_OK;
}

/* "a, b, c" of the option values of f into buf (truncated to fit). */
static void forms__list_options(const struct form_field *f, char *buf,
                                size_t len)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; i < f->n_options && used + 1 < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                         f->options[i].value);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int form_get_option(const struct form *form, const struct form *spec,
                    const char *var, const char **out, char *err, size_t errlen)
{
    const struct form_field *sf = form_field_find(spec, var);
    const char *v = form_get_string(form, var);
    char allowed[160];
    size_t i;

    *out = NULL;
    if (!v || !*v)
        return FORM_OK;
    for (i = 0; sf && i < sf->n_options; i++) {
        if (strcmp(sf->options[i].value, v) == 0) {
            *out = v;
            return FORM_OK;
        }
    }
    if (sf)
        forms__list_options(sf, allowed, sizeof(allowed));
    else
        allowed[0] = '\0';
    forms__err(err, errlen, "Field '%.64s' must be one of: %s", var, allowed);
    return FORM_EINVALID;
}

int form_check_required(const struct form *form, const struct form *spec,
                        char *err, size_t errlen)
{
    size_t i;

    for (i = 0; spec && i < spec->n_fields; i++) {
        const struct form_field *sf = spec->fields[i];
        const char *v;

        if (!sf->required || !sf->var)
            continue;
        v = form_get_string(form, sf->var);
        if (v && !forms__is_blank(v))
            continue;
        if (sf->label)
            forms__err(err, errlen, "Field '%.64s' (%.64s) is required",
                       sf->var, sf->label);
        else
            forms__err(err, errlen, "Field '%.64s' is required", sf->var);
        return FORM_EINVALID;
    }
    return FORM_OK;
}
