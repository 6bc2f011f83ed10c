/* Glue helpers for AnyEvent::DNS (declared in xs/dns.h). */
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <errno.h>
#include "aers.h"
#include "xs/glue.h"
#include "xs/dns.h"

SV *dns_sv_from_node(pTHX_ const aers_dns_node **node)
{
    const aers_dns_node *n = (*node)++;
    uint32_t i;
    switch (n->kind) {
    case 1: return newSVpvn(n->ptr, n->len);
    case 2: return newSViv((IV)n->num);
    case 5: return newSVsv(n->num ? &PL_sv_yes : &PL_sv_no);
    case 3: {
        AV *av = newAV();
        av_extend(av, n->n);
        for (i = 0; i < n->n; i++)
            av_push(av, dns_sv_from_node(aTHX_ node));
        return newRV_noinc((SV *)av);
    }
    case 4: {
        HV *hv = newHV();
        for (i = 0; i < n->n; i++) {
            const aers_dns_node *key = (*node)++;
            (void)hv_store(hv, key->ptr, (I32)key->len, dns_sv_from_node(aTHX_ node), 0);
        }
        return newRV_noinc((SV *)hv);
    }
    default: return newSV(0);
    }
}

SV *dns_node_sv(pTHX_ const aers_dns_node *nodes)
{
    return dns_sv_from_node(aTHX_ &nodes);
}

uint64_t dns_key(pTHX_ SV *sv)
{
    if (!SvOK(sv) || !SvIOK(sv) || !SvUV(sv))
        croak("AnyEvent::DNS: the resolver was destroyed or not constructed with new");
    return (uint64_t)SvUV(sv);
}

void dns_push_list(pTHX_ const aers_dns_node *nodes)
{
    dSP;
    uint32_t i, n = nodes[0].n;
    const aers_dns_node *node = nodes + 1;
    EXTEND(SP, (SSize_t)n);
    for (i = 0; i < n; i++)
        mPUSHs(dns_sv_from_node(aTHX_ &node));
    PUTBACK;
}

void dns_lookup_name(pTHX_ aers_dns_lookup *l, SV *name, SV *search)
{
    STRLEN len;
    /* undef or wide characters: no name at all (the look-up finds nothing) */
    l->name = NULL;
    l->name_len = 0;
    if (SvOK(name)) {
        SV *bytes = name;
        if (SvUTF8(name)) {
            bytes = sv_2mortal(newSVsv(name));
            if (!sv_utf8_downgrade(bytes, 1))
                bytes = NULL;
        }
        if (bytes) {
            l->name = SvPVbyte(bytes, len);
            l->name_len = len;
        }
    }
    l->has_search = SvOK(search);
    l->nsearch = l->has_search ? dns_strings(aTHX_ search, &l->search, &l->search_lens, "AnyEvent::DNS resolve: search") : 0;
}

void dns_check(pTHX_ int status, const char *who)
{
    if (status == EINVAL) {
        char buf[512];
        last_error(buf, sizeof buf);
        croak_caller(aTHX_ "%s: %s", who, buf);
    }
    if (status)
        croak_status(aTHX_ status, who);
}

size_t dns_strings(pTHX_ SV *aref, const char *const **ptrs, const size_t **lens, const char *who)
{
    AV *av;
    SSize_t i, n;
    const char **p;
    size_t *l;
    if (!SvROK(aref) || SvTYPE(SvRV(aref)) != SVt_PVAV)
        croak_caller(aTHX_ "%s must be an array reference", who);
    av = (AV *)SvRV(aref);
    n = av_len(av) + 1;
    Newx(p, n + 1, const char *); SAVEFREEPV(p);
    Newx(l, n + 1, size_t); SAVEFREEPV(l);
    for (i = 0; i < n; i++) {
        SV **e = av_fetch(av, i, 0);
        STRLEN len = 0;
        p[i] = e && SvOK(*e) ? SvPVbyte(*e, len) : "";
        l[i] = len;
    }
    *ptrs = p;
    *lens = l;
    return (size_t)n;
}
