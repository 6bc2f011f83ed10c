/* Logging area: the fast front of AE::log / AnyEvent::log (declared in xs/log.h, XSUBs in
 * xs/log.xsh).
 *
 * AE::log is called in hot paths at levels that are usually disabled, so the decision "would
 * this message be logged anywhere?" is made here, without entering Perl: before AnyEvent::Log
 * is loaded from $AnyEvent::VERBOSE (as AnyEvent 7.17's front does), afterwards from a cache of
 * per-package level masks that AnyEvent::Log computes (_pkg_mask) and invalidates whenever its
 * configuration changes (_changed). Everything else is done by AnyEvent::Log in Perl. */

#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include "xs/log.h"

/* The level names of AnyEvent::Log, with their syslog and perl aliases. AnyEvent::Log builds
 * its name table from this one (AnyEvent::Log::_level_names). */
const struct ae_log_name ae_log_names[AE_LOG_NAMES] = {
    { "fatal", 5, 1 }, { "emerg", 5, 1 }, { "exit", 4, 1 },
    { "alert", 5, 2 },
    { "critical", 8, 3 }, { "crit", 4, 3 },
    { "error", 5, 4 }, { "err", 3, 4 }, { "die", 3, 4 },
    { "warn", 4, 5 }, { "warning", 7, 5 },
    { "note", 4, 6 }, { "notice", 6, 6 },
    { "info", 4, 7 },
    { "debug", 5, 8 },
    { "trace", 5, 9 },
};

U32 ae_log_gen = 1;   /* configuration generation; cache slots of older ones are stale */
int ae_log_loaded;    /* AnyEvent::Log decides (set by its first _changed call) */
GV *ae_verbose_gv;    /* *AnyEvent::VERBOSE: read on every call, it may be local()ised */

#define AE_LOG_SLOTS 64
static struct { HV *stash; U32 gen; U32 mask; } ae_log_slot[AE_LOG_SLOTS];

/* The level 1..9 of a level argument given as a number or a name; 0 when it is neither of the
 * plain forms (AnyEvent::Log then judges it, and croaks for a bad one). */
int ae_log_level_of(pTHX_ SV *sv)
{
    if (SvIOK(sv) && !SvNOK(sv) && !SvPOK(sv)) {
        IV v = SvIVX(sv);
        return v >= 1 && v <= 9 ? (int)v : 0;
    }
    if (SvPOK(sv) && !SvGMAGICAL(sv)) {
        STRLEN len = SvCUR(sv), i;
        const char *s = SvPVX(sv);
        if (len == 1 && s[0] >= '1' && s[0] <= '9')
            return s[0] - '0';
        for (i = 0; i < AE_LOG_NAMES; i++)
            if (ae_log_names[i].len == len && memEQ(ae_log_names[i].name, s, len))
                return ae_log_names[i].level;
    }
    return 0;
}

/* The levels (bit n for level n) at which a message from package STASH would be logged. */
U32 ae_log_mask(pTHX_ HV *stash)
{
    UV slot = (PTR2UV(stash) >> 4) % AE_LOG_SLOTS;
    if (ae_log_slot[slot].stash != stash || ae_log_slot[slot].gen != ae_log_gen) {
        dSP;
        U32 mask;
        int count;
        const char *name = stash ? HvNAME_get(stash) : NULL;
        ENTER;
        SAVETMPS;
        PUSHMARK(SP);
        XPUSHs(sv_2mortal(newSVpv(name ? name : "main", 0)));
        PUTBACK;
        count = call_pv("AnyEvent::Log::_pkg_mask", G_SCALAR);
        SPAGAIN;
        mask = count == 1 ? (U32)POPu : 0x3fe;
        PUTBACK;
        FREETMPS;
        LEAVE;
        ae_log_slot[slot].stash = stash;
        ae_log_slot[slot].gen = ae_log_gen;
        ae_log_slot[slot].mask = mask;
    }
    return ae_log_slot[slot].mask;
}
