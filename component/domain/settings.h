/* settings.h - the global settings (SPEC §1, §3, §5), kept in the store.
 *
 * Keys and their text values ('-' may be written for '_' in keys):
 *   chat            on|off   global chat permission        (default on)
 *   pre_ticket      on|off   pre-ticket chat enabled       (default on)
 *   callback        on|off   chat callbacks enabled        (default on)
 *   timezone        IANA zone name for office hours        (default UTC)
 *   office_hours    week text, see office_hours.h          (default always)
 *   holidays        dates text, see office_hours.h         (default none)
 *   answer_timeout  seconds, config_timeout_parse() (default: [chat] value)
 *   idle_timeout    seconds, config_timeout_parse() (default: [chat] value)
 * on/off also accept yes/no, true/false, 1/0 (XEP-0004 booleans). A stored
 * value wins over the default; unsetting a key returns it to the default.
 * Values are validated before they are stored and stored in canonical form.
 *
 * Ownership: struct settings_store borrows the store (which must outlive it)
 * and owns its prepared statements. struct settings is plain data. Nothing
 * is cached: every settings_load() reads the store, so changes made by
 * chatdeskctl on the same database are seen at once. Functions open no
 * transaction; wrap several settings_set() calls in store_begin()/commit()
 * to apply them together.
 */
#ifndef CHATDESK_SETTINGS_H
#define CHATDESK_SETTINGS_H

#include "domain/office_hours.h"

#include <stdbool.h>
#include <stddef.h>

struct store;
struct settings_store;

#define SETTINGS_VALUE_MAX 8192 /* longest text value, incl. NUL */

/* Defaults that come from the config file ([chat] section). */
struct settings_defaults {
    long answer_timeout;
    long idle_timeout;
};

struct settings {
    bool chat;
    bool pre_ticket;
    bool callback;
    long answer_timeout;
    long idle_timeout;
    struct office_hours hours; /* timezone, week, holidays */
};

/* The key names, in display order, NULL-terminated. */
extern const char *const settings_keys[];

/* Fill s with the built-in defaults, taking the timeouts from defs (NULL:
 * 60 and 3600 seconds). */
void settings_defaults_apply(struct settings *s,
                             const struct settings_defaults *defs);

/* Prepare the statements on st. NULL on failure, message in err. */
struct settings_store *settings_open(struct store *st, char *err,
                                     size_t errlen);
void settings_close(struct settings_store *ss);

/* The defaults overlaid with every stored value. Returns 0, or -1 with err
 * naming the key when the store fails or a stored value is corrupt. */
int settings_load(struct settings_store *ss,
                  const struct settings_defaults *defs, struct settings *out,
                  char *err, size_t errlen);

/* Validate value for key and store its canonical form. Returns 0, or -1
 * with a message naming the key and the bad part in err. */
int settings_set(struct settings_store *ss, const char *key, const char *value,
                 char *err, size_t errlen);

/* Remove key's stored value (back to the default). Returns 0 or -1. */
int settings_unset(struct settings_store *ss, const char *key, char *err,
                   size_t errlen);

/* Is a value stored for key? Returns 1, 0, or -1 (bad key / store error). */
int settings_is_stored(struct settings_store *ss, const char *key);

/* key's value in s as canonical text in buf. Returns 0, or -1 for an
 * unknown key or a too small buffer. */
int settings_value(const struct settings *s, const char *key, char *buf,
                   size_t buflen);

#endif
