/* libFuzzer: the HTTP answer (http_answer_build): URI, query/token and
 * header processing. Input: first line the request URI, then "Key: Value"
 * header lines. Probe answers must be valid JSON; pages must not reflect. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listeners/listener_priv.h"

static const struct wire_ident fuzz_id = {
    .scenario = "fuzz",
    .host = "dir01",
    .role = "director",
    .listener = "http",
    .port = 8080,
    .local = "127.0.3.1:8080",
    .peer = "127.0.3.10:1",
    .tls = false,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *save = NULL, *uri, *colon;
	struct http_header h[64];
	size_t nh = 0;
	struct http_answer ans;
	json_t *j;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	uri = strtok_r(text, "\n", &save);
	if (uri == NULL)
		uri = "";
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		if (nh < sizeof h / sizeof h[0])
			h[nh++] = (struct http_header){line, colon + 1 + (colon[1] == ' ')};
	}
	if (http_answer_build("GET", uri, 1, 1, h, nh, &fuzz_id, &ans) == 0) {
		if (ans.probe) {
			j = json_loadb(ans.body, ans.len, 0, NULL);
			if (j == NULL)
				abort();
			json_decref(j);
		} else if (ans.code == 200 && memmem(ans.body, ans.len, "<script", 7) != NULL) {
			abort();
		}
		http_answer_clear(&ans);
	}
	free(text);
	return 0;
}
