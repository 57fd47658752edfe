"""Who acted: a client (the primary applicant or one of the record's other people), a staff
member, or the system itself. Events carry an :class:`Actor`; the event catalogue says which
kind of actor causes each event, and the notification rules decide from it who hears."""

from __future__ import annotations

from dataclasses import dataclass

from models import PortalAccount, User

CLIENT, STAFF, SYSTEM = "client", "staff", "system"


@dataclass(frozen=True)
class Actor:
    kind: str
    label: str
    user_id: int | None = None
    account_id: int | None = None
    email: str | None = None
    #: For clients: True when the acting account is the primary applicant's.
    is_primary: bool = True

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls(STAFF, user.full_name, user_id=int(user.id), email=str(user.email))

    @classmethod
    def client(cls, account: PortalAccount) -> Actor:
        email = account.email or (account.record.email if account.is_primary else None)
        return cls(
            CLIENT,
            account.person_name,
            account_id=account.id,
            email=email,
            is_primary=account.is_primary,
        )

    @classmethod
    def system(cls, label: str = "Portico") -> Actor:
        return cls(SYSTEM, label)
