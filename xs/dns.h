/* Glue declarations for AnyEvent::DNS (rust/ffi/dns.rs): the resolver's C ABI and the helper
 * that turns the values it hands out (flattened trees of strings, numbers, lists, hashes)
 * into Perl data. */

typedef struct aers_dns aers_dns;

typedef struct {
    uint32_t kind; /* 0 undef, 1 bytes, 2 integer, 3 list of n, 4 hash of n pairs, 5 boolean */
    uint32_t n;
    int64_t num;
    const char *ptr;
    size_t len;
} aers_dns_node;

typedef struct {
    const char *const *servers; const size_t *server_lens; size_t nservers;
    const double *timeouts; size_t ntimeouts;
    const char *const *search; const size_t *search_lens; size_t nsearch;
    uint32_t ndots; uint32_t max_outstanding; double reuse; uint32_t edns_payload; int32_t cache;
} aers_dns_settings;

typedef struct {
    const char *name; size_t name_len; uint16_t qtype; uint16_t qclass;
    int32_t has_search; const char *const *search; const size_t *search_lens; size_t nsearch;
    const uint16_t *accept; ptrdiff_t naccept;
    const char *hosts; size_t hosts_len;
} aers_dns_lookup;

typedef struct {
    uint16_t id; uint16_t flags; uint32_t edns_payload;
    const char *const *names; const size_t *name_lens; const uint16_t *types; const uint16_t *classes;
    size_t nquestions;
} aers_dns_pack_req;

typedef struct { uint64_t dropped, outstanding, queued, cached, tcp; int32_t has_slot; } aers_dns_stats_t;

int aers_dns_new(aers_dns **out);
int aers_dns_take_callback(aers_dns *r, void **cb);
int aers_dns_free(aers_dns *r);
void aers_dns_error(aers_dns *r, char *buf, size_t len);
int aers_dns_configure(aers_dns *r, const aers_dns_settings *s, uint32_t *flags);
int aers_dns_resolve(aers_dns *r, void *cb, const aers_dns_lookup *l, uint32_t *flags);
int aers_dns_request(aers_dns *r, void *cb, const char *pkt, size_t len, uint32_t *flags);
int aers_dns_on_readable(aers_dns *r, int fd, uint32_t *flags);
int aers_dns_on_writable(aers_dns *r, int fd, uint32_t *flags);
int aers_dns_on_timeout(aers_dns *r, uint32_t *flags);
double aers_dns_next_timeout(aers_dns *r);
int aers_dns_watch_list(aers_dns *r, const int32_t **pairs, size_t *count);
int aers_dns_next_completion(aers_dns *r, void **cb, const aers_dns_node **nodes, size_t *count);
int aers_dns_stats(aers_dns *r, aers_dns_stats_t *out);
int aers_dns_clear_cache(aers_dns *r);
int aers_dns_unpack(const char *pkt, size_t len, const aers_dns_node **nodes, size_t *count);
int aers_dns_pack(const aers_dns_pack_req *r, const aers_dns_node **nodes, size_t *count, char *err, size_t errlen);
int aers_dns_parse_resolv_conf(const char *text, size_t len, const aers_dns_node **nodes, size_t *count);
int aers_dns_ptr_name(const char *text, size_t len, const aers_dns_node **nodes, size_t *count);

/* Builds the Perl value of the subtree at *node (a new reference), advancing *node past it. */
static SV *dns_sv_from_node(pTHX_ const aers_dns_node **node)
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

/* The resolver behind an IV handle (what _rs_new returned). */
static aers_dns *dns_handle(pTHX_ SV *sv)
{
    if (!SvOK(sv) || !SvIOK(sv) || !SvIV(sv))
        croak("AnyEvent::DNS: the resolver was destroyed or not constructed with new");
    return INT2PTR(aers_dns *, SvIV(sv));
}

/* Croaks with the resolver's message for EINVAL, else as croak_status does. */
static void dns_check(pTHX_ aers_dns *r, int status, const char *who)
{
    if (status == EINVAL) {
        char buf[512];
        aers_dns_error(r, buf, sizeof buf);
        croak_caller(aTHX_ "%s: %s", who, buf);
    }
    if (status)
        croak_status(aTHX_ status, who);
}

/* Pointers and lengths of the strings in an array reference (arrays allocated mortal). */
static size_t dns_strings(pTHX_ SV *aref, const char *const **ptrs, const size_t **lens, const char *who)
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

/* Returns the value handed out in nodes as a new SV. */
static SV *dns_node_sv(pTHX_ const aers_dns_node *nodes)
{
    return dns_sv_from_node(aTHX_ &nodes);
}
