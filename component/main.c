/* main.c - chatdesk: the helpdesk chat component.
 *
 * Exit codes: 0 stopped cleanly, 1 fatal runtime error (e.g. the server
 * refused the component secret, or another instance holds the database),
 * 2 bad command line or configuration. With --check-config it only reads
 * the configuration: 0 good, 1 bad (one "FILE:LINE: key: ..." line each).
 */
#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/cluster.h"
#include "runtime/config.h"
#include "runtime/conn.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/lock.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "runtime/notify.h"
#include "domain/domain.h"
#include "domain/sessions.h"
#include "modules.h"
#include "runtime/store.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t main__stop;

static void main__on_signal(int sig)
{
    (void)sig;
    main__stop = 1;
}

static void main__usage(FILE *out)
{
    fputs("Usage: chatdesk -c FILE\n"
          "       chatdesk --check-config -c FILE\n"
          "       chatdesk --help | --version\n"
          "\n"
          "Runs the chatdesk helpdesk chat component (XEP-0114) in the\n"
          "foreground, connected to the XMPP server named in FILE (INI,\n"
          "see config/chatdesk.ini.example). Logs go to stderr; SIGTERM or\n"
          "SIGINT stop it cleanly.\n"
          "\n"
          "  -c, --config FILE   the configuration file\n"
          "      --check-config  check FILE and exit: 0 good, 1 bad\n"
          "  -h, --help          show this help\n"
          "  -V, --version       show the version\n",
          out);
}

/* Returns the config path, or NULL after printing (exit code in *code);
 * *check is set to 1 by --check-config. */
static const char *main__args(int argc, char **argv, int *check, int *code)
{
    const char *path = NULL;
    *code = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--check-config")) {
            *check = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            main__usage(stdout);
            return NULL;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("chatdesk %s\n", CHATDESK_VERSION);
            return NULL;
        }
        if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc) {
            path = argv[++i];
            continue;
        }
        fprintf(stderr, "chatdesk: unexpected argument '%s'\n", a);
        *code = 2;
        main__usage(stderr);
        return NULL;
    }
    if (!path) {
        fprintf(stderr, "chatdesk: no configuration file given (-c FILE)\n");
        main__usage(stderr);
        *code = 2;
    }
    return path;
}

static void main__strophe_log(void *ud, xmpp_log_level_t level,
                              const char *area, const char *msg)
{
    (void)ud;
    static const enum log_level map[] = {LOG_DEBUG, LOG_DEBUG, LOG_WARN,
                                         LOG_WARN};
    log_msg(map[level], area, "%s", msg);
}

static void main__signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The connection's hooks: the modules' work, and what systemd is told. */
static void main__online(struct app *app)
{
    modules_online(app);
    notify_ready(app->cfg->jid, app->cfg->host, app->cfg->port);
}

/* Several processes on one database: PostgreSQL and connections = auto. */
static int main__several(const struct config *cfg)
{
    return *cfg->db_url && cfg->connections == 0;
}

/* Probes of other processes' rounds, noted for them; ours they noted. */
static void main__probe_foreign(struct app *app, const char *round, int n)
{
    if (cluster_probe_seen(app->cluster, round, n, clock_now()) != 0)
        log_warn("main", "cannot note a route-slot probe: %s",
                 cluster_error(app->cluster));
}

static int main__probes_elsewhere(struct app *app, const char *round,
                                  unsigned char *seen, size_t nseen)
{
    int n = cluster_probes_elsewhere(app->cluster, round, seen, nseen);
    if (n < 0)
        log_warn("main", "cannot read route-slot probes: %s",
                 cluster_error(app->cluster));
    return n;
}

static int main__holds_domain(struct app *app)
{
    return conn_holds_domain(app->send_ud);
}

/* The store's side of the metrics, once a tick when they are served. */
static void main__metrics(struct app *app)
{
    struct sess_stats st;
    if (!app->cfg->metrics_port || !app->domain ||
        sessions_stats(app->domain->sessions, &st) != SESS_OK)
        return;
    const char *names[SESS_CLOSED + 1];
    for (int i = 0; i <= SESS_CLOSED; i++)
        names[i] = sess_state_name((enum sess_state)i);
    metrics_set_store(names, st.by_state, SESS_CLOSED + 1, st.messages);
    metrics_set_cluster((long)conn_slots_held(app->send_ud),
                        app->cluster
                            ? (long)cluster_peers_alive(app->cluster)
                            : 0);
}

static void main__tick(struct app *app)
{
    static unsigned ticks;
    if (app->cluster && ++ticks % 60 == 0 &&
        cluster_prune(app->cluster, clock_now() - 60) != 0)
        log_warn("main", "cannot prune route-slot probes: %s",
                 cluster_error(app->cluster));
    modules_tick(app);
    main__metrics(app);
    notify_watchdog();
}

/* Several processes: the leases (runtime/cluster.h). When another process
 * stopped or died its route slots may be vacant: probe now (the process
 * holding the fewest slots, a hot standby first; it opens as many
 * connections as the dead one held slots at once) or a little later (the
 * others: by then the first has filled them, and the round says so). */
#define MAIN_SECOND_PROBE_MS 2500
static void main__pass(struct app *app)
{
    modules_pass(app);
    if (!app->cluster)
        return;
    struct conn *conn = app->send_ud;
    int w = cluster_watch(app->cluster, clock_mono_ms(),
                          conn_slots_held(conn));
    if (cluster_peers_changed(app->cluster))
        modules_peers(app); /* a dead process's presence goes with it */
    unsigned slots = 0;
    if (w == CLUSTER_GONE_FIRST || w == CLUSTER_GONE_SECOND)
        metrics_peers_gone(cluster_gone(app->cluster, &slots));
    if (w == CLUSTER_GONE_FIRST)
        conn_hurry(conn, 0, slots);
    else if (w == CLUSTER_GONE_SECOND)
        conn_hurry(conn, MAIN_SECOND_PROBE_MS, 0);
}

static void main__stopping(struct app *app)
{
    notify_stopping();
    modules_stopping(app);
}

static int main__run(const struct config *cfg, struct store *store)
{
    xmpp_log_t logger = {main__strophe_log, NULL};
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, &logger);
    struct app app = {.ctx = ctx, .cfg = cfg, .store = store,
                      .dispatch = dispatch_new(), .disco = disco_new(),
                      .jid = cfg->jid};
    static const struct conn_hooks hooks = {.on_online = main__online,
                                            .link_online = modules_link_online,
                                            .tick = main__tick,
                                            .stopping = main__stopping,
                                            .pass = main__pass,
                                            .probe_foreign =
                                                main__probe_foreign,
                                            .probes_elsewhere =
                                                main__probes_elsewhere};
    struct conn *conn = conn_new(ctx, cfg, &app, &hooks);
    char err[512];
    int code = 1;
    if (!ctx || !app.dispatch || !app.disco || !conn) {
        log_error("main", "out of memory");
        goto out;
    }
    if (!(app.cluster = cluster_open(store, err, sizeof err))) {
        log_error("main", "%s", err);
        goto out;
    }
    if (!main__several(cfg))
        cluster_set_leader(app.cluster); /* alone: the lock is ours */
    else if (cluster_join(app.cluster, err, sizeof err) != 0) {
        log_error("main", "%s", err);
        goto out;
    }
    app.send = conn_send;
    app.send_each = conn_send_each;
    app.send_ud = conn;
    app.holds_domain = main__holds_domain;
    if (modules_register(&app) != 0) {
        log_error("main", "cannot register the protocol modules");
        goto out;
    }
    code = conn_run(conn, &main__stop) == CONN_EXIT_STOPPED ? 0 : 1;
    cluster_leave(app.cluster); /* the streams are closed: slots vacant */
    notify_stopping();
    log_info("main", code ? "stopped on a fatal error" : "stopped");
out:
    modules_free(&app);
    cluster_close(app.cluster);
    conn_free(conn);
    disco_free(app.disco);
    dispatch_free(app.dispatch);
    if (ctx)
        xmpp_ctx_free(ctx);
    return code;
}

/* Load path into cfg, printing every error. -1 when it is good and
 * chatdesk should start; else the exit code (check: only checking). */
static int main__config(const char *path, int check, struct config *cfg)
{
    char err[8192];
    if (config_load(cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        if (!check)
            fprintf(stderr, "chatdesk: bad configuration, not started\n");
        return check ? 1 : 2;
    }
    if (!check)
        return -1;
    printf("%s: configuration OK\n", path);
    return 0;
}

int main(int argc, char **argv)
{
    /* before anything else: libcurl's global set-up is not thread-safe */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "chatdesk: cannot initialise libcurl\n");
        return 1;
    }
    atexit(curl_global_cleanup);
    int code, check = 0;
    const char *path = main__args(argc, argv, &check, &code);
    if (!path)
        return code;
    static struct config cfg;
    code = main__config(path, check, &cfg);
    if (code >= 0)
        return code;
    char err[1024];
    log_set_level(cfg.log_level);
    /* one chatdesk per database: a lock file beside a sqlite file, an
     * advisory lock on PostgreSQL (store_claim_instance) */
    int lock = *cfg.db_url ? -1 : lock_acquire(cfg.db_path, err, sizeof err);
    if (!*cfg.db_url && lock < 0) {
        log_error("main", "%s", err);
        return 1;
    }
    struct store *store = store_open(config_db_target(&cfg), err, sizeof err);
    /* several processes on one PostgreSQL database (connections = auto):
     * the lock picks the leader (runtime/cluster.h) instead of refusing */
    if (!store || (!main__several(&cfg) &&
                   store_claim_instance(store, err, sizeof err) != 0)) {
        log_error("main", "%s", err);
        store_close(store);
        lock_release(lock);
        return 1;
    }
    if (cfg.metrics_port &&
        metrics_start(cfg.metrics_host, cfg.metrics_port, err, sizeof err)) {
        log_error("main", "%s", err);
        store_close(store);
        lock_release(lock);
        return 1;
    }
    main__signals();
    xmpp_initialize();
    code = main__run(&cfg, store);
    xmpp_shutdown();
    metrics_stop();
    store_close(store);
    lock_release(lock);
    return code;
}
