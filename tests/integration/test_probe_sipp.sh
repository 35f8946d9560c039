#!/usr/bin/env bash
# A real, non-mock SIP server: sipp answering OPTIONS with 200 OK over TCP,
# behind stunnel4 doing MTLS with the lab CA (sipp has no TLS). The probe's
# OPTIONS must be a request sipp accepts; the answer has no identity, so the
# path is wrong-responder, or foreign-peer (OK) with --allow-foreign. A
# client certificate from another CA is refused by stunnel: tls-client-rejected.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/probe_pki.sh"
lm_need_cmd sipp
lm_need_cmd stunnel4
lm_need_cmd jq

P=$LM_TMP/pki
probe_pki "$P" || lm_fail "cannot make the test PKI"
DST=127.0.4.2
TLSPORT=$((23000 + ($$ % 50) * 4)) SIPPORT=$((TLSPORT + 1))

cat >"$LM_TMP/options.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer OPTIONS">
  <recv request="OPTIONS" crlf="true"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
</scenario>
XML
sipp -sf "$LM_TMP/options.xml" -t t1 -i "$DST" -p "$SIPPORT" -nostdin -trace_err \
	-error_file "$LM_TMP/sipp.err" >"$LM_TMP/sipp.log" 2>&1 &
lm_track $!
cat >"$LM_TMP/stunnel.conf" <<CONF
foreground = yes
pid =
debug = 5
[sip]
accept = $DST:$TLSPORT
connect = $DST:$SIPPORT
cert = $P/good.pem
key = $P/good.key
CAfile = $P/ca.pem
verifyChain = yes
requireCert = yes
CONF
stunnel4 "$LM_TMP/stunnel.conf" >"$LM_TMP/stunnel.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/stunnel.log" "Configuration successful"
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/$DST/$SIPPORT") 2>/dev/null && break
	sleep 0.05
done

cat >"$LM_TMP/sc.yaml" <<YAML
name: probe-sipp
domain: contoso.local
hosts:
  - {name: edge01, role: edge-internal, address: 127.0.4.1, fqdn: edge01-int.contoso.local}
  - {name: dir01, role: director, address: $DST, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: edge-dir-sip, service: sip-mtls, port: $TLSPORT, from: edge-internal, to: director}
YAML
probe() {
	"$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host edge01 --ca "$P/ca.pem" --timeout 3 \
		--format json "$@"
}
rc=0
probe --cert "$P/client.pem" --key "$P/client.key" --output "$LM_TMP/a.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "exit $rc, expected 1"
o=$(jq -r '.results[0].outcome' "$LM_TMP/a.json")
[ "$o" = wrong-responder ] || lm_fail "sipp: $o, expected wrong-responder ($(jq -r '.results[0].detail' "$LM_TMP/a.json"); sipp: $(cat "$LM_TMP/sipp.err" 2>/dev/null))"
jq -r '.results[0].detail' "$LM_TMP/a.json" | grep -q "SIP 200" || lm_fail "detail: $(jq -r '.results[0].detail' "$LM_TMP/a.json")"

rc=0
probe --cert "$P/client.pem" --key "$P/client.key" --allow-foreign --output "$LM_TMP/b.json" || rc=$?
[ "$rc" -eq 0 ] || lm_fail "--allow-foreign: exit $rc"
[ "$(jq -r '.results[0].outcome' "$LM_TMP/b.json")" = foreign-peer ] || lm_fail "--allow-foreign: $(jq -c '.results[0]' "$LM_TMP/b.json")"
jq -e '.results[0].tls.client_cert_sent == true and (.results[0].tls.version | test("TLS"))' "$LM_TMP/b.json" >/dev/null ||
	lm_fail "TLS facts missing for a foreign peer"

rc=0
probe --cert "$P/otherclient.pem" --key "$P/otherclient.key" --output "$LM_TMP/c.json" || rc=$?
[ "$(jq -r '.results[0].outcome' "$LM_TMP/c.json")" = tls-client-rejected ] ||
	lm_fail "other CA: $(jq -c '.results[0] | [.outcome, .detail]' "$LM_TMP/c.json")"
echo "ok: sipp behind stunnel answered our OPTIONS"
