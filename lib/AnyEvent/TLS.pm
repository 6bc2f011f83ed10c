package AnyEvent::TLS;

# TLS contexts for AnyEvent::Handle, on rustls (rust/tls.rs). This module turns AnyEvent::TLS's
# options into a rustls context: PEM files are read here, parsed and checked in Rust.

use strict;
use warnings;
use Carp ();
use AnyEvent ();

our $VERSION = '7.17';
our $ERROR;    # the message of the last TLS failure

# Flags of AnyEvent::TLS::_ctx_new (AERS_TLS* of rust/ffi/tls.rs, installed by AnyEvent.xs).
my %FLAG = (tls12 => _TLS12, tls13 => _TLS13, verify => _VERIFY, require_client_cert => _REQUIRE_CLIENT_CERT,
            check_peername => _CHECK_PEERNAME, defer => _DEFER_VERDICT,
            client_tickets => _CLIENT_TICKETS, server_tickets => _SERVER_TICKETS);

my %METHOD = (any => [1, 1], sslv23 => [1, 1], tls => [1, 1], tlsv1_2 => [1, 0], tlsv1_3 => [0, 1]);

# Options AnyEvent 7.17 knows. Those rustls has no use for (dh*, cipher_list ...) are accepted
# and ignored (see the POD); `cache` is AnyEvent::Handle's (it shares one context per hash).
my %KNOWN = map { $_ => 1 } qw(method sslv2 sslv3 tlsv1 tlsv1_1 tlsv1_2 tlsv1_3
    verify verify_require_client_cert verify_peername verify_cb verify_client_once
    ca_file ca_path ca_cert check_crl key_file key cert_file cert cert_password
    dh_file dh dh_single_use cipher_list session_ticket prepare alpn cache debug);

# Where the system keeps its trusted certificates.
our @SYSTEM_CA_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt");
our $SYSTEM_CA_PATH  = "/etc/ssl/certs";

sub new {
    my ($class, %arg) = @_;
    my $self = bless {%arg}, $class;
    # As AnyEvent 7.17: keys it does not know are ignored (one line at verbose level 7, info; never fatal).
    for (sort grep !$KNOWN{$_}, keys %arg) {
        AE::log(info => "AnyEvent::TLS->new: ignoring unknown option '$_'");
    }
    Carp::croak("AnyEvent::TLS->new: check_crl is not supported (rustls has no CRL lookup); refusing rather than silently not checking revocation")
        if $arg{check_crl};
    # sslv2 ... tlsv1_1 only ever allow a protocol in addition: rustls has none of them, so
    # enabling one changes nothing (TLS 1.2 and 1.3 stay what is offered).
    for (grep $arg{$_}, qw(sslv2 sslv3 tlsv1 tlsv1_1)) {
        AE::log(info => "AnyEvent::TLS->new: $_ is not available (rustls speaks TLS 1.2 and 1.3 only)");
    }

    my ($tls12, $tls13) = @{ $METHOD{ lc($arg{method} // "any") }
        or Carp::croak("AnyEvent::TLS->new: method '$arg{method}' is not supported (use any, TLSv1_2 or TLSv1_3; older protocols are insecure and unsupported)") };
    $tls12 = 0 if exists $arg{tlsv1_2} && !$arg{tlsv1_2};
    $tls13 = 0 if exists $arg{tlsv1_3} && !$arg{tlsv1_3};
    Carp::croak("AnyEvent::TLS->new: every protocol version is disabled") unless $tls12 || $tls13;

    my $peername = $arg{verify_peername};
    $peername = undef if defined $peername && !ref $peername && lc $peername eq "none";
    for (qw(verify_cb prepare)) {
        Carp::croak("AnyEvent::TLS->new: $_ must be a code reference") if defined $arg{$_} && ref $arg{$_} ne 'CODE';
    }
    if (ref $peername && ref $peername ne 'CODE' && ref $peername ne 'ARRAY') {
        Carp::croak("AnyEvent::TLS->new: verify_peername must be a scheme name, an array reference or a code reference");
    }
    my $defer = $arg{verify} && ($arg{verify_cb} || ref $peername eq 'CODE');

    my $flags = ($tls12 ? $FLAG{tls12} : 0) | ($tls13 ? $FLAG{tls13} : 0)
        | ($arg{verify} ? $FLAG{verify} : 0)
        | ($arg{verify_require_client_cert} ? $FLAG{require_client_cert} : 0)
        | ($arg{verify} && defined $peername && ref $peername ne 'CODE' ? $FLAG{check_peername} : 0)
        | ($defer ? $FLAG{defer} : 0)
        # RFC 5077 tickets: off for clients and on for servers unless session_ticket says.
        | (($arg{session_ticket} // 0) ? $FLAG{client_tickets} : 0)
        | (($arg{session_ticket} // 1) ? $FLAG{server_tickets} : 0);

    my $alpn = "";
    if (defined $arg{alpn}) {
        ref $arg{alpn} eq 'ARRAY' or Carp::croak("AnyEvent::TLS->new: alpn must be an array reference of protocol names");
        for (@{ $arg{alpn} }) {
            my $name = "$_";
            utf8::encode($name);
            length $name && length $name < 256 or Carp::croak("AnyEvent::TLS->new: ALPN protocol name '$name' must be 1 to 255 octets");
            $alpn .= chr(length $name) . $name;
        }
    }

    $self->{_ctx} = _ctx_new($flags, $alpn);
    $self->_load_trust if $arg{verify};
    $self->_load_identity;
    $arg{prepare}->($self) if $arg{prepare};
    $self;
}

sub _slurp {
    my ($path, $what) = @_;
    open my $fh, "<:raw", $path or Carp::croak("AnyEvent::TLS->new: cannot read $what '$path': $!");
    local $/;
    scalar <$fh>;
}

sub _load {
    my ($self, $what, $pem, $source) = @_;
    my $n = eval { $self->{_ctx}->_load($what, $pem) };
    Carp::croak("AnyEvent::TLS->new: $source: $@") if $@;
    $n;
}

# The trusted certificates: ca_file, ca_path, ca_cert, or else the system store.
sub _load_trust {
    my ($self) = @_;
    my $loaded = 0;
    if (defined $self->{ca_file}) {
        $loaded += $self->_load(0, _slurp($self->{ca_file}, "ca_file"), "ca_file '$self->{ca_file}'");
    }
    if (defined $self->{ca_path}) {
        $loaded += $self->_load_dir($self->{ca_path});
    }
    if (defined $self->{ca_cert}) {
        $loaded += $self->_load(0, $self->{ca_cert}, "ca_cert");
    }
    return if defined $self->{ca_file} || defined $self->{ca_path} || defined $self->{ca_cert};

    my $env_file = $ENV{PERL_ANYEVENT_CA_FILE};
    my $env_path = $ENV{PERL_ANYEVENT_CA_PATH};
    if (defined $env_file || defined $env_path) {
        $self->_load(0, _slurp($env_file, "PERL_ANYEVENT_CA_FILE"), "PERL_ANYEVENT_CA_FILE") if defined $env_file;
        $self->_load_dir($env_path) if defined $env_path;
        return;
    }
    for my $file (@SYSTEM_CA_FILES) {
        return $self->_load(0, _slurp($file, "system CA file"), "system CA file '$file'") if -r $file;
    }
    $self->_load_dir($SYSTEM_CA_PATH) if -d $SYSTEM_CA_PATH;
}

sub _load_dir {
    my ($self, $dir) = @_;
    opendir my $dh, $dir or Carp::croak("AnyEvent::TLS->new: cannot read ca_path '$dir': $!");
    my $n = 0;
    for my $name (sort readdir $dh) {
        my $file = "$dir/$name";
        next unless -f $file && $name =~ /\.(?:pem|crt|\d+)\z/;
        my $pem = eval { _slurp($file, "certificate") } // next;
        next unless $pem =~ /-----BEGIN CERTIFICATE-----/;
        $n += $self->_load(0, $pem, "ca_path file '$file'");
    }
    $n;
}

# This side's certificate chain and key: cert_file/cert and key_file/key, where a key may
# also come from the certificate file (one PEM file holding both).
sub _load_identity {
    my ($self) = @_;
    my $cert = defined $self->{cert_file} ? _slurp($self->{cert_file}, "cert_file") : $self->{cert};
    my $key  = defined $self->{key_file}  ? _slurp($self->{key_file}, "key_file")   : $self->{key};
    $key = $cert if !defined $key && defined $cert && $cert =~ /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----/;
    if (defined $key) {
        my $source = defined $self->{key_file}  ? "key_file '$self->{key_file}'"
                   : defined $self->{key}       ? "key"
                   : defined $self->{cert_file} ? "cert_file '$self->{cert_file}'" : "cert";
        $self->_load(2, $key, $source);
    }
    if (defined $cert) {
        my $source = defined $self->{cert_file} ? "cert_file '$self->{cert_file}'" : "cert";
        $self->_load(1, $cert, $source) or Carp::croak("AnyEvent::TLS->new: $source holds no certificate");
    }
}

# A session for an AnyEvent::Handle ("accept": server side, "connect": client side). Returns
# undef with $ERROR set when the context cannot make one (e.g. a server without certificate).
sub _session {
    my ($self, $handle, $mode) = @_;
    my $peername = $mode eq "connect" ? $handle->{peername} : undef;
    # An internationalised name is known to certificates and SNI by its ASCII form.
    if (defined $peername && $peername =~ /[^\x00-\x7f]/) {
        require AnyEvent::Util;
        $peername = AnyEvent::Util::idn_to_ascii($peername);
    }
    $self->{_ctx}->session($mode eq "accept" ? 1 : 0, $peername);
}

# The final word on a peer certificate when Perl callbacks take part (see verify_cb and a
# code reference as verify_peername). $ok is what the chain verification said.
sub _final_verdict {
    my ($self, $handle, $session, $ok) = @_;
    $ok = $ok ? 1 : 0;
    my $cert = $session->peer_cert(0);
    my $peername = $handle->{peername};
    if ($ok && ref $self->{verify_peername} eq 'CODE' && defined $peername) {
        $ok = $self->{verify_peername}->($self, $cert, $peername) ? 1 : 0;
    }
    if ($self->{verify_cb}) {
        $ok = $self->{verify_cb}->($self, $handle, $peername, 0, $ok, undef, $cert) ? 1 : 0;
    }
    $ok;
}

sub init { 1 }

1;

__END__

=head1 NAME

AnyEvent::TLS - TLS contexts for AnyEvent::Handle, on rustls

=head1 SYNOPSIS

    use AnyEvent::Handle;

    # a client that checks the server's certificate and host name
    my $handle = AnyEvent::Handle->new(
        connect  => ["www.example.org", "https"],
        tls      => "connect",
        tls_ctx  => { verify => 1, verify_peername => "https" },
        on_error => sub { warn $_[2] },
    );

    # a server
    my $ctx = AnyEvent::TLS->new(cert_file => "server.pem", key_file => "server.key");
    AnyEvent::Handle->new(fh => $accepted, tls => "accept", tls_ctx => $ctx, ...);

=head1 DESCRIPTION

An AnyEvent::TLS object holds the TLS settings (protocol versions, certificates, trusted CAs,
verification rules) that L<AnyEvent::Handle> uses for its TLS sessions. It takes AnyEvent
7.17's options, implemented on rustls (TLS 1.2 and 1.3 only, no OpenSSL). Certificates and
keys are PEM.

=head2 Verification is off by default

As in AnyEvent, C<verify> defaults to off: the connection is encrypted, but any certificate is
accepted, so it does not prove who the peer is. (rustls always verifies certificates; for this
default a verifier that accepts any certificate is installed. It still checks the handshake
signatures, so the peer must hold the key of the certificate it shows.) Set C<< verify => 1 >>
and C<verify_peername> for real authentication.

=head1 CONSTRUCTOR

=head2 $tls = AnyEvent::TLS->new(key => value, ...)

Returns a context. Croaks (naming the option) on files that cannot be read, PEM data without
usable certificates or key, encrypted keys, and options that cannot be honoured without
weakening security. As in AnyEvent 7.17, options it does not know are ignored (one C<info>
line through C<AE::log>, shown at C<PERL_ANYEVENT_VERBOSE> 7 or more); C<cache> belongs to
L<AnyEvent::Handle> (see its C<tls_ctx>). Options:

=over 4

=item method => "any" | "TLSv1_2" | "TLSv1_3"

The protocol versions: "any" (default; also "SSLv23") allows TLS 1.2 and 1.3. "SSLv2",
"SSLv3", "TLSv1" and "TLSv1_1" croak: rustls does not implement them.

=item tlsv1_2 => $enabled, tlsv1_3 => $enabled

Disable one of the two versions (both default to enabled).

=item sslv2 => $enabled, sslv3 => $enabled, tlsv1 => $enabled, tlsv1_1 => $enabled

As in AnyEvent 7.17 these only ever I<allow> a protocol in addition to the others, never
require it. rustls implements none of them, so a true value changes nothing (an C<info> line
says so) and false is what is always in effect.

=item verify => $enabled

Verify the peer's certificate chain (validity period included) against the trusted CAs.
Clients require a server certificate; servers ask for a client certificate, verify it when
given, and require it with C<verify_require_client_cert>. Default off (see above).

=item verify_require_client_cert => $enabled

Servers refuse clients without a valid certificate (with C<verify>).

=item verify_peername => $scheme | [$wc_alt, $wc_cn, $check_cn] | $callback->($tls, $cert, $peername)

Check that the certificate is for the handle's C<peername> (with C<verify>; skipped when the
handle has no peername). Every scheme name ("http", "https", "ldap", "smtp", "imap", ...) and
the array form select the same check here: the RFC 6125 rules of rustls/webpki
(subjectAltName DNS names with a leading C<*.> wildcard, or IP addresses; the common name is
not used). "none" disables. A code reference is called after the chain was verified, with this
context, the certificate (DER octets) and the peer name; it returns true to accept. Without
C<verify_peername>, the name is not checked (as in AnyEvent).

=item verify_cb => $callback->($tls, $handle, $peername, $depth, $preverify_ok, $store, $cert)

Called once after the handshake (before any data is exchanged) with the verification result
so far (C<$preverify_ok> 1 or 0); its return value is the final verdict. C<$depth> is always 0,
C<$store> undef, and C<$cert> the peer certificate as DER octets (not a Net::SSLeay X509).
Used on both sides: a client judging the server's certificate, a server judging a client
certificate (with C<verify>; C<$peername> is then undef). A server whose client sent no
certificate (allowed without C<verify_require_client_cert>) does not call it.

=item ca_file => $path, ca_path => $dir, ca_cert => $pem

Trusted CA certificates: a PEM file, a directory of PEM files (files named C<*.pem>, C<*.crt>
or hash links like C<abcd1234.0>), or PEM text. Without any of them (and with C<verify>), the
environment's C<PERL_ANYEVENT_CA_FILE> / C<PERL_ANYEVENT_CA_PATH>, else the system store
(C</etc/ssl/certs/ca-certificates.crt>, else C</etc/ssl/certs>).

=item cert_file => $path, cert => $pem

This side's certificate chain (leaf first), PEM. The file may also hold the key.

=item key_file => $path, key => $pem

This side's private key (PKCS#8, PKCS#1 RSA or SEC1 EC), PEM. If missing, taken from the
certificate file or text when it holds a key.

=item cert_password => $string | $callback

rustls cannot decrypt encrypted keys: an encrypted key croaks with a message saying so
(decrypt it, e.g. with C<openssl pkey>). With an unencrypted key, the password is unused.

=item session_ticket => $enabled

RFC 5077 session tickets (TLS 1.2). As AnyEvent 7.17 documents, the default is off for clients
and on for servers: a server issues tickets unless this is 0; a client asks for them only when
this is 1. Independently of it, a client context remembers its sessions (up to 256) and resumes
them by session id (TLS 1.2) or with TLS 1.3's own resumption, and a server resumes by session
id, as with OpenSSL.

=item prepare => $coderef->($tls)

Called at the end of C<new> with the context (there is no Net::SSLeay context to adjust).

=item alpn => [$protocol, ...]

Application protocols to offer (client) or accept (server), in order of preference; the
negotiated one is C<< $handle->tls_alpn >>. Not in AnyEvent.

=item check_crl => $enabled

True croaks: rustls has no CRL lookup here, and ignoring the request would silently skip
revocation checks.

=item dh_file, dh, dh_single_use, cipher_list, verify_client_once

Accepted and ignored: rustls chooses its own modern cipher suites and key exchange (ECDHE;
no finite-field DH), and verification happens once per handshake.

=back

=head2 Peer names

A handle's C<peername> (by default the host given to its C<connect>) is sent as SNI and, with
C<verify_peername>, checked against the certificate. An internationalised name is used in its
ASCII form (C<AnyEvent::Util::idn_to_ascii>). A name that is no host name (an empty label, a
label over 63 octets, spaces, wide characters that do not convert ...) is left out of SNI when
nothing has to be checked against it; with C<verify_peername> (a scheme or array) the session
fails with C<EPROTO> through the handle's C<on_error> ("invalid peer name"). Neither croaks.

=head1 ERRORS THAT CROAK

Only the constructor croaks, for options it cannot honour (see C<new>): unreadable files, PEM
data without a usable certificate or key, encrypted keys, unsupported methods or C<check_crl>,
malformed C<alpn>, C<verify_peername> or callbacks. Everything a session meets - records from
the peer, certificates, peer names, a session that failed - ends in the handle's C<on_error>
or C<on_starttls> with C<EPROTO>.

=head1 FUNCTIONS AND VARIABLES

=head2 AnyEvent::TLS::init

Does nothing (there is no library to initialise); returns true.

=head2 $AnyEvent::TLS::ERROR

The message of the last TLS failure, as also passed to C<on_error>.

=head1 DIFFERENCES FROM ANYEVENT 7.17

No C<new_from_ssleay>, C<ctx>, C<certname> or Net::SSLeay objects; TLS 1.2 and 1.3 only; no
CRL checks; no encrypted keys; host name checks follow RFC 6125 for every scheme; C<verify_cb>
is called once (depth 0) with DER octets. C<alpn> is an addition.

=head1 SEE ALSO

L<AnyEvent::Handle>, L<https://docs.rs/rustls>.

=cut
