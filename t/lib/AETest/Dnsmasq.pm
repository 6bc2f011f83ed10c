package AETest::Dnsmasq;

# Starts a dnsmasq for a test: loopback only, a free high port, no upstream, no system files,
# the records the test gives. It is ready when it answers a query; it is stopped when the
# returned object goes away (or at exit).
#
#   my $dns = AETest::Dnsmasq->start('--host-record=a.test,10.1.1.1', ...);
#   $dns->server   # "127.0.0.1:PORT", for AnyEvent::DNS->new(server => [...])
#   AETest::Dnsmasq->start({ listen => '::1' }, ...)   # on IPv6 loopback: "[::1]:PORT"
#
# AE_TEST_DNS_LOG=1 adds --log-queries and prints dnsmasq's log at the end.

use strict;
use warnings;
use Socket qw(AF_INET AF_INET6 SOCK_DGRAM SOCK_STREAM inet_aton inet_pton pack_sockaddr_in pack_sockaddr_in6
              unpack_sockaddr_in);
use POSIX ();
use Time::HiRes ();
use AETest qw(need_program tempdir);
use AnyEvent::DNS ();

my @running;

sub start {
    my ($class, @records) = @_;
    my $opt = ref $records[0] eq 'HASH' ? shift @records : {};
    my $listen = $opt->{listen} // '127.0.0.1';
    my $dnsmasq = need_program('dnsmasq');
    my $dir = tempdir();
    for my $try (1 .. 5) {
        my $port = free_port($listen);
        my @args = (
            '--keep-in-foreground', "--port=$port", "--listen-address=$listen", '--bind-interfaces',
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
        my $self = bless { pid => $pid, port => $port, dir => $dir, listen => $listen }, $class;
        push @running, $self;
        return $self if $self->_wait_ready;
        $self->stop;
    }
    die "dnsmasq did not start; its output: " . (do { local (@ARGV, $/) = ("$dir/out"); <> } // '');
}

sub server { $_[0]{listen} =~ /:/ ? "[$_[0]{listen}]:$_[0]{port}" : "$_[0]{listen}:$_[0]{port}" }
sub port   { $_[0]{port} }

sub _sockaddr {
    my ($ip, $port) = @_;
    $ip =~ /:/ ? pack_sockaddr_in6($port, inet_pton(AF_INET6, $ip)) : pack_sockaddr_in($port, inet_aton($ip));
}

# A port free for both UDP and TCP on $ip right now.
sub free_port {
    my ($ip) = @_;
    my $family = $ip =~ /:/ ? AF_INET6 : AF_INET;
    for (1 .. 50) {
        my $port = 20000 + int rand 40000;
        socket my $u, $family, SOCK_DGRAM, 0 or die "socket: $!";
        next unless bind $u, _sockaddr($ip, $port);
        socket my $t, $family, SOCK_STREAM, 0 or die "socket: $!";
        return $port if bind $t, _sockaddr($ip, $port);
    }
    die "no free port found on $ip";
}

# Ready when it answers a query (a blocking UDP exchange, outside the event loop); false when
# it exited.
sub _wait_ready {
    my ($self) = @_;
    socket my $s, ($self->{listen} =~ /:/ ? AF_INET6 : AF_INET), SOCK_DGRAM, 0 or die "socket: $!";
    my $to = _sockaddr($self->{listen}, $self->{port});
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

# Stops every server this process started (also at exit; a test that leaves with POSIX::_exit
# must call it itself).
sub stop_all { $_->stop for grep defined, @running }

END { local $?; stop_all() }

1;
