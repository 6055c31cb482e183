"""The engine's refusals as staff read them: Chinese first, then the engine's own sentence.

The engine speaks English (its API messages are a contract for integrators); staff pages show
each refusal in both of the hall's languages, the way their labels are ("中文 · English").
One sentence per refusal code; a code without one shows the engine's sentence alone.
"""

from __future__ import annotations

from queue_engine.core.errors import QueueError

CHINESE = {
    "not_found": "未找到。",
    "unknown_service": "没有这项业务。",
    "unknown_ticket": "没有这个号。",
    "unknown_counter": "没有这个窗口。",
    "unknown_user": "没有这个用户。",
    "no_ticket_waiting": "当前没有等候的群众。",
    "counter_busy": "本窗口还有正在办理的号，请先办结、转移或标记过号。",
    "counter_closed": "窗口未开放。",
    "counter_paused": "窗口已暂停服务，请先恢复。",
    "counter_in_use": "另一位工作人员正在此窗口值班。",
    "not_at_this_counter": "这个号不在本窗口。",
    "service_closed": "该业务暂停取号。",
    "service_not_served": "暂无窗口办理该业务。",
    "hall_closed": "现在不是办公时间。",
    "invalid_transition": "这个号当前的状态不允许此操作。",
    "already_rated": "该次办理已评价。",
    "rating_closed": "该次办理已过评价期限。",
    "unknown_tablet": "没有这个评价器。",
    "nothing_to_rate": "当前没有待评价的办理。",
    "invalid_input": "输入有误。",
    "unknown_booking": "没有这个预约。",
    "booking_closed": "该时段不可预约。",
    "slot_full": "该时段已约满。",
    "already_booked": "该手机号当天已预约此业务。",
    "booking_blocked": "该手机号近期多次爽约，暂不能预约。",
    "too_early": "还未到签到时间。",
    "too_late": "签到时间已过，预约已失效。",
    "already_checked_in": "该预约已签到。",
    "invalid_settings": "设置有误。",
    "invalid_config": "配置文件有误。",
    "hall_in_use": "大厅正在使用，模拟数据不会写入。",
}


def staff_message(error: QueueError) -> str:
    """A refusal in both languages: "当前没有等候的群众。 · Nobody is waiting …"."""
    chinese = CHINESE.get(error.code)
    return f"{chinese} · {error.message}" if chinese else error.message
