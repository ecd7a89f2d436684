/* table.h - result tables (XEP-0004 <reported/> columns and <item/> rows)
 * that fit in one stanza under [limits] max_stanza_bytes, whatever the
 * stored data holds.
 *
 * A list's answer grows with user data (notes, summaries, names). A table
 * here takes half of max_stanza_bytes (the rest is the form's markup, the
 * notes and the iq) and counts the bytes of XML each row adds: every cell is
 * cut to TABLE_CELL_MAX bytes of XML (on a character boundary, ending in
 * "…"; the whole value is one command away, e.g. view-session), and a row
 * that would go over the budget is not added, so the caller can say the
 * list was cut. A page of at most table_page_rows() rows always fits.
 */
#ifndef CHATDESK_COMMANDS_TABLE_H
#define CHATDESK_COMMANDS_TABLE_H

#include <stddef.h>

struct app;
struct form;

#define TABLE_CELL_MAX 160 /* bytes of XML of one cell, escapes included */

struct table {
    struct form *form; /* borrowed: the result form the rows go into */
    size_t used;       /* bytes of XML of the rows added so far */
    size_t budget;     /* bytes the rows may take */
};

/* One cell of a row: a reported column's var and the value (may be NULL:
 * ""). */
struct table_cell {
    const char *var;
    const char *value;
};

/* Bytes of XML text len bytes of text take once escaped (&amp; &lt; &gt;
 * &quot;, as libstrophe writes them). */
size_t table_xml_len(const char *text, size_t len);

/* The bytes a table's rows may take on app: half of [limits]
 * max_stanza_bytes (the default when app has no config). */
size_t table_budget(const struct app *app);

/* A table on form (a result form with its columns) with app's budget. */
void table_init(struct table *t, struct form *form, const struct app *app);

/* How many rows of n_cols cells always fit in app's budget, at most want
 * (at least 1): a page size that holds whatever the cells contain. */
size_t table_page_rows(const struct app *app, size_t n_cols, size_t want);

/* Add a row of cells[0..n) (cut to TABLE_CELL_MAX each): 1 added, 0 not
 * added because it would go over the budget, -1 out of memory. */
int table_add_row(struct table *t, const struct table_cell *cells, size_t n);

#endif
