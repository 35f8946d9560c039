#!/usr/bin/env python3
"""Writes a scenario with many hosts AND many rules, to time the loader's rule checks.

Usage: scale_rules.py CLIENTS FRONT_ENDS > scenario.yaml

bench/scale_scenario.py grows hosts under director-pool's 17 rules; this one
also grows the rules, the way a firewall team writes per-host exceptions:
  - per client, one rule: that client to every Front End on 443 (open);
  - one broad rule: any host to every Front End on 5061 (open);
  - for every second client, a host rule blocking it on 5061, which the loader
    must find overrides the broad rule for that client (host > any);
  - per Front End, one rule: every client to it on 80, and every fourth of
    those also blocked from one chosen client (another override).
Paths: 3 * CLIENTS * FRONT_ENDS. 400 x 100: 120,000 paths, 726 rules, 500
hosts; 1000 x 240: 720,000 paths, 1,801 rules, 1,240 hosts; 4000 x 100:
1,200,000 paths, 6,126 rules, 4,100 hosts (past the old caps of 1,024 hosts
and 4,096 rules).
"""
import sys

nc, nf = int(sys.argv[1]), int(sys.argv[2])
if not (1 <= nc <= 60000 and 1 <= nf <= 4000):
    sys.exit("CLIENTS 1-60000, FRONT_ENDS 1-4000")


def addr(base, i):
    # 198.18.0.0/15 holds 131,072 addresses: clients from 198.18.0.0, front ends from 198.19.0.0
    return "198.%d.%d.%d" % (base + i // 65536, (i // 256) % 256, i % 256)


out = ["# %d clients x %d front ends, per-host rules: bench/scale_rules.py" % (nc, nf),
       "name: scale-rules-%d-%d" % (nc, nf), "domain: contoso.local", "", "hosts:"]
for i in range(nc):
    out.append("  - {name: cl%05d, role: internal-client, address: %s}" % (i, addr(18, i + 1)))
for i in range(nf):
    out.append("  - {name: fe%04d, role: front-end, address: %s, fqdn: fe%04d.contoso.local,"
               " pool: fepool.contoso.local}" % (i, addr(19, i + 1), i))
out += ["", "rules:",
        "  - {id: any-fe-sip, service: sip-mtls, port: 5061, from: any, to: front-end}"]
for i in range(nc):
    out.append("  - {id: cl%05d-fe-https, service: https, port: 443, from: cl%05d, to: front-end}"
               % (i, i))
    if i % 2 == 0:
        out.append("  - {id: cl%05d-fe-sip-blocked, service: sip-mtls, port: 5061, from: cl%05d,"
                   " to: front-end, expect: blocked}" % (i, i))
for i in range(nf):
    out.append("  - {id: clients-fe%04d-http, service: http, port: 80, from: internal-client,"
               " to: fe%04d}" % (i, i))
    if i % 4 == 0:
        out.append("  - {id: cl%05d-fe%04d-http-blocked, service: http, port: 80, from: cl%05d,"
                   " to: fe%04d, expect: blocked}" % (i % nc, i, i % nc, i))
print("\n".join(out))
