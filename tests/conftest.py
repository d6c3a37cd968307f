from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import secrets  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pykka  # noqa: E402
import pytest  # noqa: E402

from actors.config import CsConfig, config_from_dict  # noqa: E402
from storage import EmbeddedRedis, Store, connect  # noqa: E402
from transport.appserver.client import AppServerClient
from transport.appserver.server import make_appserver_app  # noqa: E402
from transport.csserver import CsServer, CsSettings  # noqa: E402
from transport.edge.auth import token_hash  # noqa: E402
from transport.http.server import start_server  # noqa: E402
from transport.sim.imsim import ImSimClient, ImSimulator, make_imsim_app  # noqa: E402
from transport.wildfire.api import AdminApi  # noqa: E402

ROBOT_ID = "cs_robot"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False).start()
    yield server.url
    server.stop()


@pytest.fixture
def store(redis_url):
    """A Store on the embedded Redis with a key prefix of its own."""
    store = Store(connect(redis_url), prefix=f"test-{secrets.token_hex(4)}")
    yield store
    store.delete_all()


@pytest.fixture(autouse=True)
def stop_all_actors():
    yield
    pykka.ActorRegistry.stop_all(timeout=5)


DEMO_CONFIG = {
    "servicers": [
        {"id": "alice", "name": "Alice", "portrait": "http://img/alice.png", "capacity": 1},
        {"id": "bob", "name": "Bob", "portrait": "http://img/bob.png", "capacity": 2},
    ],
    "faq": [
        {"keywords": ["price", "价格"], "answer": "Our plan costs 10 yuan a month."},
        {"keywords": ["hours", "营业"], "answer": "We are open 9:00-18:00."},
    ],
}


def tokens_file(path, servicers=None, supervisors=()) -> str:
    """An API tokens file (``--api-tokens-file``): ``servicers`` maps a token to
    its servicer's id; each of ``supervisors`` is a supervisor's token."""
    tokens = [{"sha256": token_hash(t), "role": "servicer", "servicer": s}
              for t, s in (servicers or {}).items()]
    tokens += [{"sha256": token_hash(t), "role": "supervisor"} for t in supervisors]
    path.write_text(json.dumps({"tokens": tokens}))
    return str(path)


def make_config(**overrides) -> CsConfig:
    return config_from_dict({**DEMO_CONFIG, **overrides})


class Stack(SimpleNamespace):
    """IM simulator, App Server and CS server on real loopback HTTP."""

    def stop(self):
        self.cs.stop()
        self.appserver_http.stop()
        self.sim_http.stop()


def start_stack(redis_url, config=None, *, trusted=False, rate_limit=1000,
                callback_token=None, api_token="", demo=False, **settings_overrides):
    admin_secret = secrets.token_hex(8)
    robot_secret = secrets.token_hex(8)
    key = secrets.token_hex(16)
    sim = ImSimulator(admin_secret, rate_limit=rate_limit)
    sim_http = start_server(make_imsim_app(sim))
    admin = AdminApi(sim_http.url, admin_secret)
    config = config or make_config()
    appserver_http = start_server(make_appserver_app(
        admin=admin, key=key, robot_id=ROBOT_ID, shadow_id_pattern=config.shadow_id_pattern))
    if demo:
        settings_overrides["demo_sim_url"] = sim_http.url
    settings = CsSettings(
        im_url=sim_http.url, robot_id=ROBOT_ID, robot_secret=robot_secret,
        callback_token=callback_token or secrets.token_hex(16), redis_url=redis_url,
        redis_prefix=f"test-{secrets.token_hex(4)}", appserver_url=appserver_http.url,
        appserver_key=key, admin_secret=admin_secret if trusted else "",
        im_admin_url=sim_http.url, config=config, api_token=api_token, **settings_overrides)
    cs = CsServer(settings)
    AppServerClient(appserver_http.url, key).create_cs_robot(
        secret=robot_secret, callback=cs.robot_callback_url)
    client = ImSimClient(sim_http.url)
    for servicer in config.servicers:
        client.put_user(servicer.id, servicer.name, servicer.portrait)
    return Stack(sim=sim, sim_http=sim_http, client=client, cs=cs, settings=settings,
                 appserver_http=appserver_http, appserver_key=key, admin=admin)


@pytest.fixture
def stack(redis_url):
    stack = start_stack(redis_url)
    yield stack
    stack.stop()
    stack.cs.store.delete_all()
