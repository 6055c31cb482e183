"""Administration: services, counters, kiosks and the hall settings, each change audited.

Every operation validates first (``SettingsInvalid`` names the fields), then changes the rows
and appends one audit row with the record before and after, in the caller's transaction.
Nothing with history is ever deleted: a service or counter that was used is deactivated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from queue_engine.booking.models import Booking, BookingSettings, BookingSlot
from queue_engine.core.clock import Clock
from queue_engine.core.errors import InvalidInput, NotFound, UnknownCounter, UnknownService
from queue_engine.core.events import note_settings_changed
from queue_engine.core.kinds import CounterState
from queue_engine.core.lookups import counter_by_id
from queue_engine.core.models import (
    Counter,
    CounterPause,
    CounterSession,
    Hall,
    KioskDevice,
    RatingTablet,
    Service,
    ServiceDaySequence,
    Ticket,
    TicketEvent,
    Visit,
)
from queue_engine.hall.audit import audit
from queue_engine.hall.calendar import hall_settings
from queue_engine.hall.rules import (
    SettingsInvalid,
    clean_counter,
    clean_hall,
    clean_service,
    counter_conflicts,
    service_conflicts,
)

DEVICE_NAME_MAX = 64


def service_record(service: Service) -> dict[str, Any]:
    """A service's set-up as plain values (audit rows, the configuration file)."""
    return {
        "code": service.code,
        "prefix": service.prefix,
        "start_number": service.start_number,
        "names": dict(service.names),
        "category": str(service.category),
        "target_wait_min": service.target_wait_min,
        "active": bool(service.active),
        "sort_order": service.sort_order,
    }


def counter_record(counter: Counter) -> dict[str, Any]:
    """A counter's set-up as plain values: the services it serves by code."""
    return {
        "name": counter.name,
        "services": sorted(s.code for s in counter.services),
        "active": bool(counter.active),
    }


def hall_record(hall: Hall) -> dict[str, Any]:
    """The hall settings as plain values."""
    return {
        "name": dict(hall.name),
        "timezone": hall.timezone,
        "languages": list(hall.languages) if hall.languages is not None else None,
        "opening_hours": {day: [list(pair) for pair in spans] for day, spans in hall.opening_hours.items()},
        "closed_dates": list(hall.closed_dates),
        "extra_working_dates": list(hall.extra_working_dates or []),
        "priority_policy": str(hall.priority_policy),
        "priority_every_n": hall.priority_every_n,
        "kiosk_ticket_seconds": hall.kiosk_ticket_seconds,
        "day_close_delay_min": hall.day_close_delay_min,
        "notice": dict(hall.notice or {}),
    }


def _changed(
    session: Session,
    clock: Clock,
    actor_id: int | None,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> bool:
    """Audit a change (and note it for screens to refetch); a save that changed nothing writes nothing."""
    if before == after:
        return False
    audit(session, clock, actor_id, action, target, before=before, after=after)
    note_settings_changed(session)
    return True


def service_by_id(session: Session, service_id: int) -> Service:
    """The service with an id, or UnknownService."""
    service = session.get(Service, service_id)
    if service is None:
        raise UnknownService(f"No service has the id {service_id}.")
    return service


def counter_by_id_any(session: Session, counter_id: int) -> Counter:
    """The counter with an id, active or not, or UnknownCounter."""
    counter = session.get(Counter, counter_id)
    if counter is None:
        raise UnknownCounter(f"No counter has the id {counter_id}.")
    return counter


def save_service(
    session: Session,
    clock: Clock,
    actor_id: int | None,
    raw: Mapping[str, Any],
    service_id: int | None = None,
) -> Service:
    """Create a service, or change one; raises SettingsInvalid naming the fields refused."""
    service = service_by_id(session, service_id) if service_id is not None else None
    values, errors = clean_service(raw)
    if not errors:
        others = select(Service) if service is None else select(Service).where(Service.id != service.id)
        errors = service_conflicts(values, [service_record(s) for s in session.scalars(others)])
    if errors:
        raise SettingsInvalid(errors)
    before = service_record(service) if service is not None else None
    if service is None:
        service = Service()
        session.add(service)
    for field, value in values.items():
        setattr(service, field, value)
    session.flush()
    after = service_record(service)
    action = "create_service" if before is None else "update_service"
    _changed(session, clock, actor_id, action, f"service:{service.code}", before, after)
    return service


def _service_used(session: Session, service_id: int) -> bool:
    tickets = (
        select(func.count())
        .select_from(Ticket)
        .where(
            or_(
                Ticket.service_id == service_id,
                Ticket.issued_service_id == service_id,
                Ticket.transferred_from_id == service_id,
            )
        )
    )
    visits = select(func.count()).select_from(Visit).where(Visit.service_id == service_id)
    bookings = select(func.count()).select_from(Booking).where(Booking.service_id == service_id)
    return any(session.scalar(count) for count in (tickets, visits, bookings))


def remove_service(session: Session, clock: Clock, actor_id: int | None, service_id: int) -> str:
    """Delete a service never used; deactivate one with tickets. Returns 'deleted' or 'deactivated'."""
    service = service_by_id(session, service_id)
    before = service_record(service)
    if _service_used(session, service.id):
        service.active = False
        _changed(
            session,
            clock,
            actor_id,
            "deactivate_service",
            f"service:{service.code}",
            before,
            service_record(service),
        )
        return "deactivated"
    service.counters = []
    # Its booking settings and (empty) slots go with it: PostgreSQL refuses to leave them pointing at nothing.
    for kind in (ServiceDaySequence, BookingSlot, BookingSettings):
        session.execute(delete(kind).where(kind.service_id == service.id))
    session.delete(service)
    audit(session, clock, actor_id, "delete_service", f"service:{service.code}", before=before, after=None)
    note_settings_changed(session)
    return "deleted"


def save_counter(
    session: Session,
    clock: Clock,
    actor_id: int | None,
    raw: Mapping[str, Any],
    counter_id: int | None = None,
) -> Counter:
    """Create a counter, or change one; an open counter cannot be deactivated (close it first)."""
    counter = counter_by_id_any(session, counter_id) if counter_id is not None else None
    services = {s.code: s for s in session.scalars(select(Service))}
    values, errors = clean_counter(raw, services)
    if not errors:
        others = select(Counter) if counter is None else select(Counter).where(Counter.id != counter.id)
        errors = counter_conflicts(values, [counter_record(c) for c in session.scalars(others)])
    if counter is not None and not values["active"] and counter.state != CounterState.CLOSED:
        on_duty = (counter.staff.display_name or counter.staff.username) if counter.staff else "-"
        errors["active"] = (
            f"Counter {counter.name} is {counter.state} ({on_duty}); close it before deactivating. · "
            f"窗口 {counter.name} 正在使用（{on_duty}），请先关闭窗口。"
        )
    if errors:
        raise SettingsInvalid(errors)
    before = counter_record(counter) if counter is not None else None
    if counter is None:
        counter = Counter(state=CounterState.CLOSED)
        session.add(counter)
    counter.name = values["name"]
    counter.active = values["active"]
    counter.services = [services[code] for code in values["services"]]
    session.flush()
    action = "create_counter" if before is None else "update_counter"
    _changed(session, clock, actor_id, action, f"counter:{counter.id}", before, counter_record(counter))
    return counter


def _counter_used(session: Session, counter_id: int) -> bool:
    checks = (
        select(func.count()).select_from(Ticket).where(Ticket.counter_id == counter_id),
        select(func.count()).select_from(TicketEvent).where(TicketEvent.counter_id == counter_id),
        select(func.count()).select_from(Visit).where(Visit.counter_id == counter_id),
        select(func.count()).select_from(CounterSession).where(CounterSession.counter_id == counter_id),
        select(func.count()).select_from(CounterPause).where(CounterPause.counter_id == counter_id),
    )
    return any(session.scalar(check) for check in checks)


def remove_counter(session: Session, clock: Clock, actor_id: int | None, counter_id: int) -> str:
    """Delete a counter never used; deactivate one with history. Returns 'deleted' or 'deactivated'."""
    counter = counter_by_id_any(session, counter_id)
    if counter.state != CounterState.CLOSED:
        raise SettingsInvalid(
            {"active": f"Counter {counter.name} is open; close it first. · 窗口正在使用，请先关闭。"}
        )
    before = counter_record(counter)
    if _counter_used(session, counter.id):
        counter.active = False
        _changed(
            session,
            clock,
            actor_id,
            "deactivate_counter",
            f"counter:{counter.id}",
            before,
            counter_record(counter),
        )
        return "deactivated"
    counter.services = []
    session.execute(delete(RatingTablet).where(RatingTablet.counter_id == counter.id))
    session.delete(counter)
    audit(session, clock, actor_id, "delete_counter", f"counter:{counter.id}", before=before, after=None)
    note_settings_changed(session)
    return "deleted"


def save_hall(session: Session, clock: Clock, actor_id: int | None, raw: Mapping[str, Any]) -> Hall:
    """Change the hall settings; raises SettingsInvalid naming the fields refused."""
    values, errors = clean_hall(raw)
    if errors:
        raise SettingsInvalid(errors)
    hall = hall_settings(session)
    before = hall_record(hall)
    for field, value in values.items():
        setattr(hall, field, value)
    session.flush()
    _changed(session, clock, actor_id, "update_hall", "hall", before, hall_record(hall))
    return hall


def _device_name(name: object) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > DEVICE_NAME_MAX:
        raise SettingsInvalid({"name": f"1-{DEVICE_NAME_MAX} characters. · 1-{DEVICE_NAME_MAX} 个字符。"})
    return name


def register_kiosk(
    session: Session, clock: Clock, actor_id: int | None, name: str, token_digest: str
) -> KioskDevice:
    """Register a kiosk device under the digest of its one-time link's token."""
    name = _device_name(name)
    device = KioskDevice(name=name, token_hash=token_digest, active=True, created_at=clock.now())
    session.add(device)
    session.flush()
    audit(
        session, clock, actor_id, "register_kiosk", f"kiosk:{device.id}", after={"name": name, "active": True}
    )
    return device


def revoke_kiosk(session: Session, clock: Clock, actor_id: int | None, device_id: int) -> KioskDevice:
    """Revoke a kiosk device: its tickets count against the address limit again."""
    device = session.get(KioskDevice, device_id)
    if device is None:
        raise NotFound(f"No kiosk device has the id {device_id}.")
    if not device.active:
        raise InvalidInput(f"Kiosk {device.name} is revoked already.")
    device.active = False
    audit(
        session,
        clock,
        actor_id,
        "revoke_kiosk",
        f"kiosk:{device.id}",
        before={"name": device.name, "active": True},
        after={"name": device.name, "active": False},
    )
    return device


def register_tablet(
    session: Session, clock: Clock, actor_id: int | None, name: str, counter_id: object, token_digest: str
) -> RatingTablet:
    """Register a counter's rating tablet under the digest of its address's token."""
    name = _device_name(name)
    try:
        counter = counter_by_id(session, int(str(counter_id)))
    except (ValueError, UnknownCounter):
        raise SettingsInvalid({"counter_id": "Choose a counter. · 请选择窗口。"}) from None
    tablet = RatingTablet(
        name=name, counter_id=counter.id, token_hash=token_digest, active=True, created_at=clock.now()
    )
    session.add(tablet)
    session.flush()
    audit(
        session,
        clock,
        actor_id,
        "register_tablet",
        f"tablet:{tablet.id}",
        after={"name": name, "counter_id": counter.id, "active": True},
    )
    return tablet


def revoke_tablet(session: Session, clock: Clock, actor_id: int | None, tablet_id: int) -> RatingTablet:
    """Revoke a rating tablet: its address stops working at once."""
    tablet = session.get(RatingTablet, tablet_id)
    if tablet is None:
        raise NotFound(f"No rating tablet has the id {tablet_id}.")
    if not tablet.active:
        raise InvalidInput(f"Rating tablet {tablet.name} is revoked already.")
    tablet.active = False
    before = {"name": tablet.name, "counter_id": tablet.counter_id, "active": True}
    audit(
        session,
        clock,
        actor_id,
        "revoke_tablet",
        f"tablet:{tablet.id}",
        before=before,
        after={**before, "active": False},
    )
    return tablet
