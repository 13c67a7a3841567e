"""Every page names the portal's icon, and /favicon.ico finds it: no 404 on any page, the
admin's included."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_served_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("favicon.svg")
    assert finders.find("favicon.svg")


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_pages_name_the_icon(client, url):
    assert f'<link rel="icon" href="{static("favicon.svg")}"' in client.get(url).content.decode()
