/*
 * libFuzzer target: arbitrary bytes into the probe's answer parsers (HTTP
 * answer, SIP response framing and parsing, CLS line) and the identity
 * record reader, exactly as the probe calls them. The first byte picks the
 * parser; the rest is the peer's answer.
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
	enum probe_parse (*parse)(const char *, size_t, bool, struct probe_answer *);
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
	/* an exact-size copy: the parsers must not read past len */
	if ((buf = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	for (int eof = 0; eof <= 1; eof++) {
		memset(&a, 0, sizeof a);
		if (parse(buf, size - 1, eof, &a) == PROBE_PARSE_DONE && a.body != NULL) {
			if (wire_record_parse(a.body, a.body_len, &id) == 0)
				wire_record_clear(&id);
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
