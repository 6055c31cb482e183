"""The closed kiosk says when tickets resume and shows no estimates on its greyed buttons."""

from __future__ import annotations

import re

from kiosk.extensions import db
from queue_engine.hall.calendar import hall_settings

HOURS = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}


def closed_at(app, clock, hours: float) -> None:
    with app.app_context():
        hall_settings(db.session).opening_hours = HOURS
        db.session.commit()
    clock.advance(hours=hours)  # from Monday 09:00 in Shanghai


def test_at_lunch_the_kiosk_says_tickets_resume_at_1330(app, client, clock):
    closed_at(app, clock, 3.25)  # 12:15

    zh = client.get("/kiosk?lang=zh").get_data(as_text=True)
    en = client.get("/kiosk?lang=en").get_data(as_text=True)

    assert re.search(r'id="reopens">13:30 恢复取号<', zh)
    assert re.search(r'id="reopens">Tickets again from 13:30<', en)
    buttons = re.findall(r'<button[^>]*class="service[^"]*".*?</button>', en, re.S)
    assert buttons and all("aria-disabled" in b and "about" not in b and "waiting" not in b for b in buttons)


def test_in_the_evening_it_names_the_next_day(app, client, clock):
    closed_at(app, clock, 10)  # Monday 19:00

    en = client.get("/kiosk?lang=en").get_data(as_text=True)
    zh = client.get("/kiosk?lang=zh").get_data(as_text=True)

    assert re.search(r'id="reopens">Tickets again on Tue, Jan 6 from 08:30<', en), en
    assert re.search(r'id="reopens">1月6日周二 08:30 恢复取号<', zh)
