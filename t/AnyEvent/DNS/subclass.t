# A resolver subclass that overrides request, as AnyEvent::DNS::EtcHosts (CPAN) does: resolve
# (and so a, aaaa, resolve_sockaddr ...) asks every query through $self->request, as in
# AnyEvent 7.17, following the search list and CNAME chains; what the subclass does not answer
# goes to DNS through SUPER::request. The subclass here does what that module does: it answers
# from the hosts file (%AnyEvent::Socket::HOSTS, through AnyEvent::Socket::_load_hosts_unless),
# and replaces _load_hosts_unless so that resolve_sockaddr does not consult the file again.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir recv_within write_file);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;
use AnyEvent::Socket;
use AnyEvent::Util ();

watchdog(60);

my $dns = AETest::Dnsmasq->start('--host-record=www.test,10.1.1.1', '--host-record=both.test,10.2.2.2');
my $dir = tempdir();
write_file("$dir/hosts", "10.7.7.7 onlyhosts.test\nfd00::7 onlyhosts.test\n10.9.9.9 both.test\n");
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/hosts";

package HostsFirst {
    our @ISA = ('AnyEvent::DNS');
    our @asked;
    my $load_hosts_unless = \&AnyEvent::Socket::_load_hosts_unless;

    sub register {
        my ($class, %args) = @_;
        my $old = $AnyEvent::DNS::RESOLVER;
        $AnyEvent::DNS::RESOLVER = $class->new(untaint => 1, max_outstanding => 1, %args);
        my $helper = prototype('AnyEvent::Socket::_load_hosts_unless') eq '&$@' && \&AnyEvent::Socket::_load_hosts_unless;
        no warnings 'redefine';
        *AnyEvent::Socket::_load_hosts_unless = sub (&$@) { $_[1]->end } if $helper;
        AnyEvent::Util::guard(sub {
            $AnyEvent::DNS::RESOLVER = $old;
            no warnings 'redefine';
            *AnyEvent::Socket::_load_hosts_unless = $helper if $helper;
        });
    }

    sub request {
        my ($self, $req, $cb) = @_;
        my ($name, $type) = @{ $req->{qd}[0] };
        push @asked, "$name/$type";
        my $reply = sub { $cb->({ id => 1, op => 'query', rc => 'noerror', qr => 1, rd => 1, ra => 1, qd => $req->{qd}, an => [@_], ns => [], ar => [] }) };
        return $reply->([$name, 'cname', 'in', 0, 'onlyhosts.test']) if $name eq 'alias.test';
        my $cv = AE::cv;
        $cv->begin;
        $load_hosts_unless->(sub {
            my $h = $AnyEvent::Socket::HOSTS{$name} || [];
            my @an;
            push @an, map { [$name, 'a', 'in', 0, AnyEvent::Socket::format_ipv4($_)] } @{ $h->[0] || [] } if $type =~ /^(?:a|\*)\z/;
            push @an, map { [$name, 'aaaa', 'in', 0, AnyEvent::Socket::format_ipv6($_)] } @{ $h->[1] || [] } if $type =~ /^(?:aaaa|\*)\z/;
            return $reply->(@an) if @an;
            $self->SUPER::request($req, $cb);
        }, $cv);
    }
}

sub got {
    my ($f, @args) = @_;
    my $cv = AE::cv;
    $f->(@args, sub { $cv->send(@_) });
    return [recv_within($cv, 20, 'answer')];
}

my $guard = HostsFirst->register(server => [$dns->server], search => ['test']);
isa_ok($AnyEvent::DNS::RESOLVER, 'HostsFirst');

@HostsFirst::asked = ();
is_deeply(got(\&AnyEvent::DNS::a, 'onlyhosts.test'), ['10.7.7.7'], 'a: answered by the subclass (hosts file)');
is_deeply(\@HostsFirst::asked, ['onlyhosts.test/a'], '... which was asked with the name and type as given');
is_deeply(got(\&AnyEvent::DNS::aaaa, 'onlyhosts.test'), ['fd00::7'], 'aaaa too');
is_deeply(got(\&AnyEvent::DNS::a, 'both.test'), ['10.9.9.9'], 'the subclass answers before DNS');
is_deeply(got(\&AnyEvent::DNS::a, 'www.test'), ['10.1.1.1'], 'what it passes on goes to DNS (SUPER::request)');
is_deeply(got(\&AnyEvent::DNS::a, 'nowhere.test'), [], 'known to neither: nothing');

@HostsFirst::asked = ();
is_deeply(got(\&AnyEvent::DNS::a, 'onlyhosts'), ['10.7.7.7'], 'a short name: the search list is applied');
is($HostsFirst::asked[0], 'onlyhosts.test/a', '... the search domain first (fewer dots than ndots)');

@HostsFirst::asked = ();
is_deeply(got(\&AnyEvent::DNS::a, 'alias.test'), ['10.7.7.7'], 'a CNAME answer is followed');
is_deeply(\@HostsFirst::asked, ['alias.test/a', 'onlyhosts.test/a'], '... by asking for its target');

my $cv = AE::cv;
$AnyEvent::DNS::RESOLVER->resolve('alias.test', 'a', accept => ['cname'], sub { $cv->send(@_) });
is_deeply([recv_within($cv, 20, 'cname')], [['alias.test', 'cname', 'in', 0, 'onlyhosts.test']], 'accept => [cname]: the CNAME itself');

sub resolve {
    my ($name, $family) = @_;
    my $cv = AE::cv;
    AnyEvent::Socket::resolve_sockaddr($name, 80, 'tcp', $family, undef, sub {
        $cv->send(map { format_address((AnyEvent::Socket::unpack_sockaddr($_->[3]))[1]) } @_);
    });
    return [recv_within($cv, 20, 'resolve_sockaddr')];
}
is_deeply(resolve('onlyhosts.test', 0), ['10.7.7.7', 'fd00::7'], 'resolve_sockaddr goes through the subclass');
is_deeply(resolve('both.test', 4), ['10.9.9.9'], '... which answers before DNS');
is_deeply(resolve('www.test', 4), ['10.1.1.1'], '... and passes the rest to DNS');

undef $guard;
ok(!$AnyEvent::DNS::RESOLVER || ref $AnyEvent::DNS::RESOLVER eq 'AnyEvent::DNS', 'the guard restores the resolver');
is(prototype('AnyEvent::Socket::_load_hosts_unless'), '&$@', '... and _load_hosts_unless');

done_testing;
