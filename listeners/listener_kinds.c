/* The one table that says which kind serves each service. */
#include "listeners/listener_priv.h"

static const struct listener_kind *const kinds[LM_SVC__COUNT] = {
    [LM_SVC_HTTP] = &listener_kind_http,
    [LM_SVC_HTTPS] = &listener_kind_http,
    [LM_SVC_SIP_MTLS] = &listener_kind_sip,
    [LM_SVC_CLS_MTLS] = &listener_kind_cls,
    [LM_SVC_TCP] = &listener_kind_tcp,
    [LM_SVC_STUN] = &listener_kind_stun,
    [LM_SVC_TURN_TCP] = &listener_kind_turn_tcp,
    /* the client-certificate policy comes from the service table */
    [LM_SVC_SIP_TLS] = &listener_kind_sip,
    [LM_SVC_TLS] = &listener_kind_cls,
    [LM_SVC_MTLS] = &listener_kind_cls,
    [LM_SVC_UDP] = &listener_kind_udp,
};

const struct listener_kind *
listener_kind_of(enum lm_service svc)
{
	return (unsigned)svc < LM_SVC__COUNT ? kinds[svc] : NULL;
}
