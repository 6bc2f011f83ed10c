use strict;
use warnings;
use Test::More;
use lib 't/lib';
use AETest::Perl qw(run_perl);

# A panic in the Rust core (made on purpose by AnyEvent::Impl::Rust::_test_panic, inside the
# same FFI wrapper as every export) croaks with its message at the call that panicked; from then
# on the core refuses work: every call into it croaks with a clear message instead of running
# on state the panic may have left broken. Destroying watchers afterwards is quiet, and the
# program can still end normally. Each case runs in a child perl (the core stays refused).

my ($out, $err, $status) = run_perl({}, <<'CODE');
use AnyEvent;
$| = 1;
my $before = AE::timer 10, 0, sub { };
my $fired = 0;
my $t0 = AE::timer 0, 0, sub { $fired++ };
my $cv = AE::cv;
my $t1 = AE::timer 0.01, 0, sub { $cv->send };
$cv->recv;
print "ran: $fired\n";
eval { AnyEvent::Impl::Rust::_test_panic("boom at line 42") };
print "panic: $@";
eval { my $t = AE::timer 0, 0, sub { } };
print "timer: $@";
eval { my $n = AE::now };
print "now: $@";
eval { AE::cv->recv };
print "recv: $@";
eval { AnyEvent::Impl::Rust::_test_panic("second") };
print "again: $@";
undef $before;
print "end\n";
CODE

is($status, 0, 'the program ends normally after the panic');
is($err, '', 'nothing on stderr (no Rust panic printout, no warnings from DESTROY)');
my %line = map { /^(\w+): (.*)$/ ? ($1 => $2) : () } split /\n/, $out;
is($line{ran}, 1, 'the loop ran before the panic');
like($line{panic}, qr/^AnyEvent::Impl::Rust::_test_panic: internal error in the Rust core: boom at line 42 at -e line \d+\.$/,
    'the panicking call croaks with the panic message');
my $refused = qr/the Rust core refuses further work after an internal error \(internal error in the Rust core: boom at line 42\)/;
like($line{timer}, qr/^AnyEvent timer: $refused/, 'a new watcher is refused');
like($line{now}, qr/^AnyEvent->now: $refused/, 'AnyEvent->now is refused');
like($line{recv}, qr/^AnyEvent loop: $refused/, 'the loop does not run again');
like($line{again}, qr/^AnyEvent::Impl::Rust::_test_panic: $refused/, 'nothing runs again: the first message stays');
like($out, qr/^end$/m, 'the program went on to its end');

done_testing;
