# Host names from the hosts file (PERL_ANYEVENT_HOSTS). DNS, when the resolver is installed,
# goes to a local dnsmasq that answers for domain "test" itself: NXDOMAIN for the names the
# hosts file resolves, records for a few others (SRV, DNS taking precedence over hosts).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_program watchdog tempdir write_file);
use Errno qw(ENXIO);
use Time::HiRes ();
use AnyEvent;
use AnyEvent::Socket; # reads PERL_ANYEVENT_HOSTS at each look-up, the resolver its config when loaded

watchdog(30);
my $dnsmasq = need_program('dnsmasq');
plan skip_all => 'dnsmasq on port 53 needs root' if $> != 0;
my $dir = tempdir();

# the server the SRV record points to
my ($srv_port, $srv_peer);
my $srv_server = tcp_server('127.0.0.1', 0, sub { }, sub { $srv_port = $_[2]; 0 });

# dnsmasq on its own loopback address (all of 127/8 is local on Linux), port 53
my $dns_ip = '127.0.79.53';
my $dns_pid = fork // die "fork: $!";
unless ($dns_pid) {
    exec $dnsmasq, '--keep-in-foreground', '--no-resolv', '--no-hosts', "--listen-address=$dns_ip",
        '--bind-interfaces', '--port=53', '--local=/test/', "--pid-file=$dir/dnsmasq.pid",
        '--log-facility=/dev/null', "--srv-host=_finger._tcp.srv.test,target.test,$srv_port",
        '--host-record=target.test,127.0.0.1', '--host-record=both.test,127.0.0.1';
    die "exec dnsmasq: $!";
}
END { if ($dns_pid) { kill "TERM", $dns_pid; waitpid $dns_pid, 0 } }
Time::HiRes::sleep(0.02) until -s "$dir/dnsmasq.pid" or waitpid($dns_pid, 1) > 0; # wait for its pid file
die "dnsmasq did not start\n" unless -s "$dir/dnsmasq.pid";

open my $conf, '>', "$dir/resolv.conf" or die;
print $conf "nameserver $dns_ip\n";
close $conf;
$ENV{PERL_ANYEVENT_RESOLV_CONF} = "$dir/resolv.conf";

sub write_hosts { write_file("$dir/hosts", @_) }
write_hosts(<<'HOSTS');
# a comment line
127.0.0.1   web.test Alias.test   # trailing comment
::1         web.test
	127.0.0.3 tabbed.test
127.0.0.1   xn--bcher-kva.test
127.0.0.9   both.test
127.9.9.9   dotted.test.
junk-line-without-names
HOSTS
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/hosts";


sub resolve {
    my ($node, $service, $family) = @_;
    my $cv = AE::cv;
    AnyEvent::Socket::resolve_sockaddr($node, $service, 'tcp', $family, undef, sub { $cv->send(@_) });
    return join ' ', map {
        my ($port, $host) = AnyEvent::Socket::unpack_sockaddr($_->[3]);
        format_address($host) . ":$port";
    } $cv->recv;
}

is resolve('web.test', 80), '127.0.0.1:80 ::1:80', 'IPv4 and IPv6 entries, IPv4 preferred';
is resolve('WEB.Test', 80), '127.0.0.1:80 ::1:80', 'names are case-insensitive';
is resolve('alias.test', 80), '127.0.0.1:80', 'every name on a line';
is resolve('tabbed.test', 80), '127.0.0.3:80', 'leading whitespace';
is resolve('web.test', 80, 6), '::1:80', 'family 6 only';
is resolve('web.test', 80, 4), '127.0.0.1:80', 'family 4 only';
is resolve('web.test', 'http'), '127.0.0.1:80 ::1:80', 'service names (no SRV records)';
is resolve("b\x{fc}cher.test", 81), '127.0.0.1:81', 'IDN names are looked up in their ASCII form';
is resolve('nowhere.test', 80), '', 'unknown name: nothing';
is resolve('dotted.test.', 80), '127.9.9.9:80', 'a name listed with a final dot, looked up with one';
is resolve('dotted.test', 80), '127.9.9.9:80', '... and without';
is resolve('web.test.', 80), '127.0.0.1:80 ::1:80', 'a name listed without, looked up with a final dot';
is resolve('127.0.0.1', 80), '127.0.0.1:80', 'literals need no look-up';
is resolve('localhost', 80), '127.0.0.1:80 ::1:80', 'localhost is built in';

# a changed file is read again
write_hosts("127.0.0.2 web.test\n", time + 5);
is resolve('web.test', 80), '127.0.0.2:80', 'hosts file re-read after it changed';
write_hosts("127.0.0.1 web.test\n::1 web.test\n", time + 10);

# tcp_connect by name
my ($server_port, $peer);
my $server = tcp_server('127.0.0.1', 0, sub { $peer = $_[1] }, sub { $server_port = $_[2]; 0 });
my $cv = AE::cv;
tcp_connect('web.test', $server_port, sub { $cv->send($_[1]) });
is $cv->recv, '127.0.0.1', 'tcp_connect to a hosts-file name';

$cv = AE::cv;
tcp_connect('nowhere.test', $server_port, sub { $cv->send([scalar @_, $! + 0]) });
is_deeply $cv->recv, [0, ENXIO], 'unknown name: callback without arguments, $! ENXIO';

{
    require AnyEvent::DNS;
    is resolve('both.test', 80), '127.0.0.1:80', 'DNS takes precedence over the hosts file';
    is resolve('target.test', 80), '127.0.0.1:80', 'addresses from DNS';
    is resolve('srv.test', 'finger'), "127.0.0.1:$srv_port", 'SRV records give target and port';
    $cv = AE::cv;
    tcp_connect('srv.test', 'finger', sub { $cv->send($_[2]) });
    is $cv->recv, $srv_port, 'tcp_connect follows the SRV record';
    $cv = AE::cv;
    inet_aton('target.test', sub { $cv->send(map { format_address($_) } @_) });
    is $cv->recv, '127.0.0.1', 'inet_aton asks DNS';
}

done_testing;
