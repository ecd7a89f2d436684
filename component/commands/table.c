/* table.c - see table.h */
#include "commands/table.h"

#include "runtime/app.h"
#include "xep0004_forms.h"

#include <stdlib.h>
#include <string.h>

#define TABLE__ELLIPSIS "\xe2\x80\xa6" /* U+2026, 3 bytes */
/* <field var=""><value></value></field> around a cell, beside its var */
#define TABLE__CELL_MARKUP 38
#define TABLE__ROW_MARKUP 13 /* <item></item> */
#define TABLE__VAR_MAX 32    /* bytes of a column's var counted per cell */

/* The XML bytes one character takes. */
static size_t table__char_len(char c)
{
    switch (c) {
    case '&':
        return 5;
    case '<':
    case '>':
        return 4;
    case '"':
        return 6;
    default:
        return 1;
    }
}

size_t table_xml_len(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += table__char_len(text[i]);
    return n;
}

size_t table_budget(const struct app *app)
{
    return app_max_stanza(app) / 2;
}

void table_init(struct table *t, struct form *form, const struct app *app)
{
    t->form = form;
    t->used = 0;
    t->budget = table_budget(app);
}

size_t table_page_rows(const struct app *app, size_t n_cols, size_t want)
{
    size_t row =
        TABLE__ROW_MARKUP +
        n_cols * (TABLE_CELL_MAX + TABLE__CELL_MARKUP + TABLE__VAR_MAX);
    size_t fit = table_budget(app) / row;
    return fit < 1 ? 1 : fit < want ? fit : want;
}

/* value cut to TABLE_CELL_MAX bytes of XML, in a new string (NULL: out of
 * memory); *xml gets its XML bytes. */
static char *table__cell(const char *value, size_t *xml)
{
    size_t len = strlen(value), used = 0, end = 0;
    if (table_xml_len(value, len) <= TABLE_CELL_MAX) {
        *xml = table_xml_len(value, len);
        return strdup(value);
    }
    size_t room = TABLE_CELL_MAX - (sizeof TABLE__ELLIPSIS - 1);
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)value[i] & 0xC0) != 0x80)
            end = i; /* a character starts here: a cut may go before it */
        if (used + table__char_len(value[i]) > room)
            break;
        used += table__char_len(value[i]);
    }
    char *out = malloc(end + sizeof TABLE__ELLIPSIS);
    if (!out)
        return NULL;
    memcpy(out, value, end);
    memcpy(out + end, TABLE__ELLIPSIS, sizeof TABLE__ELLIPSIS);
    *xml = table_xml_len(value, end) + sizeof TABLE__ELLIPSIS - 1;
    return out;
}

int table_add_row(struct table *t, const struct table_cell *cells, size_t n)
{
    char **vals = calloc(n ? n : 1, sizeof *vals);
    size_t row = TABLE__ROW_MARKUP;
    int rc = vals ? 1 : -1;
    for (size_t i = 0; rc == 1 && i < n; i++) {
        size_t xml = 0;
        vals[i] = table__cell(cells[i].value ? cells[i].value : "", &xml);
        if (!vals[i])
            rc = -1;
        row += xml + TABLE__CELL_MARKUP + strlen(cells[i].var);
    }
    if (rc == 1 && t->used + row > t->budget)
        rc = 0;
    struct form_item *item = rc == 1 ? form_add_item(t->form) : NULL;
    if (rc == 1 && !item)
        rc = -1;
    for (size_t i = 0; rc == 1 && i < n; i++)
        if (form_item_set(item, cells[i].var, vals[i]) != 0)
            rc = -1;
    if (rc == 1)
        t->used += row;
    for (size_t i = 0; vals && i < n; i++)
        free(vals[i]);
    free(vals);
    return rc;
}
