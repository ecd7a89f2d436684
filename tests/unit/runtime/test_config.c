/* test_config.c - the INI configuration: SPEC §7 keys, errors with line and
 * key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "runtime/config.h"

static const char *const spec_example =
    "[component]\n"
    "jid = helpdesk.localhost      ; the component's domain\n"
    "secret = s3cret               ; the server's component secret\n"
    "host = 127.0.0.1\n"
    "port = 5347\n"
    "\n"
    "[database]\n"
    "path = /var/lib/chatdesk/chatdesk.db\n"
    "\n"
    "[admins]\n"
    "jids = admin@localhost, Boss@Example.com ; comma-separated\n"
    "\n"
    "[chat]\n"
    "answer_timeout = 60\n"
    "idle_timeout = 3600\n"
    "away_after = 300\n";

static void test_spec_example(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    assert_int_equal(config_load_string(&c, spec_example, "t.ini", err,
                                        sizeof err),
                     0);
    assert_string_equal(c.jid, "helpdesk.localhost");
    assert_string_equal(c.secret, "s3cret");
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 5347);
    assert_string_equal(c.db_path, "/var/lib/chatdesk/chatdesk.db");
    assert_int_equal(c.n_admins, 2);
    assert_string_equal(c.admins[1], "boss@example.com");
    assert_true(config_is_admin(&c, "BOSS@example.com"));
    assert_false(config_is_admin(&c, "tech@localhost"));
    assert_int_equal(c.answer_timeout, 60);
    assert_int_equal(c.idle_timeout, 3600);
    assert_int_equal(c.away_after, 300);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    const char *min = "[component]\njid=h.example\nsecret=x\n"
                      "[database]\npath=/tmp/x.db\n";
    assert_int_equal(config_load_string(&c, min, "m.ini", err, sizeof err),
                     0);
    assert_int_equal(c.port, 5347);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.answer_timeout, 60);
    assert_int_equal(c.idle_timeout, 3600);
    assert_int_equal(c.away_after, 300);
    assert_int_equal(c.n_admins, 0);
    assert_int_equal(c.retention_days, 0); /* keep forever */
    assert_int_equal(c.limit_rate, 30);
    assert_int_equal(c.limit_burst, 150);
}

/* [database] url instead of path: PostgreSQL (SPEC §11). */
static void test_database_url(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    const char *pg = "[component]\njid=h.example\nsecret=x\n[database]\n"
                     "url = postgresql://chatdesk@db.example.com:5433/cd"
                     "?sslmode=require\n";
    assert_int_equal(config_load_string(&c, pg, "p.ini", err, sizeof err), 0);
    assert_string_equal(c.db_url,
                        "postgresql://chatdesk@db.example.com:5433/cd"
                        "?sslmode=require");
    assert_string_equal(config_db_target(&c), c.db_url);
    const char *lite = "[component]\njid=h.example\nsecret=x\n[database]\n"
                       "path = /tmp/x.db\n";
    assert_int_equal(config_load_string(&c, lite, "s.ini", err, sizeof err),
                     0);
    assert_string_equal(config_db_target(&c), "/tmp/x.db");
}

static void test_metrics_listen(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    const char *base = "[component]\njid=h.example\nsecret=x\n"
                       "[database]\npath=/tmp/x.db\n";
    assert_int_equal(config_load_string(&c, base, "m.ini", err, sizeof err),
                     0);
    assert_int_equal(c.metrics_port, 0);
    char text[512];
    snprintf(text, sizeof text, "%s[metrics]\nlisten = 127.0.0.1:9643\n",
             base);
    assert_int_equal(config_load_string(&c, text, "m.ini", err, sizeof err),
                     0);
    assert_string_equal(c.metrics_host, "127.0.0.1");
    assert_int_equal(c.metrics_port, 9643);
    snprintf(text, sizeof text, "%s[metrics]\nlisten = [::1]:19643\n", base);
    assert_int_equal(config_load_string(&c, text, "m.ini", err, sizeof err),
                     0);
    assert_string_equal(c.metrics_host, "::1");
    assert_int_equal(c.metrics_port, 19643);
}

/* [component] multicast: off by default, auto, or a domain (lowercased);
 * anything else names the key and the line. */
static void test_multicast(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    char text[512];
    const char *base = "[database]\npath=/tmp/x.db\n[component]\n"
                       "jid=h.example\nsecret=x\n";
    assert_int_equal(config_load_string(&c, base, "m.ini", err, sizeof err),
                     0);
    assert_string_equal(c.multicast, "off");
    snprintf(text, sizeof text, "%smulticast = AUTO\n", base);
    assert_int_equal(config_load_string(&c, text, "m.ini", err, sizeof err),
                     0);
    assert_string_equal(c.multicast, "auto");
    snprintf(text, sizeof text, "%smulticast = Multicast.Example.com\n",
             base);
    assert_int_equal(config_load_string(&c, text, "m.ini", err, sizeof err),
                     0);
    assert_string_equal(c.multicast, "multicast.example.com");
    snprintf(text, sizeof text, "%smulticast = yes please\n", base);
    assert_int_not_equal(
        config_load_string(&c, text, "m.ini", err, sizeof err), 0);
    assert_non_null(strstr(err, "m.ini:6: multicast: must be auto, off or"));
}

/* [component] connections: 1 by default, auto (0) or 1..64, with a
 * maximum for auto; anything else names the key and the line. */
static void test_connections(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    char text[512];
    const char *base = "[database]\npath=/tmp/x.db\n[component]\n"
                       "jid=h.example\nsecret=x\n";
    assert_int_equal(config_load_string(&c, base, "c.ini", err, sizeof err),
                     0);
    assert_int_equal(c.connections, 1);
    assert_int_equal(c.connections_max, 8);
    snprintf(text, sizeof text, "%sconnections = Auto\nconnections_max = 3\n",
             base);
    assert_int_equal(config_load_string(&c, text, "c.ini", err, sizeof err),
                     0);
    assert_int_equal(c.connections, 0);
    assert_int_equal(c.connections_max, 3);
    snprintf(text, sizeof text, "%sconnections = 4\n", base);
    assert_int_equal(config_load_string(&c, text, "c.ini", err, sizeof err),
                     0);
    assert_int_equal(c.connections, 4);
    snprintf(text, sizeof text, "%sconnections = 0\nconnections_max = 65\n",
             base);
    assert_int_not_equal(
        config_load_string(&c, text, "c.ini", err, sizeof err), 0);
    assert_non_null(strstr(err, "c.ini:6: connections: must be auto or a "
                                "whole number from 1 to 64, not '0'"));
    assert_non_null(strstr(err, "c.ini:7: connections_max: must be a whole "
                                "number from 1 to 64"));
}

static void test_limits(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    const char *text = "[component]\njid=h.example\nsecret=x\n"
                       "[database]\npath=/tmp/x.db\n"
                       "[limits]\nstanzas_per_second = 5\nburst = 12\n";
    assert_int_equal(config_load_string(&c, text, "l.ini", err, sizeof err),
                     0);
    assert_int_equal(c.limit_rate, 5);
    assert_int_equal(c.limit_burst, 12);
    const char *off = "[component]\njid=h.example\nsecret=x\n"
                      "[database]\npath=/tmp/x.db\n"
                      "[limits]\nstanzas_per_second = 0\n";
    assert_int_equal(config_load_string(&c, off, "o.ini", err, sizeof err), 0);
    assert_int_equal(c.limit_rate, 0); /* 0 turns the limit off */
    assert_int_equal(c.limit_burst, 150);
}

#define PSA_BASE "[component]\njid=h.example\nsecret=x\n[database]\npath=p\n"

static void test_psa(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    const char *none = PSA_BASE;
    assert_int_equal(config_load_string(&c, none, "p.ini", err, sizeof err),
                     0);
    assert_string_equal(c.psa_url, ""); /* no webhook */
    assert_int_equal(c.psa_timeout, 10);
    assert_int_equal(c.psa_retry_max, 300);
    assert_string_equal(c.psa_ca_file, "");
    const char *full = PSA_BASE "[psa]\n"
                       "webhook_url = https://psa.example.com/hooks/chatdesk\n"
                       "webhook_secret = change-me\ntimeout = 300\n"
                       "retry_max = 86400\nca_file = /etc/psa-ca.pem\n";
    assert_int_equal(config_load_string(&c, full, "p.ini", err, sizeof err),
                     0);
    assert_string_equal(c.psa_url, "https://psa.example.com/hooks/chatdesk");
    assert_string_equal(c.psa_secret, "change-me");
    assert_int_equal(c.psa_timeout, 300);
    assert_int_equal(c.psa_retry_max, 86400);
    assert_string_equal(c.psa_ca_file, "/etc/psa-ca.pem");
    const char *plain = PSA_BASE "[psa]\nwebhook_url = HTTP://127.0.0.1:8/x\n"
                        "webhook_secret = s\n";
    assert_int_equal(config_load_string(&c, plain, "p.ini", err, sizeof err),
                     0);
}

struct bad_case {
    const char *text;
    const char *want; /* substring of the error */
};

static void test_bad_input(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"[admins]\njids = /admin@localhost\n",
         "b.ini:2: jids: '/admin@localhost' is not a bare JID"},
        {"[component]\njid=h\nsecret=x\ncolour = blue\n",
         "b.ini:4: colour: unknown key in section [component]"},
        {"[component]\njid=h\nsecret=x\nport = 70000\n[database]\npath=p\n",
         "b.ini:4: port: must be a whole number from 1 to 65535, not '70000'"},
        {"[component]\njid=h\nsecret=x\nport = 12ab\n", "b.ini:4: port: "},
        {"[chat]\nanswer_timeout = -1\n", "b.ini:2: answer_timeout: must be"},
        {"[retention]\nmessages_days = -1\n",
         "b.ini:2: messages_days: must be a whole number from 0 to 36500, "
         "not '-1'"},
        {"[chat]\nanswer_timeout = 604801\n",
         "b.ini:2: answer_timeout: must be a whole number of seconds from 1 "
         "to 604800, not \"604801\""},
        {"[component]\njid=h\n[database]\npath=p\n",
         "b.ini:1: secret: missing: section [component] must set this key"},
        {"[component]\njid=h\nsecret=x\n",
         "b.ini:0: path: missing: the file has no section [database]"},
        {"[component]\njid=h\nsecret=x\n[database]\n",
         "b.ini:4: path: missing: section [database] must set path (sqlite) "
         "or url (PostgreSQL)"},
        {"[component]\njid=h\nsecret=x\n[database]\nurl = mysql://x/y\n",
         "b.ini:5: url: must be a postgresql:// URI like "
         "postgresql://chatdesk@db.example.com/chatdesk, not 'mysql://x/y'"},
        {"[component]\njid=h\nsecret=x\n[database]\n"
         "url = postgresql://[::1/db\n",
         "b.ini:5: url: 'postgresql://[::1/db' is not a valid URI: "},
        {"[component]\njid=h\nsecret=x\n[database]\n"
         "url = postgresql://h/db?nonsense=1\n",
         "b.ini:5: url: 'postgresql://h/db?nonsense=1' is not a valid URI: "
         "invalid URI query parameter: \"nonsense\""},
        {"[component]\njid=h\nsecret=x\n[database]\npath=p\n"
         "url = postgresql://h/db\n",
         "b.ini:4: url: set path (sqlite) or url (PostgreSQL), not both"},
        {"[component]\njid = user@h\n",
         "b.ini:2: jid: 'user@h' is not a bare domain"},
        {"[component]\njid = h/r\n", "b.ini:2: jid: 'h/r' is not a bare"},
        {"[component]\njid =\n", "b.ini:2: jid: '' is not a bare domain"},
        {"[admins]\njids = admin\n",
         "b.ini:2: jids: 'admin' is not a bare JID"},
        {"[admins]\njids = a@b, @b\n", "b.ini:2: jids: '@b' is not a bare"},
        {"[admins]\njids = a@\n", "b.ini:2: jids: 'a@' is not a bare JID"},
        {"[admins]\njids = a@b/r\n", "b.ini:2: jids: 'a@b/r' is not"},
        {"[nope]\nkey = 1\n", "b.ini:2: key: unknown section [nope]"},
        {"[component]\nthis line is wrong\n",
         "b.ini:2: syntax: expected [section] or key = value"},
        {"[component]\nsecret =\n", "b.ini:2: secret: must not be empty"},
        {"[log]\nlevel = loud\n",
         "b.ini:2: level: must be error, warn, info or debug, not 'loud'"},
        {"[limits]\nstanzas_per_second = -1\n",
         "b.ini:2: stanzas_per_second: must be a whole number from 0 to "
         "100000"},
        {"[limits]\nstanzas_per_second = 100001\n",
         "b.ini:2: stanzas_per_second: "},
        {"[limits]\nstanzas_per_second = fast\n",
         "b.ini:2: stanzas_per_second: "},
        {"[limits]\nburst = 0\n",
         "b.ini:2: burst: must be a whole number from 1 to 100000"},
        {"[limits]\nburst =\n", "b.ini:2: burst: "},
        {"[limits]\nper_minute = 5\n",
         "b.ini:2: per_minute: unknown key in section [limits]"},
        {"[metrics]\nlisten = 9643\n",
         "b.ini:2: listen: must be HOST:PORT like 127.0.0.1:9643, not '9643'"},
        {"[metrics]\nlisten = localhost:9643\n",
         "b.ini:2: listen: 'localhost' is not an IP address"},
        {"[metrics]\nlisten = ::1:9643\n", "b.ini:2: listen: '::1' is not"},
        {"[metrics]\nlisten = 127.0.0.1:0\n",
         "b.ini:2: listen: must be a whole number from 1 to 65535, not '0'"},
        {"[metrics]\nlisten = 127.0.0.1:\n", "b.ini:2: listen: must be"},
        {PSA_BASE "[psa]\nwebhook_url = http://h/x\n",
         "b.ini:6: webhook_secret: missing: required when webhook_url is set"},
        {PSA_BASE "[psa]\nwebhook_url = ftp://h/x\nwebhook_secret = s\n",
         "b.ini:7: webhook_url: must be an http:// or https:// URL"},
        {"[psa]\nwebhook_url = https://\n", "b.ini:2: webhook_url: must be"},
        {"[psa]\nwebhook_url = psa.example.com\n",
         "b.ini:2: webhook_url: must be"},
        {"[psa]\nwebhook_secret =\n",
         "b.ini:2: webhook_secret: must not be empty"},
        {"[psa]\ntimeout = -5\n",
         "b.ini:2: timeout: must be a whole number from 1 to 300"},
        {"[psa]\ntimeout = 0\n", "b.ini:2: timeout: must be"},
        {"[psa]\ntimeout = 301\n", "b.ini:2: timeout: must be"},
        {"[psa]\nretry_max = 0\n",
         "b.ini:2: retry_max: must be a whole number from 1 to 86400"},
        {"[psa]\nretry_max = 86401\n", "b.ini:2: retry_max: must be"},
        {"[psa]\nca_file =\n", "b.ini:2: ca_file: must not be empty"},
        {"[psa]\nurl = http://h/\n",
         "b.ini:2: url: unknown key in section [psa]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config c;
        char err[512] = "";
        assert_int_equal(config_load_string(&c, cases[i].text, "b.ini", err,
                                            sizeof err),
                         -1);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err,
                     cases[i].want);
    }
}

/* Every bad key is reported, one line each, in the order of the file, then
 * the missing required keys. */
static void test_every_error_reported(void **state)
{
    (void)state;
    struct config c;
    char err[1024];
    const char *text = "[component]\nbad1 = x\nport = 0\njid = h\n"
                       "[chat]\nidle_timeout = soon\n[extra]\nk = v\n";
    assert_int_equal(config_load_string(&c, text, "f.ini", err, sizeof err),
                     -1);
    assert_string_equal(
        err, "f.ini:2: bad1: unknown key in section [component]\n"
             "f.ini:3: port: must be a whole number from 1 to 65535, not "
             "'0'\n"
             "f.ini:6: idle_timeout: must be a whole number of seconds from "
             "1 to 604800, not \"soon\"\n"
             "f.ini:8: k: unknown section [extra]\n"
             "f.ini:1: secret: missing: section [component] must set this "
             "key\n"
             "f.ini:0: path: missing: the file has no section [database]");
}

/* A full error buffer is cut: a terminated string that starts with the
 * first error. */
static void test_small_error_buffer(void **state)
{
    (void)state;
    struct config c;
    char err[40];
    const char *text = "[component]\nbad1 = x\nbad2 = y\n";
    assert_int_equal(config_load_string(&c, text, "f.ini", err, sizeof err),
                     -1);
    assert_true(strlen(err) < sizeof err);
    assert_non_null(strstr(err, "f.ini:2: bad1"));
}

static void test_missing_file(void **state)
{
    (void)state;
    struct config c;
    char err[512];
    assert_int_equal(config_load(&c, "/nonexistent/chatdesk.ini", err,
                                 sizeof err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent/chatdesk.ini: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_database_url),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_multicast),
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_metrics_listen),
        cmocka_unit_test(test_psa),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_every_error_reported),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
