"""Access control and hostile input: exact statuses, the database intact, no secret logged.

Keys (tests/platform_api/conftest.py): ``admin``, ``operator`` and the site keys of
``electronics`` and ``biomedicine`` of the demo park.
"""

from __future__ import annotations

import logging

import pytest
from platform_helpers import PARK, PARK_FILE
from sqlalchemy import func, select

from vpp.platform.models import ApiKey, Park, Reading, Site

SITE = f"/api/v1/parks/{PARK}/sites/electronics"
DAY = {"date": "2026-07-15"}
SPAN = {
    "channel": "load_kw",
    "start": "2026-07-15T00:00:00+08:00",
    "end": "2026-07-16T00:00:00+08:00",
}
BATCH = {
    "readings": [{"channel": "load_kw", "timestamp": "2026-07-15T14:45:00+08:00", "value": 812.5}]
}
#: Every route that needs a key: (method, path template, query, JSON body).
ROUTES = [
    ("post", "/api/v1/parks", {}, {"file": str(PARK_FILE)}),
    ("get", "/api/v1/parks", {}, None),
    ("get", "/api/v1/parks/{park}/sites", {}, None),
    ("post", "/api/v1/parks/{park}/sites/{site}/telemetry", {}, BATCH),
    ("post", "/api/v1/parks/{park}/sites/{site}/telemetry.csv", {"channel": "load_kw"}, None),
    ("get", "/api/v1/parks/{park}/sites/{site}/telemetry", SPAN, None),
    ("get", "/api/v1/parks/{park}/sites/{site}/schedule", DAY, None),
    ("post", "/api/v1/parks/{park}/runs", {}, {"date": "2026-07-16"}),
    ("get", "/api/v1/parks/{park}/runs", {}, None),
    ("get", "/api/v1/runs/{run}", {}, None),
    ("post", "/api/v1/keys", {}, {"role": "operator"}),
    ("get", "/api/v1/keys", {}, None),
    ("delete", "/api/v1/keys/{key_id}", {}, None),
]
INJECTIONS = [
    "' OR '1'='1",
    "electronics'; DROP TABLE readings; --",
    '" OR 1=1 --',
    "1; DELETE FROM api_keys",
    "x' UNION SELECT hash_hex FROM api_keys --",
    "%27%20OR%201%3D1",
    "\\'; SELECT pg_sleep(5); --",
]


def _call(client, method, template, query, body, headers, **names):
    path = template.format(
        **{"park": PARK, "site": "electronics", "key_id": "0123456789ab", "run": 1, **names}
    )
    kwargs = {"params": query, "headers": headers}
    if body is not None:
        kwargs["json"] = body
    if template.endswith(".csv"):
        kwargs["content"] = "timestamp,load_kw\n2026-07-15T15:00:00+08:00,5\n"
        kwargs["headers"] = {**headers, "content-type": "text/csv"}
    return getattr(client, method)(path, **kwargs)


def test_no_key_or_a_bad_key_is_401_on_every_route(api):
    client = api["client"]
    bad = {"X-API-Key": api["keys"]["admin"][:-2] + "xx"}  # right id, wrong secret
    for method, template, query, body in ROUTES:
        for headers in ({}, bad, {"X-API-Key": "vpp_x"}, {"Authorization": "Bearer "}):
            answer = _call(client, method, template, query, body, headers)
            assert answer.status_code == 401, (method, template, headers)
    assert client.get("/api/v1/health").status_code == 200  # the one open route
    # nothing of a request is read before its key is checked: a broken body is still 401
    broken = {"content-type": "application/json"}
    path = f"{SITE}/telemetry"
    assert client.post(path, content=b'{"readings": [', headers=broken).status_code == 401
    assert client.post(path, content=b"x" * 70_000, headers=broken).status_code == 401
    assert client.get("/api/v1/nowhere").status_code == 401


def test_a_revoked_key_is_401_from_the_next_request(api):
    client, headers = api["client"], api["headers"]
    assert (
        client.get(f"{SITE}/telemetry", params=SPAN, headers=headers["electronics"]).status_code
        == 200
    )
    key_id = api["keys"]["electronics"].split("_")[1]
    assert client.delete(f"/api/v1/keys/{key_id}", headers=headers["admin"]).status_code == 204
    answer = client.get(f"{SITE}/telemetry", params=SPAN, headers=headers["electronics"])
    assert answer.status_code == 401
    bearer = {"Authorization": f"Bearer {api['keys']['electronics']}"}
    assert client.post(f"{SITE}/telemetry", json=BATCH, headers=bearer).status_code == 401
    assert client.delete("/api/v1/keys/ffffffffffff", headers=headers["admin"]).status_code == 404


def test_another_sites_data_is_403_and_roles_hold(api):
    client, h = api["client"], api["headers"]
    other = f"/api/v1/parks/{PARK}/sites/biomedicine"
    assert (
        client.post(f"{other}/telemetry", json=BATCH, headers=h["electronics"]).status_code == 403
    )
    assert (
        client.get(f"{other}/telemetry", params=SPAN, headers=h["electronics"]).status_code == 403
    )
    assert client.get(f"{other}/schedule", params=DAY, headers=h["electronics"]).status_code == 403
    # a site that does not exist is 403 for a site key (it learns nothing), 404 for others
    ghost = f"/api/v1/parks/{PARK}/sites/ghost/telemetry"
    assert client.get(ghost, params=SPAN, headers=h["electronics"]).status_code == 403
    assert client.get(ghost, params=SPAN, headers=h["operator"]).status_code == 404
    sites = client.get(f"/api/v1/parks/{PARK}/sites", headers=h["electronics"])
    assert [s["site"] for s in sites.json()] == ["electronics"]
    assert client.post(f"{SITE}/telemetry", json=BATCH, headers=h["electronics"]).status_code == 200
    # operator: reads everything, writes no telemetry, no keys, no parks
    assert client.get(f"{other}/telemetry", params=SPAN, headers=h["operator"]).status_code == 200
    assert client.post(f"{SITE}/telemetry", json=BATCH, headers=h["operator"]).status_code == 403
    assert client.get("/api/v1/keys", headers=h["operator"]).status_code == 403
    park = {"file": str(PARK_FILE)}
    assert client.post("/api/v1/parks", json=park, headers=h["operator"]).status_code == 403
    assert client.post("/api/v1/parks", json=park, headers=h["electronics"]).status_code == 403
    assert client.get("/api/v1/parks", headers=h["electronics"]).status_code == 403
    assert client.post("/api/v1/parks", json=park, headers=h["admin"]).status_code == 201


def _census(platform) -> dict[str, int]:
    with platform.sessions() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table))
            for table in (Park, Site, ApiKey, Reading)
        }


@pytest.mark.parametrize("role", ["admin", "electronics"])
def test_sql_injection_in_every_path_and_query_parameter_is_4xx(api, role):
    client, platform = api["client"], api["platform"]
    headers = api["headers"][role]
    assert (
        client.post(
            f"{SITE}/telemetry", json=BATCH, headers=api["headers"]["electronics"]
        ).status_code
        == 200
    )
    before = _census(platform)
    seen = 0
    for method, template, query, body in ROUTES:
        if method in ("post", "delete") and template in ("/api/v1/parks", "/api/v1/keys"):
            continue  # no parameters
        names = [n for n in ("park", "site", "key_id", "run") if "{" + n + "}" in template]
        for bad in INJECTIONS:
            for name in names:
                answer = _call(client, method, template, query, body, headers, **{name: bad})
                assert 400 <= answer.status_code < 500, (template, name, bad, answer.text)
                seen += 1
            for key in query:
                answer = _call(client, method, template, {**query, key: bad}, body, headers)
                assert 400 <= answer.status_code < 500, (template, key, bad, answer.text)
                seen += 1
    assert seen > 80
    assert _census(platform) == before  # nothing dropped, deleted or added
    listed = client.get(f"{SITE}/telemetry", params=SPAN, headers=api["headers"]["admin"])
    assert listed.json()["values"] == [812.5]


def test_an_oversized_body_is_413_declared_or_streamed(api):
    client, h = api["client"], api["headers"]["electronics"]
    big = b'{"readings": [' + b" " * (65 * 1024) + b"]}"
    answer = client.post(
        f"{SITE}/telemetry", content=big, headers={**h, "content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert "larger than 65536 bytes" in answer.json()["detail"]

    def chunks():
        for _ in range(20):
            yield b" " * 8192

    streamed = client.post(
        f"{SITE}/telemetry.csv",
        params={"channel": "load_kw"},
        content=chunks(),
        headers={**h, "content-type": "text/csv"},
    )
    assert streamed.status_code == 413
    small = client.post(f"{SITE}/telemetry", json=BATCH, headers=h)
    assert small.status_code == 200


def test_malformed_json_and_csv_are_422_naming_the_field(api):
    client, h = api["client"], api["headers"]["electronics"]
    broken = client.post(
        f"{SITE}/telemetry",
        content=b'{"readings": [{"channel": ',
        headers={**h, "content-type": "application/json"},
    )
    assert broken.status_code == 422
    assert broken.json()["problems"][0]["field"] == "body"
    wrong = {
        "readings": [
            BATCH["readings"][0],
            {"channel": "load_kw", "timestamp": "2026-07-15T15:00:00+08:00", "value": "n/a"},
        ]
    }
    answer = client.post(f"{SITE}/telemetry", json=wrong, headers=h)
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert (problem["field"], problem["row"], problem["value"]) == ("value", 1, "'n/a'")
    missing = client.post(
        f"{SITE}/telemetry", json={"readings": [{"channel": "load_kw"}]}, headers=h
    )
    assert missing.status_code == 422
    assert {p["field"] for p in missing.json()["problems"]} == {"timestamp", "value"}
    csv_text = "timestamp,load_kw\n2026-07-15T15:00:00+08:00,5\n2026-07-15T15:15:00+08:00,x7\n"
    answer = client.post(
        f"{SITE}/telemetry.csv",
        params={"channel": "load_kw"},
        content=csv_text,
        headers={**h, "content-type": "text/csv"},
    )
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert (problem["field"], problem["row"], problem["value"]) == ("load_kw", 3, "'x7'")
    header = client.post(
        f"{SITE}/telemetry.csv",
        params={"channel": "load_kw"},
        content="time,kw\n1,2\n",
        headers={**h, "content-type": "text/csv"},
    )
    assert header.status_code == 422
    assert header.json()["problems"][0]["field"] == "header"
    latin = client.post(
        f"{SITE}/telemetry.csv",
        params={"channel": "load_kw"},
        content=b"timestamp,load_kw\n\xff\xfe,1\n",
        headers={**h, "content-type": "text/csv"},
    )
    assert latin.status_code == 422
    assert latin.json()["problems"][0]["field"] == "body"
    bad_date = client.get(f"{SITE}/schedule", params={"date": "15/07/2026"}, headers=h)
    assert bad_date.status_code == 422
    assert bad_date.json()["problems"][0]["field"] == "date"


def test_no_secret_in_the_logs(api, caplog):
    caplog.set_level(logging.DEBUG)
    client, h, keys = api["client"], api["headers"], api["keys"]
    made = client.post(
        "/api/v1/keys", json={"role": "site", "park": PARK, "site": "logistics"}, headers=h["admin"]
    )
    assert made.status_code == 201
    new = made.json()["key"]
    client.get("/api/v1/keys", headers=h["admin"])
    client.post(f"{SITE}/telemetry", json=BATCH, headers=h["electronics"])
    client.get(f"{SITE}/telemetry", params=SPAN, headers={"X-API-Key": keys["operator"] + "x"})
    client.get(f"{SITE}/telemetry", params=SPAN, headers={"Authorization": f"Bearer {new}"})
    assert caplog.records  # the requests were logged (httpx, the app)
    secrets = [k.split("_", 2)[2] for k in [*keys.values(), new]]
    assert not any(s in caplog.text for s in secrets)
    listed = client.get("/api/v1/keys", headers=h["admin"]).text
    assert not any(s in listed for s in secrets)
