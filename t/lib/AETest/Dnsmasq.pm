package AETest::Dnsmasq;

# Starts a dnsmasq for a test: loopback only, a free high port, no upstream, no system files,
# the records the test gives. It is ready when it answers a query; it is stopped when the
# returned object goes away (or at exit).
#
#   my $dns = AETest::Dnsmasq->start('--host-record=a.test,10.1.1.1', ...);
#   $dns->server   # "127.0.0.1:PORT", for AnyEvent::DNS->new(server => [...])
#
# AE_TEST_DNS_LOG=1 adds --log-queries and prints dnsmasq's log at the end.

use strict;
use warnings;
use Socket qw(AF_INET SOCK_DGRAM SOCK_STREAM inet_aton pack_sockaddr_in unpack_sockaddr_in);
use POSIX ();
use Time::HiRes ();
use AETest qw(need_program tempdir);
use AnyEvent::DNS ();

my @running;

sub start {
    my ($class, @records) = @_;
    my $dnsmasq = need_program('dnsmasq');
    my $dir = tempdir();
    for my $try (1 .. 5) {
        my $port = free_port();
        my @args = (
            '--keep-in-foreground', "--port=$port", '--listen-address=127.0.0.1', '--bind-interfaces',
            '--no-resolv', '--no-hosts', '--conf-file=/dev/null', "--pid-file=$dir/pid",
            "--log-facility=$dir/log", '--local=/test/', '--user=' . (getpwuid $>)[0],
            ($ENV{AE_TEST_DNS_LOG} ? '--log-queries' : ()), @records,
        );
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', "$dir/out";
            open STDERR, '>&', \*STDOUT;
            exec $dnsmasq, @args or POSIX::_exit(127);
        }
        my $self = bless { pid => $pid, port => $port, dir => $dir }, $class;
        push @running, $self;
        return $self if $self->_wait_ready;
        $self->stop;
    }
    die "dnsmasq did not start; its output: " . (do { local (@ARGV, $/) = ("$dir/out"); <> } // '');
}

sub server { "127.0.0.1:$_[0]{port}" }
sub port   { $_[0]{port} }

# A port free for both UDP and TCP on 127.0.0.1 right now.
sub free_port {
    for (1 .. 50) {
        socket my $u, AF_INET, SOCK_DGRAM, 0 or die "socket: $!";
        bind $u, pack_sockaddr_in(0, inet_aton('127.0.0.1')) or die "bind: $!";
        my ($port) = unpack_sockaddr_in(getsockname $u);
        socket my $t, AF_INET, SOCK_STREAM, 0 or die "socket: $!";
        return $port if bind $t, pack_sockaddr_in($port, inet_aton('127.0.0.1'));
    }
    die "no free port found";
}

# Ready when it answers a query (a blocking UDP exchange, outside the event loop); false when
# it exited.
sub _wait_ready {
    my ($self) = @_;
    socket my $s, AF_INET, SOCK_DGRAM, 0 or die "socket: $!";
    my $to = pack_sockaddr_in($self->{port}, inet_aton('127.0.0.1'));
    my $query = AnyEvent::DNS::dns_pack({ id => 4711, rd => 1, qd => [['ready.probe.test', 'a']] });
    for (1 .. 100) {
        return 0 if waitpid($self->{pid}, POSIX::WNOHANG()) == $self->{pid} and delete $self->{pid};
        send $s, $query, 0, $to;
        my $rin = '';
        vec($rin, fileno $s, 1) = 1;
        if (select(my $rout = $rin, undef, undef, 0.1)) {
            recv $s, my $answer, 4096, 0;
            return 1 if length $answer >= 12 && unpack('n', $answer) == 4711;
        }
    }
    0;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    if ($ENV{AE_TEST_DNS_LOG} && open my $log, '<', "$self->{dir}/log") {
        print STDERR "# dnsmasq: $_" while <$log>;
    }
}

sub DESTROY { $_[0]->stop }

END { $_->stop for grep defined, @running }

1;
