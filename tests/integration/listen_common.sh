# Shared by tests/integration/test_listen_*.sh (sourced after lib.sh): the
# listener test scenario on 127.0.3.0/24, its PKI, and starting/stopping
# `lyncmock listen` with a bounded wait for its ready line.
LIS_SCENARIO=$LM_SOURCE_DIR/tests/fixtures/listen-lab.yaml
LIS_OFF=10000 # ports + 10000: 80 -> 10080, 5061 -> 15061, 50001 -> 60001
LIS_PKI=$LM_TMP/pki
LIS_PID=

lis_pki() {
	"$LYNCMOCK" certs init --scenario "$LIS_SCENARIO" --out "$LIS_PKI" >"$LM_TMP/certs.out" 2>&1 ||
		{ cat "$LM_TMP/certs.out" >&2; lm_fail "lyncmock certs init"; }
}

# lis_start NAME HOST [listen options...]: stdout in $LM_TMP/NAME.out, the
# connection log in $LM_TMP/NAME.log; sets LIS_PID.
lis_start() {
	local name=$1 host=$2
	shift 2
	"$LYNCMOCK" listen --scenario "$LIS_SCENARIO" --host "$host" --certs "$LIS_PKI" \
		--port-offset "$LIS_OFF" --log "$LM_TMP/$name.log" "$@" \
		>"$LM_TMP/$name.out" 2>"$LM_TMP/$name.err" &
	LIS_PID=$!
	lm_track "$LIS_PID"
	lm_wait_for "$LM_TMP/$name.out" '^ready ' 200
}

# lis_stop PID: SIGTERM must end the listener cleanly (exit 0).
lis_stop() {
	local rc=0
	kill -TERM "$1"
	wait "$1" || rc=$?
	[ "$rc" -eq 0 ] || lm_fail "listener $1 exited $rc after SIGTERM"
}

# lis_json FILE EXPR: evaluates a python expression on the JSON in FILE (j).
lis_json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

lis_expect() { # lis_expect WHAT GOT WANT
	[ "$2" = "$3" ] || lm_fail "$1: got '$2', want '$3'"
}
