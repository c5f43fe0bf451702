"""The desk's navbar on common screen widths: it fits on one line or folds behind the
menu button, and never pushes the page sideways or the user's menu off the screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 1400, 1600, 1920])
def test_the_navbar_fits_the_screen(page, sign_in, width):
    agent = UserFactory(first_name="Maximiliane", last_name="Unterberger-Schwarzenbach")
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(agent)
    page.goto("/desk/dashboard/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    toggler = page.locator("button.navbar-toggler")
    if toggler.is_visible():  # folded: the menu opens on a click
        toggler.click()
    menu = page.get_by_role("button", name="Maximiliane")
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box["x"] + box["width"] <= width


def test_the_back_office_menu_leads_to_invoices_and_reports(page, sign_in):
    sign_in(UserFactory())
    page.goto("/desk/dashboard/")
    page.get_by_role("button", name="Back office").click()
    page.get_by_role("link", name="Invoices").click()
    expect(page).to_have_url(re.compile(r"/desk/billing/invoices/$"))
