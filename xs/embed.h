/* Glue for running the loop inside another event loop (AnyEvent::Impl::* other than Rust) and
 * for choosing the model lazily, as AnyEvent 7.17 does.
 *
 * - model_known: AnyEvent::detect has run (or is running). Until then, the first watcher
 *   created calls it, so that a foreign loop loaded after AnyEvent is still found.
 * - embed_hook: set by an embedding model. A watcher created while the foreign loop is in
 *   charge and no run of ours is due calls it once, so that the model arranges a run (the new
 *   watcher must reach epoll, or its timer be counted). embed_armed says a run is due: it is
 *   set by that call and by run_nowait, cleared when the model asks for the loop's state after
 *   a run (_embed_state).
 * - delegate[kind]: a model whose loop owns signals or child reaping (EV, Glib, IO::Async,
 *   POE, Event) hands AE::signal / AE::child to a Perl function of its own, which may
 *   decline (return undef).
 * - AnyEvent::Impl::Rust::_child_foreign($pid, $on) (no state here): a model whose loop reaps
 *   some children itself while our watchers for any child run (Glib) names those pids, and
 *   shares SIGCHLD with that loop's handler (aers_child_foreign).
 *
 * The Perl code these call (detection loads modules, the foreign loop makes system calls)
 * leaves errno as it found it, like every other part of a watcher constructor. */

#ifndef AE_EMBED_H
#define AE_EMBED_H

extern int model_known;
extern SV *embed_hook;
extern int embed_armed;
extern SV *delegate[KIND_COUNT];

/* Runs AnyEvent::detect (errno kept). */
void detect_model(pTHX);

#define ENSURE_MODEL STMT_START { if (!model_known) detect_model(aTHX); } STMT_END

/* Calls the embedding model's hook (errno kept): a run of ours is due. */
void embed_wake(pTHX);

/* After a watcher was added: make sure an embedding loop runs us soon. */
#define WATCHER_ADDED STMT_START { if (embed_hook && !embed_armed) embed_wake(aTHX); } STMT_END

/* Calls the model's own function for a watcher kind with the XSUB's arguments; returns its
 * result (the watcher), or NULL when it returned nothing or undef: then our loop serves the
 * watcher itself (a Glib model, say, hands over child watchers for one pid but not pid 0). */
SV *call_delegate(pTHX_ enum kind kind, SV *a, SV *b);

#endif
