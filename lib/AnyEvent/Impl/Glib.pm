package AnyEvent::Impl::Glib;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Glib ();
use Scalar::Util ();
use overload ();

our @ISA = ('AnyEvent::Impl::Embed');

my $context;

sub _start {
    $context = Glib::MainContext->default;
    _share_children();
}

# A GLib source id, removed when the object goes away (unless it already ended).
sub _source { my $id = $_[0]; bless \$id, 'AnyEvent::Impl::Glib::source' }

sub AnyEvent::Impl::Glib::source::DESTROY {
    Glib::Source->remove(${ $_[0] }) if defined ${ $_[0] };
}

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    return _source(Glib::IO->add_watch($fd, [qw(in hup err)], sub { $cb->(); 1 }));
}

# GLib drops a watch whose callback dies: after a callback of ours died, the watch on our epoll
# descriptor is made anew (AnyEvent::Impl::Embed), or every later io event would be lost.
sub _watch_ends_on_die { 1 }

# "Now" (0 seconds) is an idle source: at GLib's default priority it would starve GTK's redraw
# and resize work while idle watchers of ours exist.
sub _timer {
    my (undef, $after, $cb) = @_;
    my $src = _source(undef);
    my $fire = sub { $$src = undef; $cb->(); 0 };
    $$src = $after > 0 ? Glib::Timeout->add(int($after * 1000 + 0.999), $fire) : Glib::Idle->add($fire);
    return $src;
}

sub _poll { $context->iteration(1) }

# Children. GLib reaps the pids it watches (Glib::Child->watch_add), each with waitpid(pid), and
# for that installs its SIGCHLD handler while it watches any (GLib before 2.78; later ones use a
# pidfd per child): our watchers for a pid are GLib watches, several AnyEvent watchers for one
# pid sharing one (GLib allows one watch per pid). A watcher for any child (pid 0) is our loop's,
# which then must neither reap a child GLib waits for nor lose SIGCHLD to GLib's handler:
#
# - every GLib child watch made from Perl (ours, and the program's: Glib::Child::watch_add is
#   wrapped) names its pid to our loop, which leaves it to GLib (AnyEvent::Impl::Rust::
#   _child_foreign); when GLib reaps it, our watchers for any child hear of it from here;
# - SIGCHLD is shared: our handler calls GLib's, and goes back on top whenever GLib may have
#   installed its own (a watch was made) or the default (its last watch ended: after that
#   watch's end, in our next run), with a reap pass for what exited meanwhile.
my %by_pid;     # pid => { source => ..., cbs => { id => cb } }
my %any;        # id => cb: our watchers for any child
my %foreign;    # pid => GLib watches made from Perl for it
our $OWN;       # set while a watcher for any child is made in our own loop

sub _share_children {
    AnyEvent::Impl::Rust::_child_foreign(0, 1);
    my $watch_add = \&Glib::Child::watch_add;
    no warnings 'redefine';
    *Glib::Child::watch_add = sub {
        my ($class, $pid, $cb, @rest) = @_;
        return $watch_add->(@_)
            unless defined $pid && $pid =~ /^\s*\+?\d+\s*$/ && $pid > 0
                && (ref $cb eq 'CODE' || (Scalar::Util::blessed($cb) && overload::Method($cb, '&{}')));
        $pid += 0;
        my $watch = bless [$pid], 'AnyEvent::Impl::Glib::foreign';
        my $id = $watch_add->($class, $pid, sub {
            # (the watch keeps $watch: its end is the end of GLib's watch)
            _report_any($_[0], $_[1]) if $watch;
            &$cb;
        }, @rest);
        $watch->[1] = 1;    # counted (GLib took the watch)
        $foreign{$pid}++;
        AnyEvent::Impl::Rust::_child_foreign($pid, 1);
        return $id;
    };
    return;
}

# GLib's watch for a pid ended (its child reaped, or the watch removed): once GLib is done with
# it (and has perhaps restored the default SIGCHLD disposition), in our next run, the pid is our
# loop's again, if no other watch took it, and our handler back on top.
sub AnyEvent::Impl::Glib::foreign::DESTROY {
    my ($pid, $counted) = @{ $_[0] };
    return if !$counted || ${^GLOBAL_PHASE} eq 'DESTRUCT';
    delete $foreign{$pid} unless --$foreign{$pid} > 0;
    AE::postpone(sub { AnyEvent::Impl::Rust::_child_foreign($foreign{$pid} ? 0 : $pid, $foreign{$pid} ? 1 : 0) });
}

# A child GLib reaped, for our watchers for any child (those that exist now), from our loop.
sub _report_any {
    my ($pid, $status) = @_;
    my @ids = sort { $a <=> $b } keys %any or return;
    AE::postpone(sub { $any{$_} && $any{$_}->($pid, $status) for @ids });
    return;
}

sub _loop_child {
    my ($pid, $cb) = @_;
    return undef if $OWN;
    $pid = AnyEvent::Impl::Embed::_check_child($pid, $cb);
    unless ($pid) {
        my $w = do { local $OWN = 1; AE::child(0, $cb) };
        my $id = ++$AnyEvent::Impl::Embed::NEXT_KEY;
        $any{$id} = $cb;
        return bless [$w, $id], 'AnyEvent::Impl::Glib::any';
    }
    my $w = $by_pid{$pid} ||= do {
        my $entry = { cbs => {} };
        $entry->{source} = _source(Glib::Child->watch_add($pid, sub {
            my ($rpid, $status) = @_;
            my $e = delete $by_pid{$pid} or return;
            ${ $e->{source} } = undef;    # a child watch ends with its child
            for my $id (sort { $a <=> $b } keys %{ $e->{cbs} }) {
                my $cb = $e->{cbs}{$id} or next;
                $cb->($rpid, $status);
            }
        }));
        $entry;
    };
    my $id = ++$AnyEvent::Impl::Embed::NEXT_KEY;
    $w->{cbs}{$id} = $cb;
    return bless [$pid, $id], 'AnyEvent::Impl::Glib::child';
}

sub AnyEvent::Impl::Glib::any::DESTROY { delete $any{ $_[0][1] } }

sub AnyEvent::Impl::Glib::child::DESTROY {
    my ($pid, $id) = @{ $_[0] };
    my $e = $by_pid{$pid} or return;
    delete $e->{cbs}{$id};
    delete $by_pid{$pid} unless %{ $e->{cbs} };
}

1;

__END__

=head1 NAME

AnyEvent::Impl::Glib - AnyEvent inside GLib's main loop (Glib, Gtk3)

=head1 SYNOPSIS

    use Gtk3 -init;
    use AnyEvent;
    my $w = AnyEvent->io(fh => \*STDIN, poll => 'r', cb => sub { ... });
    Gtk3::main;

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when L<Glib> is loaded (L<Gtk3> loads it) and no loop earlier in
AnyEvent's order is, or with C<PERL_ANYEVENT_MODEL=Glib>. The Rust loop runs as one source of
GLib's default main context (L<AnyEvent::Impl::Embed>): everything keeps working while the
program runs C<Gtk3::main>, C<< Glib::MainLoop->new->run >> or iterates the context itself, and
C<< $cv->recv >> iterates the default context until the condvar is sent.

Child watchers for a given pid use C<< Glib::Child->watch_add >>: GLib reaps the children it
watches itself, and (where it cannot use a pidfd per child: kernels before 5.3, some seccomp
filters) installs its own C<SIGCHLD> handler while it watches any. Several AnyEvent watchers for
one pid share one GLib watch. GLib allows only one watch per pid, so a program that watches the
same pid with both C<< Glib::Child->watch_add >> and C<< AnyEvent->child >> gets one of them
called (GLib's limit); different pids on either side each see their child once.

C<< AnyEvent->child(pid => 0) >> (any child) is served by our loop, which reaps every child but
those GLib watches: once the model is chosen, C<< Glib::Child->watch_add >> is wrapped, so that
each child watched from Perl (the program's watches as well as ours) is left to GLib, and
reported to the watchers for any child when GLib has reaped it. Our C<SIGCHLD> handler calls
GLib's when GLib has one, and goes back in place whenever GLib installed its handler or, after
its last watch ended, the default. So with watchers for any child, the program's GLib watches
and AnyEvent's watchers for a pid, every child is reported once to each watcher for any child
and once to the watchers of its pid. Not covered: child watches GLib makes from C (GIO's
C<GSubprocess>, C<g_spawn_async> with a watch) or that the program made before the model was
chosen; their children are reaped by a watcher for any child, and GLib then reports them with
status 0 (and a warning); and a child that exits before the program watches it with GLib, while
a watcher for any child exists and our loop runs in between, is reaped by ours first.

Signal watchers are ours (GLib's Perl binding has no signal source).

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<Glib>, L<Gtk3>.

=cut
