/* Glue helpers for AnyEvent::DNS (xs/dns.c), used by the XSUBs in xs/dns.xsh on top of
 * rust/ffi/dns.rs and by invoke_ready in AnyEvent.xs (the arguments of a finished request):
 * they turn the values the resolver hands out (flattened trees of strings, numbers, lists,
 * hashes: aers_dns_node) into Perl data, and Perl arrays into C arrays. */
#ifndef AE_DNS_H
#define AE_DNS_H

/* Builds the Perl value of the subtree at *node (a new reference), advancing *node past it. */
SV *dns_sv_from_node(pTHX_ const aers_dns_node **node);

/* Returns the value handed out in nodes as a new SV. */
SV *dns_node_sv(pTHX_ const aers_dns_node *nodes);

/* The resolver key in a handle (what _rs_new returned); croaks when there is none. */
uint64_t dns_key(pTHX_ SV *sv);

/* Pushes the elements of the list node at nodes onto the Perl stack (mortal; PUTBACK before,
 * SPAGAIN after). */
void dns_push_list(pTHX_ const aers_dns_node *nodes);

/* Fills the name (NULL for undef or wide characters) and search list (has_search when
 * search is defined) of a look-up (arrays mortal: within ENTER/SAVETMPS). */
void dns_lookup_name(pTHX_ aers_dns_lookup *l, SV *name, SV *search);

/* Croaks at the caller's line with the core's message for EINVAL, else as croak_status does
 * (nothing for AERS_OK). */
void dns_check(pTHX_ int status, const char *who);

/* Pointers and lengths of the strings in an array reference (arrays allocated mortal, so
 * within ENTER/SAVETMPS); croaks for anything else. */
size_t dns_strings(pTHX_ SV *aref, const char *const **ptrs, const size_t **lens, const char *who);

#endif
