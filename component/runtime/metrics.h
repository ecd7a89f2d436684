/* metrics.h - Prometheus text at /metrics ([metrics] listen, SPEC §10),
 * served by libmicrohttpd on its own thread, off the chat loop.
 *
 * Threads: the counters below are atomics; any thread may bump them. The
 * values that need the database (sessions by state, messages stored) are
 * pushed by the chat loop with metrics_set_store() into a snapshot under a
 * mutex. The HTTP thread reads only the atomics and that snapshot: never
 * libstrophe, the loop's sqlite connection, the log or the clock.
 */
#ifndef CHATDESK_METRICS_H
#define CHATDESK_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_kind { METRICS_MESSAGE, METRICS_PRESENCE, METRICS_IQ,
                    METRICS_OTHER, METRICS_KINDS };

/* The stanza kind of a stanza's element name ("message", "presence",
 * "iq"; anything else METRICS_OTHER). */
enum metrics_kind metrics_kind_of(const char *name);

/* Serve /metrics on host (a numeric IPv4 or IPv6 address) and port.
 * 0, or -1 with a message in err. At most one server per process. */
int metrics_start(const char *host, int port, char *err, size_t errlen);

/* Stop the server (waits for its thread); a no-op when none runs. */
void metrics_stop(void);

/* The text /metrics answers, in buf (size bytes, NUL-terminated, cut at
 * size). Returns the length it needed, like snprintf. Any thread. */
size_t metrics_render(char *buf, size_t size);

void metrics_stanza_in(enum metrics_kind kind);
void metrics_stanza_out(enum metrics_kind kind);

/* The connection was lost or refused and a new attempt is scheduled. */
void metrics_reconnect(void);

/* One COMMIT that took usec microseconds (the latency histogram). */
void metrics_commit(uint64_t usec);

/* The webhook outbox: its depth now, and one failed delivery. For the PSA
 * code; zero until it feeds them. */
void metrics_set_outbox_depth(long depth);
void metrics_outbox_failure(void);

/* Several processes (runtime/cluster.h, runtime/slots.h): the route
 * slots this process holds and the other processes alive on the database
 * (gauges, set by the loop), and other processes seen stop or die. */
void metrics_set_cluster(long slots, long peers);
void metrics_peers_gone(unsigned n);

/* The chat loop's snapshot of the database: n session states with their
 * names (copied) and counts, and the number of messages stored. */
void metrics_set_store(const char *const names[], const long counts[],
                       size_t n, long messages);

#endif
