"""Admin and ticket ad-hoc commands through a real Prosody and slixmpp.

An admin (in the config's [admins]) sets the settings, creates a company, a
contact and a tech by ad-hoc command and reads them back (the commands show
the stored values prefilled; chatdeskctl on the same database lists them).
The tech is refused the admin commands with <forbidden/>, creates a ticket
for the contact and lists it; the contact is refused the tech commands.
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure.
"""
# databases: sqlite, postgresql

import csv
import io
import re

from e2e import harness as h

ADMIN, TECH, CONTACT = "admin", "carol", "alice"
ADMIN_NODES = ("settings", "company", "contact", "tech")
TICKET_NODES = ("create-ticket", "tickets")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def ctl_rows(env, kind):
    """chatdeskctl list KIND as a list of dicts."""
    return list(csv.DictReader(io.StringIO(env.ctl("list", kind).stdout)))


def note_text(reply):
    return " ".join(text for _, text in reply.notes)


async def command_nodes(client):
    """The ad-hoc nodes the component lists for client."""
    items = await client["xep_0030"].get_items(
        jid=h.COMPONENT, node=h.NS_COMMANDS, timeout=10)
    return [node for _, node, _ in items["disco_items"]["items"]]


async def test_admin_sets_settings(env):
    admin = await env.client(ADMIN)
    nodes = await command_nodes(admin)
    for node in ADMIN_NODES + TICKET_NODES:
        h.check(node in nodes, "%s listed for the admin in %r" % (node, nodes))
    first = await admin.command("settings")
    h.check(first.status == "executing" and first.form_type == "form",
            "settings shows a form")
    h.check(first.fields.get("answer_timeout") == "60",
            "answer_timeout prefilled with 60: %r" % first.fields)
    await h.expect_error(
        admin.command("settings", {"answer_timeout": "0"}), "bad-request",
        r"Field 'answer_timeout' must be a whole number of seconds")
    await h.expect_error(
        admin.command("settings", {"office_hours": "mnn-fri 09:00-17:00"}),
        "bad-request", r"Field 'office_hours'")
    done = await admin.command("settings", {
        "answer_timeout": "90", "timezone": "Europe/London",
        "office_hours": "mon-fri 9:00-17:00", "callback": "0"})
    h.check(done.status == "completed", "settings completed")
    h.check("Settings saved" in note_text(done), "a note: %r" % done.notes)
    again = await admin.command("settings")
    h.check(again.fields.get("answer_timeout") == "90" and
            again.fields.get("office_hours") == "mon-fri 09:00-17:00" and
            again.fields.get("timezone") == "Europe/London" and
            again.fields.get("callback") in ("0", "false"),
            "the stored settings come back prefilled: %r" % again.fields)
    shown = env.ctl("show", "settings").stdout
    h.check("answer_timeout = 90" in shown and
            "timezone = Europe/London" in shown,
            "chatdeskctl show settings sees them:\n" + shown)


async def test_admin_creates_company(env):
    admin = await env.client(ADMIN)
    done = await admin.command(
        "company", {"company": "new"},
        {"name": "Acme", "chat": "on", "pre_ticket": "off",
         "callback": "inherit"})
    h.check(done.status == "completed", "company completed")
    h.check('Company "Acme" created' in note_text(done),
            "a note: %r" % done.notes)
    choose = await admin.command("company")
    form = choose.cmd.find("{%s}x" % h.NS_DATA)
    options = [o.findtext("{%s}value" % h.NS_DATA) for o in
               form.iter("{%s}option" % h.NS_DATA)]
    h.check("Acme" in options and "new" in options,
            "the choice offers new and Acme: %r" % options)
    shown = await admin.command("company", {"company": "Acme"})
    h.check(shown.fields.get("name") == "Acme" and
            shown.fields.get("chat") == "on" and
            shown.fields.get("pre_ticket") == "off" and
            shown.fields.get("callback") == "inherit",
            "the company comes back prefilled: %r" % shown.fields)
    await h.expect_error(admin.command("company", {"company": "Nope"}),
                         "bad-request", r"Field 'company'.*Nope")
    rows = ctl_rows(env, "companies")
    h.check({"name": "Acme", "chat": "on", "pre_ticket": "off",
             "callback": "inherit"} in rows,
            "chatdeskctl lists Acme: %r" % rows)


async def test_admin_creates_contact(env):
    admin = await env.client(ADMIN)
    done = await admin.command(
        "contact", {"jid": "Alice@localhost"},
        {"company": "Acme", "name": "Alice Liddell", "phone": "+1 555 0100",
         "chat": "inherit"})
    h.check(done.status == "completed", "contact completed")
    h.check("alice@localhost created" in note_text(done),
            "a note: %r" % done.notes)
    shown = await admin.command("contact", {"jid": "alice@localhost"})
    h.check(shown.fields.get("company") == "Acme" and
            shown.fields.get("name") == "Alice Liddell" and
            shown.fields.get("phone") == "+1 555 0100" and
            shown.fields.get("chat") == "inherit",
            "the contact comes back prefilled: %r" % shown.fields)
    await h.expect_error(
        admin.command("contact", {"jid": "bob@localhost"},
                      {"company": "Initech"}),
        "bad-request", r"Field 'company'.*Initech")
    rows = ctl_rows(env, "contacts")
    h.check({"jid": "alice@localhost", "company": "Acme",
             "name": "Alice Liddell", "phone": "+1 555 0100",
             "chat": "inherit"} in rows,
            "chatdeskctl lists alice: %r" % rows)


async def test_admin_creates_tech(env):
    admin = await env.client(ADMIN)
    done = await admin.command(
        "tech", {"jid": "carol@localhost", "action": "create"},
        {"name": "Carol", "admin": "0"})
    h.check(done.status == "completed", "tech completed")
    shown = await admin.command(
        "tech", {"jid": "carol@localhost", "action": "edit"})
    h.check(shown.fields.get("name") == "Carol" and
            shown.fields.get("admin") in ("0", "false"),
            "the tech comes back prefilled: %r" % shown.fields)
    await h.expect_error(
        admin.command("tech", {"jid": "carol@localhost", "action": "create"}),
        "bad-request", r"already a tech")
    rows = ctl_rows(env, "techs")
    h.check({"jid": "carol@localhost", "name": "Carol", "admin": "no"}
            in rows, "chatdeskctl lists carol: %r" % rows)


async def test_tech_is_refused_admin_commands(env):
    tech = await env.client(TECH)
    nodes = await command_nodes(tech)
    for node in ADMIN_NODES:
        h.check(node not in nodes, "%s not listed for a tech" % node)
        await h.expect_error(tech.command(node), "forbidden", r"admins only")
    for node in TICKET_NODES:
        h.check(node in nodes, "%s listed for a tech in %r" % (node, nodes))


async def test_tech_creates_and_lists_tickets(env):
    tech = await env.client(TECH)
    await h.expect_error(
        tech.command("create-ticket",
                     {"contact": "nobody@localhost", "summary": "x"}),
        "bad-request", r"Field 'contact'.*not a known contact")
    done = await tech.command(
        "create-ticket",
        {"contact": "alice@localhost", "summary": "Printer on fire"})
    h.check(done.status == "completed" and done.form_type == "result",
            "create-ticket completes with a result")
    ticket = done.fields.get("ticket")
    h.check(ticket and ticket.isdigit(), "a ticket id: %r" % done.fields)
    listed = await tech.command("tickets", {"status": "open"})
    h.check(listed.status == "completed" and listed.form_type == "result",
            "tickets completes with a result")
    table = listed.cmd.find("{%s}x/{%s}reported" % (h.NS_DATA, h.NS_DATA))
    h.check(table is not None, "a <reported/> in the result")
    reported = [f.get("var") for f in table.findall("{%s}field" % h.NS_DATA)]
    h.check(reported == ["ticket", "company", "contact", "summary", "status",
                         "created"], "the reported columns: %r" % reported)
    rows = [r for r in listed.items if r.get("ticket") == ticket]
    h.check(len(rows) == 1, "ticket %s listed: %r" % (ticket, listed.items))
    row = rows[0]
    h.check(row["company"] == "Acme" and
            row["contact"] == "alice@localhost" and
            row["summary"] == "Printer on fire" and row["status"] == "open",
            "the row: %r" % row)
    h.check(ISO_UTC.match(row["created"]), "ISO 8601 UTC: %r" % row)
    closed = await tech.command("tickets", {"status": "closed"})
    h.check(closed.items == [], "no closed tickets: %r" % closed.items)


async def test_contact_is_refused_tech_commands(env):
    contact = await env.client(CONTACT)
    for node in TICKET_NODES + ADMIN_NODES:
        await h.expect_error(contact.command(node), "forbidden")


if __name__ == "__main__":
    h.main([test_admin_sets_settings, test_admin_creates_company,
            test_admin_creates_contact, test_admin_creates_tech,
            test_tech_is_refused_admin_commands,
            test_tech_creates_and_lists_tickets,
            test_contact_is_refused_tech_commands],
           users=[ADMIN, TECH, CONTACT])
