/*
 * libFuzzer: sip_frame() (sip/sip.h) on arbitrary bytes, checking what the
 * listener and the probe rely on: frames stay inside the buffer and the cap,
 * a message's prefixes all need more, and trailing bytes change nothing.
 * The first byte picks the size cap; the rest is the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_message(const char *buf, size_t len, size_t max, const struct sip_frame *f)
{
	struct sip_frame g;

	if (f->len != f->head_len + f->body_len || f->len > max || f->len > len ||
	    f->head_len < 4 || memcmp(buf + f->head_len - 4, "\r\n\r\n", 4) != 0)
		abort();
	/* exactly the frame: same answer */
	if (sip_frame(buf, f->len, max, &g) != SIP_FRAME_MESSAGE || g.len != f->len)
		abort();
	/* one byte short (of the frame, then of the head): need more */
	if (sip_frame(buf, f->len - 1, max, &g) != SIP_FRAME_NEED_MORE)
		abort();
	if (sip_frame(buf, f->head_len - 1, max, &g) != SIP_FRAME_NEED_MORE || g.head_len != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_frame f;
	size_t max, off = 0, len;
	char *buf;

	if (size < 1)
		return 0;
	max = 16 + (size_t)data[0] * 16;
	len = size - 1;
	/* an exact-size copy: sip_frame must not read past len */
	if ((buf = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	/* the listener's loop: every frame consumes bytes, or the loop ends */
	while (off < len) {
		switch (sip_frame(buf + off, len - off, max, &f)) {
		case SIP_FRAME_KEEPALIVE:
			if (f.len != 4)
				abort();
			break;
		case SIP_FRAME_SKIP:
			if (f.len != 2)
				abort();
			break;
		case SIP_FRAME_MESSAGE:
			check_message(buf + off, len - off, max, &f);
			break;
		case SIP_FRAME_NEED_MORE:
			if (f.len != 0 || len - off >= max)
				abort();
			off = len;
			continue;
		case SIP_FRAME_TOO_LARGE:
		case SIP_FRAME_BAD:
			if (f.why == NULL || f.len != f.head_len || f.len > len - off)
				abort();
			off = len;
			continue;
		}
		off += f.len;
	}
	free(buf);
	return 0;
}
