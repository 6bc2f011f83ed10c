MODULE = AnyEvent		PACKAGE = AnyEvent

PROTOTYPES: ENABLE

# AnyEvent::log (AE::log is an alias): return 0 at once when the message would not be logged; otherwise
# load AnyEvent::Log if needed and let it log (AnyEvent::Log::_log_pkg), returning its result.

SV *
log(SV *level, SV *msg, ...)
    PROTOTYPE: $$;@
    CODE:
    {
        int lvl = ae_log_level_of(aTHX_ level);
        HV *stash = CopSTASH(PL_curcop);
        PERL_UNUSED_VAR(msg);
        if (lvl > 1) {
            if (!ae_log_loaded) {
                SV *v;
                if (!ae_verbose_gv)
                    ae_verbose_gv = gv_fetchpvs("AnyEvent::VERBOSE", GV_ADD | GV_ADDMULTI, SVt_PV);
                v = GvSV(ae_verbose_gv);
                IV verbose = v ? SvIV(v) : 0;
                if (lvl > (verbose ? verbose : 1))
                    XSRETURN_IV(0);
            } else if (!(ae_log_mask(aTHX_ stash) & (1U << lvl))) {
                XSRETURN_IV(0);
            }
        }
        if (!ae_log_loaded) {
            /* the program's $! and $@ survive loading the module (eval_pv sets $@) */
            int saved_errno = errno;
            SV *saved_error = sv_2mortal(newSVsv(ERRSV));
            eval_pv("require AnyEvent::Log; 1", TRUE);
            sv_setsv(ERRSV, saved_error);
            errno = saved_errno;
        }
        {
            dSP;
            int i, count;
            const char *name = stash ? HvNAME_get(stash) : NULL;
            PUSHMARK(SP);
            EXTEND(SP, items + 1);
            mPUSHs(newSVpv(name ? name : "main", 0));
            for (i = 0; i < items; i++)
                PUSHs(ST(i));
            PUTBACK;
            count = call_pv("AnyEvent::Log::_log_pkg", G_SCALAR);
            SPAGAIN;
            RETVAL = count == 1 ? newSVsv(POPs) : newSVsv(&PL_sv_undef);
            PUTBACK;
        }
    }
    OUTPUT:
        RETVAL

MODULE = AnyEvent		PACKAGE = AnyEvent::Log

PROTOTYPES: DISABLE

# For AnyEvent::Log: its configuration changed (also: it is loaded and decides from now on).
void
_changed()
    CODE:
        ae_log_loaded = 1;
        ae_log_gen++;

# For AnyEvent::Log: the level names known to the front, as (name => level, ...).
void
_level_names()
    PPCODE:
    {
        size_t i, n = sizeof ae_log_names / sizeof ae_log_names[0];
        EXTEND(SP, 2 * n);
        for (i = 0; i < n; i++) {
            mPUSHp(ae_log_names[i].name, ae_log_names[i].len);
            mPUSHi(ae_log_names[i].level);
        }
    }
