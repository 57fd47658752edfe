from datetime import date
from decimal import Decimal

import pytest

from app.services import products as product_service
from app.services.errors import ValidationError
from models import Product, ProductStatus
from tests import factories


def test_clean_product_tidies_text():
    product = product_service.clean_product(
        Product(carrier=" Aetna ", plan_name=" ", policy_number=" P-1 ")
    )
    assert (product.carrier, product.plan_name, product.policy_number) == ("Aetna", None, "P-1")


@pytest.mark.parametrize(
    "values, field",
    [
        ({"carrier": " "}, "carrier"),
        (
            {"carrier": "X", "effective_date": date(2026, 2, 1), "end_date": date(2026, 1, 1)},
            "end_date",
        ),
        ({"carrier": "X", "premium": Decimal("-1")}, "premium"),
    ],
)
def test_clean_product_refuses_bad_values(values, field):
    with pytest.raises(ValidationError) as caught:
        product_service.clean_product(Product(**values))
    assert caught.value.field == field


def test_coverage_type_names_are_unique_without_regard_to_case(ctx):
    with pytest.raises(ValidationError, match="already a coverage type"):
        product_service.check_coverage_type_name("medicare advantage")
    assert product_service.check_coverage_type_name(" Pet  insurance ") == "Pet insurance"


def test_coverage_type_in_use(ctx):
    ma = factories.coverage("Medicare Advantage")
    pet = factories.coverage("Pet")
    factories.product(factories.record(), coverage_type=ma, status=ProductStatus.ACTIVE)
    assert product_service.coverage_type_in_use(ma)
    assert not product_service.coverage_type_in_use(pet)


def _status_workflow(status):
    from models import ActionKind, ActionTarget, DelayUnit, Workflow, WorkflowAction, db

    flow = Workflow(name=f"When {status.label}", active=True, product_status=status)
    flow.actions = [
        WorkflowAction(
            position=0,
            delay_amount=1,
            delay_unit=DelayUnit.DAYS,
            kind=ActionKind.CREATE_TASK,
            target=ActionTarget.AGENT,
            task_title="Welcome call",
        )
    ]
    db.session.add(flow)
    db.session.commit()
    return flow


def test_saving_a_product_logs_the_change_and_its_workflows_follow(ctx):
    from sqlalchemy import select

    from app.services import events, workflows
    from models import ActivityEntry, Record, db

    actor = events.Actor.staff(factories.staff())
    _status_workflow(ProductStatus.ACTIVE)
    record = factories.record()
    product = db.session.get(Product, factories.product(record).id)
    product.status = ProductStatus.ACTIVE  # as the form does, unsaved
    product_service.save(product, created=False, actor=actor)
    record = db.session.get(Record, record.id)
    assert len(workflows.runs_of(record, running=True)) == 1
    entry = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.event_key == "staff.product.changed")
    ).one()
    assert entry.details["changes"] == {"Status": ["Quoted", "Active"]}

    product_service.remove(product, actor=actor)
    assert db.session.get(Product, product.id) is None
    assert workflows.runs_of(record, running=True) == []
