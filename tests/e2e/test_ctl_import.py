#!/usr/bin/env python3
# servers: prosody
# databases: sqlite, postgresql
"""chatdeskctl end to end: bulk CSV import (all or nothing), list, set.

Runs the real chatdeskctl binary (CHATDESKCTL_BIN, else
$CHATDESK_BUILD_DIR/chatdeskctl) on throw-away databases. Prints one line
per check and "N passed, M failed" last; exits non-zero on any failure.
"""
import csv
import io
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

PASSED = 0
FAILED = 0


def check(name, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"ok   {name}")
    else:
        FAILED += 1
        print(f"FAIL {name} {detail}")


def ctl_binary():
    path = os.environ.get("CHATDESKCTL_BIN")
    if not path:
        build = os.environ.get("CHATDESK_BUILD_DIR", "build")
        path = os.path.join(build, "chatdeskctl")
    if not os.access(path, os.X_OK):
        print(f"chatdeskctl not found at {path} (set CHATDESKCTL_BIN)")
        print("0 passed, 1 failed")
        sys.exit(1)
    return path


CTL = ctl_binary()


def ctl(*args):
    proc = subprocess.run([CTL, *args], capture_output=True, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def rows(stdout):
    """Parse `list` output (CSV with header) into a list of dicts."""
    return list(csv.DictReader(io.StringIO(stdout)))


def write_csv(path, header, records):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(records)


COMPANIES = [f"Company {i:02d}" for i in range(18)] + [
    'Acme, "The Best" Ltd',
    "Globex,Inc",
]


def contact_records(n, prefix="user"):
    out = []
    for i in range(n):
        company = COMPANIES[i % len(COMPANIES)]
        chat = ["", "on", "off", "inherit"][i % 4]
        out.append([f"{prefix}{i:04d}@localhost", company,
                    f"User {i}, Jr.", f"+1 555 {i:04d}", chat])
    return out


def import_companies(db, tmp):
    path = os.path.join(tmp, "companies.csv")
    write_csv(path, ["name", "chat", "pre_ticket", "callback"],
              [[name, "", "off" if i == 3 else "", ""]
               for i, name in enumerate(COMPANIES)])
    return ctl("-d", db, "import", "companies", path)


def test_bulk_import(tmp):
    db = os.path.join(tmp, "bulk.db")
    rc, out, err = import_companies(db, tmp)
    check("import companies exits 0", rc == 0, err)
    path = os.path.join(tmp, "contacts.csv")
    write_csv(path, ["jid", "company", "name", "phone", "chat"],
              contact_records(1000))
    rc, out, err = ctl("-d", db, "import", "contacts", path)
    check("import 1000 contacts exits 0", rc == 0, err)
    check("import reports 1000 created", "1000 created" in out, out)
    rc, out, err = ctl("-d", db, "list", "contacts")
    listed = rows(out)
    check("list contacts exits 0", rc == 0, err)
    check("list contacts gives 1000 rows", len(listed) == 1000,
          f"got {len(listed)}")
    by_jid = {r["jid"]: r for r in listed}
    r = by_jid.get("user0018@localhost", {})
    check("quoted company name survives the round trip",
          r.get("company") == 'Acme, "The Best" Ltd', repr(r))
    check("name with a comma survives", r.get("name") == "User 18, Jr.",
          repr(r))
    check("chat override stored", by_jid.get("user0002@localhost", {})
          .get("chat") == "off")
    rc, out, err = ctl("-d", db, "list", "companies")
    check("list companies gives 20 rows", len(rows(out)) == 20, out)
    # Importing the same file again updates, it does not duplicate.
    rc, out, err = ctl("-d", db, "import", "contacts", path)
    check("re-import is an update", rc == 0 and "1000 updated" in out,
          out + err)
    rc, out, err = ctl("-d", db, "list", "contacts")
    check("still 1000 contacts after re-import", len(rows(out)) == 1000)
    return db


def bad_file(tmp, name, bad_line):
    """1000 new contacts with the record on bad_line broken."""
    recs = contact_records(1000, prefix="new")
    recs[bad_line - 2][1] = "No Such Company"  # line 1 is the header
    path = os.path.join(tmp, name)
    write_csv(path, ["jid", "company", "name", "phone", "chat"], recs)
    return path


def test_bad_row_fresh_db(tmp):
    db = os.path.join(tmp, "fresh.db")
    import_companies(db, tmp)
    path = bad_file(tmp, "bad500.csv", 500)
    rc, out, err = ctl("-d", db, "import", "contacts", path)
    check("bad row: exit status 2", rc == 2, f"rc={rc}")
    check("bad row: message names line 500",
          f"{path}:500:" in err and "No Such Company" in err, err)
    blamed = re.findall(re.escape(path) + r":(\d+):", err)
    check("bad row: no other line blamed", blamed == ["500"], err)
    rc, out, err = ctl("-d", db, "list", "contacts")
    check("bad row: zero contacts imported", rc == 0 and rows(out) == [],
          out)


def test_bad_row_existing_db(tmp, db):
    path = bad_file(tmp, "bad500b.csv", 500)
    rc, out, err = ctl("-d", db, "import", "contacts", path)
    check("bad row on a full db: exit 2", rc == 2)
    rc, out, err = ctl("-d", db, "list", "contacts")
    check("bad row on a full db: still 1000", len(rows(out)) == 1000)


def test_broken_csv(tmp):
    db = os.path.join(tmp, "broken.db")
    import_companies(db, tmp)
    lines = ["jid,company,name,phone"]
    lines += [f"u{i}@localhost,Company 01,U{i}," for i in range(2, 500)]
    lines.append('u500@localhost,Company 01,"never closed,')
    lines += [f"u{i}@localhost,Company 01,U{i}," for i in range(501, 600)]
    path = os.path.join(tmp, "broken.csv")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    rc, out, err = ctl("-d", db, "import", "contacts", path)
    check("unclosed quote: exit 2 naming line 500",
          rc == 2 and f"{path}:500:" in err and "not closed" in err, err)
    rc, out, err = ctl("-d", db, "list", "contacts")
    check("unclosed quote: nothing imported", rows(out) == [])
    path = os.path.join(tmp, "header.csv")
    with open(path, "w") as f:
        f.write("jid,company,nickname\nx@localhost,Company 01,X\n")
    rc, out, err = ctl("-d", db, "import", "contacts", path)
    check("unknown column: exit 2 naming line 1",
          rc == 2 and f"{path}:1:" in err and "nickname" in err, err)
    path = os.path.join(tmp, "fields.csv")
    with open(path, "w") as f:
        f.write("jid,company,name,phone\r\nx@localhost,Company 01,X\r\n")
    rc, out, err = ctl("-d", db, "import", "contacts", path)
    check("short row: exit 2 naming line 2",
          rc == 2 and f"{path}:2:" in err and "expected 4 fields" in err,
          err)


def test_techs_and_set(tmp, db):
    path = os.path.join(tmp, "techs.csv")
    write_csv(path, ["jid", "name", "admin"],
              [["Tess@LocalHost", "Tess", "yes"], ["tom@localhost", "Tom", ""]])
    rc, out, err = ctl("-d", db, "import", "techs", path)
    check("import techs", rc == 0, err)
    rc, out, err = ctl("-d", db, "list", "techs")
    techs = {r["jid"]: r for r in rows(out)}
    check("tech JID lowercased, admin flag kept",
          techs.get("tess@localhost", {}).get("admin") == "yes", out)
    write_csv(path, ["jid", "name"], [["user0001@localhost", "Clash"]])
    rc, out, err = ctl("-d", db, "import", "techs", path)
    check("a contact cannot be imported as a tech",
          rc == 2 and "already a contact" in err, err)
    rc, _, err = ctl("-d", db, "set", "chat", "off", "--contact",
                     "USER0001@localhost")
    rc2, out, _ = ctl("-d", db, "list", "contacts")
    chat = {r["jid"]: r["chat"] for r in rows(out)}
    check("set chat off --contact", rc == 0 and
          chat.get("user0001@localhost") == "off", err)
    rc, _, err = ctl("-d", db, "set", "callback", "on", "--company",
                     "globex,inc")
    check("set callback --company (name case-insensitive)", rc == 0, err)
    rc, _, err = ctl("-d", db, "set", "chat", "inherit")
    check("global chat refuses inherit", rc == 2, err)
    rc, _, err = ctl("-d", db, "set", "callback", "on", "--contact",
                     "user0001@localhost")
    check("callback has no contact level", rc == 2, err)
    rc, _, err = ctl("-d", db, "set", "chat", "off", "--company", "Nope")
    check("unknown company is bad input", rc == 2 and "Nope" in err, err)
    rc, _, err = ctl("-d", db, "set", "office-hours",
                     "mon-fri 09:00-17:00; sat 10:00-12:00")
    rc2, out, _ = ctl("-d", db, "show", "settings")
    check("set office-hours", rc == 0 and
          "office_hours = mon-fri 09:00-17:00; sat 10:00-12:00" in out,
          err + out)
    rc, _, err = ctl("-d", db, "set", "office-hours", "mon-fri 9:00-25:00")
    check("bad office hours named", rc == 2 and '"25:00"' in err, err)
    rc, _, err = ctl("-d", db, "set", "holidays", "2026-12-25,2026-02-30")
    check("bad holiday named", rc == 2 and "2026-02-30" in err, err)
    test_audit_failure_changes_nothing(db)


def test_audit_failure_changes_nothing(db):
    """A change whose audit entry cannot be written is not made (one
    transaction), and chatdeskctl says so and exits 1."""
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER no_audit BEFORE INSERT ON audit "
                "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    con.commit()
    rc, _, err = ctl("-d", db, "set", "callback", "off")
    _, out, _ = ctl("-d", db, "show", "settings")
    check("set without its audit entry is not made",
          rc == 1 and "nothing was changed" in err and
          "callback = on" in out, err + out)
    rc, _, err = ctl("-d", db, "remove", "tech", "tom@localhost")
    _, out, _ = ctl("-d", db, "list", "techs")
    check("remove tech without its audit entry is not made",
          rc == 1 and "tom@localhost" in out, err + out)
    con.execute("DROP TRIGGER no_audit")
    con.commit()
    con.close()


def test_usage():
    rc, out, _ = ctl("--help")
    check("--help exits 0", rc == 0 and "import" in out)
    rc, _, err = ctl("list", "contacts")
    check("missing -d is a usage error", rc == 2 and "-d" in err, err)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "u.db")
        check("unknown command", ctl("-d", db, "frobnicate")[0] == 2)
        check("unknown import kind",
              ctl("-d", db, "import", "widgets", "x.csv")[0] == 2)
        check("missing file", ctl("-d", db, "import", "techs",
                                  os.path.join(tmp, "none.csv"))[0] == 2)
    check("unopenable database",
          ctl("-d", "/nonexistent-dir/x.db", "list", "techs")[0] == 1)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = test_bulk_import(tmp)
        test_bad_row_fresh_db(tmp)
        test_bad_row_existing_db(tmp, db)
        test_broken_csv(tmp)
        test_techs_and_set(tmp, db)
    test_usage()
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
