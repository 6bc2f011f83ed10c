# AnyEvent::Strict: every check dies with its message (method and AE:: calls), callbacks see a
# read-only $_, a blocking recv inside a callback is reported, closed descriptors are logged;
# PERL_ANYEVENT_STRICT=1 loads it; without it nothing is changed.
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest qw(recv_within tempdir);
use AETest::Perl qw(run_perl);
use AnyEvent;
use B ();

AETest::watchdog(60);

subtest 'without AnyEvent::Strict nothing is wrapped' => sub {
    ok !exists $INC{'AnyEvent/Strict.pm'}, 'not loaded';
    ok B::svref_2object(\&AE::io)->XSUB, 'AE::io is the XSUB';
    ok B::svref_2object(\&AE::timer)->XSUB, 'AE::timer too';
    is ref(AE::timer(1, 0, sub { })), 'AnyEvent::Impl::Rust::timer', 'watchers are the plain objects';
};

my ($out) = run_perl({ PERL_ANYEVENT_STRICT => 1 }, q{
    use AnyEvent; print exists $INC{"AnyEvent/Strict.pm"} ? "loaded" : "not loaded";
    eval { AE::timer 1, -1, sub { } }; print $@ =~ /^AnyEvent->timer called with illegal interval argument '-1'/ ? " checked" : " not checked: $@";
});
is $out, 'loaded checked', 'PERL_ANYEVENT_STRICT=1 loads it, and AE:: calls are checked';

require AnyEvent::Strict;
my $dir = tempdir();
open my $file, '>', "$dir/plain" or die;
my ($r, $w) = AETest::sockets();

sub dies_like(&$$) {
    my ($code, $re, $name) = @_;
    ok !eval { $code->(); 1 }, $name;
    like $@, qr/^$re at \Q$0\E line \d+\.?\n/, "... with its message, at the caller";
}

my $cb = sub { };
dies_like { AnyEvent->io(fh => $r, poll => 'r') } qr/AnyEvent->io called with illegal cb argument 'undef'/, 'io without cb';
dies_like { AnyEvent->io(fh => $r, poll => 'r', cb => 'name') } qr/AnyEvent->io called with illegal cb argument 'name'/, 'io with a string cb';
dies_like { AnyEvent->io(fh => $r, poll => 'x', cb => $cb) } qr/AnyEvent->io called with illegal poll argument 'x'/, 'io with a bad poll';
dies_like { AnyEvent->io(fh => $r, cb => $cb) } qr/AnyEvent->io called with illegal poll argument 'undef'/, 'io without poll';
dies_like { AnyEvent->io(fh => 'nonsense', poll => 'r', cb => $cb) } qr/AnyEvent->io called with illegal fh argument 'nonsense'/, 'io with a bad fh';
dies_like { AnyEvent->io(fh => $file, poll => 'r', cb => $cb) } qr/AnyEvent->io called with fh argument pointing to a file/, 'io on a plain file';
ok !eval { AnyEvent->io(fh => 999, poll => 'r', cb => $cb); 1 }, 'io on a closed fd number';
like $@, qr/^AnyEvent->io: cannot dup\(\) filehandle in mode 'r': Bad file descriptor,/, '... dies as 7.17 does';
dies_like { AnyEvent->io(fh => $r, poll => 'r', cb => $cb, timeout => 5) } qr/AnyEvent->io called with unsupported parameter\(s\) timeout/, 'io with an unknown key';
dies_like { AE::io $r, 0, undef } qr/AnyEvent->io called with illegal cb argument 'undef'/, 'AE::io is checked too';

dies_like { AnyEvent->timer(cb => $cb) } qr/AnyEvent->timer called without mandatory 'after' parameter/, 'timer without after';
dies_like { AnyEvent->timer(after => -1, cb => $cb) } qr/AnyEvent->timer called with illegal after argument '-1'/, 'negative after';
dies_like { AnyEvent->timer(after => 'soon', cb => $cb) } qr/AnyEvent->timer called with illegal after argument 'soon'/, 'non-numeric after';
dies_like { AnyEvent->timer(after => 1, interval => -2, cb => $cb) } qr/AnyEvent->timer called with illegal interval argument '-2'/, 'negative interval';
dies_like { AnyEvent->timer(after => 1, interval => 'often', cb => $cb) } qr/AnyEvent->timer called with illegal interval argument 'often'/, 'non-numeric interval';
dies_like { AnyEvent->timer(after => 1) } qr/AnyEvent->timer called with illegal cb argument 'undef'/, 'timer without cb';
dies_like { AnyEvent->timer(after => 1, cb => $cb, repeat => 1, at => 2) } qr/AnyEvent->timer called with unsupported parameter\(s\) at, repeat/, 'timer with unknown keys';
dies_like { AE::timer 1, -1, $cb } qr/AnyEvent->timer called with illegal interval argument '-1'/, 'AE::timer';

dies_like { AnyEvent->signal(signal => 'NOSUCH', cb => $cb) } qr/AnyEvent->signal called with illegal signal name 'NOSUCH'/, 'unknown signal';
dies_like { AnyEvent->signal(signal => 15, cb => $cb) } qr/AnyEvent->signal called with illegal signal name '15'/, 'signal numbers are not names';
dies_like { AnyEvent->signal(signal => 'TERM') } qr/AnyEvent->signal called with illegal cb argument 'undef'/, 'signal without cb';
dies_like { AnyEvent->signal(signal => 'TERM', cb => $cb, x => 1) } qr/AnyEvent->signal called with unsupported parameter\(s\) x/, 'signal unknown key';
dies_like { AE::signal 'NOSUCH', $cb } qr/AnyEvent->signal called with illegal signal name 'NOSUCH'/, 'AE::signal';

dies_like { AnyEvent->child(pid => 'me', cb => $cb) } qr/AnyEvent->child called with malformed pid value 'me'/, 'bad pid';
dies_like { AnyEvent->child(pid => 1) } qr/AnyEvent->child called with illegal cb argument 'undef'/, 'child without cb';
dies_like { AnyEvent->child(pid => 1, cb => $cb, y => 2) } qr/AnyEvent->child called with unsupported parameter\(s\) y/, 'child unknown key';
dies_like { AE::child 'me', $cb } qr/AnyEvent->child called with malformed pid value 'me'/, 'AE::child';

dies_like { AnyEvent->idle() } qr/AnyEvent->idle called with illegal cb argument 'undef'/, 'idle without cb';
dies_like { AnyEvent->idle(cb => $cb, z => 1) } qr/AnyEvent->idle called with unsupported parameter\(s\) z/, 'idle unknown key';
dies_like { AE::idle 5 } qr/AnyEvent->idle called with illegal cb argument '5'/, 'AE::idle';

dies_like { AnyEvent->condvar(cb => 'x') } qr/AnyEvent->condvar called with illegal cb argument 'x'/, 'condvar with a bad cb';
dies_like { AnyEvent->condvar(q => 1) } qr/AnyEvent->condvar called with unsupported parameter\(s\) q/, 'condvar unknown key';
dies_like { AnyEvent->time(1) } qr/AnyEvent->time wrongly called with paramaters/, 'time with arguments';
dies_like { AnyEvent->now(1) } qr/AnyEvent->now wrongly called with paramaters/, 'now with arguments';

subtest 'correct calls work and their callbacks run' => sub {
    my $cv = AE::cv;
    my @seen;
    my $io = AnyEvent->io(fh => $r, poll => 'r', cb => sub { push @seen, 'io'; sysread $r, my $b, 10; $cv->send if @seen == 2 });
    isa_ok $io, 'AnyEvent::Strict::io';
    my $t = AE::timer 0, 0, sub { push @seen, 'timer'; $cv->send if @seen == 2 };
    syswrite $w, 'x';
    my $fdw = AnyEvent->io(fh => fileno($w), poll => 'w', cb => sub { });
    recv_within($cv, 5, 'io and timer');
    is_deeply [sort @seen], ['io', 'timer'];
    ok((AnyEvent->now > 0 and AnyEvent->time > 0 and AE::now > 0), 'now and time');
    my $cv2 = AnyEvent->condvar(cb => sub { push @seen, 'cv' });
    $cv2->send;
    is $seen[-1], 'cv', 'condvar callbacks';
};

subtest '$_ is read-only in callbacks' => sub {
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub { eval { $_ = 'clobbered' }; $cv->send($@) };
    like recv_within($cv, 5, 'timer'), qr/^Modification of a read-only value attempted/;
};

subtest 'blocking recv inside a callback' => sub {
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub {
        my $inner = AE::cv;
        eval { $inner->recv };
        my $err = $@;
        my $ready = AE::cv;
        $ready->send(42);
        $cv->send($err, $ready->recv);
    };
    my ($err, $value) = recv_within($cv, 5, 'timer');
    like $err, qr/^AnyEvent::CondVar: blocking recv on a condition variable that is not ready, called from inside an event callback/, 'reported';
    is $value, 42, 'a ready condvar may be received';
};

subtest 'descriptors closed behind AnyEvent\'s back are logged' => sub {
    my ($x, $y) = AETest::sockets();
    my $fd = fileno $x;
    my $watcher = AnyEvent->io(fh => $x, poll => 'r', cb => sub { });
    close $x;
    my @logged;
    require AnyEvent::Log;
    my $guard = AnyEvent::Log::ctx('AnyEvent::Strict');
    $guard->attach(AnyEvent::Log::Ctx->new(log_cb => sub { push @logged, $_[0]; 1 }));
    no warnings 'once';
    $AnyEvent::Strict::FD_I = 0;
    AnyEvent::Strict::_check_fds() for 0 .. @AnyEvent::Strict::FD_INUSE;    # a share of them per call
    ok scalar(grep /crit  AnyEvent::Strict: File descriptor $fd registered with AnyEvent but prematurely closed, event loop might malfunction\./, @logged),
        'logged at crit' or diag explain \@logged;
    undef $watcher;
};

done_testing;
