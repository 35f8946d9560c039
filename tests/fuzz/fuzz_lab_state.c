/* libFuzzer: arbitrary bytes into the lab state reader (it decides what lab --cleanup deletes);
 * what it accepts must render and read back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lab_state st, back;
	char err[256], *text;
	size_t len = 0;

	if (lab_state_parse((const char *)data, size, &st, err, sizeof err) != 0)
		return 0;
	/* every name it let through is one the lab makes: its prefix, then '-' */
	for (size_t i = 0; i < st.nnetns; i++)
		if (strncmp(st.netns[i], st.prefix, strlen(st.prefix)) != 0 ||
		    st.netns[i][strlen(st.prefix)] != '-' || strchr(st.netns[i], '/') != NULL)
			abort();
	if ((text = lab_state_render(&st, &len)) == NULL)
		abort();
	if (lab_state_parse(text, len, &back, err, sizeof err) != 0 || back.nnetns != st.nnetns ||
	    back.nprocs != st.nprocs || back.self.pid != st.self.pid ||
	    back.self.start != st.self.start || strcmp(back.tmpdir, st.tmpdir) != 0)
		abort();
	free(text);
	lab_state_free(&st);
	lab_state_free(&back);
	return 0;
}
