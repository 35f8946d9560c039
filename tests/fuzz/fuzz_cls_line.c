/* libFuzzer: the CLS line protocol (cls_process), fed in chunks; every
 * answer must be an identity JSON line or one ERR line. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listeners/listener_priv.h"

static const struct wire_ident fuzz_id = {
    .scenario = "fuzz",
    .host = "edge01",
    .role = "edge-internal",
    .listener = "cls-mtls",
    .port = 50001,
    .local = "127.0.3.3:50001",
    .peer = "127.0.3.11:1",
    .tls = true,
    .tls_version = "TLSv1.3",
    .tls_cipher = "X",
    .client_cert = NULL,
};

static void
check_answers(struct evbuffer *out)
{
	char *line;
	size_t n;
	json_t *j;

	while ((line = evbuffer_readln(out, &n, EVBUFFER_EOL_CRLF_STRICT)) != NULL) {
		if (strncmp(line, "ERR ", 4) != 0) {
			j = json_loadb(line, n, 0, NULL);
			if (j == NULL || !json_is_string(json_object_get(j, "token")))
				abort();
			json_decref(j);
		}
		free(line);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in, *out;
	size_t chunk, off = 0, used;
	unsigned req = 0;
	char why[128];
	bool close = false;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	in = evbuffer_new();
	out = evbuffer_new();
	while (off < size && !close) {
		size_t n = size - off < chunk ? size - off : chunk;
		evbuffer_add(in, data + off, n);
		off += n;
		used = cls_process((const char *)evbuffer_pullup(in, -1), evbuffer_get_length(in),
		                   &fuzz_id, out, &req, &close, why, sizeof why);
		if (used > evbuffer_get_length(in))
			abort();
		evbuffer_drain(in, used);
		if (!close && evbuffer_get_length(in) >= WIRE_CLS_MAX_LINE)
			abort();
		check_answers(out);
	}
	evbuffer_free(in);
	evbuffer_free(out);
	return 0;
}
