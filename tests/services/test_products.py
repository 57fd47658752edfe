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
