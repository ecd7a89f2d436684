/* fuzz_psa.c - libFuzzer target: the PSA webhook JSON (component/domain/psa.c):
 * the body psa_render() writes and the answer psa_settle() reads.
 *
 * Set-up, once (LLVMFuzzerInitialize): a store ":memory:" with the schema,
 * the directory, the ticket store and struct psa on it, and one ticket T0
 * (company Acme, contact alice) whose ticket.created event answers are fed
 * to. Nothing is set up again per input: what an input writes is undone by
 * a ROLLBACK (the entities of part b) or by clearing T0's external_id.
 *
 * Input: one byte that picks the HTTP status of the answer (fuzz_psa__status),
 * then NUL-separated parts (missing parts are empty): the answer body, a
 * company name, a contact name, a ticket summary, a note author, a note text.
 *
 * (a) psa_settle() of T0's ticket.created event with that status and body;
 *     T0's external_id must then be what the body says (a non-empty string
 *     shorter than 256 bytes, or an integer; jansson's own reading of the
 *     body) on a 2xx, nothing otherwise, and T0's rendered body carries it.
 * (b) inside a transaction rolled back afterwards, the company, contact,
 *     ticket and note made from the strings (the directory may refuse a
 *     name: then the part stops); the ticket.created and ticket.note_added
 *     bodies are rendered. A rendered body must be valid JSON that jansson
 *     parses back to the same strings, with the ids as JSON numbers; in a
 *     string that is not UTF-8 the bytes that start no character become
 *     U+FFFD (psa_render() must not refuse it: the event would be retried
 *     for ever).
 * Every body's psa_sign() is 64 lowercase hex digits and the same twice.
 * Seeds: corpus-psa/.
 */
#include "domain/directory.h"
#include "domain/outbox.h"
#include "domain/psa.h"
#include "domain/tickets.h"
#include "fuzz_input.h"
#include "runtime/clock.h"
#include "runtime/log.h"
#include "runtime/store.h"

#include "runtime/db.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PSA_T0 1767261600 /* 2026-01-01T10:00:00Z */
#define FUZZ_PSA_PART 4096     /* bytes of a part tried */

static const long fuzz_psa__status[8] = {200, 201, 204, 0, 400, 429, 503, 299};

enum { P_BODY, P_COMPANY, P_CONTACT, P_SUMMARY, P_AUTHOR, P_TEXT, P_N };

static struct {
    struct store *st;
    struct directory *dir;
    struct ticket_store *ts;
    struct psa *psa;
    struct outbox_event created; /* T0's ticket.created */
} fuzz_psa__base;

static void fuzz_psa__fail(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_psa: %s: \"%s\"\n", what, text ? text : "(null)");
    abort();
}

static void fuzz_psa__sign(const char *body)
{
    char a[PSA_SIG_HEX], b[PSA_SIG_HEX];
    psa_sign("s3cret", body, strlen(body), a);
    psa_sign("s3cret", body, strlen(body), b);
    if (strcmp(a, b) || strlen(a) != 64 || strspn(a, "0123456789abcdef") != 64)
        fuzz_psa__fail("psa_sign is not 64 stable lowercase hex digits", a);
}

/* Render e and parse it back. The caller json_decref()s. */
static json_t *fuzz_psa__render(const struct outbox_event *e)
{
    char *body = NULL;
    if (psa_render(fuzz_psa__base.psa, e, &body) != 0)
        fuzz_psa__fail("psa_render refused", psa_error(fuzz_psa__base.psa));
    fuzz_psa__sign(body);
    json_error_t jerr;
    json_t *root = json_loads(body, 0, &jerr);
    if (!json_is_object(root))
        fuzz_psa__fail("a rendered body is not a JSON object", body);
    free(body);
    return root;
}

/* obj's key is want, or (want not UTF-8) a string with U+FFFD in it. */
static void fuzz_psa__same(json_t *obj, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(obj, key));
    json_t *utf8 = json_string(want);
    json_decref(utf8);
    if (!got || (utf8 && strcmp(got, want)) ||
        (!utf8 && !strstr(got, "\xef\xbf\xbd")))
        fuzz_psa__fail("a rendered string differs from the stored one", want);
}

static void fuzz_psa__id(json_t *obj, const char *key, int64_t want)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) != want)
        fuzz_psa__fail("a rendered id is not the number stored", key);
}

/* What jansson says the answer's external_id is ("" for none). */
static void fuzz_psa__expected(const char *body, long status, char out[256])
{
    out[0] = '\0';
    if (psa_classify(status) != PSA_SENT)
        return;
    json_t *root = json_loads(body, 0, NULL);
    json_t *v = json_object_get(root, "external_id");
    if (json_is_string(v) && json_string_length(v) < 256)
        snprintf(out, 256, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, 256, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    json_decref(root);
}

/* (a): the answer body to T0's ticket.created, then T0 rendered. */
static void fuzz_psa__settle(const char *body, long status)
{
    struct outbox_event *e = &fuzz_psa__base.created;
    enum psa_outcome outcome;
    char want[256];
    fuzz_psa__expected(body, status, want);
    if (psa_settle(fuzz_psa__base.psa, e, status, NULL, body, 60, 0.5,
                   &outcome) != 0)
        fuzz_psa__fail("psa_settle failed", psa_error(fuzz_psa__base.psa));
    json_t *root = fuzz_psa__render(e);
    if (!root)
        fuzz_psa__fail("T0 does not render", body);
    json_t *ticket = json_object_get(root, "ticket");
    json_t *ext = json_object_get(ticket, "external_id");
    if (*want)
        fuzz_psa__same(ticket, "external_id", want);
    else if (!json_is_null(ext))
        fuzz_psa__fail("an external_id from an answer without one", body);
    json_decref(root);
    char *err = NULL;
    if (db_exec(store_db(fuzz_psa__base.st),
                "UPDATE tickets SET external_id = NULL", &err) != DB_OK)
        fuzz_psa__fail("cannot clear the external_id", err);
}

/* The company and contact of (b) from the parts; 0 when refused. */
static int fuzz_psa__people(char parts[P_N][FUZZ_PSA_PART],
                            struct ticket_draft *d)
{
    struct company co = {0};
    struct contact ct = {0};
    snprintf(co.name, sizeof co.name, "%s", parts[P_COMPANY]);
    if (directory_company_create(fuzz_psa__base.dir, &co, &d->company_id) !=
        DIR_OK)
        return 0;
    ct.company_id = d->company_id;
    snprintf(ct.jid, sizeof ct.jid, "fuzz@localhost");
    snprintf(ct.name, sizeof ct.name, "%s", parts[P_CONTACT]);
    return directory_contact_create(fuzz_psa__base.dir, &ct, &d->contact_id) ==
           DIR_OK;
}

/* Check the rendered bodies of ticket t: ticket.created and, when it has
 * a note, ticket.note_added. */
static void fuzz_psa__check(const struct ticket *t, const struct company *co,
                            const struct contact *ct)
{
    struct outbox_event e = {.ticket_id = t->id, .created = FUZZ_PSA_T0};
    snprintf(e.event_id, sizeof e.event_id, "fuzz-event");
    if (t->n_notes) {
        e.type = OUTBOX_NOTE_ADDED;
        e.note_id = t->notes[0].id;
    }
    json_t *root = fuzz_psa__render(&e);
    if (!root)
        return;
    json_t *ticket = json_object_get(root, "ticket");
    fuzz_psa__id(ticket, "id", t->id);
    fuzz_psa__same(ticket, "summary", t->summary);
    fuzz_psa__id(json_object_get(ticket, "company"), "id", co->id);
    fuzz_psa__same(json_object_get(ticket, "company"), "name", co->name);
    fuzz_psa__id(json_object_get(ticket, "contact"), "id", ct->id);
    fuzz_psa__same(json_object_get(ticket, "contact"), "name", ct->name);
    if (t->n_notes) {
        json_t *note = json_object_get(root, "note");
        fuzz_psa__same(note, "author", t->notes[0].author);
        fuzz_psa__same(note, "text", t->notes[0].text);
    }
    json_decref(root);
}

/* (b): the entities from the parts, rendered, then rolled back. */
static void fuzz_psa__render_parts(char parts[P_N][FUZZ_PSA_PART])
{
    struct ticket_draft d = {0, 0, parts[P_SUMMARY]};
    struct company co;
    struct contact ct;
    struct ticket t;
    int64_t id = 0;
    if (store_begin(fuzz_psa__base.st) != 0)
        fuzz_psa__fail("cannot begin", NULL);
    if (fuzz_psa__people(parts, &d) &&
        ticket_create(fuzz_psa__base.ts, &d, &id) == TICKET_OK &&
        (!parts[P_TEXT][0] ||
         ticket_add_note(fuzz_psa__base.ts, id, TICKET_NOTE_TEXT,
                         parts[P_AUTHOR], parts[P_TEXT]) == TICKET_OK) &&
        directory_company_get(fuzz_psa__base.dir, d.company_id, &co) ==
            DIR_OK &&
        directory_contact_get(fuzz_psa__base.dir, d.contact_id, &ct) ==
            DIR_OK &&
        ticket_get(fuzz_psa__base.ts, id, &t) == TICKET_OK) {
        fuzz_psa__check(&t, &co, &ct);
        ticket_clear(&t);
    }
    if (store_rollback(fuzz_psa__base.st) != 0)
        fuzz_psa__fail("cannot roll back", NULL);
}

/* T0 and its ticket.created event. */
static void fuzz_psa__t0(void)
{
    struct company acme = {0};
    struct contact alice = {0};
    struct outbox_list l = {0};
    struct ticket_draft d = {0, 0, "Printer on fire"};
    int64_t id = 0;
    char err[256];
    snprintf(acme.name, sizeof acme.name, "Acme");
    if (directory_company_create(fuzz_psa__base.dir, &acme, &d.company_id))
        fuzz_psa__fail("cannot make T0's company", NULL);
    alice.company_id = d.company_id;
    snprintf(alice.jid, sizeof alice.jid, "alice@localhost");
    snprintf(alice.name, sizeof alice.name, "Alice");
    struct outbox *ob = outbox_open(fuzz_psa__base.st, err, sizeof err);
    if (directory_contact_create(fuzz_psa__base.dir, &alice, &d.contact_id) ||
        ticket_create(fuzz_psa__base.ts, &d, &id) || !ob ||
        outbox_list(ob, 0, &l) || l.n != 1)
        fuzz_psa__fail("cannot make T0", NULL);
    fuzz_psa__base.created = l.items[0];
    outbox_list_free(&l);
    outbox_close(ob);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char err[512];
    log_set_level(-1);
    clock_set(FUZZ_PSA_T0);
    fuzz_psa__base.st = store_open(":memory:", err, sizeof err);
    if (fuzz_psa__base.st)
        fuzz_psa__base.dir = directory_open(fuzz_psa__base.st, err, sizeof err);
    if (fuzz_psa__base.dir)
        fuzz_psa__base.ts =
            ticket_store_sqlite_new(fuzz_psa__base.st, err, sizeof err);
    if (fuzz_psa__base.ts)
        fuzz_psa__base.psa = psa_open(fuzz_psa__base.st, fuzz_psa__base.dir,
                                      fuzz_psa__base.ts, err, sizeof err);
    if (!fuzz_psa__base.psa)
        fuzz_psa__fail("cannot open the store", err);
    fuzz_psa__t0();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char parts[P_N][FUZZ_PSA_PART];
    size_t at = 1;
    long status = size ? fuzz_psa__status[data[0] & 7] : 200;
    for (int i = 0; i < P_N; i++)
        fuzz_input_part(data, size, &at, parts[i], sizeof parts[i]);
    fuzz_psa__settle(parts[P_BODY], status);
    fuzz_psa__render_parts(parts);
    return 0;
}
