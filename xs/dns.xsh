MODULE = AnyEvent		PACKAGE = AnyEvent::DNS

PROTOTYPES: DISABLE

IV
_rs_new()
    CODE:
    {
        aers_dns *r;
        CHECK_STATUS(aers_dns_new(&r), "AnyEvent::DNS->new");
        RETVAL = PTR2IV(r);
    }
    OUTPUT:
        RETVAL

void
_rs_free(SV *handle)
    CODE:
    {
        aers_dns *r = dns_handle(aTHX_ handle);
        void *cb;
        int st;
        /* after a panic the core refuses work: the resolver and its callbacks are left alone */
        while (!(st = aers_dns_take_callback(r, &cb)) && cb)
            SvREFCNT_dec((SV *)cb);
        if (!st)
            st = aers_dns_free(r);
        sv_setiv(handle, 0);
        if (st && st != AERS_PANICKED)    /* (called from DESTROY: no croak for the panic again) */
            croak_status(aTHX_ st, "AnyEvent::DNS");
    }

U32
_rs_configure(SV *handle, SV *servers, SV *timeouts, SV *search, UV ndots, UV max_outstanding, NV reuse, UV edns, int cache)
    CODE:
    {
        aers_dns *r = dns_handle(aTHX_ handle);
        aers_dns_settings s;
        AV *tav;
        SSize_t i;
        double *t;
        ENTER;
        SAVETMPS;
        s.nservers = dns_strings(aTHX_ servers, &s.servers, &s.server_lens, "server");
        s.nsearch = dns_strings(aTHX_ search, &s.search, &s.search_lens, "search");
        if (!SvROK(timeouts) || SvTYPE(SvRV(timeouts)) != SVt_PVAV)
            croak_caller(aTHX_ "AnyEvent::DNS: timeout must be an array reference of seconds");
        tav = (AV *)SvRV(timeouts);
        s.ntimeouts = (size_t)(av_len(tav) + 1);
        Newx(t, s.ntimeouts + 1, double);
        SAVEFREEPV(t);
        for (i = 0; i < (SSize_t)s.ntimeouts; i++) {
            SV **e = av_fetch(tav, i, 0);
            t[i] = e ? SvNV(*e) : 0.;
        }
        s.timeouts = t;
        s.ndots = (uint32_t)ndots;
        s.max_outstanding = (uint32_t)max_outstanding;
        s.reuse = reuse;
        s.edns_payload = (uint32_t)edns;
        s.cache = cache;
        dns_check(aTHX_ aers_dns_configure(r, &s, &RETVAL), "AnyEvent::DNS");
        FREETMPS;
        LEAVE;
    }
    OUTPUT:
        RETVAL

U32
_rs_resolve(SV *handle, SV *name, UV qtype, UV qclass, SV *search, SV *accept, SV *hosts, SV *cb)
    CODE:
    {
        aers_dns *r = dns_handle(aTHX_ handle);
        aers_dns_lookup l;
        SV *code;
        int status;
        STRLEN len;
        uint16_t *types = NULL;
        ENTER;
        SAVETMPS;
        /* undef or wide characters: no name at all (the look-up finds nothing) */
        l.name = NULL;
        l.name_len = 0;
        if (SvOK(name)) {
            SV *bytes = name;
            if (SvUTF8(name)) {
                bytes = sv_2mortal(newSVsv(name));
                if (!sv_utf8_downgrade(bytes, 1))
                    bytes = NULL;
            }
            if (bytes) {
                l.name = SvPVbyte(bytes, len);
                l.name_len = len;
            }
        }
        l.qtype = (uint16_t)qtype;
        l.qclass = (uint16_t)qclass;
        l.has_search = SvOK(search);
        l.nsearch = l.has_search ? dns_strings(aTHX_ search, &l.search, &l.search_lens, "AnyEvent::DNS resolve: search") : 0;
        l.naccept = -1;
        if (SvOK(accept)) {
            AV *av;
            SSize_t i;
            if (!SvROK(accept) || SvTYPE(SvRV(accept)) != SVt_PVAV)
                croak_caller(aTHX_ "AnyEvent::DNS resolve: accept must be an array reference of types");
            av = (AV *)SvRV(accept);
            l.naccept = av_len(av) + 1;
            Newx(types, l.naccept + 1, uint16_t);
            SAVEFREEPV(types);
            for (i = 0; i < l.naccept; i++) {
                SV **e = av_fetch(av, i, 0);
                types[i] = e ? (uint16_t)SvUV(*e) : 0;
            }
        }
        l.accept = types;
        l.hosts = SvOK(hosts) ? SvPVbyte(hosts, len) : NULL;
        l.hosts_len = SvOK(hosts) ? len : 0;
        code = callback_of(aTHX_ cb, "AnyEvent::DNS resolve");
        status = aers_dns_resolve(r, code, &l, &RETVAL);
        if (status)
            SvREFCNT_dec(code);
        dns_check(aTHX_ status, "AnyEvent::DNS resolve");
        FREETMPS;
        LEAVE;
    }
    OUTPUT:
        RETVAL

U32
_rs_request(SV *handle, SV *pkt, SV *cb)
    CODE:
    {
        aers_dns *r = dns_handle(aTHX_ handle);
        STRLEN len;
        const char *p = SvPVbyte(pkt, len);
        SV *code = callback_of(aTHX_ cb, "AnyEvent::DNS request");
        int status = aers_dns_request(r, code, p, len, &RETVAL);
        if (status)
            SvREFCNT_dec(code);
        dns_check(aTHX_ status, "AnyEvent::DNS request");
    }
    OUTPUT:
        RETVAL

U32
_rs_readable(SV *handle, int fd)
    ALIAS:
        _rs_writable = 1
    CODE:
    {
        aers_dns *r = dns_handle(aTHX_ handle);
        CHECK_STATUS(ix ? aers_dns_on_writable(r, fd, &RETVAL) : aers_dns_on_readable(r, fd, &RETVAL), "AnyEvent::DNS");
    }
    OUTPUT:
        RETVAL

U32
_rs_timeout(SV *handle)
    CODE:
        CHECK_STATUS(aers_dns_on_timeout(dns_handle(aTHX_ handle), &RETVAL), "AnyEvent::DNS");
    OUTPUT:
        RETVAL

SV *
_rs_next_timeout(SV *handle)
    CODE:
    {
        double t;
        CHECK_STATUS(aers_dns_next_timeout(dns_handle(aTHX_ handle), &t), "AnyEvent::DNS");
        RETVAL = t < 0 ? &PL_sv_undef : newSVnv(t);
    }
    OUTPUT:
        RETVAL

void
_rs_watch_list(SV *handle)
    PPCODE:
    {
        const int32_t *pairs;
        size_t n, i;
        CHECK_STATUS(aers_dns_watch_list(dns_handle(aTHX_ handle), &pairs, &n), "AnyEvent::DNS");
        EXTEND(SP, (SSize_t)(3 * n));
        for (i = 0; i < 3 * n; i++)
            mPUSHi(pairs[i]);
    }

void
_rs_dispatch(SV *handle)
    CODE:
    {
        aers_dns *r = dns_handle(aTHX_ handle);
        void *cb;
        const aers_dns_node *nodes;
        size_t count;
        int status;
        while (!(status = aers_dns_next_completion(r, &cb, &nodes, &count)) && cb) {
            dSP;
            uint32_t i, nargs = nodes[0].n;
            const aers_dns_node *node = nodes + 1;
            ENTER;
            SAVETMPS;
            SAVEFREESV((SV *)cb);
            PUSHMARK(SP);
            EXTEND(SP, (SSize_t)nargs);
            for (i = 0; i < nargs; i++)
                mPUSHs(dns_sv_from_node(aTHX_ &node));
            PUTBACK;
            call_sv((SV *)cb, G_VOID | G_DISCARD);
            FREETMPS;
            LEAVE;
        }
        if (status)
            croak_status(aTHX_ status, "AnyEvent::DNS");
    }

SV *
_rs_stats(SV *handle)
    CODE:
    {
        aers_dns_stats_t s;
        HV *hv = newHV();
        CHECK_STATUS(aers_dns_stats(dns_handle(aTHX_ handle), &s), "AnyEvent::DNS");
        hv_stores(hv, "dropped", newSVuv((UV)s.dropped));
        hv_stores(hv, "outstanding", newSVuv((UV)s.outstanding));
        hv_stores(hv, "queued", newSVuv((UV)s.queued));
        hv_stores(hv, "cached", newSVuv((UV)s.cached));
        hv_stores(hv, "tcp", newSVuv((UV)s.tcp));
        hv_stores(hv, "has_slot", newSViv(s.has_slot));
        RETVAL = newRV_noinc((SV *)hv);
    }
    OUTPUT:
        RETVAL

void
_rs_clear_cache(SV *handle)
    CODE:
        CHECK_STATUS(aers_dns_clear_cache(dns_handle(aTHX_ handle)), "AnyEvent::DNS");

SV *
_unpack(SV *pkt)
    CODE:
    {
        STRLEN len;
        const char *p = SvPVbyte(pkt, len);
        const aers_dns_node *nodes;
        size_t count;
        int status = aers_dns_unpack(p, len, &nodes, &count);
        if (status && status != EBADMSG)    /* EBADMSG: not a DNS message */
            croak_status(aTHX_ status, "AnyEvent::DNS::dns_unpack");
        RETVAL = status ? &PL_sv_undef : dns_node_sv(aTHX_ nodes);
    }
    OUTPUT:
        RETVAL

# The packet, or (undef, why) when a name cannot be encoded.
void
_pack(UV id, UV flags, UV edns, SV *names, SV *types, SV *classes)
    PPCODE:
    {
        aers_dns_pack_req req;
        const aers_dns_node *nodes;
        size_t count, i;
        char err[512];
        uint16_t *t, *c;
        AV *tav, *cav;
        int status;
        ENTER;
        SAVETMPS;
        req.id = (uint16_t)id;
        req.flags = (uint16_t)flags;
        req.edns_payload = (uint32_t)edns;
        req.nquestions = dns_strings(aTHX_ names, &req.names, &req.name_lens, "AnyEvent::DNS::dns_pack: qd");
        tav = (AV *)SvRV(types);
        cav = (AV *)SvRV(classes);
        Newx(t, req.nquestions + 1, uint16_t); SAVEFREEPV(t);
        Newx(c, req.nquestions + 1, uint16_t); SAVEFREEPV(c);
        for (i = 0; i < req.nquestions; i++) {
            SV **te = av_fetch(tav, i, 0), **ce = av_fetch(cav, i, 0);
            t[i] = te ? (uint16_t)SvUV(*te) : 0;
            c[i] = ce ? (uint16_t)SvUV(*ce) : 1;
        }
        req.types = t;
        req.classes = c;
        status = aers_dns_pack(&req, &nodes, &count);
        if (status && status != EINVAL)
            croak_status(aTHX_ status, "AnyEvent::DNS::dns_pack");
        if (status)
            last_error(err, sizeof err);
        FREETMPS;
        LEAVE;
        if (status == EINVAL) {
            EXTEND(SP, 2);
            PUSHs(&PL_sv_undef);
            mPUSHs(newSVpv(err, 0));
        } else
            mXPUSHs(dns_node_sv(aTHX_ nodes));
    }

SV *
_parse_resolv_conf(SV *text)
    ALIAS:
        _ptr_name = 1
    CODE:
    {
        STRLEN len;
        const char *p = SvPVbyte(text, len);
        const aers_dns_node *nodes;
        size_t count;
        CHECK_STATUS(ix ? aers_dns_ptr_name(p, len, &nodes, &count) : aers_dns_parse_resolv_conf(p, len, &nodes, &count), "AnyEvent::DNS");
        RETVAL = dns_node_sv(aTHX_ nodes);
    }
    OUTPUT:
        RETVAL
