import pytest
from django.core.exceptions import ValidationError

from tests.factories import CategoryFactory, ContactFactory
from tickets.models import Category, Contact

pytestmark = pytest.mark.django_db


def test_a_contact_email_is_unique_whatever_its_case():
    ContactFactory(email="Dana@Example.test")
    duplicate = Contact(email="dana@example.TEST")
    with pytest.raises(ValidationError, match="already exists"):
        duplicate.full_clean()


def test_two_top_level_categories_cannot_share_a_name():
    CategoryFactory(name="Hardware")
    with pytest.raises(ValidationError, match="already exists"):
        Category(name="Hardware").full_clean()


def test_the_same_name_may_appear_under_different_parents():
    hardware, software = CategoryFactory(name="Hardware"), CategoryFactory(name="Software")
    CategoryFactory(name="Other", parent=hardware)
    Category(name="Other", parent=software).full_clean()


def test_a_category_shows_its_name_and_its_path():
    laptops = CategoryFactory(name="Laptops", parent=CategoryFactory(name="Hardware"))
    assert (str(laptops), laptops.path) == ("Laptops", "Hardware › Laptops")


def test_find_or_create_finds_a_contact_whatever_the_case_of_the_address():
    dana = ContactFactory(email="Dana@Example.test")
    assert Contact.objects.find_or_create(" dana@example.TEST ", name="D") == dana
    assert Contact.objects.count() == 1


def test_find_or_create_makes_a_new_contact_with_its_name():
    contact = Contact.objects.find_or_create("new@example.test", name="New Person")
    assert (contact.email, contact.name) == ("new@example.test", "New Person")
