"""The layout's links follow the mount point of each request."""


def test_links_follow_the_mount_point_of_each_request(client):
    at_root = client.get("/").get_data(as_text=True)
    under_prefix = client.get("/", environ_overrides={"SCRIPT_NAME": "/support"}).get_data(
        as_text=True
    )
    again_at_root = client.get("/").get_data(as_text=True)

    assert 'href="/submitticket"' in at_root
    assert 'href="/static/portal.css"' in at_root
    assert 'href="/support/submitticket"' in under_prefix
    assert 'href="/support/static/portal.css"' in under_prefix
    assert again_at_root == at_root
