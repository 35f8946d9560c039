/* libFuzzer target: scenario_load_buffer on arbitrary bytes must never crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[4096];
	struct scenario *sc;

	sc = scenario_load_buffer("fuzz.yaml", (const char *)data, size, err, sizeof(err));
	if (sc != NULL) {
		/* exercise the queries other modules rely on */
		struct scenario_listen out[8];
		char buf[300];
		for (size_t i = 0; i < sc->nhosts; i++) {
			(void)scenario_listens_of(sc, &sc->hosts[i], out, 8);
			(void)scenario_host_fqdn(sc, &sc->hosts[i], buf, sizeof(buf));
		}
		(void)scenario_path_count(sc);
		scenario_free(sc);
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		__builtin_trap(); /* the message must always be terminated */
	} else if (strncmp(err, "fuzz.yaml:", 10) == 0 &&
	           strstr(err, ": YAML syntax error") != NULL) {
		/* a syntax error (the only message then) names a line the input has,
		 * reader errors (bad UTF-8, NUL, control bytes) too */
		size_t lines = 1;
		for (size_t i = 0; i + 1 < size; i++)
			lines += data[i] == '\n';
		if (err[10] >= '0' && err[10] <= '9' && strtoul(err + 10, NULL, 10) > lines)
			__builtin_trap();
	}
	return 0;
}
