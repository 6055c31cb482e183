"""The board's notice line on the engine: the hall settings rule, its audit, the snapshot, the file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from queue_engine.core.models import AuditEntry
from queue_engine.hall.admin import hall_record, save_hall
from queue_engine.hall.calendar import hall_settings
from queue_engine.hall.config_io import check_config, export_config
from queue_engine.hall.rules import SettingsInvalid
from queue_engine.queue.snapshots import display_snapshot


def _save(session, clock, notice):
    hall = save_hall(session, clock, None, {**hall_record(hall_settings(session)), "notice": notice})
    session.commit()
    return hall


def test_a_notice_reaches_the_board_as_one_line_and_is_audited(session, clock, configure_hall):
    configure_hall(name={"zh": "政务服务大厅"})
    _save(session, clock, {"zh": " 今日 16:00\n停止取号 ", "en": ""})
    assert display_snapshot(session, clock)["notice"] == {"zh": "今日 16:00 停止取号"}
    (row,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "update_hall")).all()
    assert row.before["notice"] == {} and row.after["notice"] == {"zh": "今日 16:00 停止取号"}
    assert export_config(session, clock)["hall"]["notice"] == {"zh": "今日 16:00 停止取号"}


@pytest.mark.parametrize(
    ("notice", "field"),
    [
        ({"zh": "请" * 201}, "notice.zh"),
        ({"en": "x" * 201}, "notice.en"),
        ("text", "notice"),
        ({"zh": 3}, "notice"),
    ],
)
def test_a_notice_too_long_or_not_text_is_refused_and_changes_nothing(
    session, clock, configure_hall, notice, field
):
    configure_hall(name={"zh": "政务服务大厅"}, notice={"zh": "旧通知"})
    with pytest.raises(SettingsInvalid) as refused:
        save_hall(session, clock, None, {**hall_record(hall_settings(session)), "notice": notice})
    assert field in refused.value.errors
    session.rollback()
    assert display_snapshot(session, clock)["notice"] == {"zh": "旧通知"}


def test_a_hall_older_than_the_notice_has_none_and_its_file_still_checks(session, clock, configure_hall):
    configure_hall(name={"zh": "政务服务大厅"}, notice=None)  # a row from before the column
    assert display_snapshot(session, clock)["notice"] == {}
    config = export_config(session, clock)
    del config["hall"]["notice"]
    assert check_config(config).hall["notice"] == {}
