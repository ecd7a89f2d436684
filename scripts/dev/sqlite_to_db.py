#!/usr/bin/env python3
"""sqlite_to_db.py FILE...: rewrite C code from sqlite's API to runtime/db.h.

The mechanical half of moving a module onto the portable db layer (issue
21): sqlite3_step -> db_step, SQLITE_ROW -> DB_ROW, sqlite3_stmt ->
struct db_stmt, sqlite3_exec(db, sql, NULL, NULL, &m) -> db_exec(db, sql,
&m), sqlite3_prepare_v2/v3(db, sql, -1, [flags,] &st, NULL) ->
db_prepare(db, sql, &st). The calls db.h has no twin for (serialize,
backup, sqlite3_open, ...) are left alone and reported: use
db_sqlite_handle() there by hand. Files are edited in place.
"""
import re
import sys

FUNCS = """step reset finalize clear_bindings bind_int64 bind_int bind_text
bind_null bind_parameter_index column_int64 column_int column_text
column_type errmsg errcode extended_errcode changes
get_autocommit""".split()
CODES = """OK ERROR BUSY LOCKED NOMEM MISUSE CONSTRAINT ROW DONE
CONSTRAINT_CHECK CONSTRAINT_FOREIGNKEY CONSTRAINT_NOTNULL
CONSTRAINT_PRIMARYKEY CONSTRAINT_UNIQUE INTEGER FLOAT TEXT BLOB NULL
STATIC TRANSIENT""".split()


def call_args(src, start):
    """The argument strings of the call whose '(' is at start, and the
    index after its ')'."""
    depth, i, args, cur = 0, start, [], []
    while i < len(src):
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == '\\' else 1
            cur.append(src[i:j + 1])
            i = j + 1
            continue
        if c == '(':
            depth += 1
            if depth > 1:
                cur.append(c)
        elif c == ')':
            depth -= 1
            if depth == 0:
                args.append(''.join(cur).strip())
                return args, i + 1
            cur.append(c)
        elif c == ',' and depth == 1:
            args.append(''.join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    raise ValueError('unbalanced call')


def rewrite_calls(src, name, build):
    out, pos = [], 0
    pat = re.compile(r'\b' + name + r'\s*\(')
    while True:
        m = pat.search(src, pos)
        if not m:
            out.append(src[pos:])
            return ''.join(out)
        args, end = call_args(src, m.end() - 1)
        out.append(src[pos:m.start()])
        out.append(build(args))
        pos = end


def exec_call(a):
    err = a[4] if a[4] not in ('0', 'NULL') else 'NULL'
    return 'db_exec(%s, %s, %s)' % (a[0], a[1], err)


def prepare_call(a):
    out = a[4] if len(a) == 6 else a[3]
    return 'db_prepare(%s, %s, %s)' % (a[0], a[1], out)


def convert(src):
    src = src.replace('#include <sqlite3.h>', '#include "runtime/db.h"')
    src = rewrite_calls(src, 'sqlite3_exec', exec_call)
    src = rewrite_calls(src, 'sqlite3_prepare_v[23]', prepare_call)
    src = re.sub(r'\bsqlite3_stmt\b', 'struct db_stmt', src)
    src = re.sub(r'\bsqlite3_int64\b', 'int64_t', src)
    src = re.sub(r'\bsqlite3_uint64\b', 'uint64_t', src)
    src = re.sub(r'\bsqlite3(\s*\*)', r'struct db\1', src)
    for f in FUNCS:
        src = re.sub(r'\bsqlite3_' + f + r'\b', 'db_' + f, src)
    for c in CODES:
        src = re.sub(r'\bSQLITE_' + c + r'\b', 'DB_' + c, src)
    return src


def main():
    left = 0
    for path in sys.argv[1:]:
        with open(path) as f:
            src = f.read()
        new = convert(src)
        with open(path, 'w') as f:
            f.write(new)
        for n, line in enumerate(new.splitlines(), 1):
            if re.search(r'\bsqlite3_\w+|\bSQLITE_\w+', line):
                print('%s:%d: left for a hand: %s' % (path, n, line.strip()))
                left += 1
    return 0 if left == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
