/* libosip2 set-up shared by every SIP user. */
#include <stdarg.h>

#include <osipparser2/osip_port.h>

#include "sip/sip.h"

static void
trace_nothing(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
	(void)fi;
	(void)li;
	(void)level;
	(void)chfr;
	(void)ap;
}

void
sip_quiet(void)
{
	/* libosip2 prints parse errors on stderr: bad input is ours to report */
	osip_trace_initialize_func(END_TRACE_LEVEL, trace_nothing);
	for (int lvl = 0; lvl < END_TRACE_LEVEL; lvl++)
		osip_trace_disable_level((osip_trace_level_t)lvl);
}
