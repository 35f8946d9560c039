#!/usr/bin/env bash
# deploy/ansible passes `ansible-playbook --syntax-check` and ansible-lint's
# strictest (production) profile, as Debian 12 packages them.
. "$(dirname "$0")/lib.sh"
lm_need_cmd ansible-playbook
lm_need_cmd ansible-lint
cd "$LM_SOURCE_DIR/deploy/ansible" || lm_fail "no deploy/ansible"
ANSIBLE_LOCAL_TEMP="$LM_TMP/al" ansible-playbook --syntax-check -i inventory/single-director.ini site.yml \
	-e lyncmock_deb=/nonexistent.deb -e lyncmock_scenario=/nonexistent.yaml >"$LM_TMP/syntax" 2>&1 ||
	{ cat "$LM_TMP/syntax"; lm_fail "syntax check"; }
NO_COLOR=1 ANSIBLE_LOCAL_TEMP="$LM_TMP/al" ansible-lint -p --nocolor >"$LM_TMP/lint" 2>&1 ||
	{ cat "$LM_TMP/lint"; lm_fail "ansible-lint"; }
grep -q 'Passed with production profile' "$LM_TMP/lint" || { cat "$LM_TMP/lint"; lm_fail "ansible-lint did not pass the production profile"; }
tail -n 1 "$LM_TMP/lint"
echo "PASS: site.yml syntax and ansible-lint (production profile)"
