/*
 * libFuzzer target: arbitrary bytes into the probe's answer parsers (HTTP
 * answer, SIP response framing and parsing, CLS line) and the identity
 * record reader (with its TLS fingerprints and proxy headers), exactly as the
 * probe calls them; an HTTP or SIP answer then goes through its service's
 * foreign-peer classification (status, Server header, body), as a non-mock
 * server's answer does. The first byte picks the parser; the rest is the
 * peer's answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "probes/probe_int.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	static enum probe_parse (*const parsers[])(
	    const char *, size_t, bool, struct probe_answer *) = {probe_http_parse, probe_sip_parse,
	                                                          probe_cls_parse};
	static const struct probe_proto *const protos[] = {&probe_proto_http, &probe_proto_sip,
	                                                   &probe_proto_cls};
	enum probe_parse (*parse)(const char *, size_t, bool, struct probe_answer *);
	const struct probe_proto *proto;
	struct wire_record id;
	struct probe_answer a;
	char *buf;

	if (!initialized) {
		parser_init();
		sip_quiet();
		initialized = 1;
	}
	if (size < 1)
		return 0;
	parse = parsers[data[0] % 3];
	proto = protos[data[0] % 3];
	/* an exact-size copy: the parsers must not read past len */
	if ((buf = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	for (int eof = 0; eof <= 1; eof++) {
		memset(&a, 0, sizeof a);
		if (parse(buf, size - 1, eof, &a) == PROBE_PARSE_DONE) {
			/* the Server header is kept printable and NUL-terminated */
			if (memchr(a.server, '\0', sizeof a.server) == NULL)
				abort();
			if (a.body != NULL && wire_record_parse(a.body, a.body_len, &id) == 0)
				wire_record_clear(&id);
			if (proto->foreign != NULL) {
				char why[512];
				enum lm_outcome o = proto->foreign(&a, why, sizeof why);
				/* SPEC §3: a foreign answer is one of these three, with a reason */
				if ((o != LM_OUT_FOREIGN_PEER && o != LM_OUT_PROTOCOL_ERROR &&
				     o != LM_OUT_TLS_CLIENT_REJECTED) ||
				    memchr(why, '\0', sizeof why) == NULL || why[0] == '\0')
					abort();
			}
		}
		probe_answer_clear(&a);
	}
	/* the identity reader on raw bytes too */
	memset(&id, 0, sizeof id);
	if (wire_record_parse(buf, size - 1, &id) == 0)
		wire_record_clear(&id);
	free(buf);
	return 0;
}
