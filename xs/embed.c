/* Glue for running the loop inside another event loop and for choosing the model lazily
 * (declared, with what it is for, in xs/embed.h; XSUBs in xs/embed.xsh). */
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <errno.h>
#include "aers.h"
#include "xs/glue.h"
#include "xs/embed.h"

int model_known;
SV *embed_hook;
int embed_armed;
SV *delegate[KIND_COUNT];

void detect_model(pTHX)
{
    dSP;
    int saved_errno = errno;
    model_known = 1;
    PUSHMARK(SP);
    call_pv("AnyEvent::detect", G_DISCARD | G_NOARGS);
    errno = saved_errno;
}

void embed_wake(pTHX)
{
    dSP;
    int saved_errno = errno;
    embed_armed = 1;
    PUSHMARK(SP);
    call_sv(embed_hook, G_DISCARD | G_NOARGS);
    errno = saved_errno;
}

SV *call_delegate(pTHX_ enum kind kind, SV *a, SV *b)
{
    dSP;
    SV *ret;
    int n;
    int saved_errno = errno;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    EXTEND(SP, 2);
    PUSHs(a);
    PUSHs(b);
    PUTBACK;
    n = call_sv(delegate[kind], G_SCALAR);
    SPAGAIN;
    ret = n ? POPs : NULL;
    ret = ret && SvOK(ret) ? newSVsv(ret) : NULL;
    PUTBACK;
    FREETMPS;
    LEAVE;
    errno = saved_errno;
    return ret;
}
