/* fields.h - reading the submitted fields of the ad-hoc commands, with one
 * rule for blanks and for numbers, and one wording of their errors: a
 * value's leading and trailing white space never counts, and a refusal
 * names the field and quotes the whole value that was given.
 */
#ifndef CHATDESK_COMMANDS_FIELDS_H
#define CHATDESK_COMMANDS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

struct adhoc_reply;
struct form;

/* s without leading and trailing white space into out (len bytes). 0, or
 * -1 when it does not fit. */
int fields_trim(const char *s, char *out, size_t len);

/* All values of field var joined by '\n' (a text-multi field's lines),
 * without leading and trailing white space, as a new string (free it); ""
 * when the field or the form is absent; NULL when out of memory. */
char *fields_text(const struct form *form, const char *var);

/* v as a number: decimal digits only (no sign, no blank), above 0, within
 * int64_t. 0 with *out set, else -1. */
int fields_number(const char *v, int64_t *out);

/* What a numeric field names. */
enum fields_id {
    FIELDS_TICKET,  /* field 'ticket': a ticket number */
    FIELDS_SESSION, /* field 'session': a session number, or its room
                       chat-12 / chat-12@component (any case) */
};

/* The trimmed value v of the field of kind as a fields_number() (for a
 * session also behind "chat-" and before "@..."). 0 with *out set; or -1
 * after answering modify/<bad-request/>: "Field 'session' is required" for
 * "", else a text that says what the field takes and quotes the whole of
 * v. */
int fields_id(struct adhoc_reply *reply, enum fields_id kind, const char *v,
              int64_t *out);

/* fields_id() of the field of kind read from form with fields_text(). */
int fields_read_id(struct adhoc_reply *reply, enum fields_id kind,
                   const struct form *form, int64_t *out);

/* fields_read_id() of kind, then the optional text field 'note' of at most
 * max bytes as fields_text(). 0 with *id and *note set (free *note); or -1
 * after answering (bad id, note too long, out of memory). */
int fields_read_id_note(struct adhoc_reply *reply, enum fields_id kind,
                        const struct form *form, size_t max, int64_t *id,
                        char **note);

/* text as text-multi fields of res, one line a value: field var (label)
 * takes the first FORM_MAX_VALUES lines, then var-2, var-3, ... (label
 * label_more, or label when NULL) the next ones, until the lines take
 * budget bytes of XML (table_xml_len() of each line and its <value/>).
 * 0 (all of it), 1 (cut at budget: the lines that fit are in), or -1
 * (out of memory, or var too long). */
int fields_add_lines(struct form *res, const char *text, const char *var,
                     const char *label, const char *label_more,
                     size_t budget);

#endif
