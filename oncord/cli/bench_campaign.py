"""flask bench campaign: send one campaign to N Subscribed contacts through real RQ workers.

The same stage as `bench reminders` (oncord.cli.bench_support): the SMTP server and the Twilio
stand-in in this process, `python worker.py` processes. One campaign is sent by one worker at a
time (its lock), so a second worker would only stand by. The campaign is started as the Send
button does (scheduled for now, its round enqueued) once the workers are up, and timed to "sent".
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import click
from flask import Flask
from sqlalchemy import func, select

from oncord import context
from oncord.campaigns import lifecycle
from oncord.campaigns.audience import Audience
from oncord.cli.bench_delivery import (
    BenchContact,
    Deliveries,
    bench_contacts,
    insert_contacts,
    measure_floor,
    report,
    seed_clinic,
)
from oncord.cli.bench_support import machine_line, sending_stage, stage_options
from oncord.db import get_database
from oncord.jobs.enqueue import enqueue_round
from oncord.models import Campaign, CampaignRecipient, CampaignState

BENCH_DB = "oncord_bench_campaign"


def _seed(app: Flask, people: list[BenchContact], channel: str, now: datetime) -> int:
    """A connected clinic with a sender, the contacts, and a draft campaign to all of them; its id."""
    with get_database(app).session() as session:
        seed_clinic(session, now - timedelta(hours=2))
        insert_contacts(session, people, now)
        campaign = Campaign(
            name="Bench campaign", channel=channel, state=CampaignState.DRAFT.value,
            audience=Audience().to_json(), email_subject="Hydrotherapy is back, {{ first_name }}",
            email_body="Hi {{ first_name }},\n\nOur pool reopens on Monday. See you soon.",
            sms_body="Hi {{ first_name }}, our pool reopens Monday.", created_at=now, updated_at=now,
        )
        session.add(campaign)
        session.commit()
        return campaign.id


@click.command("campaign")
@click.option("--recipients", default=10_000, show_default=True, help="Subscribed contacts it goes to.")
@click.option("--channel", type=click.Choice(["email", "sms"]), default="email", show_default=True)
@click.option("--workers", "worker_count", default=1, show_default=True,
              help="Worker processes (one sends the campaign; more stand by).")
@click.option("--batch-size", default=200, show_default=True,
              help="Recipients per batch (CAMPAIGN_BATCH_SIZE).")
@stage_options(BENCH_DB)
def bench_campaign_command(recipients: int, channel: str, worker_count: int, batch_size: int,
                           poison_percent: float, db_kind: str, postgres_url: str, database_name: str,
                           redis_url: str) -> None:
    """Time to send one campaign to `recipients` contacts with real workers; none may get it twice."""
    click.echo(f"{machine_line()}; database {db_kind}; {worker_count} workers; channel {channel}")
    with sending_stage(db_kind, postgres_url, database_name, redis_url) as stage:
        people = bench_contacts(recipients, poison_percent, stage.sink, stage.twilio)
        campaign_id = _seed(stage.app, people, channel, datetime.now(UTC))
        stage.start_workers(worker_count, {"CAMPAIGN_BATCH_SIZE": str(batch_size)})
        database = get_database(stage.app)
        clock = context.clock(stage.app)
        started = time.perf_counter()
        with database.session() as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None and lifecycle.schedule(session, campaign, clock.now(), clock.now())
            session.commit()
            enqueue_round(stage.queue, clock, campaign)
        while True:
            with database.session() as session:
                state = session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))
            if state not in (CampaignState.SCHEDULED, CampaignState.SENDING):
                break
            if time.perf_counter() - started > 900:
                raise click.ClickException("gave up after 15 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stage.stop_workers()
        with database.session() as session:
            states = Counter({state: n for state, n in session.execute(
                select(CampaignRecipient.state, func.count()).group_by(CampaignRecipient.state)
            ).all()})
        deliveries = Deliveries.at(stage.sink, stage.twilio)
        violations = len(stage.twilio.violations)
        emails = recipients if channel == "email" else 0
        floor = measure_floor(stage.sink, stage.twilio, emails, recipients - emails)
        click.echo(f"campaign: {state}; {recipients:,} recipients; Twilio format violations: {violations}")
        ok = report(elapsed, recipients, deliveries, people, (channel,), states, floor) and not violations
        if state != CampaignState.SENT or not ok:
            raise SystemExit(1)
