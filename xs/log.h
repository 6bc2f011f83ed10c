/* Logging area: the fast front of AE::log / AnyEvent::log. The data and functions below are in
 * xs/log.c (which says how the decision is made), the XSUBs in xs/log.xsh. */
#ifndef AE_LOG_H
#define AE_LOG_H

/* The level names of AnyEvent::Log, with their syslog and perl aliases. AnyEvent::Log builds
 * its name table from this one (AnyEvent::Log::_level_names). */
struct ae_log_name { const char *name; STRLEN len; int level; };
#define AE_LOG_NAMES 16
extern const struct ae_log_name ae_log_names[AE_LOG_NAMES];

extern U32 ae_log_gen;      /* configuration generation; cache slots of older ones are stale */
extern int ae_log_loaded;   /* AnyEvent::Log decides (set by its first _changed call) */
extern GV *ae_verbose_gv;   /* *AnyEvent::VERBOSE: read on every call, it may be local()ised */

/* The level 1..9 of a level argument given as a number or a name; 0 when it is neither of the
 * plain forms (AnyEvent::Log then judges it, and croaks for a bad one). */
int ae_log_level_of(pTHX_ SV *sv);

/* The levels (bit n for level n) at which a message from package STASH would be logged. */
U32 ae_log_mask(pTHX_ HV *stash);

#endif
