import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_login_lands_on_home(make_user, login_page, live_server):
    make_user(role="PARALEGAL", username="pat")
    page = login_page("pat")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").first.is_visible()
