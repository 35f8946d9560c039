#!/usr/bin/env python3
"""Writes director-pool grown to N hosts: the same rules, more hosts per role.

Usage: scale_scenario.py N [DIRECTOR_POOL_YAML] > scenario.yaml

Hosts per role keep the proportions of the issue's measurements (1 reverse
proxy, 2 internal clients, 2 Directors, 2 Front Ends, 1 Edge per 8 hosts),
so a scenario of N hosts has 57 N^2 / 64 paths (16: 228, 128: 14,592).
Each role gets its own /24 of 198.18.0.0/15; the rules are copied verbatim.
"""
import os
import sys

n = int(sys.argv[1])
src = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "scenarios", "director-pool.yaml")
if n < 8 or n % 8 or n > 8 * 240 // 2:
    sys.exit("N must be a multiple of 8 between 8 and 960")
k = n // 8
lines = open(src).read().splitlines()
rules = lines[lines.index("rules:"):]

out = ["# director-pool grown to %d hosts by bench/scale_scenario.py" % n,
       "name: director-pool-%d" % n, "domain: contoso.local", "",
       "simple_urls:", "  - meet.contoso.local", "  - dialin.contoso.local", "", "hosts:"]
for i in range(k):
    out.append("  - {name: rp%02d, role: reverse-proxy, address: 198.18.0.%d}" % (i + 1, 10 + i))
for i in range(2 * k):
    out.append("  - {name: cl%02d, role: internal-client, address: 198.18.2.%d}" % (i + 1, 10 + i))
for i in range(2 * k):
    out.append("  - {name: dir%02d, role: director, address: 198.18.1.%d, fqdn: dir%02d.contoso.local,"
               " pool: dirpool.contoso.local, web_services: [webext-dir.contoso.com,"
               " webint-dir.contoso.local]}" % (i + 1, 10 + i, i + 1))
for i in range(2 * k):
    out.append("  - {name: fe%02d, role: front-end, address: 198.18.3.%d, fqdn: fe%02d.contoso.local,"
               " pool: fepool.contoso.local, web_services: [webext.contoso.com,"
               " webint.contoso.local]}" % (i + 1, 10 + i, i + 1))
for i in range(k):
    out.append("  - {name: edge%02d, role: edge-internal, address: 198.18.4.%d,"
               " fqdn: edge%02d-int.contoso.local, san: [edgepool-int.contoso.local]}"
               % (i + 1, 10 + i, i + 1))
out.append("")
out.extend(rules)
print("\n".join(out))
