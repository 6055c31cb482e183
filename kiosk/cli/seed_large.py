"""A real hall's size for trying the screens (``seed-demo --size large``, DESIGN §7).

A municipal service centre: 12 services across the four categories, 30 counters in groups —
counters 1-16 are 综合窗口 (general windows serving every service but complaints), 17-26
specialised windows for one or two services, 27-28 the complaints desk, 29-30 document
collection — and 40 clerks (clerkN opens counter N by default; 31-40 cover breaks and may open
any counter), plus ``admin`` and ``supervisor``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from kiosk.cli.seed import seed_hall
from queue_engine.core.kinds import Category, Role

LARGE_SERVICES = [
    # code, names, category, target wait (min)
    ("A", {"zh": "综合咨询", "en": "General inquiry"}, Category.INQUIRY, 10),
    ("B", {"zh": "社保医保", "en": "Social and medical insurance"}, Category.TRANSACTION, 20),
    ("C", {"zh": "户籍办理", "en": "Household registration"}, Category.TRANSACTION, 20),
    ("D", {"zh": "不动产登记", "en": "Real estate registration"}, Category.TRANSACTION, 30),
    ("E", {"zh": "公积金", "en": "Housing provident fund"}, Category.TRANSACTION, 20),
    ("F", {"zh": "税务办理", "en": "Taxes"}, Category.TRANSACTION, 25),
    ("G", {"zh": "企业开办", "en": "Starting a business"}, Category.TRANSACTION, 30),
    ("H", {"zh": "出入境", "en": "Exit and entry"}, Category.TRANSACTION, 20),
    ("J", {"zh": "车驾管", "en": "Vehicles and driving licences"}, Category.TRANSACTION, 25),
    ("K", {"zh": "政策咨询", "en": "Policy questions"}, Category.INQUIRY, 15),
    ("L", {"zh": "投诉建议", "en": "Complaints and suggestions"}, Category.COMPLAINT, 15),
    ("M", {"zh": "证照领取", "en": "Document collection"}, Category.OTHER, 10),
]
GENERAL = "ABCDEFGHJKM"  # 综合窗口: every service but complaints
LARGE_COUNTERS: dict[int, str] = {
    **{n: GENERAL for n in range(1, 17)},
    17: "B",
    18: "B",
    19: "C",
    20: "C",
    21: "D",
    22: "DE",
    23: "F",
    24: "FG",
    25: "H",
    26: "J",
    27: "L",
    28: "LK",
    29: "M",
    30: "M",
}
CLERKS = 40


LARGE_USERS = [
    ("admin", "管理员 Admin", Role.ADMIN),
    ("supervisor", "值班长 Supervisor", Role.SUPERVISOR),
    *[(f"clerk{n}", f"{n}号窗口 Clerk {n}", Role.CLERK) for n in range(1, CLERKS + 1)],
]


def seed_large(session: Session, logins_file: Path | None, password: str | None = None) -> dict[str, str]:
    """Create the large hall into an empty database; return the logins created."""
    return seed_hall(
        session,
        logins_file,
        password,
        name={"zh": "市民服务中心", "en": "Citizen Service Centre"},
        services=LARGE_SERVICES,
        counters=LARGE_COUNTERS,
        users=LARGE_USERS,
    )
