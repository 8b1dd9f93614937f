"""Several workers pointed at one Redis share one count (PORTAL_TEST_REDIS_URL; CI sets it).

Redis must answer: a count that silently falls back to each worker's memory would let a
flood through N times, so this fails rather than skips when Redis is missing.
"""

import os
import uuid

import pytest
import redis

from portal import create_app
from portal.extensions import db
from tests.abuse.conftest import OTHER_ADDRESS
from tests.factories import PASSWORD

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("PORTAL_TEST_REDIS_URL") or DEFAULT_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_timeout=5).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {url} does not answer ({error}); set PORTAL_TEST_REDIS_URL")
    return url


@pytest.fixture
def app_config(app_config, redis_url):
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        # A prefix of this test's own, so that nothing else in the database counts, or is wiped.
        "RATELIMIT_KEY_PREFIX": f"portal-test-{uuid.uuid4().hex}",
        "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP": "3 per minute",
        # Errors must show here, not be swallowed into "no limit".
        "RATELIMIT_SWALLOW_ERRORS": False,
    }


@pytest.fixture
def second_worker(app, app_config):
    """Another app (a second worker process) with the same configuration."""
    other = create_app(app_config)
    yield other
    with other.app_context():
        db.engine.dispose()


def test_two_workers_share_one_count(client, second_worker, make):
    user = make.user()
    wrong = {"email": user.email, "password": "wrong"}
    other_client = second_worker.test_client()

    assert client.post("/login", data=wrong).status_code == 401
    assert other_client.post("/login", data=wrong).status_code == 401
    assert client.post("/login", data=wrong).status_code == 401

    # Three failures in all from this address, two on one worker and one on the other: both
    # refuse it now; the owner's right password from another address still signs in.
    right = {"email": user.email, "password": PASSWORD}
    assert other_client.post("/login", data=right).status_code == 429
    assert client.post("/login", data=right).status_code == 429
    assert (
        client.post("/login", data=right, environ_base={"REMOTE_ADDR": OTHER_ADDRESS}).status_code
        == 303
    )


def test_the_count_lives_in_redis(app, client, make, redis_url):
    user = make.user()
    client.post("/login", data={"email": user.email, "password": "wrong"})

    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}*")

    assert keys
    # Only digests of identities are stored, never the email address itself.
    assert not any(user.email.encode() in key for key in keys)
