/* xep0050_adhoc.h - XEP-0050 ad-hoc commands: the framework.
 *
 * Modules add commands to a table with adhoc_add_command(); this module
 * answers <command xmlns='http://jabber.org/protocol/commands'/> iq sets,
 * lists the commands a requester may run under the disco#items node
 * "http://jabber.org/protocol/commands", checks roles, keeps multi-step
 * sessions and reaps idle ones.
 *
 * A command is a step function called once per request of a session. It
 * reads the request (action, submitted form, its own state) and fills the
 * reply: a form to show next with the allowed actions (status executing),
 * or a final result form and/or notes (status completed), or an error.
 * A form with result rows (<reported/> + <item/>s) is followed by one more
 * <note type='info'/> holding the same rows as text (form_items_text()),
 * after the step's own notes, and gets a text-multi field ADHOC_ROWS_VAR
 * with the same text, for clients that draw no tables (Converse.js shows
 * the notes of a result, profanity and poezio its fields).
 *
 * Roles: a bitmask. The app installs a function that tells the roles of a
 * bare JID (adhoc_set_role_fn); until then nobody has a role. An admin may
 * also run tech commands. A JID without any role gets <not-authorized/>, a
 * known JID without the command's role gets <forbidden/>, both with a text.
 *
 * Sessions: a session id is handed out on the first reply; the session is
 * bound to the requester's full JID and to the command node (another JID or
 * node gets <bad-request/><bad-sessionid/>). It ends when a reply is
 * completed, on action cancel, or after `timeout` seconds (default 600,
 * measured with clock_now() from the last request) without a request: reaped
 * on every request and by adhoc_reap(). A reaped session id answers
 * <not-allowed/><session-expired/>, except that cancel of an unknown session
 * (or without sessionid) simply answers status canceled. Ending a session frees
 * its state with the command's free_state.
 *
 * Ownership: all state lives in app->adhoc, created on first use by any
 * function here and freed by xep0050_free(). Commands are copied in.
 * Stanzas handed to step functions are borrowed.
 */
#ifndef CHATDESK_XEP0050_ADHOC_H
#define CHATDESK_XEP0050_ADHOC_H

#include <stddef.h>
#include <strophe.h>

struct app;
struct form;

#define NS_COMMANDS "http://jabber.org/protocol/commands"
/* The result field holding a table's rows as text (see above). */
#define ADHOC_ROWS_VAR "rows-text"

/* Roles (bitmask). Distinct from the directory's enum dir_role. */
#define ADHOC_ROLE_NONE 0u
#define ADHOC_ROLE_CONTACT 1u
#define ADHOC_ROLE_TECH 2u
#define ADHOC_ROLE_ADMIN 4u

#define ADHOC_DEFAULT_TIMEOUT 600     /* seconds of idleness */
#define ADHOC_MAX_SESSIONS_PER_JID 16 /* open sessions per bare JID */

/* Actions (also a bitmask for the allowed actions of a reply). */
enum adhoc_action {
    ADHOC_EXECUTE = 1,
    ADHOC_NEXT = 2,
    ADHOC_PREV = 4,
    ADHOC_COMPLETE = 8,
    ADHOC_CANCEL = 16
};

/* What a step function sees. Everything is borrowed for the call. */
struct adhoc_request {
    struct app *app;
    const struct adhoc_command *cmd; /* the command (cmd->ud is yours) */
    const char *from;                /* requester's full JID */
    const char *bare;                /* requester's bare JID */
    unsigned roles;                  /* the requester's ADHOC_ROLE_* bits */
    const char *sessionid;
    /* ADHOC_EXECUTE on the first request of a session; later ADHOC_NEXT,
     * ADHOC_PREV or ADHOC_COMPLETE (an "execute" is resolved to the default
     * action of the previous reply). Cancel never reaches the step. */
    enum adhoc_action action;
    /* The screen being answered: 0 on the first request, then the number
     * of executing replies shown so far in this session, counted back by
     * one for each prev. On ADHOC_PREV the step shows screen stage - 1. */
    unsigned stage;
    const struct form *form; /* the submitted form (a type='cancel' form
                                reads as submit), or NULL */
    xmpp_stanza_t *command;  /* the request's <command/> element */
    /* The command's per-session state: NULL on the first request. The step
     * may set it; the framework keeps the pointer until the session ends and
     * then calls cmd->free_state on it (if both are non-NULL). A step that
     * replaces a non-NULL state frees the old one itself. */
    void *state;
};

/* What a step function fills, only through the adhoc_reply_* functions. */
struct adhoc_reply {
    int executing;          /* 0: completed */
    unsigned actions;       /* allowed ADHOC_NEXT|PREV|COMPLETE */
    enum adhoc_action dflt; /* what "execute" means next */
    struct form *form;      /* owned */
    size_t n_notes;
    struct adhoc_note {
        char *type;
        char *text;
    } notes[8];
    char *err_type, *err_condition, *err_text; /* set: answer an error */
};

typedef void (*adhoc_step_fn)(struct adhoc_request *req,
                              struct adhoc_reply *reply);

struct adhoc_command {
    const char *node; /* unique, e.g. "start-chat" */
    const char *name; /* label for disco#items */
    unsigned roles;   /* ADHOC_ROLE_* allowed to run it */
    adhoc_step_fn step;
    void (*free_state)(void *state); /* may be NULL */
    void *ud;
};

/* (roles of bare_jid) for requests and disco#items. */
typedef unsigned (*adhoc_role_fn)(struct app *app, const char *bare_jid,
                                  void *ud);

/* Adds the iq set handler for <command/>, the disco features
 * http://jabber.org/protocol/commands and jabber:x:data, and the disco#items
 * node listing the commands the requester may run. 0 or -1. */
int xep0050_register(struct app *app);

/* Frees app->adhoc: every open session (its state through free_state) and
 * the command table. Sets app->adhoc to NULL. NULL-safe. */
void xep0050_free(struct app *app);

/* Copies cmd (and its strings) into the table; disco#items lists commands in
 * the order added. -1 when node/name/step is missing, the node exists
 * already, or on allocation failure. */
int adhoc_add_command(struct app *app, const struct adhoc_command *cmd);

/* Install the role function (NULL restores "nobody has a role"). 0 or -1. */
int adhoc_set_role_fn(struct app *app, adhoc_role_fn fn, void *ud);

/* The requester's roles as the framework sees them (admin implies tech). */
unsigned adhoc_roles_of(struct app *app, const char *bare_jid);

/* Idle timeout of sessions in seconds (> 0). 0 or -1. */
int adhoc_set_timeout(struct app *app, long seconds);

/* End every session idle for the timeout or longer. Returns how many. */
size_t adhoc_reap(struct app *app);

/* Number of open sessions (tests, diagnostics). */
size_t adhoc_session_count(struct app *app);

/* ---- filling a reply (for step functions) ---------------------------- */

/* Show form (ownership passes to the reply, also on error; NULL allowed)
 * and keep the session open. actions: the allowed ADHOC_NEXT, ADHOC_PREV,
 * ADHOC_COMPLETE bits; 0 means a single-screen form (ADHOC_COMPLETE alone).
 * The reply always carries them as <actions execute='...'/> (XEP-0050 §3.4;
 * Converse.js draws no submit button without it). dflt: what "execute"
 * means (0 picks next when allowed, else complete). A request with action
 * next on a stage that offers no next but complete is taken as complete
 * (poezio sends next on every stage). 0 or -1. */
int adhoc_reply_executing(struct adhoc_reply *reply, struct form *form,
                          unsigned actions, enum adhoc_action dflt);

/* Ask for form: a single-screen adhoc_reply_executing(); form NULL (out of
 * memory building it) answers adhoc_reply_no_memory() instead. */
void adhoc_reply_ask(struct adhoc_reply *reply, struct form *form);

/* Complete the session, with form as result (owned by the reply; NULL for
 * none). This is the default when a step sets nothing. 0 or -1. */
int adhoc_reply_completed(struct adhoc_reply *reply, struct form *form);

/* Add a <note type='info|warn|error'>text</note> (at most 8). 0 or -1. */
int adhoc_reply_note(struct adhoc_reply *reply, const char *type,
                     const char *text);

/* Answer with an iq error instead: type "modify"/"cancel"/..., condition
 * a stanza error ("bad-request", "forbidden", "not-acceptable", ...), text
 * for a person ("Field 'phone' is required"). Forms and notes already set
 * are dropped. An error keeps an open session open (the requester may
 * correct and resubmit); on the first request no session is kept. 0 or -1. */
int adhoc_reply_error(struct adhoc_reply *reply, const char *type,
                      const char *condition, const char *text);

/* The common refusals of command steps, with texts a person can act on:
 * <bad-request/> (modify) with a printf-style text naming the field;
 * <internal-server-error/> (wait) "Could not WHAT (WHY); try again later";
 * <resource-constraint/> (wait) for an allocation failure. */
void adhoc_reply_bad(struct adhoc_reply *reply, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void adhoc_reply_store_fail(struct adhoc_reply *reply, const char *what,
                            const char *why);
void adhoc_reply_no_memory(struct adhoc_reply *reply);

#endif
