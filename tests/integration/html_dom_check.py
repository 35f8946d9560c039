#!/usr/bin/env python3
"""Checks an HTML report's DOM as Chromium dumped it (--dump-dom) against the
JSON report of the same run. Standard library only.

usage: html_dom_check.py DOM.html REPORT.json all|failed|hostile
  all      every result is one row with the right data-*, the summary counts
           agree, every result is one SVG edge linking to its row, coloured by
           verdict, and the change request lists the blocked open paths
  failed   (DOM of report.html#failed) exactly the failing rows are visible
  hostile  the hostile strings are text: one script, no handler attributes
"""
import json
import sys
from html.parser import HTMLParser

OK_COLOR, FAIL_COLOR = "#2e7d32", "#c62828"
# failures the firewall team fixes (the rest are certificates, services...)
FIREWALL_OUTCOMES = {"filtered", "refused", "unreachable", "idle-cut", "open-not-required"}


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows = []  # matrix rows: attrs dict
        self.change = []  # change-request rows
        self.edges = {}  # edge id -> {"href": ..., "stroke": ...}
        self.summary = None
        self.tags = {}
        self.handlers = []
        self.stack = []
        self.text = []
        self.shown = None
        self._edge = None  # (id, stack depth) of the edge being read
        self._in = None
        self._attrs = []  # (tag, attrs) of the open elements

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.handlers += [(tag, k) for k in a if k.startswith("on")]
        in_tbody = "tbody" in self.stack
        if tag == "tr" and "data-rule" in a and in_tbody:
            table = next((t for t in reversed(self._attrs) if t[0] == "table"), None)
            tid = table[1].get("id") if table else None
            (self.rows if tid == "paths" else self.change).append(a)
        if tag == "p" and a.get("id") == "summary":
            self.summary = a
        if tag == "span" and a.get("id") == "shown":
            self._in = "shown"
        if tag == "g" and a.get("class") == "edge":
            self._edge = (a.get("id"), len(self.stack))
            self.edges[a.get("id")] = {"href": None, "stroke": None}
        if self._edge is not None:
            e = self.edges[self._edge[0]]
            if tag == "a" and e["href"] is None:
                e["href"] = a.get("href") or a.get("xlink:href")
            if tag == "path" and e["stroke"] is None:
                e["stroke"] = a.get("stroke")
        if tag not in ("meta", "input", "br", "path", "polygon", "ellipse", "img"):
            self.stack.append(tag)
            self._attrs.append((tag, a))

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack:
                t = self.stack.pop()
                self._attrs.pop()
                if t == tag:
                    break
        if tag == "span" and self._in == "shown":
            self._in = None
        if self._edge is not None and len(self.stack) <= self._edge[1]:
            self._edge = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in == "shown":
            self.shown = (self.shown or "") + data


def load(dom_path):
    d = Dom()
    d.feed(open(dom_path, encoding="utf-8").read())
    return d


def key(rule, src, dst):
    return (rule, src, dst)


def main():
    dom_path, json_path, mode = sys.argv[1:4]
    d = load(dom_path)
    doc = json.load(open(json_path))
    res = doc["results"]
    want = {key(r.get("rule") or "ad-hoc", r["from"].get("host") or r["from"].get("address"),
                r["to"].get("host") or r["to"].get("target") or r["to"].get("address")): r
            for r in res}
    assert len(want) == len(res), "JSON has duplicate paths"
    failing = {k for k, r in want.items() if r["verdict"] != "ok"}
    assert d.tags.get("script") == 1, "want exactly one script element, got %s" % d.tags.get("script")
    assert not d.handlers, "event handler attributes in the page: %s" % d.handlers[:3]

    if mode == "hostile":
        text = "".join(d.text)
        for s in ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']:
            assert s in text, "hostile string %r not shown as text" % s
        assert d.tags.get("img") is None, "an <img> got into the page"
        assert d.tags.get("svg") == 1, "want one svg (the picture), got %s" % d.tags.get("svg")
        got = {key(a["data-rule"], a["data-from"], a["data-to"]) for a in d.rows}
        assert got == set(want), "hostile rows differ: %s" % (got ^ set(want))
        print("hostile ok: %d rows, hostile text shown as text" % len(d.rows))
        return

    rows = {key(a["data-rule"], a["data-from"], a["data-to"]): a for a in d.rows}
    assert len(rows) == len(d.rows) == len(res), "%d rows for %d results" % (len(d.rows), len(res))
    assert set(rows) == set(want), "rows and JSON differ: %s" % sorted(set(rows) ^ set(want))[:4]
    for k, a in rows.items():
        r = want[k]
        assert a["data-outcome"] == r["outcome"], (k, a["data-outcome"], r["outcome"])
        assert a["data-verdict"] == r["verdict"], (k, a["data-verdict"], r["verdict"])
        assert a["data-port"] == str(r["port"]), (k, a["data-port"])

    if mode == "failed":
        visible = {k for k, a in rows.items() if "hidden" not in a}
        assert visible == failing, "#failed shows %s, failing are %s" % (sorted(visible), sorted(failing))
        assert d.shown.strip() == "%d of %d paths shown" % (len(failing), len(res)), d.shown
        print("failed-only ok: %d of %d rows visible, exactly the failing ones" % (len(visible), len(res)))
        return

    assert all("hidden" not in a for a in rows.values()), "rows hidden without a filter"
    s = d.summary
    assert s is not None, "no summary"
    nok = sum(1 for r in res if r["verdict"] == "ok")
    nblocked = sum(1 for r in res if r["verdict"] == "ok" and r["expect"] == "blocked")
    got = (int(s["data-paths"]), int(s["data-ok"]), int(s["data-failed"]), int(s["data-blocked"]))
    assert got == (len(res), nok, len(res) - nok, nblocked), "summary %s, JSON %s" % (
        got, (len(res), nok, len(res) - nok, nblocked))
    assert s["data-partial"] == ("true" if doc["partial"] else "false")
    text = "".join(d.text)
    line = "%d paths: %d OK, %d failed, %d blocked as expected" % (len(res), nok, len(res) - nok, nblocked)
    assert line in " ".join(text.split()), "summary text does not say: " + line
    for what in ("scenario " + str(doc["scenario"]), "started " + str(doc["started"]),
                 "complete run" if not doc["partial"] else "PARTIAL"):
        assert what in " ".join(text.split()), "summary does not say: " + what

    # the picture: one edge per result, linking to that result's row, coloured by verdict
    ids = {a["id"]: k for k, a in rows.items()}
    assert len(d.edges) == len(res), "%d SVG edges for %d results" % (len(d.edges), len(res))
    for eid, e in d.edges.items():
        assert eid.startswith("edge-"), eid
        href = e["href"]
        assert href == "#path-" + eid[5:], "%s links to %s" % (eid, href)
        k = ids.get(href[1:])
        assert k is not None, "%s links to no row" % eid
        r = want[k]
        if r["verdict"] == "fail":
            assert e["stroke"] == FAIL_COLOR, "%s failing but stroke %s" % (eid, e["stroke"])
        elif r["expect"] == "open":
            assert e["stroke"] == OK_COLOR, "%s ok but stroke %s" % (eid, e["stroke"])

    # the change request: the open paths found blocked, and the blocked paths found open
    need = {k for k, r in want.items() if r["verdict"] != "ok" and
            (r["expect"] == "blocked" or r["outcome"] in FIREWALL_OUTCOMES)}
    got = {key(a["data-rule"], a["data-from"], a["data-to"]) for a in d.change}
    assert got == need, "change request %s, want %s" % (sorted(got), sorted(need))
    print("dom ok: %d rows (%d failing), %d SVG edges linked, summary agrees, %d change requests"
          % (len(rows), len(failing), len(d.edges), len(d.change)))


if __name__ == "__main__":
    main()
