"""What the message benches check and compare against: poison, deliveries at the sinks, the floor.

- Poison: a share of the contacts get an address that must fail their message alone (CR/LF in
  the e-mail, an address that is not one mailbox, an SMTP 550 at RCPT, Twilio's 21610 for the
  number); every other message must still go exactly once.
- Deliveries are counted at the SMTP sink and the Twilio stand-in, per recipient.
- The floor: the same number of messages handed straight to the same two servers by two plain
  processes (smtplib and requests, one connection each), timed in the same run.
"""

from __future__ import annotations

import multiprocessing
import smtplib
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from email.mime.text import MIMEText
from typing import Any

import click
import requests
from sqlalchemy import insert
from sqlalchemy.orm import Session

from oncord.contacts.phones import phone_columns
from oncord.messaging.sms import mobile_number
from oncord.messaging.testing import FakeTwilio, SmtpSink
from oncord.models import ClinikoConnection, Contact, MessagingSettings

POISON_KINDS = ("crlf", "invalid", "refused")


@dataclass(frozen=True)
class BenchContact:
    """One seeded contact: its addresses as stored, and whether its messages are poison."""

    email: str
    phone: str
    poisoned: bool


def bench_contacts(
    count: int, poison_percent: float, sink: SmtpSink, twilio: FakeTwilio
) -> list[BenchContact]:
    """`count` contacts, every k-th poisoned (kinds taken in turn), its refusals set up at the sinks."""
    poisoned = round(count * poison_percent / 100)
    step = count / poisoned if poisoned else 0
    chosen = {int(n * step) for n in range(poisoned)}
    contacts: list[BenchContact] = []
    for i in range(count):
        email, phone = f"patient{i}@bench.example", f"04{10_000_000 + i:08d}"
        if i in chosen:
            kind = POISON_KINDS[len([c for c in contacts if c.poisoned]) % len(POISON_KINDS)]
            if kind == "crlf":
                email = f"patient{i}@bench.example\r\nBcc: everyone@evil.example"
            elif kind == "invalid":
                email = f"patient{i} at bench.example"
            else:
                sink.refuse_recipients[email] = "550 5.1.1 No such user here"
            number = mobile_number(phone, "AU")
            assert number is not None
            twilio.refuse_numbers.add(number)
        contacts.append(BenchContact(email, phone, i in chosen))
    return contacts


def seed_clinic(session: Session, live: datetime) -> None:
    """A clinic connected to Cliniko since `live`, with a sender and quiet hours off (the caller commits)."""
    session.add(ClinikoConnection(api_key_encrypted="bench-not-a-key", shard="au1", enabled_at=live,
                                  account_subdomain="bench", created_at=live, updated_at=live))
    session.add(MessagingSettings(id=1, sender_name="Bench Physio", sender_email="hello@bench.example",
                                  sender_details="1 Bench Street, Melbourne", email_quiet_off=True,
                                  sms_quiet_off=True))


def insert_contacts(session: Session, people: list[BenchContact], now: datetime) -> list[int]:
    """Insert the contacts, Subscribed on both channels; their ids in order (the caller commits)."""
    rows = [
        {"first_name": f"Patient{i}", "last_name": "Bench", "email": person.email, "phone": person.phone,
         **phone_columns(person.phone, "AU"), "email_marketing_status": "subscribed",
         "sms_marketing_status": "subscribed",
         "created_at": now, "updated_at": now}
        for i, person in enumerate(people)
    ]
    return list(session.scalars(insert(Contact).returning(Contact.id), rows))


@dataclass(frozen=True)
class Deliveries:
    """What reached the sinks, per recipient, against what should have."""

    emails: Counter[str]
    texts: Counter[str]

    @classmethod
    def at(cls, sink: SmtpSink, twilio: FakeTwilio) -> Deliveries:
        """Count what the sinks hold now."""
        return cls(Counter(m.rcpt_tos[0] for m in sink.received), Counter(m.to for m in twilio.received))

    def twice(self) -> int:
        """Recipients who got the same message more than once."""
        return sum(n > 1 for n in self.emails.values()) + sum(n > 1 for n in self.texts.values())

    def exactly_once(self, contacts: list[BenchContact], channels: tuple[str, ...]) -> bool:
        """Every good contact got one message on each channel, and no poisoned one got any."""
        good = [c for c in contacts if not c.poisoned]
        want_emails = Counter(c.email for c in good) if "email" in channels else Counter()
        want_texts = Counter(mobile_number(c.phone, "AU") for c in good) if "sms" in channels else Counter()
        return self.emails == want_emails and self.texts == want_texts


def _hand_over(smtp: tuple[str, int], twilio: tuple[str, str, str], emails: list[str], numbers: list[str],
               data: bytes, start: Any) -> None:
    """One plain process: connect, wait for the start, send its share, quit."""
    connection = smtplib.SMTP(*smtp) if emails else None
    http = requests.Session()
    base_url, sid, token = twilio
    http.auth = (sid, token)
    url = f"{base_url}/2010-04-01/Accounts/{sid}/Messages.json"
    start.wait()  # a barrier: both connected, then the clock starts
    if connection is not None:
        for address in emails:
            connection.sendmail("hello@bench.example", [address], data)
        connection.quit()
    for number in numbers:
        response = http.post(url, data={"To": number, "From": "BenchPhysio", "Body": "Hi, reminder: 10:00."})
        response.raise_for_status()
    http.close()


def measure_floor(sink: SmtpSink, twilio: FakeTwilio, emails: int, texts: int) -> float:
    """Seconds for two plain processes to hand `emails` e-mails and `texts` SMS to the same servers.

    The sinks are emptied first and checked after; the processes are spawned (not forked: this
    process runs the servers' threads) and connected before the clock starts.
    """
    sink.reset()
    twilio.reset()
    message = MIMEText("Hi Patient, see you tomorrow at 10:00 at Bench Physio.\n" * 4, "plain", "utf-8")
    message["From"], message["To"], message["Subject"] = "hello@bench.example", "floor", "Reminder"
    data = message.as_bytes()
    addresses = [f"floor{i}@bench.example" for i in range(emails)]
    numbers = [f"+6142{i:07d}" for i in range(texts)]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    processes = [
        context.Process(target=_hand_over, args=(
            (sink.host, sink.port), (twilio.base_url, twilio.account_sid, twilio.auth_token),
            addresses[n::2], numbers[n::2], data, start))
        for n in range(2)
    ]
    for process in processes:
        process.start()
    start.wait(timeout=60)
    began = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - began
    if any(p.exitcode for p in processes) or (len(sink.received), len(twilio.received)) != (emails, texts):
        raise click.ClickException("the floor's plain processes did not hand every message over")
    return elapsed


def report(elapsed: float, messages: int, deliveries: Deliveries, contacts: list[BenchContact],
           channels: tuple[str, ...], states: Counter[str], floor: float) -> bool:
    """Print the run's figures and checks; whether every check held."""
    poison = sum(c.poisoned for c in contacts) * len(channels)
    good = messages - poison
    delivered = sum(deliveries.emails.values()) + sum(deliveries.texts.values())
    once = deliveries.exactly_once(contacts, channels)
    click.echo(f"time: {elapsed:.1f} s for {messages:,} messages ({messages / elapsed:,.0f} messages/s)")
    failed = states.get("failed", 0)
    click.echo(f"good sent: {delivered:,} of {good:,}; poison failed: {failed:,} of {poison:,}")
    click.echo(f"states: {dict(sorted(states.items()))}")
    click.echo(f"{deliveries.twice()} sent twice; every good message exactly once: {'yes' if once else 'NO'}")
    click.echo(f"floor: {floor:.1f} s for the same {messages:,} messages by two plain processes "
               f"({messages / floor:,.0f} messages/s); bench / floor = {elapsed / floor:.1f}")
    ok = once and deliveries.twice() == 0 and states.get("sent", 0) == good and failed == poison
    click.echo("result: OK" if ok else "result: FAILED")
    return ok
