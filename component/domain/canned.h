/* canned.h - canned replies (SPEC §9): named texts a tech sends by writing
 * "!name" as the whole body of a groupchat message. Table canned
 * (migration 11). Plain C.
 *
 * A name is 1..CANNED_NAME_MAX characters of a-z, 0-9, '-' and '_',
 * compared and stored lowercase. A text is 1..CANNED_TEXT_MAX bytes and may
 * hold the placeholders {contact} and {tech}, filled in by canned_expand().
 *
 * Result codes (chat/errors.c gives each its XMPP condition):
 *   CANNED_OK, CANNED_ERR_NOT_FOUND (no such name), CANNED_ERR_EXISTS (add
 *   of a name in use), CANNED_ERR_INVALID (bad name or text),
 *   CANNED_ERR_STORE (database).
 * On anything but CANNED_OK canned_error() holds a sentence for the XMPP
 * <text/> that quotes the value given, borrowed until the next call.
 *
 * Ownership: struct canned borrows the store (which must outlive it) and
 * owns its prepared statements. Functions open no transaction of their
 * own (one statement each). Returned strings are heap copies the caller
 * frees.
 */
#ifndef CHATDESK_CANNED_H
#define CHATDESK_CANNED_H

#include <stddef.h>

struct store;
struct canned;

#define CANNED_NAME_MAX 32
#define CANNED_TEXT_MAX 4096

enum canned_code {
    CANNED_OK = 0,
    CANNED_ERR_NOT_FOUND,
    CANNED_ERR_EXISTS,
    CANNED_ERR_INVALID,
    CANNED_ERR_STORE
};

/* Prepare the statements. NULL with err on failure. */
struct canned *canned_open(struct store *st, char *err, size_t errlen);
void canned_close(struct canned *c); /* NULL is fine */
const char *canned_error(const struct canned *c);

/* Add a new reply (CANNED_ERR_EXISTS when the name is taken), or edit an
 * existing one (CANNED_ERR_NOT_FOUND when it is not). *old (may be NULL)
 * gets the text before an edit (heap; "" for an add). */
int canned_add(struct canned *c, const char *name, const char *text);
int canned_edit(struct canned *c, const char *name, const char *text,
                char **old);
/* Remove; *old (may be NULL) gets the text it had (heap). */
int canned_remove(struct canned *c, const char *name, char **old);
/* The text of name into *text (heap). */
int canned_get(struct canned *c, const char *name, char **text);
/* The names, sorted, joined by ", " into *names (heap; "" for none). */
int canned_names(struct canned *c, char **names);

/* The name a message body calls for: body is "!" and a name (nothing
 * else, no blanks) -> the name into out (lowercased) and 1; else 0. */
int canned_call(const char *body, char *out, size_t outlen);

/* text with every {contact} and {tech} replaced by contact and tech, as a
 * new string (free it); NULL when out of memory. */
char *canned_expand(const char *text, const char *contact, const char *tech);

#endif
