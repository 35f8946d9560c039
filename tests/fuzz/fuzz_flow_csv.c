/* libFuzzer target: the CSV flow-table reader (lab --firewall FLOWS.csv) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/firewall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[1024];
	struct firewall_flow *flows;
	size_t n;

	err[0] = '\0';
	if (firewall_flows_read("fuzz.csv", (const char *)data, size, &flows, &n, err,
	                        sizeof err) == 0) {
		for (size_t i = 0; i < n; i++) {
			/* what the nft writer relies on */
			if (flows[i].src == NULL || flows[i].dst == NULL || flows[i].id == NULL ||
			    flows[i].port_hi < flows[i].port_lo || flows[i].line < 1)
				__builtin_trap();
		}
		firewall_flows_free(flows, n);
	} else if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0') {
		__builtin_trap(); /* a failure always says why */
	}
	return 0;
}
