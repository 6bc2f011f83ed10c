package AnyEvent::Base;

# Loaded by AnyEvent. The names of AnyEvent 7.17 that live outside its documented API but that
# CPAN modules (and AnyEvent::Strict / AnyEvent::Debug) reach for: AnyEvent::Base with
# sig2num/sig2name, AnyEvent::_dupfh, and the watcher hooks (AnyEvent::_isa_hook).

use strict;
use warnings;
use Config ();

our $VERSION = $AnyEvent::VERSION;

# --- signal names -----------------------------------------------------------------------------

my (%NUM, @NAME);
{
    my @names = split ' ', $Config::Config{sig_name};
    my @nums  = split ' ', $Config::Config{sig_num};
    for my $i (0 .. $#names) {
        $NUM{ $names[$i] } //= $nums[$i];
        $NAME[ $nums[$i] ] //= $names[$i];
    }
}

sub sig2num($) {
    my ($sig) = @_;
    return undef unless defined $sig;
    return $sig + 0 if $sig =~ /^\d+\z/;
    (my $name = $sig) =~ s/^SIG//;
    return $NUM{$name};
}

sub sig2name($) {
    my ($sig) = @_;
    return undef unless defined $sig;
    return $NAME[$sig] if $sig =~ /^\d+\z/;
    (my $name = $sig) =~ s/^SIG//;
    return exists $NUM{$name} ? $name : undef;
}

# --- AnyEvent::_dupfh -------------------------------------------------------------------------

# AnyEvent::_dupfh($poll, $fh[, $r, $w]): a duplicate of $fh (a handle or fd number) opened for
# reading ($poll "r") or writing ("w"), and $r or $w accordingly. Dies when dup fails.
sub AnyEvent::_dupfh($$;$$) {
    my ($poll, $fh, $r, $w) = @_;
    my ($which, $mode) = $poll eq 'r' ? ($r, '<&') : ($w, '>&');
    open my $dup, $mode, $fh
        or die "AnyEvent->io: cannot dup() filehandle in mode '$poll': $!,";
    return ($dup, $which);
}

# --- watcher hooks ----------------------------------------------------------------------------

# Hooks are packages whose io/timer/signal/child/idle/condvar/now/time methods see every call of
# AnyEvent's method of that name first and pass it on with $class->SUPER::method(...): slot 0
# is AnyEvent::Debug's wrapper, slot 1 AnyEvent::Strict (as in 7.17). While a hook asks for it,
# the AE:: functions go through the methods too. Nothing changes while no hook is installed.

our @HOOK;    # slot => [package, reset AE::]
my @METHODS = qw(io timer signal child idle condvar now time now_update);
my %AE_OF   = (io => 'io', timer => 'timer', signal => 'signal', child => 'child', idle => 'idle',
               now => 'now', time => 'time', now_update => 'now_update');
my (%PLAIN, %AE_XS);    # AnyEvent's own methods and the AE:: XSUBs, kept at the first hook

# The end of every hook chain: AnyEvent's own methods. They call the AE:: XSUBs by name, which
# may be hooked themselves meanwhile, so the XSUB is put back for the duration of the call.
for my $m (@METHODS) {
    no strict 'refs';
    *{"AnyEvent::Base::$m"} = sub {
        my $plain = $PLAIN{$m} || \&{"AnyEvent::$m"};
        my $ae = $AE_OF{$m};
        return $plain->(@_) unless $ae && $AE_XS{$ae};
        no warnings 'redefine';
        local *{"AE::$ae"} = $AE_XS{$ae};
        return $plain->(@_);
    };
}

# AE:: functions as calls of AnyEvent's methods, with the XSUBs' prototypes.
my %AE_VIA_METHOD = (
    io         => sub ($$$) { AnyEvent->io(fh => $_[0], poll => $_[1] ? 'w' : 'r', cb => $_[2]) },
    timer      => sub ($$$) { AnyEvent->timer(after => $_[0], interval => $_[1], cb => $_[2]) },
    signal     => sub ($$)  { AnyEvent->signal(signal => $_[0], cb => $_[1]) },
    child      => sub ($$)  { AnyEvent->child(pid => $_[0], cb => $_[1]) },
    idle       => sub ($)   { AnyEvent->idle(cb => $_[0]) },
    cv         => sub (;&)  { AnyEvent->condvar(@_ ? (cb => $_[0]) : ()) },
    now        => sub ()    { AnyEvent->now },
    time       => sub ()    { AnyEvent->time },
    now_update => sub ()    { AnyEvent->now_update },
);

sub AnyEvent::_isa_hook($$;$) {
    my ($slot, $pkg, $reset_ae) = @_;
    $HOOK[$slot] = $pkg ? [$pkg, $reset_ae] : undef;
    AnyEvent::_isa_set();
}

sub AnyEvent::_isa_set {
    no strict 'refs';
    no warnings 'redefine';
    unless (%PLAIN) {
        $PLAIN{$_} = \&{"AnyEvent::$_"} for @METHODS;
        $AE_XS{$_} = \&{"AE::$_"} for keys %AE_VIA_METHOD;
    }
    my @chain = map $_->[0], grep defined, @HOOK;
    @{"$chain[$_]::ISA"} = ($chain[$_ + 1] // 'AnyEvent::Base') for 0 .. $#chain;
    for my $m (@METHODS) {
        *{"AnyEvent::$m"} = @chain ? $chain[0]->can($m) : $PLAIN{$m};
    }
    my $via_methods = grep $_ && $_->[1], @HOOK;
    *{"AE::$_"} = $via_methods ? $AE_VIA_METHOD{$_} : $AE_XS{$_} for keys %AE_VIA_METHOD;
    return;
}

1;

__END__

=head1 NAME

AnyEvent::Base - internal names of AnyEvent that other modules use

=head1 SYNOPSIS

    use AnyEvent;    # loads this module

    my $num  = AnyEvent::Base::sig2num("TERM");    # 15
    my $name = AnyEvent::Base::sig2name(15);        # "TERM"

=head1 DESCRIPTION

L<AnyEvent> loads this module; there is no need to load it yourself. It holds names that
AnyEvent 7.17 has outside its documented interface and that modules built on AnyEvent use.

=head1 FUNCTIONS

=head2 $num = AnyEvent::Base::sig2num $signal

The number of a signal given by name (C<"TERM"> or C<"SIGTERM">) or number. Returns C<undef>
for an unknown name.

=head2 $name = AnyEvent::Base::sig2name $signal

The name (without C<SIG>) of a signal given by number or name. Returns C<undef> for an
unknown signal.

=head2 ($fh, $which) = AnyEvent::_dupfh $poll, $fh[, $r, $w]

Duplicates C<$fh> (a handle or a file descriptor number) for reading (C<$poll> is C<"r">) or
writing (C<"w">) and returns the new handle, together with C<$r> or C<$w> respectively. Dies
with "AnyEvent-E<gt>io: cannot dup() filehandle in mode ..." when the descriptor cannot be
duplicated (a closed descriptor, say).

=head2 AnyEvent::_isa_hook $slot, $package[, $reset_ae]

Installs (or, with C<$package> undef, removes) a watcher hook: C<$package> provides any of the
methods C<io>, C<timer>, C<signal>, C<child>, C<idle>, C<condvar>, C<now>, C<time> and
C<now_update>, which then receive every call of the AnyEvent method of that name (as
C<< $class->method(%args) >>) and pass it on with C<< $class->SUPER::method(%args) >>. Slot 0
is used by L<AnyEvent::Debug>'s C<wrap>, slot 1 by L<AnyEvent::Strict>; lower slots see calls
first. With C<$reset_ae> true, the L<AE> functions (C<AE::io> ...) call the methods too, so
the hook sees them. When the last hook is removed, AnyEvent's methods and the C<AE> functions
are the original ones again.

=head2 AnyEvent::Base->io(...), ->timer(...) ...

AnyEvent's own watcher methods, which the last hook's C<SUPER::> calls reach.

=cut
