/* writer.h - the commit writer: a thread of its own that stores batches of
 * chat messages and waits for the disk, so that the event loop keeps
 * reading and stamping while a batch syncs (docs/performance.md).
 *
 * The writer owns a second connection to the same database file (opened by
 * store_open() with the same pragmas; WAL lets the loop's connection read
 * meanwhile) and a sessions and a history module on it; no sqlite handle
 * crosses threads. The loop checks and stamps each message
 * (sessions_prepare_message()) and adds it to the forming batch;
 * writer_submit() hands the batch over and numbers it (1, 2, ...). The
 * thread takes every batch handed over so far, writes them in one
 * transaction (BEGIN IMMEDIATE, the messages, COMMIT: one fsync) and
 * reports each batch's result, in order: the loop collects them with
 * writer_settle() and only then may show the messages (SPEC §3: stored
 * before broadcast). A failed transaction fails every batch in it.
 * The search index of what is stored rides along in a batch's transaction
 * at most every WRITER_INDEX_MS (FTS5 writes a new segment in each
 * transaction that indexes: in every one-message batch it cost more CPU
 * and writing than the message itself); what is left unindexed when no
 * batch comes the thread indexes on its own once WRITER_INDEX_MS passed
 * since the last commit. A text search indexes whatever is still pending
 * first
 * (history.h), so nothing stored is missed by a search.
 *
 * Threads: every function here is for the thread that opened the writer
 * (the event loop); the writer's own thread only runs writer.c's loop.
 */
#ifndef CHATDESK_WRITER_H
#define CHATDESK_WRITER_H

#define WRITER_INDEX_MS 200

#include <stddef.h>
#include <stdint.h>

struct sess_pending;
struct writer;

/* Open a second connection on the database file path (not ":memory:")
 * and start the thread. NULL with err on failure. */
struct writer *writer_open(const char *path, char *err, size_t errlen);

/* Wait for every batch handed over (their results are dropped: settle
 * first to show them), stop the thread, close. The forming batch is
 * dropped. NULL is fine. */
void writer_close(struct writer *w);

/* Move *p (its body too; *p is left empty) into the forming batch, its
 * origin-id (if any) into the pending ones. 0, or -1 when out of memory
 * (*p unchanged: the caller clears it). */
int writer_add(struct writer *w, struct sess_pending *p);

/* 1 when a message with p's origin-id from p's sender in p's session was
 * added and its batch has not settled yet (forming or in flight): a
 * resend whose first copy the loop's connection cannot see yet. Checked
 * on the loop, as sessions_prepare_message() checks the committed ones;
 * a linear scan of the pending messages that carry an origin-id. */
int writer_pending_origin(const struct writer *w,
                          const struct sess_pending *p);

/* Hand the forming batch to the thread: its number, or 0 when it was
 * empty (nothing handed over). */
uint64_t writer_submit(struct writer *w);

/* The next result, oldest batch first: 1 with *batch durable, -1 with
 * *batch failed (a sentence in err), 0 when no batch finished. wait: block
 * until one finishes while any is in flight (0 then means none is). */
int writer_settle(struct writer *w, int wait, uint64_t *batch, char *err,
                  size_t errlen);

/* Block until a batch in flight has finished (not settled: that is
 * writer_settle()), ms milliseconds at most: 1 when one has, 0 on the
 * timeout or when none is in flight (at once; also for NULL). */
int writer_wait(struct writer *w, unsigned ms);

/* How many batches were handed over and not yet settled (0 for NULL). */
size_t writer_in_flight(const struct writer *w);

#endif
