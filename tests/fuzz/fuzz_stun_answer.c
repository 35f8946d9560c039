/* libFuzzer: the probe's STUN parsers on a server's bytes: probe_stun_parse
 * on the input as a datagram (with the input's own transaction ID, so the
 * attribute parsing is reached, and with another one), and
 * probe_turn_tcp_parse on it as a stream, fed in two parts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_answer a;
	char txid[33] = "00000000000000000000000000000000";
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	for (size_t i = 0; size >= 20 && i < 16; i++)
		snprintf(txid + 2 * i, 3, "%02x", data[4 + i]);
	memset(&a, 0, sizeof a);
	if (probe_stun_parse(copy, size, txid, &a) == PROBE_PARSE_DONE && a.body != NULL &&
	    strlen(a.body) > a.body_len)
		abort();
	probe_answer_clear(&a);
	memset(&a, 0, sizeof a);
	(void)probe_stun_parse(copy, size, "ffffffffffffffffffffffffffffffff", &a);
	probe_answer_clear(&a);
	memset(&a, 0, sizeof a);
	(void)probe_turn_tcp_parse((const char *)copy, size / 2, false, &a);
	probe_answer_clear(&a);
	memset(&a, 0, sizeof a);
	(void)probe_turn_tcp_parse((const char *)copy, size, true, &a);
	probe_answer_clear(&a);
	free(copy);
	return 0;
}
