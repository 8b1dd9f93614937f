"""The XSS corpus in Chromium: the view pages, the live preview and the HTML email run nothing."""

import pytest

from portal.models import StaffMember
from tests.factories import PASSWORD
from tests.security.xss import PAYLOADS, carrier_department, email_html_parts, payload_ticket

pytestmark = pytest.mark.browser

OWN_SCRIPTS_ONLY = """() => Array.from(document.scripts).every(
    s => s.src && new URL(s.src, location.href).pathname.startsWith("/static/"))"""


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


class Watcher:
    """Records every alert, confirm or prompt a page opens."""

    def __init__(self, page):
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self.dismiss)

    def dismiss(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def ran(self) -> list[str]:
        """What ran on the page as it is now, if anything."""
        found = [f"dialog: {message}" for message in self.dialogs]
        if self.page.evaluate("() => window.__xss !== undefined"):
            found.append("window.__xss was set")
        if not self.page.evaluate(OWN_SCRIPTS_ONLY):
            found.append("a script element that is not the portal's")
        self.dialogs.clear()
        return found


def staff_page(new_context, staff: StaffMember):
    page = new_context().new_page()
    page.goto("/staff/login")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/")
    return page


def test_the_view_pages_run_nothing(new_context, make, settings):
    department = carrier_department(make)
    staff = make.staff()
    client_page = new_context().new_page()
    client_watch = Watcher(client_page)
    staff_watch = Watcher(staff_page(new_context, staff))
    ran = {}
    for payload in PAYLOADS:
        for markdown in (True, False):
            ticket = payload_ticket(department, settings, payload, markdown=markdown)
            client_page.goto(f"/viewticket?tid={ticket.tid}&c={ticket.access_code}")
            watches = [("client", client_watch)]
            # The staff page includes the same ticket template; once per payload is enough.
            if markdown:
                staff_watch.page.goto(f"/staff/tickets/{ticket.tid}")
                watches.append(("staff", staff_watch))
            for where, watch in watches:
                if found := watch.ran():
                    ran[(payload, markdown, where)] = found

    assert ran == {}


def test_the_live_preview_runs_nothing(new_context, make):
    department = make.department()
    page = new_context().new_page()
    watch = Watcher(page)
    page.goto(f"/submitticket?deptid={department.id}")
    message = page.get_by_label("Message")
    ran = {}
    for payload in PAYLOADS:
        with page.expect_response("**/markdown-preview") as preview:
            message.fill(payload)
        assert preview.value.ok
        # The script puts the answer in the page after the response arrives.
        page.wait_for_function(
            "() => !document.querySelector('[data-preview-target] .preview-empty')"
        )
        if found := watch.ran():
            ran[payload] = found

    assert ran == {}


def test_the_html_email_runs_nothing(new_context, make, settings):
    department = carrier_department(make)
    page = new_context().new_page()
    watch = Watcher(page)
    ran = {}
    for payload in PAYLOADS:
        ticket = payload_ticket(department, settings, payload, markdown=True)
        for html in email_html_parts(ticket):
            page.set_content(html)
            if found := watch.ran():
                ran[payload] = found

    assert ran == {}


def test_the_watcher_sees_a_payload_that_runs(new_context):
    page = new_context().new_page()
    watch = Watcher(page)

    page.set_content("<img src=x onerror=\"window.__xss=1;alert('ran')\">")
    page.wait_for_function("() => window.__xss === 1")

    assert watch.ran() == [
        "dialog: ran",
        "window.__xss was set",
    ]
