/* schema.c - the database schema as numbered migrations.
 *
 * Never edit a migration that has shipped: append a new one. Entry i moves
 * the schema from version i to i+1 (PRAGMA user_version).
 */
#include "runtime/store.h"

const char *const chatdesk_migrations[] = {
    /* 1: bookkeeping only; the chat domain adds its tables after it. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",

    /* 2: the chat domain's directory, global settings and tickets.
     * Tri-state overrides: NULL = inherit, 1 = on, 0 = off.
     * JIDs are stored bare and lowercased. Times are epoch seconds. */
    "CREATE TABLE companies ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (name <> ''),"
    "  chat INTEGER CHECK (chat IN (0, 1)),"
    "  pre_ticket INTEGER CHECK (pre_ticket IN (0, 1)),"
    "  callback INTEGER CHECK (callback IN (0, 1)));"
    "CREATE TABLE contacts ("
    "  id INTEGER PRIMARY KEY,"
    "  company_id INTEGER NOT NULL REFERENCES companies(id),"
    "  jid TEXT NOT NULL UNIQUE CHECK (jid <> ''),"
    "  name TEXT NOT NULL DEFAULT '',"
    "  phone TEXT NOT NULL DEFAULT '',"
    "  chat INTEGER CHECK (chat IN (0, 1)));"
    "CREATE INDEX contacts_company ON contacts(company_id);"
    "CREATE TABLE techs ("
    "  id INTEGER PRIMARY KEY,"
    "  jid TEXT NOT NULL UNIQUE CHECK (jid <> ''),"
    "  name TEXT NOT NULL DEFAULT '',"
    "  admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)));"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE tickets ("
    "  id INTEGER PRIMARY KEY,"
    "  company_id INTEGER REFERENCES companies(id),"
    "  contact_id INTEGER REFERENCES contacts(id),"
    "  summary TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'open'"
    "    CHECK (status IN ('open', 'closed')),"
    "  created INTEGER NOT NULL,"
    "  closed INTEGER);"
    "CREATE INDEX tickets_company ON tickets(company_id);"
    "CREATE INDEX tickets_contact ON tickets(contact_id);"
    "CREATE TABLE ticket_notes ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  kind TEXT NOT NULL"
    "    CHECK (kind IN ('transcript', 'callback', 'closing_note', 'text')),"
    "  author TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  text TEXT NOT NULL);"
    "CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id);",

    /* 3: chat sessions, their members and their messages (sessions.h).
     * JIDs are bare and lowercased; times are epoch seconds. A session's
     * room is chat-<id>. messages.id orders a room's history; stanza_id is
     * the XEP-0359 id handed to clients. */
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  company_id INTEGER REFERENCES companies(id),"
    "  contact_jid TEXT NOT NULL CHECK (contact_jid <> ''),"
    "  state TEXT NOT NULL CHECK (state IN ('waiting', 'active', 'ended',"
    "    'abandoned', 'callback', 'closed')),"
    "  description TEXT NOT NULL DEFAULT '',"
    "  created INTEGER NOT NULL,"
    "  answered_at INTEGER,"
    "  answered_by TEXT,"
    "  ended_at INTEGER,"
    "  closer_jid TEXT,"
    "  last_activity INTEGER NOT NULL,"
    "  callback_phone TEXT,"
    "  callback_note TEXT,"
    "  closing_note TEXT,"
    "  closing_note_by TEXT,"
    "  closing_note_at INTEGER);"
    "CREATE INDEX sessions_state ON sessions(state, created);"
    "CREATE INDEX sessions_ticket ON sessions(ticket_id);"
    "CREATE INDEX sessions_contact ON sessions(contact_jid);"
    "CREATE TABLE session_members ("
    "  session_id INTEGER NOT NULL REFERENCES sessions(id),"
    "  jid TEXT NOT NULL CHECK (jid <> ''),"
    "  kind TEXT NOT NULL CHECK (kind IN ('contact', 'tech')),"
    "  nick TEXT NOT NULL,"
    "  joined_at INTEGER NOT NULL,"
    "  PRIMARY KEY (session_id, jid));"
    "CREATE INDEX session_members_jid ON session_members(jid);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  stanza_id TEXT NOT NULL UNIQUE,"
    "  session_id INTEGER NOT NULL REFERENCES sessions(id),"
    "  from_jid TEXT NOT NULL,"
    "  nick TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('chat', 'system')));"
    "CREATE INDEX messages_session ON messages(session_id, id);",

    /* 4: the tech tools (history.h). messages_fts indexes the body of every
     * stored message for the `history` text search; it is an external-
     * content FTS5 table over messages, kept in sync by the triggers below
     * (messages are only ever inserted, but an update or delete keeps the
     * index right too). 'rebuild' indexes the messages stored before. */
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages',"
    "  content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);"
    "END;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, body)"
    "    VALUES ('delete', old.id, old.body);"
    "END;"
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, body)"
    "    VALUES ('delete', old.id, old.body);"
    "  INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);"
    "END;"
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');"
    /* history lists newest first, optionally per company: without these a
     * page sorts every past session (17 ms at 100,000 sessions, see
     * docs/tech-tools.md); with them it reads one page of an index. */
    "CREATE INDEX sessions_created ON sessions(created);"
    "CREATE INDEX sessions_company ON sessions(company_id, created);",

    /* 5: messages_fts off the per-message path. No trigger indexes a new
     * message inside its own transaction any more; history_index_pending()
     * indexes them in batches (in each group commit's transaction, the
     * 1-second tick, and every text search first). fts_state.last_indexed
     * is the high-water mark, and the invariant: the messages with id <=
     * last_indexed are exactly the rows in messages_fts. Migration 4
     * indexed every message stored so far.
     *
     * Messages are only ever inserted by chatdesk, always above every
     * existing id (INTEGER PRIMARY KEY hands out MAX(id) + 1). The delete
     * and update triggers below are for hand edits: an FTS5 'delete' of a
     * row that is not in the index corrupts it, so they touch only rows at
     * or below the mark (a row above it is indexed with its body of the
     * time when its turn comes), and when the highest ids go they lower
     * the mark to the new MAX(id), so an id handed out again is indexed as
     * a new row. A row inserted by hand with an id at or below the mark is
     * not indexed: after such a load run 'rebuild' and set the mark to
     * MAX(id) (docs/tech-tools.md). */
    "DROP TRIGGER messages_fts_insert;"
    "DROP TRIGGER messages_fts_delete;"
    "DROP TRIGGER messages_fts_update;"
    "CREATE TABLE fts_state (last_indexed INTEGER NOT NULL);"
    "INSERT INTO fts_state (last_indexed)"
    "  SELECT COALESCE(MAX(id), 0) FROM messages;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, body)"
    "    SELECT 'delete', old.id, old.body FROM fts_state"
    "    WHERE old.id <= last_indexed;"
    "  UPDATE fts_state SET last_indexed ="
    "    (SELECT COALESCE(MAX(id), 0) FROM messages)"
    "    WHERE last_indexed > (SELECT COALESCE(MAX(id), 0) FROM messages);"
    "END;"
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, body ON messages"
    "  BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, body)"
    "    SELECT 'delete', old.id, old.body FROM fts_state"
    "    WHERE old.id <= last_indexed;"
    "  INSERT INTO messages_fts(rowid, body)"
    "    SELECT new.id, new.body FROM fts_state"
    "    WHERE new.id <= last_indexed;"
    "  UPDATE fts_state SET last_indexed ="
    "    (SELECT COALESCE(MAX(id), 0) FROM messages)"
    "    WHERE last_indexed > (SELECT COALESCE(MAX(id), 0) FROM messages);"
    "END;",

    /* 6: the one-time hint to a tech whose presence chatdesk cannot see
     * (chat/presence.c): 1 once it was sent, so a restart does not send
     * it again. */
    "ALTER TABLE techs ADD COLUMN presence_hint INTEGER NOT NULL DEFAULT 0"
    "  CHECK (presence_hint IN (0, 1));",

    /* 7: tickets meet the PSA (SPEC §6). external_id is the PSA's own
     * ticket number, NULL until its answer to ticket.created names it.
     * ticket_notes takes the kind 'rating' too: sqlite cannot change a
     * CHECK, so the table is copied (ids kept) into one that allows it. */
    "ALTER TABLE tickets ADD COLUMN external_id TEXT;"
    "CREATE TABLE ticket_notes_7 ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('transcript', 'callback',"
    "    'closing_note', 'rating', 'text')),"
    "  author TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  text TEXT NOT NULL);"
    "INSERT INTO ticket_notes_7 (id, ticket_id, kind, author, created, text)"
    "  SELECT id, ticket_id, kind, author, created, text FROM ticket_notes;"
    "DROP TABLE ticket_notes;"
    "ALTER TABLE ticket_notes_7 RENAME TO ticket_notes;"
    "CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id);",

    /* 8: the outbox of PSA events (domain/outbox.h), one row per ticket
     * change, written in the change's transaction. id orders them; the
     * sender takes a ticket's oldest pending event (outbox_pending). */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL UNIQUE,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  type TEXT NOT NULL CHECK (type IN ('ticket.created',"
    "    'ticket.note_added', 'ticket.closed')),"
    "  note_id INTEGER REFERENCES ticket_notes(id),"
    "  created INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (status IN ('pending', 'sent', 'dead')),"
    "  last_answer TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX outbox_pending ON outbox(status, ticket_id, id);",

    /* 9: a message re-sent after a reconnect is stored once (sessions.h,
     * sessions_add_message_once): the sender's XEP-0359 origin-id, unique
     * per session and sender where there is one. */
    "ALTER TABLE messages ADD COLUMN origin_id TEXT;"
    "CREATE UNIQUE INDEX messages_origin ON messages(session_id, from_jid,"
    "  origin_id) WHERE origin_id IS NOT NULL;",

    /* 10: transfers (sessions_transfer): who handed a session over to whom;
     * to_jid NULL = back to the queue. */
    "CREATE TABLE transfers ("
    "  id INTEGER PRIMARY KEY,"
    "  session_id INTEGER NOT NULL REFERENCES sessions(id),"
    "  from_jid TEXT NOT NULL,"
    "  to_jid TEXT,"
    "  created INTEGER NOT NULL);"
    "CREATE INDEX transfers_session ON transfers(session_id, id);",

    /* 11: canned replies (domain/canned.h); names are stored lowercase. */
    "CREATE TABLE canned ("
    "  name TEXT PRIMARY KEY CHECK (name <> ''),"
    "  text TEXT NOT NULL CHECK (text <> ''));",

    /* 12: ratings (sessions_rate): one per ended session, by its contact;
     * the same goes to the ticket as a note of kind 'rating'. */
    "CREATE TABLE ratings ("
    "  session_id INTEGER PRIMARY KEY REFERENCES sessions(id),"
    "  score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),"
    "  comment TEXT NOT NULL DEFAULT '',"
    "  contact_jid TEXT NOT NULL,"
    "  created INTEGER NOT NULL);",

    /* 13: the audit trail of admin changes (domain/audit.h); id orders it. */
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  old_value TEXT NOT NULL,"
    "  new_value TEXT NOT NULL);",

    /* 14: route-slot probes a process received from another one's round
     * (runtime/cluster.h, SPEC §11); pruned after a minute. */
    "CREATE TABLE slot_probes ("
    "  round TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (round, n));"
    "CREATE INDEX slot_probes_at ON slot_probes(at);",
    /* 15: presence shared by several processes on one database
     * (domain/presence_share.h, SPEC §11): a row per bare JID, resource
     * and process, the change sequence, the processes alive. */
    "CREATE TABLE presence_shared ("
    "  jid TEXT NOT NULL,"
    "  resource TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  available INTEGER NOT NULL,"
    "  show INTEGER NOT NULL,"
    "  is_tech INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  changed INTEGER NOT NULL,"
    "  PRIMARY KEY (jid, resource, source));"
    "CREATE INDEX presence_shared_seq ON presence_shared(seq);"
    "CREATE TABLE presence_sources ("
    "  source TEXT PRIMARY KEY,"
    "  alive INTEGER NOT NULL);"
    "CREATE TABLE presence_seq ("
    "  id INTEGER PRIMARY KEY,"
    "  seq INTEGER NOT NULL);"
    "INSERT INTO presence_seq (id, seq) VALUES (1, 0);",

    /* 16: nothing on sqlite. PostgreSQL's 16 indexes each message by a
     * trigger in its own transaction (schema_pg.c); here one writer at a
     * time commits ids in order, so the batches under the mark of 5 see
     * every message, and 5's update trigger indexes a hand edit. */
    "SELECT 1;",
    /* 17: each process's lease when several share a PostgreSQL database
     * (runtime/cluster.h: the beat in the database's clock, ms; the
     * backend that wrote it; route slots held). Unused on sqlite. */
    "CREATE TABLE cluster_peers ("
    "  id INTEGER PRIMARY KEY,"
    "  backend INTEGER NOT NULL,"
    "  slots INTEGER NOT NULL,"
    "  beat INTEGER NOT NULL);",
    /* 18: a process's shared presence lives as long as its lease
     * (domain/presence_share.h): the table of presence beats goes, and
     * the rows named the old way (host:pid:time), never alive now. */
    "DROP TABLE presence_sources;"
    "DELETE FROM presence_shared;",
    /* 19: the place in line each waiting contact was told last
     * (chat/places.h), so that any process tells a moved queue; the
     * length of the queue, kept by triggers, so that a place is the length
     * less the sessions behind it (the newest: none) instead of a count of
     * the whole queue ahead (sessions_queue_position()). */
    "ALTER TABLE sessions ADD COLUMN place_told INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE queue_length (n INTEGER NOT NULL);"
    "INSERT INTO queue_length (n)"
    "  SELECT COUNT(*) FROM sessions WHERE state = 'waiting';"
    "CREATE TRIGGER queue_in AFTER INSERT ON sessions"
    "  WHEN NEW.state = 'waiting'"
    "  BEGIN UPDATE queue_length SET n = n + 1; END;"
    "CREATE TRIGGER queue_out AFTER DELETE ON sessions"
    "  WHEN OLD.state = 'waiting'"
    "  BEGIN UPDATE queue_length SET n = n - 1; END;"
    "CREATE TRIGGER queue_moved AFTER UPDATE OF state ON sessions"
    "  WHEN (OLD.state = 'waiting') <> (NEW.state = 'waiting')"
    "  BEGIN UPDATE queue_length SET n = n +"
    "    CASE WHEN NEW.state = 'waiting' THEN 1 ELSE -1 END; END;",
};

const size_t chatdesk_migrations_count =
    sizeof chatdesk_migrations / sizeof chatdesk_migrations[0];
