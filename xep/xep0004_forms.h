/* xep0004_forms.h - XEP-0004 data forms: build, serialise, parse, read.
 *
 * A struct form is plain heap memory, independent of any xmpp_ctx: build one
 * with form_new() and the form_add_* functions, turn it into a new
 * <x xmlns='jabber:x:data'/> with form_to_stanza(), or read one out of a
 * received stanza with form_parse(). Every form_new()/form_parse() result is
 * freed with exactly one form_free().
 *
 * The structs below are readable by callers (iterate fields, items); change
 * them only through the functions here. Pointers to fields and items stay
 * valid until the form is freed.
 *
 * Parsing is defensive: it caps the number of fields, values and options and
 * the length of every string (FORM_MAX_*), and on failure writes a sentence a
 * person can act on, naming the field ("Field 'phone' has more than one
 * value"), into the caller's err buffer.
 */
#ifndef CHATDESK_XEP0004_FORMS_H
#define CHATDESK_XEP0004_FORMS_H

#include <stddef.h>
#include <strophe.h>

#define NS_DATA "jabber:x:data"

/* Limits applied by form_parse() (and by the add functions). */
#define FORM_MAX_FIELDS 100      /* top-level fields, reported columns */
#define FORM_MAX_VALUES 100      /* <value/>s in one field */
#define FORM_MAX_OPTIONS 200     /* <option/>s in one field */
#define FORM_MAX_ITEMS 1000      /* <item/> rows of a result */
#define FORM_MAX_NAME_LEN 256    /* var, label, type */
#define FORM_MAX_VALUE_LEN 8192  /* one <value/>, <title/>, <instructions/> */
#define FORM_MAX_TOTAL_LEN 65536 /* sum of all value lengths in one form */

/* A good size for the err buffers below. */
#define FORM_ERR_LEN 256

/* Return codes of form_parse() and of the typed getters. */
#define FORM_OK 0
#define FORM_ENOFORM (-1)  /* no <x xmlns='jabber:x:data'/> where expected */
#define FORM_EINVALID (-2) /* malformed or out of range; err says why */
#define FORM_ENOMEM (-3)

enum form_type { FORM_FORM, FORM_SUBMIT, FORM_RESULT, FORM_CANCEL };

enum form_field_type {
    FIELD_TEXT_SINGLE = 0, /* the default (also for unknown type names) */
    FIELD_TEXT_MULTI,
    FIELD_TEXT_PRIVATE,
    FIELD_LIST_SINGLE,
    FIELD_LIST_MULTI,
    FIELD_BOOLEAN,
    FIELD_JID_SINGLE,
    FIELD_JID_MULTI,
    FIELD_HIDDEN,
    FIELD_FIXED
};

struct form_option {
    char *label; /* may be NULL */
    char *value;
};

struct form_field {
    char *var; /* NULL only for fixed fields */
    enum form_field_type type;
    int has_type; /* 1 if the type was given (parsed) or set (built) */
    char *label;  /* may be NULL */
    char *desc;   /* may be NULL */
    int required;
    char **values;
    size_t n_values;
    struct form_option *options;
    size_t n_options;
};

/* One row of a result: fields with var and values. */
struct form_item {
    struct form_field **fields;
    size_t n_fields;
};

struct form {
    enum form_type type;
    char *title;        /* may be NULL */
    char *instructions; /* may be NULL; several <instructions/> are joined
                           with '\n' by form_parse() */
    struct form_field **fields;
    size_t n_fields;
    struct form_field **reported; /* columns of a result table */
    size_t n_reported;
    struct form_item **items;
    size_t n_items;
};

/* ---- names ---------------------------------------------------------- */

/* "form", "submit", "result", "cancel". */
const char *form_type_name(enum form_type type);
/* "text-single", "boolean", ... */
const char *form_field_type_name(enum form_field_type type);
/* The field type for a name; unknown or NULL names give FIELD_TEXT_SINGLE,
 * as XEP-0004 requires. */
enum form_field_type form_field_type_from_name(const char *name);

/* ---- building ------------------------------------------------------- */

/* A new empty form, or NULL on allocation failure. When form_type_ns is not
 * NULL, a hidden FORM_TYPE field with that value is added first. */
struct form *form_new(enum form_type type, const char *form_type_ns);

/* Free the form and everything in it. NULL is fine. */
void form_free(struct form *form);

/* Set (replace) the title / instructions; text is copied. 0 or -1. */
int form_set_title(struct form *form, const char *text);
int form_set_instructions(struct form *form, const char *text);

/* Append a field. var is required except for FIELD_FIXED; label may be
 * NULL. Strings are copied. Returns the field (owned by the form) or NULL on
 * allocation failure, a NULL var on a non-fixed field, or when the form
 * already has FORM_MAX_FIELDS fields. */
struct form_field *form_add_field(struct form *form, enum form_field_type type,
                                  const char *var, const char *label);

/* Append a value / an option (label may be NULL) / set the description.
 * Strings are copied. 0 or -1. */
int form_field_add_value(struct form_field *field, const char *value);
int form_field_add_option(struct form_field *field, const char *label,
                          const char *value);
int form_field_set_desc(struct form_field *field, const char *desc);

/* Conveniences: add a field and (when value is not NULL) its value.
 * form_add_boolean writes "1" or "0". form_add_text_multi splits text at
 * newlines into several values. All return the field or NULL. */
struct form_field *form_add_value_field(struct form *form,
                                        enum form_field_type type,
                                        const char *var, const char *label,
                                        const char *value, int required);
struct form_field *form_add_boolean(struct form *form, const char *var,
                                    const char *label, int value);
struct form_field *form_add_text_multi(struct form *form, const char *var,
                                       const char *label, const char *text);
struct form_field *form_add_fixed(struct form *form, const char *text);

/* Result tables. form_add_reported appends a column; form_add_item appends
 * an empty row; form_item_set sets the value of column var in a row (value
 * NULL or "" gives an empty <value/>). form_to_stanza writes every row with
 * one field per reported column, in column order, so rows need not set every
 * column. */
struct form_field *form_add_reported(struct form *form,
                                     enum form_field_type type, const char *var,
                                     const char *label);
struct form_item *form_add_item(struct form *form);
int form_item_set(struct form_item *item, const char *var, const char *value);

/* The rows of a result table as plain text for clients that draw no
 * XEP-0004 tables (poezio, profanity): one line per item, each cell as
 * "Label: value" (the column's label, else its var) in column order,
 * separated by "; ", empty cells left out, a value cut to
 * FORM_TEXT_CELL_MAX bytes (ending in "…") so that the text stays well under
 * the table's own size. A new string the caller free()s; NULL when the form
 * has no items or on allocation failure. */
#define FORM_TEXT_CELL_MAX 80
char *form_items_text(const struct form *form);

/* ---- serialising and parsing ---------------------------------------- */

/* A new <x xmlns='jabber:x:data' type=...> for the form (caller releases),
 * or NULL on allocation failure. */
xmpp_stanza_t *form_to_stanza(const struct form *form, xmpp_ctx_t *ctx);

/* Read a form from stanza (borrowed): stanza itself when it is an
 * <x xmlns='jabber:x:data'/>, else its first such direct child. On FORM_OK
 * *out is a new form (form_free it); on any error *out is NULL and err (if
 * not NULL) holds a sentence naming the field at fault. Unknown field types
 * read as text-single; a field without var (other than fixed), a repeated
 * var, several values in a single-valued field, a missing or unknown form
 * type, an <item/> before the <reported/> or with a field that is not one
 * of its columns, and anything over the FORM_MAX_* limits are
 * FORM_EINVALID. */
int form_parse(xmpp_stanza_t *stanza, struct form **out, char *err,
               size_t errlen);

/* ---- reading -------------------------------------------------------- */

/* The top-level field called var, or NULL. */
struct form_field *form_field_find(const struct form *form, const char *var);

/* The first value of field var; NULL if the field is absent or has no value
 * (an empty <value/> gives ""). The string belongs to the form. */
const char *form_get_string(const struct form *form, const char *var);

/* All values of field var joined with '\n' (text-multi), as a new string
 * the caller free()s; NULL if the field is absent or on allocation failure.
 * A field without values gives "". */
char *form_get_joined(const struct form *form, const char *var);

/* The value of the hidden FORM_TYPE field, or NULL. */
const char *form_get_form_type(const struct form *form);

/* Field var must be present with a non-empty first value (spaces alone
 * count as empty): FORM_OK and *out set (owned by the form), else
 * FORM_EINVALID with "Field 'var' is required". */
int form_get_required(const struct form *form, const char *var,
                      const char **out, char *err, size_t errlen);

/* Boolean per XEP-0004 ("1"/"true" or "0"/"false"). An absent field or one
 * without value gives dflt. FORM_OK or FORM_EINVALID (err names the
 * field). */
int form_get_bool(const struct form *form, const char *var, int dflt, int *out,
                  char *err, size_t errlen);

/* Decimal integer in [min, max]; absent or empty gives dflt. FORM_OK or
 * FORM_EINVALID ("Field 'timeout' must be a whole number from 1 to 86400"). */
int form_get_int(const struct form *form, const char *var, long min, long max,
                 long dflt, long *out, char *err, size_t errlen);

/* The value of var must be one of the options of the same field in
 * spec (a form of type form, e.g. the one sent before); absent gives NULL
 * and FORM_OK. FORM_EINVALID names the field and the allowed values. */
int form_get_option(const struct form *form, const struct form *spec,
                    const char *var, const char **out, char *err,
                    size_t errlen);

/* Every field marked required in spec must have a non-empty value in form.
 * FORM_OK or FORM_EINVALID naming the first missing field (by label when it
 * has one, and var). */
int form_check_required(const struct form *form, const struct form *spec,
                        char *err, size_t errlen);

#endif
