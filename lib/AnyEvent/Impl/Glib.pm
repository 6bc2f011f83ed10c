package AnyEvent::Impl::Glib;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Glib ();

our @ISA = ('AnyEvent::Impl::Embed');

my $context;

sub _start { $context = Glib::MainContext->default }

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

# Child watchers for one pid are GLib's (Glib::Child->watch_add): GLib reaps the pids it
# watches from its own SIGCHLD handler, which replaces ours. Several AnyEvent watchers for one
# pid share one GLib watch. A watcher for any child (pid 0) is ours: GLib has none.
my %by_pid;    # pid => { source => ..., cbs => { id => cb } }

sub _loop_child {
    my ($pid, $cb) = @_;
    $pid = AnyEvent::Impl::Embed::_check_child($pid, $cb);
    return undef unless $pid;
    my $w = $by_pid{$pid} ||= do {
        my $entry = { cbs => {} };
        $entry->{source} = _source(Glib::Child->watch_add($pid, sub {
            my ($rpid, $status) = @_;
            my $e = delete $by_pid{$pid} or return;
            ${ $e->{source} } = undef;    # a child watch ends with its child
            $_->($rpid, $status) for values %{ $e->{cbs} };
        }));
        $entry;
    };
    my $id = ++$AnyEvent::Impl::Embed::NEXT_KEY;
    $w->{cbs}{$id} = $cb;
    return bless [$pid, $id], 'AnyEvent::Impl::Glib::child';
}

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

Child watchers for a given pid use C<< Glib::Child->watch_add >>: once GLib watches a child it
installs its own C<SIGCHLD> handler, so ours could no longer hear the signal. GLib allows only
one watch per pid, so a program that watches the same pid with both C<< Glib::Child->watch_add
>> and C<< AnyEvent->child >> gets one of them called (GLib's limit); different pids on either
side each see their child once. C<< AnyEvent->child(pid => 0) >> (any child) is served by our
loop, which then reaps every child: do not mix it with GLib child watches. Signal watchers are
ours (GLib's Perl binding has no signal source).

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<Glib>, L<Gtk3>.

=cut
