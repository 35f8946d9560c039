/* libFuzzer: HTTP request framing and answers (http_stream_process), fed in
 * chunks as a TCP stream would deliver them; no network. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listeners/listener_priv.h"

static const struct wire_ident fuzz_id = {
    .scenario = "fuzz",
    .host = "dir01",
    .role = "director",
    .listener = "https",
    .port = 443,
    .local = "127.0.3.1:443",
    .peer = "127.0.3.3:1",
    .tls = true,
    .tls_version = "TLSv1.3",
    .tls_cipher = "X",
    .client_cert = "CN=x",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in, *out;
	struct http_stats st = {0};
	size_t chunk, off = 0, used;
	char why[128];
	bool close = false;

	if (size < 1)
		return 0;
	/* first byte: chunk size of the simulated reads (1..256) */
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	in = evbuffer_new();
	out = evbuffer_new();
	while (off < size && !close) {
		size_t n = size - off < chunk ? size - off : chunk;
		evbuffer_add(in, data + off, n);
		off += n;
		used = http_stream_process((const char *)evbuffer_pullup(in, -1),
		                           evbuffer_get_length(in), 2048, &fuzz_id, out, &st,
		                           &close, why, sizeof why);
		if (used > evbuffer_get_length(in))
			abort();
		evbuffer_drain(in, used);
		/* the listener's read limit: a request never needs more than this */
		if (!close && evbuffer_get_length(in) >= 2048)
			abort();
	}
	evbuffer_free(in);
	evbuffer_free(out);
	return 0;
}
