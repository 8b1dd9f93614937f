def test_the_home_page_opens_in_chromium(new_context):
    page = new_context().new_page()
    page.goto("/")
    assert page.get_by_role("heading", name="Support").is_visible()
