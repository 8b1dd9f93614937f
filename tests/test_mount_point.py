"""The layout's links follow the mount point of each request."""

import tracemalloc


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


def test_many_mount_points_leave_no_state_behind(client):
    """A forwarded SCRIPT_NAME may differ on every request: nothing is kept per mount point."""
    for n in range(50):  # warm up: templates compiled, caches of the libraries filled
        client.get("/", environ_overrides={"SCRIPT_NAME": f"/warm{n}"})
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for n in range(1000):
        client.get("/", environ_overrides={"SCRIPT_NAME": f"/mount{n}"})
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()

    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # A page kept per mount point would be about 40 KB each: 40 MB here.
    assert grown < 2 * 1024 * 1024
