#!/usr/bin/env python3
"""A third-party Open311 client against a running Jiesu (run by scripts/open311.py).

Uses two published PyPI clients, unchanged: `georeport` (GeoReport, Python 3) lists the
services, reads a definition and reads requests back, in JSON and in XML; `three` (Code for
America's Open311 wrapper) creates a request and resolves its token. `three` was written for
Python 2 and imports `itertools.ifilter`; the one shim below gives Python 3's `filter` that
name before it is imported. Exits non-zero, naming the step, on any mismatch.

    OPEN311_URL=http://127.0.0.1:8080/open311/v2/ OPEN311_API_KEY=… python client.py
"""
import itertools
import os
import sys

itertools.ifilter = filter  # the one Python 2 name `three` needs
from three import Three  # noqa: E402
from georeport import GeoReport  # noqa: E402

URL = os.environ["OPEN311_URL"]
KEY = os.environ["OPEN311_API_KEY"]
CODE = "cxjs.csgl.hw"  # 环境卫生和垃圾分类
TEXT = "东单路口北侧人行道垃圾堆放三天无人清运，气味很大"


def check(cond, what):
    if not cond:
        sys.exit(f"open311 client: FAILED: {what}")
    print(f"open311 client: ok: {what}", flush=True)


def main():
    for fmt in ("json", "xml"):
        gr = GeoReport(URL, output_format=fmt)
        services = gr.get_service_list()
        check(any(s["service_code"] == CODE for s in services),
              f"georeport ({fmt}) lists {len(services)} services, {CODE} among them")
        definition = gr.get_service_definition(CODE)
        attrs = definition["attributes"]
        if fmt == "xml":  # xmltodict: <attributes><attribute>…</attribute>…</attributes>
            attrs = attrs["attribute"]
        check(definition["service_code"] == CODE and any(a["code"] == "kind" for a in attrs),
              f"georeport ({fmt}) reads the definition of {CODE} with its attributes")

    t = Three(URL, api_key=KEY, format="json")
    created = t.post(CODE, address="东城区东华门街道东单路口", description=TEXT,
                     lat="39.9087", long="116.4177", name="Lei Li", phone="13812345678",
                     email="li.lei@example.com", **{"attribute[kind]": "complaint"})
    check(t.post_response.status_code == 200 and isinstance(created, list)
          and created[0].get("service_request_id"),
          f"three posts a request: {created}")
    number, token = created[0]["service_request_id"], created[0]["token"]
    by_token = t.token(token)
    check(by_token[0]["service_request_id"] == number, f"three resolves token {token} to {number}")

    for fmt in ("json", "xml"):
        gr = GeoReport(URL, output_format=fmt)
        req = gr.get_service_request(number)
        check(req["service_request_id"] == number and req["service_code"] == CODE
              and req["status"] == "open" and req["description"] == TEXT
              and abs(float(req["lat"]) - 39.9087) < 1e-9,
              f"georeport ({fmt}) reads request {number} back: {req['status']}, {req['address']}")
        listed = gr.get_service_requests(service_code=CODE, status="open")
        listed = listed if isinstance(listed, list) else [listed]
        check(any(r["service_request_id"] == number for r in listed),
              f"georeport ({fmt}) finds it in the open requests of {CODE}")
        text = repr(listed)
        check("13812345678" not in text and "li.lei@example.com" not in text and "Lei" not in text,
              f"georeport ({fmt}): the public listing shows no name, phone or email")


if __name__ == "__main__":
    main()
