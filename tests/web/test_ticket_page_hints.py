"""The phone page: touch once for sound, the numbers now called for its queue, 'almost your turn'."""

from __future__ import annotations

import re


def page_of(client, ticket, lang="zh") -> str:
    return client.get(f"/t/{ticket['token']}?lang={lang}").get_data(as_text=True)


def almost_shown(page: str) -> bool:
    found = re.search(r'<p class="almost"[^>]*>', page)
    assert found, "no 'almost your turn' line on the page"
    return "hidden" not in found.group(0)


def test_it_asks_for_one_touch_to_turn_the_sound_on(client, take_ticket):
    ticket = take_ticket("D")

    assert re.search(r'id="sound-on">请轻触一次，开启叫号提示音<', page_of(client, ticket, "zh"))
    english = page_of(client, ticket, "en")
    assert re.search(r'id="sound-on">Touch once to turn on the sound for your call<', english)


def test_it_warns_when_only_a_few_are_ahead(client, take_ticket):
    tickets = [take_ticket("D") for _ in range(5)]

    assert not almost_shown(page_of(client, tickets[4]))  # 4 ahead
    assert almost_shown(page_of(client, tickets[3]))  # 3 ahead
    page = page_of(client, tickets[0])
    assert almost_shown(page) and "快到您了" in page
    assert "Almost your turn" in page_of(client, tickets[1], "en")


def test_it_shows_the_numbers_now_called_at_the_counters_serving_it(client, take_ticket, call_next):
    first, mine = take_ticket("D"), take_ticket("D")
    other = take_ticket("A")
    call_next(4)  # counter 4 serves C and D: calls D001
    call_next(3)  # counter 3 serves A and B only: not one of mine

    calls = re.search(r'id="calls-now".*?</div>', page_of(client, mine), re.S).group(0)

    assert first["number"] in calls and "4 号窗口" in calls
    assert other["number"] not in calls
    fragment = client.get(f"/t/{mine['token']}/calls?lang=en").get_data(as_text=True)
    assert first["number"] in fragment and "counter 4" in fragment
