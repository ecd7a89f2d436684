/* fuzz_config.c - libFuzzer target: the INI config parser
 * (component/runtime/config.c, through config_load_string()).
 *
 * The input is the text of a config file. Besides ASan, UBSan and
 * LeakSanitizer, the target aborts when a contract of config.h breaks: a
 * refused file must come with a message naming the file; an accepted one
 * has the required keys ([component] jid and secret, [database] path),
 * every number in the range config.c allows, admins that are lowercase
 * bare JIDs config_is_admin() knows, and every string NUL-terminated.
 * Seeds: corpus-config/.
 */
#include "runtime/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CONFIG_MAX 65536 /* bytes of a config file tried */

static void fuzz_config__fail(const char *what)
{
    fprintf(stderr, "fuzz_config: %s\n", what);
    abort();
}

static int fuzz_config__in(int v, int lo, int hi)
{
    return v >= lo && v <= hi;
}

/* 1 when s (an array of n bytes) is a NUL-terminated string. */
static int fuzz_config__str(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

static void fuzz_config__accepted(const struct config *c)
{
    if (!fuzz_config__str(c->jid, sizeof c->jid) || !c->jid[0] ||
        !fuzz_config__str(c->secret, sizeof c->secret) || !c->secret[0] ||
        !fuzz_config__str(c->db_path, sizeof c->db_path) || !c->db_path[0] ||
        !fuzz_config__str(c->host, sizeof c->host))
        fuzz_config__fail("accepted without a required key");
    if (!fuzz_config__in(c->port, 1, 65535) ||
        !fuzz_config__in(c->reconnect_max, 1, 3600) ||
        !fuzz_config__in(c->answer_timeout, 1, 86400) ||
        !fuzz_config__in(c->idle_timeout, 1, 7 * 86400) ||
        !fuzz_config__in(c->away_after, 1, 86400) ||
        !fuzz_config__in(c->log_level, 0, 3) ||
        !fuzz_config__in(c->limit_rate, 0, 100000) ||
        !fuzz_config__in(c->limit_burst, 1, 100000) ||
        !fuzz_config__in(c->max_stanza_bytes, 16384, 4194304))
        fuzz_config__fail("accepted a number out of its range");
    if (c->n_admins > CONFIG_MAX_ADMINS)
        fuzz_config__fail("more admins than CONFIG_MAX_ADMINS");
    for (size_t i = 0; i < c->n_admins; i++) {
        const char *a = c->admins[i];
        if (!fuzz_config__str(a, sizeof c->admins[i]) || !a[0] ||
            strchr(a, '/'))
            fuzz_config__fail("an admin that is not a bare JID");
        for (const char *p = a; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                fuzz_config__fail("an admin JID not lowercased");
        if (!config_is_admin(c, a))
            fuzz_config__fail("config_is_admin does not know an admin");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_CONFIG_MAX)
        return 0;
    char *text = malloc(size + 1);
    struct config *cfg = malloc(sizeof *cfg);
    char err[512] = "";
    if (!text || !cfg)
        fuzz_config__fail("out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    if (config_load_string(cfg, text, "fuzz.ini", err, sizeof err) == 0)
        fuzz_config__accepted(cfg);
    else if (strncmp(err, "fuzz.ini", 8) != 0)
        fuzz_config__fail("a refusal that does not name the file");
    free(cfg);
    free(text);
    return 0;
}
