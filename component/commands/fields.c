/* fields.c - see fields.h */
#include "commands/fields.h"

#include "commands/table.h"

#include "xep0004_forms.h"
#include "xep0050_adhoc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The start of s past its leading white space; its length without the
 * trailing white space in *n. */
static const char *fields__span(const char *s, size_t *n)
{
    while (isspace((unsigned char)*s))
        s++;
    *n = strlen(s);
    while (*n > 0 && isspace((unsigned char)s[*n - 1]))
        (*n)--;
    return s;
}

int fields_trim(const char *s, char *out, size_t len)
{
    size_t n;
    const char *p = fields__span(s, &n);
    if (n >= len)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

char *fields_text(const struct form *form, const char *var)
{
    char *v = form ? form_get_joined(form, var) : NULL;
    size_t n;
    const char *p = fields__span(v ? v : "", &n);
    char *out = strndup(p, n);
    free(v);
    return out;
}

int fields_number(const char *v, int64_t *out)
{
    int64_t n = 0;
    if (!*v)
        return -1;
    for (; *v; v++) {
        int d = *v - '0';
        if (d < 0 || d > 9 || n > (INT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    if (n == 0)
        return -1;
    *out = n;
    return 0;
}

/* "12", "chat-12" or "chat-12@component" as a session number. */
static int fields__session(const char *v, int64_t *out)
{
    char num[32];
    if (!strncasecmp(v, "chat-", 5))
        v += 5;
    size_t n = strcspn(v, "@");
    if (n >= sizeof num)
        return -1;
    memcpy(num, v, n);
    num[n] = '\0';
    return fields_number(num, out);
}

static const char *fields__var(enum fields_id kind)
{
    return kind == FIELDS_SESSION ? "session" : "ticket";
}

int fields_id(struct adhoc_reply *reply, enum fields_id kind, const char *v,
              int64_t *out)
{
    int session = kind == FIELDS_SESSION;
    if (!*v) {
        adhoc_reply_bad(reply, "Field '%s' is required", fields__var(kind));
        return -1;
    }
    if ((session ? fields__session(v, out) : fields_number(v, out)) == 0)
        return 0;
    if (session)
        adhoc_reply_bad(reply,
                        "Field 'session' must be a session number like 12 or "
                        "its room chat-12@...; got '%s'",
                        v);
    else
        adhoc_reply_bad(reply,
                        "Field 'ticket' must be a ticket number; got "
                        "'%s'",
                        v);
    return -1;
}

int fields_read_id(struct adhoc_reply *reply, enum fields_id kind,
                   const struct form *form, int64_t *out)
{
    char *v = fields_text(form, fields__var(kind));
    int rc = -1;
    if (!v)
        adhoc_reply_no_memory(reply);
    else
        rc = fields_id(reply, kind, v, out);
    free(v);
    return rc;
}

int fields_read_id_note(struct adhoc_reply *reply, enum fields_id kind,
                        const struct form *form, size_t max, int64_t *id,
                        char **note)
{
    if (fields_read_id(reply, kind, form, id) != 0)
        return -1;
    *note = fields_text(form, "note");
    if (!*note) {
        adhoc_reply_no_memory(reply);
        return -1;
    }
    if (strlen(*note) > max) {
        adhoc_reply_bad(reply, "Field 'note' is too long (at most %zu bytes)",
                        max);
        free(*note);
        *note = NULL;
        return -1;
    }
    return 0;
}

int fields_add_lines(struct form *res, const char *text, const char *var,
                     const char *label, const char *label_more,
                     size_t budget)
{
    struct form_field *f = NULL;
    int part = 1;
    size_t used = 0;
    for (const char *line = text; line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        used += table_xml_len(line, len) + sizeof "<value></value>";
        if (used > budget)
            return 1;
        if (!f || f->n_values >= FORM_MAX_VALUES) {
            char name[128];
            int n = part == 1 ? snprintf(name, sizeof name, "%s", var)
                              : snprintf(name, sizeof name, "%s-%d", var,
                                         part);
            if (n < 0 || (size_t)n >= sizeof name)
                return -1;
            f = form_add_field(res, FIELD_TEXT_MULTI, name,
                               part == 1 || !label_more ? label
                                                        : label_more);
            part++;
        }
        char *copy = strndup(line, len);
        int rc = f && copy ? form_field_add_value(f, copy) : -1;
        free(copy);
        if (rc != 0)
            return -1;
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}
