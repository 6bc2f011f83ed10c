MODULE = AnyEvent		PACKAGE = AnyEvent::DNS

PROTOTYPES: DISABLE

UV
_rs_new()
    CODE:
    {
        uint64_t key;
        CHECK_STATUS(aers_dns_new(THE_LOOP, &key), "AnyEvent::DNS->new");
        RETVAL = (UV)key;
    }
    OUTPUT:
        RETVAL

void
_rs_free(SV *handle)
    CODE:
    {
        uint64_t key = dns_key(aTHX_ handle);
        void *cb;
        int st = aers_dns_free(THE_LOOP, key);
        /* the callbacks of its requests are never called: release them */
        while (!st && !(st = aers_dns_take_callback(THE_LOOP, &cb)) && cb)
            SvREFCNT_dec((SV *)cb);
        sv_setuv(handle, 0);
        /* (called from DESTROY: after a panic the core refuses work, and the croak of the
         * call that panicked told the program) */
        if (st && st != AERS_PANICKED)
            croak_status(aTHX_ st, "AnyEvent::DNS");
    }

void
_rs_configure(SV *handle, SV *servers, SV *timeouts, SV *search, UV ndots, UV max_outstanding, NV reuse, UV edns, int cache)
    CODE:
    {
        uint64_t key = dns_key(aTHX_ handle);
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
        dns_check(aTHX_ aers_dns_configure(THE_LOOP, key, &s), "AnyEvent::DNS");
        FREETMPS;
        LEAVE;
    }

void
_rs_resolve(SV *handle, SV *name, UV qtype, UV qclass, SV *search, SV *accept, SV *hosts, SV *cb)
    CODE:
    {
        uint64_t key = dns_key(aTHX_ handle);
        aers_dns_lookup l;
        SV *code;
        int status;
        STRLEN len;
        uint16_t *types = NULL;
        ENTER;
        SAVETMPS;
        dns_lookup_name(aTHX_ &l, name, search);
        l.qtype = (uint16_t)qtype;
        l.qclass = (uint16_t)qclass;
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
        ENSURE_MODEL;
        status = aers_dns_resolve(THE_LOOP, key, code, &l);
        if (status)
            SvREFCNT_dec(code);
        dns_check(aTHX_ status, "AnyEvent::DNS resolve");
        WATCHER_ADDED;
        FREETMPS;
        LEAVE;
    }

void
_rs_request(SV *handle, SV *pkt, SV *cb)
    CODE:
    {
        uint64_t key = dns_key(aTHX_ handle);
        STRLEN len;
        const char *p = SvPVbyte(pkt, len);
        SV *code = callback_of(aTHX_ cb, "AnyEvent::DNS request");
        int status;
        ENSURE_MODEL;
        status = aers_dns_request(THE_LOOP, key, code, p, len);
        if (status)
            SvREFCNT_dec(code);
        dns_check(aTHX_ status, "AnyEvent::DNS request");
        WATCHER_ADDED;
    }

# Sets the code the loop calls when a request of the resolver ended (wait_for_slot).
void
_rs_on_slot(SV *handle, SV *cb)
    CODE:
    {
        uint64_t key = dns_key(aTHX_ handle);
        SV *code = callback_of(aTHX_ cb, "AnyEvent::DNS wait_for_slot");
        void *old;
        int status = aers_dns_set_slot_callback(THE_LOOP, key, code, &old);
        if (status)
            SvREFCNT_dec(code);
        CHECK_STATUS(status, "AnyEvent::DNS");
        if (old)
            SvREFCNT_dec((SV *)old);
    }

SV *
_rs_stats(SV *handle)
    CODE:
    {
        aers_dns_stats_t s;
        HV *hv;
        CHECK_STATUS(aers_dns_stats(THE_LOOP, dns_key(aTHX_ handle), &s), "AnyEvent::DNS");
        hv = newHV();
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

int
_rs_has_slot(SV *handle)
    CODE:
    {
        aers_dns_stats_t s;
        CHECK_STATUS(aers_dns_stats(THE_LOOP, dns_key(aTHX_ handle), &s), "AnyEvent::DNS");
        RETVAL = s.has_slot;
    }
    OUTPUT:
        RETVAL

void
_rs_clear_cache(SV *handle)
    CODE:
        CHECK_STATUS(aers_dns_clear_cache(THE_LOOP, dns_key(aTHX_ handle)), "AnyEvent::DNS");

# The descriptors of the resolver's sockets (for the tests of fork handling).
void
_rs_sockets(SV *handle)
    PPCODE:
    {
        const aers_dns_node *nodes;
        size_t count;
        CHECK_STATUS(aers_dns_sockets(THE_LOOP, dns_key(aTHX_ handle), &nodes, &count), "AnyEvent::DNS");
        PUTBACK;
        dns_push_list(aTHX_ nodes);
        SPAGAIN;
    }

# The names a look-up asks for, in order (the resolver's search list and ndots, or search).
void
_rs_search_names(SV *handle, SV *name, SV *search)
    PPCODE:
    {
        uint64_t key = dns_key(aTHX_ handle);
        aers_dns_lookup l;
        const aers_dns_node *nodes;
        size_t count;
        int status;
        ENTER;
        SAVETMPS;
        memset(&l, 0, sizeof l);
        dns_lookup_name(aTHX_ &l, name, search);
        status = aers_dns_search_names(THE_LOOP, key, &l, &nodes, &count);
        FREETMPS;
        LEAVE;
        CHECK_STATUS(status, "AnyEvent::DNS resolve");
        PUTBACK;
        dns_push_list(aTHX_ nodes);
        SPAGAIN;
    }

# What an answer (its records) means for a look-up: (verdict, name, depth, indices of the
# records found), by the rules of the Rust look-ups.
void
_examine(SV *an, SV *name, SV *depth, UV qtype, SV *accept)
    PPCODE:
    {
        aers_dns_examine_args ex;
        aers_dns_answer *answers;
        uint16_t *types = NULL;
        const aers_dns_node *nodes;
        size_t count;
        uint32_t verdict;
        AV *av = SvROK(an) && SvTYPE(SvRV(an)) == SVt_PVAV ? (AV *)SvRV(an) : NULL;
        SSize_t i, n = av ? av_len(av) + 1 : 0;
        STRLEN len;
        int status;
        ENTER;
        SAVETMPS;
        Newxz(answers, n + 1, aers_dns_answer);
        SAVEFREEPV(answers);
        for (i = 0; i < n; i++) {
            SV **rr = av_fetch(av, i, 0);
            AV *rav = rr && SvROK(*rr) && SvTYPE(SvRV(*rr)) == SVt_PVAV ? (AV *)SvRV(*rr) : NULL;
            SV **f;
            if (!rav)
                continue;
            if ((f = av_fetch(rav, 0, 0)) && SvOK(*f)) {
                answers[i].owner = SvPVbyte(*f, len);
                answers[i].owner_len = len;
            }
            if ((f = av_fetch(rav, 1, 0)) && SvOK(*f)) {
                answers[i].rtype = SvPVbyte(*f, len);
                answers[i].rtype_len = len;
            }
            if ((f = av_fetch(rav, 4, 0)) && SvOK(*f)) {
                answers[i].target = SvPVbyte(*f, len);
                answers[i].target_len = len;
                answers[i].has_target = 1;
            }
        }
        ex.answers = answers;
        ex.nanswers = (size_t)n;
        ex.name = SvPVbyte(name, len);
        ex.name_len = len;
        ex.depth = SvOK(depth) ? (int32_t)SvIV(depth) : -1;
        ex.qtype = (uint16_t)qtype;
        ex.naccept = -1;
        if (SvROK(accept) && SvTYPE(SvRV(accept)) == SVt_PVAV) {
            AV *aav = (AV *)SvRV(accept);
            ex.naccept = av_len(aav) + 1;
            Newx(types, ex.naccept + 1, uint16_t);
            SAVEFREEPV(types);
            for (i = 0; i < ex.naccept; i++) {
                SV **e = av_fetch(aav, i, 0);
                types[i] = e ? (uint16_t)SvUV(*e) : 0;
            }
        }
        ex.accept = types;
        status = aers_dns_examine(&ex, &verdict, &nodes, &count);
        FREETMPS;
        LEAVE;
        CHECK_STATUS(status, "AnyEvent::DNS resolve");
        XPUSHs(sv_2mortal(newSVuv(verdict)));
        PUTBACK;
        dns_push_list(aTHX_ nodes);
        SPAGAIN;
    }

# The tables of names and numbers and the resolver's defaults (rust/dns/wire.rs, resolver.rs).
SV *
_tables()
    CODE:
    {
        const aers_dns_node *nodes;
        size_t count;
        CHECK_STATUS(aers_dns_tables(&nodes, &count), "AnyEvent::DNS");
        RETVAL = dns_node_sv(aTHX_ nodes);
    }
    OUTPUT:
        RETVAL

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

# The packet, or (undef, why) when a name cannot be encoded. The header flags are read from
# the request hash (qr aa tc rd ra ad cd, true or false).
void
_pack(UV id, UV opcode, UV rcode, HV *req_hv, UV edns, SV *names, SV *types, SV *classes)
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
        req.opcode = (uint16_t)opcode;
        req.rcode = (uint16_t)rcode;
#define PACK_FLAG(f) STMT_START { SV **e = hv_fetchs(req_hv, #f, 0); req.f = e && SvTRUE(*e); } STMT_END
        PACK_FLAG(qr); PACK_FLAG(aa); PACK_FLAG(tc); PACK_FLAG(rd);
        PACK_FLAG(ra); PACK_FLAG(ad); PACK_FLAG(cd);
#undef PACK_FLAG
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
        AnyEvent::Socket::_rs_parse_hosts = 2
    CODE:
    {
        STRLEN len;
        const char *p = SvPVbyte(text, len);
        const aers_dns_node *nodes;
        size_t count;
        int status = ix == 2 ? aers_dns_parse_hosts(p, len, &nodes, &count)
                   : ix ? aers_dns_ptr_name(p, len, &nodes, &count)
                   : aers_dns_parse_resolv_conf(p, len, &nodes, &count);
        CHECK_STATUS(status, "AnyEvent::DNS");
        RETVAL = dns_node_sv(aTHX_ nodes);
    }
    OUTPUT:
        RETVAL
