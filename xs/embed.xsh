MODULE = AnyEvent		PACKAGE = AnyEvent::Impl::Rust

PROTOTYPES: DISABLE

void
_model_known()
    CODE:
        model_known = 1;

void
_embed(SV *hook)
    CODE:
    {
        if (embed_hook)
            SvREFCNT_dec(embed_hook);
        embed_hook = SvOK(hook) ? callback_of(aTHX_ hook, "AnyEvent::Impl::Rust::_embed") : NULL;
        embed_armed = 0;
        CHECK_STATUS(aers_set_embedded(THE_LOOP, embed_hook != NULL), "AnyEvent::Impl::Rust::_embed");
    }

void
_embed_state()
    PPCODE:
    {
        double t;
        bool active;
        int32_t fd;
        CHECK_STATUS(aers_next_timeout(THE_LOOP, &t), "AnyEvent::Impl::Rust::_embed_state");
        CHECK_STATUS(aers_is_active(THE_LOOP, &active), "AnyEvent::Impl::Rust::_embed_state");
        CHECK_STATUS(aers_backend_fd(THE_LOOP, &fd), "AnyEvent::Impl::Rust::_embed_state");
        embed_armed = 0;
        EXTEND(SP, 3);
        PUSHs(t < 0 ? &PL_sv_undef : sv_2mortal(newSVnv(t)));
        mPUSHi(active);
        mPUSHi(fd);
    }

int
is_active()
    CODE:
    {
        bool active;
        CHECK_STATUS(aers_is_active(THE_LOOP, &active), "AnyEvent::Impl::Rust::is_active");
        RETVAL = active;
    }
    OUTPUT:
        RETVAL

void
_child_foreign(int pid, int on)
    CODE:
        CHECK_STATUS(aers_child_foreign(THE_LOOP, pid, on != 0), "AnyEvent::Impl::Rust::_child_foreign");

void
_delegate(const char *what, SV *fn)
    CODE:
    {
        enum kind kind = strEQ(what, "signal") ? KIND_SIGNAL : strEQ(what, "child") ? KIND_CHILD : KIND_COUNT;
        if (kind == KIND_COUNT)
            croak("AnyEvent::Impl::Rust::_delegate: what must be 'signal' or 'child'");
        if (delegate[kind])
            SvREFCNT_dec(delegate[kind]);
        delegate[kind] = SvOK(fn) ? callback_of(aTHX_ fn, "AnyEvent::Impl::Rust::_delegate") : NULL;
    }
