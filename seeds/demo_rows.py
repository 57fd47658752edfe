"""Made-up leads and clients for the demo, as rows ready for bulk INSERTs: names from short
lists, ``@example.com`` addresses, phone numbers in the 555-01xx range reserved for fiction,
and the products, contacts and tasks such people have."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from models import ContactMethod, ContactRole, ProductStatus, RecordKind, TaskKind

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Maria",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Donald",
    "Sandra",
    "Steven",
    "Ashley",
    "Paul",
    "Kimberly",
    "Andrew",
    "Emily",
    "Joshua",
    "Donna",
    "Kenneth",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Dorothy",
    "Timothy",
    "Melissa",
    "Ronald",
    "Deborah",
    "Edward",
    "Stephanie",
    "Jason",
    "Rebecca",
    "Jeffrey",
    "Sharon",
    "Ryan",
    "Laura",
    "Jacob",
    "Cynthia",
    "Aisha",
    "Wei",
    "Priya",
    "Hiroshi",
    "Olga",
    "Mateo",
    "Fatima",
    "Kwame",
    "Sofia",
    "Dmitri",
    "Ingrid",
    "Rahul",
    "Yara",
    "Thanh",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Okafor",
    "Kowalski",
    "Chen",
    "Patel",
    "Tanaka",
    "Ivanova",
    "Silva",
    "Haddad",
    "Mensah",
    "Rossi",
    "Novak",
    "Lindqvist",
    "Sharma",
    "Tran",
]
STREETS = (
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Elm St",
    "Pine Rd",
    "Lakeview Dr",
    "Sunset Blvd",
    "Park Ave",
    "Washington St",
    "Hillcrest Rd",
    "Riverside Dr",
    "Mill Rd",
    "Church St",
)
PLACES = (
    ("Springfield", "IL", "62701", "217"),
    ("Austin", "TX", "78701", "512"),
    ("Tampa", "FL", "33602", "813"),
    ("Phoenix", "AZ", "85004", "602"),
    ("Columbus", "OH", "43215", "614"),
    ("Raleigh", "NC", "27601", "919"),
    ("Denver", "CO", "80202", "303"),
    ("Portland", "OR", "97204", "503"),
    ("Richmond", "VA", "23219", "804"),
    ("Boise", "ID", "83702", "208"),
)
CARRIERS = {
    "Medicare Advantage": (
        ("Humana", "Gold Plus HMO"),
        ("Aetna", "Medicare Eagle PPO"),
        ("UnitedHealthcare", "AARP Medicare Advantage Choice"),
    ),
    "Medicare Supplement": (
        ("Mutual of Omaha", "Plan G"),
        ("Cigna", "Plan N"),
        ("Aetna", "Plan G"),
    ),
    "Prescription Drug Plan (PDP)": (("WellCare", "Value Script"), ("SilverScript", "Choice")),
    "Auto": (("Progressive", "Auto"), ("Travelers", "Auto"), ("Safeco", "Auto")),
    "Home": (("Travelers", "Homeowners"), ("Safeco", "Homeowners"), ("Chubb", "Masterpiece")),
    "Life": (("Mutual of Omaha", "Term Life 20"), ("Lincoln Financial", "TermAccel")),
    "Commercial": (("The Hartford", "Business Owner's Policy"), ("Hiscox", "General Liability")),
}
SOURCES = ("Referral", "Website", "Seminar", "Mailer", "Walk-in", "Carrier lead")
TASK_TITLES = (
    (TaskKind.CALL, "Call about renewal"),
    (TaskKind.CALL, "Follow up on quote"),
    (TaskKind.TODO, "Send plan comparison"),
    (TaskKind.TODO, "Collect signed application"),
    (TaskKind.REMINDER, "Check enrollment confirmation"),
    (TaskKind.TODO, "Review prescriptions for next year"),
)


def record_row(rng: random.Random, staff_ids: list[int]) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, postal, area = rng.choice(PLACES)
    kind = RecordKind.CLIENT if rng.random() < 0.6 else RecordKind.LEAD
    commercial = rng.random() < 0.08
    born = date(rng.randint(1938, 1995), rng.randint(1, 12), rng.randint(1, 28))
    email = f"{first}.{last}.{rng.randrange(10**6):06d}@example.com".lower()
    mobile = f"+1{area}55501{rng.randrange(100):02d}"
    prefers_sms = rng.random() < 0.2
    created = datetime.now(UTC) - timedelta(days=rng.randint(0, 900), minutes=rng.randint(0, 1440))
    return {
        "kind": kind,
        "first_name": first,
        "last_name": last,
        "company_name": f"{last} {rng.choice(('Bakery', 'Plumbing', 'Dental', 'Logistics'))} LLC"
        if commercial
        else None,
        "email": email,
        "phone": f"+1{area}55501{rng.randrange(100):02d}" if rng.random() < 0.5 else None,
        "mobile": mobile,
        "date_of_birth": born,
        "address_line1": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
        "city": city,
        "state": state,
        "postal_code": postal,
        "country": "US",
        "preferred_contact": ContactMethod.SMS if prefers_sms else ContactMethod.EMAIL,
        "email_opt_in": True,
        "sms_opt_in": prefers_sms,
        "source": rng.choice(SOURCES),
        "assigned_agent_id": rng.choice(staff_ids),
        "created_at": created,
        "updated_at": created,
    }


def product_rows(
    rng: random.Random, record_id: int, kind: RecordKind, coverage: dict[str, int], today: date
) -> list[dict[str, Any]]:
    rows = []
    lines = [name for name in CARRIERS if name in coverage]
    for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3)) if lines else 0):
        line = rng.choice(lines)
        carrier, plan = rng.choice(CARRIERS[line])
        if kind == RecordKind.LEAD:
            status = rng.choice(
                (
                    ProductStatus.QUOTED,
                    ProductStatus.QUOTED,
                    ProductStatus.SUBMITTED,
                    ProductStatus.DECLINED,
                )
            )
        else:
            status = rng.choice(
                (
                    ProductStatus.ACTIVE,
                    ProductStatus.ACTIVE,
                    ProductStatus.ACTIVE,
                    ProductStatus.QUOTED,
                    ProductStatus.CANCELLED,
                )
            )
        effective = today - timedelta(days=rng.randint(-60, 1500))
        rows.append(
            {
                "record_id": record_id,
                "carrier": carrier,
                "plan_name": plan,
                "coverage_type_id": coverage[line],
                "status": status,
                "policy_number": f"{carrier[:3].upper()}-{rng.randrange(10**7):07d}"
                if status in (ProductStatus.ACTIVE, ProductStatus.CANCELLED)
                else None,
                "effective_date": effective,
                "end_date": effective + timedelta(days=365) if line in ("Auto", "Home") else None,
                "premium": Decimal(rng.randrange(30000, 480000)) / 100,
                "client_access": status == ProductStatus.ACTIVE,
            }
        )
    return rows


def contact_rows(rng: random.Random, record_id: int, last_name: str) -> list[dict[str, Any]]:
    rows = []
    if rng.random() < 0.3:
        rows.append(
            {
                "record_id": record_id,
                "role": ContactRole.CO_APPLICANT,
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": last_name,
                "relationship_to_record": "Spouse",
                "date_of_birth": date(
                    rng.randint(1938, 1995), rng.randint(1, 12), rng.randint(1, 28)
                ),
            }
        )
    if rng.random() < 0.1:
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        rows.append(
            {
                "record_id": record_id,
                "role": ContactRole.CONTACT_PERSON,
                "first_name": first,
                "last_name": last,
                "relationship_to_record": rng.choice(
                    ("Daughter", "Son", "Accountant", "Caregiver")
                ),
                "email": f"{first}.{last}.{rng.randrange(10**6):06d}@example.com".lower(),
            }
        )
    return rows


def task_row(rng: random.Random, record_id: int, assignee_id: int, today: date) -> dict[str, Any]:
    kind, title = rng.choice(TASK_TITLES)
    due_day = today + timedelta(days=rng.randint(-5, 20))
    due = datetime.combine(due_day, time(rng.choice((9, 10, 11, 14, 15, 16)), 0), tzinfo=UTC)
    return {
        "title": title,
        "kind": kind,
        "due_at": due,
        "assignee_id": assignee_id,
        "record_id": record_id,
        "done": False,
    }
