/* db_pg.h - sqlite-style SQL made PostgreSQL's (db_pg_sql.c), plain C so
 * that a unit test can check it without a server. */
#ifndef CHATDESK_DB_PG_H
#define CHATDESK_DB_PG_H

enum db_pg_sql_kind {
    DB_PG_SQL_READ,    /* SELECT and the rest */
    DB_PG_SQL_WRITE,   /* INSERT, UPDATE, DELETE (counted by db_changes) */
    DB_PG_SQL_CONTROL, /* BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE */
};

struct db_pg_sql {
    char *sql;    /* with $1..$n */
    int nparams;  /* the highest parameter number */
    char **names; /* names[i-1]: ":name" of parameter i, or NULL */
    enum db_pg_sql_kind kind;
};

/* Rewrite sql's parameters the way sqlite numbers them: "?NNN" is NNN,
 * "?" one more than the highest so far, ":name" one more than the highest
 * the first time the name is seen and the same number after. Text in
 * quotes and comments is left alone, and so is "::" (a cast). 0, or -1
 * when out of memory or sql is malformed (an unclosed quote). */
int db_pg_sql_rewrite(const char *sql, struct db_pg_sql *out);
void db_pg_sql_free(struct db_pg_sql *s);
/* The number of the parameter called name (":name"), or 0. */
int db_pg_sql_param_index(const struct db_pg_sql *s, const char *name);

#endif
