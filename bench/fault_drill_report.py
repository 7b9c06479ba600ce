"""The fault drill's verdict (``bench/fault_drill.py``): the errors users saw, the requests lost
and the side effects doubled, compared with what the database, the stand-in, the SMTP server and
the access log hold afterwards."""

from __future__ import annotations

import collections
import json
import os
import re
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fault_drill_users import Kill, Record

from production_shape.services import standin_call

if TYPE_CHECKING:
    from fault_drill_users import Outcomes

    from production_shape.services import Mailbox

KILL_SLACK = 0.25  # seconds around a kill within which a failure counts as in flight at it


class Verdict:
    """The report half of ``fault_drill.Drill`` (which has these attributes and ``pending``)."""

    logs: Path
    records: list[Record]
    kills: list[Kill]
    notes: list[str]
    outcomes: Outcomes
    handles: list[str]
    mailbox: Mailbox
    standin: str
    options: Any

    def pending(self) -> dict[str, int]:
        raise NotImplementedError

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def in_flight_at_kill(self, rec: Record) -> Kill | None:
        for kill in self.kills:
            if rec.started - KILL_SLACK <= kill.at <= rec.ended + KILL_SLACK:
                if kill.what == "database" and rec.target == "web":
                    return kill
                if kill.what == "stand-in":
                    return kill
            if (
                kill.what == "stand-in"
                and rec.target == "stripe"
                and kill.at <= rec.ended
                and rec.started <= kill.until
            ):
                return kill  # the hosted page while the killed stand-in was starting again
        return None

    def report(self) -> int:
        (self.logs / "requests.json").write_text(json.dumps([r.__dict__ for r in self.records], indent=0))
        errors: collections.Counter[str] = collections.Counter()
        excused: collections.Counter[str] = collections.Counter()
        for rec in self.records:
            problem = self.problem(rec)
            if not problem:
                continue
            kill = self.in_flight_at_kill(rec) if (rec.status == 503 or rec.error) else None
            key = f"{problem}: {rec.method} {rec.target} {_shape(rec.path)}"
            if kill is not None:
                when = "while the stand-in was down" if kill.what == "stand-in" else "at the database kill"
                excused[f"{key} ({when})"] += 1
            else:
                errors[key] += 1
        lost, doubled = self.check_effects()
        web = [r for r in self.records if r.target == "web"]
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        lines = [
            "",
            "=" * 78,
            f"Fault drill: {len(self.handles)} users ({self.options.payers} paying), {self.options.seconds} s "
            f"of traffic, load average {load} ({os.cpu_count()} cores)",
            "Faults:",
            *[f"  - {n}" for n in self.notes],
            f"Requests: {len(self.records)} ({len(web)} to the web, {len(self.records) - len(web)} to the "
            "stand-in's hosted pages)",
            f"Errors seen by users: {sum(errors.values())}",
            *[f"  - {n} x {k}" for k, n in sorted(errors.items())],
            "Requests in flight at the instant of a kill, or on the stand-in's hosted page while it was down"
            f" after its kill (not counted above): {sum(excused.values())}",
            *[f"  - {n} x {k}" for k, n in sorted(excused.items())],
            f"Requests lost: {sum(lost.values())}",
            *[f"  - {k}: {n}" for k, n in lost.items()],
            f"Side effects doubled: {sum(doubled.values())}",
            *[f"  - {k}: {n}" for k, n in doubled.items()],
        ]
        failed = sum(errors.values()) + sum(lost.values()) + sum(doubled.values())
        lines.append(
            "RESULT: "
            + ("PASS" if not failed else f"FAIL ({failed})")
            + f"  (logs of every process: {self.logs})"
        )
        print("\n".join(lines), flush=True)
        return 1 if failed else 0

    @staticmethod
    def problem(rec: Record) -> str:
        if rec.error:
            return f"connection failure ({rec.error})"
        assert rec.status is not None
        if rec.status >= 500:
            return f"HTTP {rec.status}"
        signed_out = rec.status in (301, 302, 303) and "/accounts/login/" in rec.location
        if rec.target == "web" and signed_out and rec.action != "login":
            return "signed out"
        if rec.status >= 400 and rec.status != 404:
            return f"HTTP {rec.status}"
        return ""

    def check_effects(self) -> tuple[dict[str, int], dict[str, int]]:
        lost: dict[str, int] = {}
        doubled: dict[str, int] = {}
        q = self.sql

        # Posts: one row per submit (the same text resubmitted after a 503 is one submit).
        counts = {
            token: q("SELECT count(*) FROM social_post WHERE text LIKE %s", f"%{token}%")[0][0]
            for token in self.outcomes.posts
        }
        lost["posts acknowledged (201) but not stored"] = sum(
            1 for t, o in self.outcomes.posts.items() if o["acknowledged"] and counts[t] == 0
        )
        lost["posts never accepted after retrying"] = sum(
            1 for t, o in self.outcomes.posts.items() if o["gave_up"] and counts[t] == 0
        )
        doubled["posts stored twice for one submit"] = sum(1 for c in counts.values() if c > 1)

        # Follows and what they cause.
        users = dict(q("SELECT handle, id FROM accounts_user WHERE handle LIKE 'drill%%'"))
        stored = {tuple(r) for r in q("SELECT follower_id, followee_id FROM social_follow")}
        lost["follows acknowledged but not stored"] = sum(
            1 for a, b, ok in self.outcomes.follows if ok and (users[a], users[b]) not in stored
        )
        doubled["follow notifications twice"] = q(
            "SELECT count(*) FROM (SELECT 1 FROM social_notification WHERE kind = 'follow' "
            "GROUP BY recipient_id, actor_id HAVING count(*) > 1) d"
        )[0][0]
        doubled["feed entries twice"] = q(
            "SELECT count(*) FROM (SELECT 1 FROM social_timelineentry GROUP BY owner_id, post_id, reposter_id "
            "HAVING count(*) > 1) d"
        )[0][0]

        # Fan-out: each stored post is in the home feed of everyone who followed its author before.
        lost["posts missing from a follower's home feed"] = q(
            "SELECT count(*) FROM social_post p JOIN social_follow f ON f.followee_id = p.author_id "
            "AND f.created_at < p.created_at LEFT JOIN social_timelineentry t ON t.owner_id = f.follower_id "
            "AND t.post_id = p.id AND t.reposter_id IS NULL WHERE t.id IS NULL AND p.text LIKE 'Drill post %%'"
        )[0][0]

        # Payments: in Stripe (the stand-in) and in the app.
        lost_payments = doubled_subs = doubled_charges = 0
        for handle, pay in self.outcomes.payments.items():
            customer = q(
                "SELECT c.id FROM djstripe_customer c WHERE c.subscriber_id = %s AND c.date_purged IS NULL "
                "ORDER BY c.created DESC LIMIT 1",
                users[handle],
            )
            if not customer:
                lost_payments += int(bool(pay["paid"]))
                continue
            cus = customer[0][0]
            subs = standin_call(self.standin, "GET", "/v1/subscriptions", {"customer": cus, "status": "all"})
            live = [s for s in subs["data"] if s["status"] in ("active", "trialing", "past_due")]
            doubled_subs += int(len(live) > 1)
            charges = standin_call(self.standin, "GET", "/v1/charges", {"customer": cus})["data"]
            kept = [c for c in charges if c["status"] == "succeeded" and not c.get("refunded")]
            doubled_charges += int(len(kept) > 1)
            app_live = q(
                "SELECT count(*) FROM djstripe_subscription WHERE customer_id = %s "
                "AND stripe_data->>'status' IN ('active', 'trialing', 'past_due')",
                cus,
            )[0][0]
            if live and app_live == 0:
                lost_payments += 1
            if pay["paid"] and not live:
                lost_payments += 1
        lost["payments that never reached the app (no live subscription)"] = lost_payments
        doubled["users with two live subscriptions"] = doubled_subs
        doubled["users charged twice (charges kept)"] = doubled_charges
        lost["paying users whose success page never said ready"] = sum(
            1 for p in self.outcomes.payments.values() if p["paid"] and not p["ready"]
        )

        # E-mails: every promised one sent once.
        pending = self.pending()
        lost["e-mails still unsent in the outbox"] = max(0, pending["e-mails unsent"])
        lost["webhook deliveries not delivered"] = max(0, pending["webhook deliveries"])
        lost["webhook events not processed within the settle window"] = max(0, pending["events unprocessed"])
        receipts = q("SELECT count(*) FROM billing_billingnotification WHERE kind = 'payment_received'")[0][0]
        paid = sum(1 for p in self.outcomes.payments.values() if p["paid"])
        lost["receipts missing (paid checkouts without a receipt)"] = max(0, paid - receipts)
        messages = [
            (tuple(sorted(rcpts)), str(m.get("Subject", "")), str(m.get("Message-ID", "")))
            for rcpts, m in self.mailbox.received()
        ]
        by_kind = collections.Counter((to, subject) for to, subject, _ in messages)
        by_id = collections.Counter(mid for _, _, mid in messages if mid)
        doubled["e-mails of one kind twice to one person"] = sum(1 for n in by_kind.values() if n > 1)
        doubled["e-mails sent twice (same Message-ID)"] = sum(1 for n in by_id.values() if n > 1)
        sent_rows = q("SELECT count(*) FROM outbox_outboundemail WHERE status = 'sent'")[0][0]
        lost["e-mails marked sent that never reached SMTP"] = max(0, sent_rows - len(by_id))

        # The access log: one line per request that reached the web.
        logged = set(re.findall(r"relay\.access \[([A-Za-z0-9._-]+)\]", (self.logs / "web.log").read_text()))
        lost["requests answered without an access-log line"] = sum(
            1
            for r in self.records
            if r.target == "web" and r.status is not None and r.request_id not in logged
        )
        self.notes.append(f"e-mails received by SMTP: {len(messages)}; outbox rows sent: {sent_rows}")
        inline_failures = sum(
            (self.logs / f"{name}.log").read_text().count("failed inline")
            for name in ("web", "worker", "beat")
        )
        self.notes.append(f"tasks that failed when run inline (broker down): {inline_failures}")
        return lost, doubled


def _shape(path: str) -> str:
    path = urllib.parse.urlsplit(path).path
    path = re.sub(r"/@[\w.-]+", "/@<handle>", path)
    path = re.sub(r"/users/[\w.-]+/", "/users/<handle>/", path)
    return re.sub(r"/c/pay/[^/]+", "/c/pay/<session>", path)
