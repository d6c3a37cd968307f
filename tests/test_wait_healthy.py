"""Waiting for a child server's health check: up, gone, or too slow."""

import pytest

from storage import free_port
from transport.http.client import NotReady, wait_healthy
from transport.http.server import start_server
from transport.sim.ceiling import make_bare_app
from transport.sim.imsim import ImSimulator, make_imsim_app


def test_returns_once_the_server_answers():
    server = start_server(make_bare_app())
    try:
        wait_healthy(server.url, lambda: False, timeout_secs=5)
    finally:
        server.stop()


def test_a_process_that_ended_is_reported_as_exited():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NotReady) as caught:
        wait_healthy(url, lambda: True, timeout_secs=5)
    assert caught.value.exited and "exited during start-up" in str(caught.value)


def test_a_server_that_never_answers_times_out():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NotReady) as caught:
        wait_healthy(url, lambda: False, timeout_secs=0.2, poll_secs=0.05)
    assert not caught.value.exited and str(caught.value) == f"{url} did not come up"


def test_the_im_simulator_has_a_health_check_too():
    sim = start_server(make_imsim_app(ImSimulator("secret")))
    try:
        wait_healthy(sim.url, lambda: False, timeout_secs=5)
    finally:
        sim.stop()
