"""An admin opens the System page from the Settings menu and sees the workers and the queue."""

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.test_admin_browser import sign_in, watch_console

pytestmark = pytest.mark.browser


def test_an_admin_opens_the_system_page(page: Page, base_url, app):
    from app.redis import worker_redis
    from jobs.worker import Ticker, make_worker

    with app.app_context():
        admin = factories.staff(role="admin", email="sysadmin@example.com")
    worker = make_worker(app, simple=True, name="front-office-1")
    worker.register_birth()
    try:
        with app.app_context():
            Ticker(worker_redis(app), owner=worker.name, app=app, worker=worker).tick()
        problems = watch_console(page)
        sign_in(page, base_url, admin.email)
        page.wait_for_load_state("load")  # the Settings menu opens once its script has run
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="System").click()
        expect(page.get_by_role("heading", name="System")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text("Work is on time.")
        workers = page.get_by_role("table", name="Workers")
        expect(workers.get_by_role("row", name="front-office-1")).to_contain_text("alive")
        expect(page.get_by_role("table", name="Queue")).to_contain_text("running, last swept")
        assert problems == []
    finally:
        worker.register_death()
