"""Property-based: whatever arrives at the Bottle app, no 500 and no harm to others.

Generated callbacks and API requests go straight into the WSGI app (no
socket), backed by real actors and the embedded Redis.
"""

import io
import json
import wsgiref.util
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROBOT_ID, start_stack

ALLOWED = {200, 400, 401, 403, 404, 405, 409, 413}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=20)
ids = st.text(min_size=0, max_size=40) | st.sampled_from(
    ["carol", "a:b*c", "../../etc", "x*Shadow", "%00", "\u0000", "cs:session:victim", ROBOT_ID])
payloads = st.fixed_dictionaries({"type": st.integers(-5, 20000) | json_values}, optional={
    "searchableContent": st.text(max_size=200) | json_values,
    "content": st.text(max_size=50), "extra": st.text(max_size=50) | json_values,
    "persistFlag": st.integers(-1, 5), "mentionedTarget": json_values})
callbacks = st.fixed_dictionaries(
    {"messageId": st.integers(0, 2**63) | json_values, "sender": ids | json_values,
     "conv": st.fixed_dictionaries({"type": st.integers(-1, 3), "target": ids | st.just(
         ROBOT_ID)}) | json_values,
     "payload": payloads | json_values},
    optional={"timestamp": st.integers() | json_values, "toUsers": json_values})


def wsgi(app, method, path, body=b"", headers=None):
    environ = {}
    wsgiref.util.setup_testing_defaults(environ)
    path, _, query = path.partition("?")
    environ.update(REQUEST_METHOD=method, PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_LENGTH=str(len(body)),
                   CONTENT_TYPE="application/json", REMOTE_ADDR="127.0.0.1",
                   **{"wsgi.input": io.BytesIO(body)})
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status = []
    chunks = app(environ, lambda s, h, exc_info=None: status.append(s))
    content = b"".join(chunks)
    return int(status[0].split()[0]), content


@pytest.fixture
def target(redis_url):
    stack = start_stack(redis_url, api_token="boss")
    stack.client.send("victim", ROBOT_ID, "price")
    stack.client.wait_for("victim")
    before = stack.cs.store.load_session("victim")
    history = stack.cs.store.history("victim", 100)
    yield stack
    assert stack.cs.store.load_session("victim") == before
    assert stack.cs.store.history("victim", 100) == history
    stack.stop()
    stack.cs.store.delete_all()


def robot_path(stack):
    return f"/im/robot/{stack.settings.callback_token}"


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=callbacks)
def test_generated_callbacks_never_cause_a_500(target, body):
    if body.get("sender") == "victim":
        body["sender"] = "not-the-victim"
    status, content = wsgi(target.cs.app, "POST", robot_path(target),
                           json.dumps(body).encode())
    assert status in ALLOWED, content
    assert json.loads(content)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.binary(max_size=300), path=st.sampled_from(["robot", "shadow"]))
def test_arbitrary_bytes_never_cause_a_500(target, raw, path):
    status, content = wsgi(target.cs.app, "POST",
                           f"/im/{path}/{target.settings.callback_token}", raw)
    assert status in ALLOWED and json.loads(content)


api_paths = st.sampled_from([
    "/api/servicers", "/api/servicers/{id}", "/api/servicers/{id}/status",
    "/api/servicers/{id}/stats", "/api/queue", "/api/sessions",
    "/api/sessions/{id}/transfer", "/api/ratings/{id}", "/api/customers/{id}/history",
    "/api/customers/{id}/history?limit={q}&before={q}&order={q}"])
url_ids = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#"),
                  min_size=1, max_size=30)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), path=api_paths, id_=url_ids,
       q=st.text(max_size=8).map(quote),
       body=json_values, token=st.sampled_from(["Bearer boss", "Bearer nope", ""]))
def test_generated_api_requests_never_cause_a_500(target, method, path, id_, q, body, token):
    if "victim" in id_:
        id_ = "someone"
    url = path.replace("{id}", id_.replace("%", "")).replace("{q}", q)
    path_info, _, query = url.partition("?")
    app = target.cs.app
    environ_path = path_info.encode("utf-8", "surrogatepass").decode("latin-1")
    status, content = wsgi(app, method, environ_path + ("?" + query if query else ""),
                           json.dumps(body).encode(), {"Authorization": token})
    assert status in ALLOWED, (url, content)
