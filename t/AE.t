# The AE API: positional XSUBs with AnyEvent's prototypes, loaded by `use AE` alone.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AE;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);
use POSIX ();

watchdog(20);

sub recv_within {
    my ($cv, $secs, $what) = @_;
    my $t = AE::timer $secs, 0, sub { $cv->croak("timed out waiting for $what") };
    return $cv->recv;
}

ok $INC{'AnyEvent.pm'}, 'use AE loads AnyEvent';
is $AE::VERSION, $AnyEvent::VERSION, '$AE::VERSION is AnyEvent\'s';

my %proto = (io => '$$$', timer => '$$$', signal => '$$', child => '$$', idle => '$', cv => ';&',
             now => '', now_update => '', time => '', postpone => '&');
for my $f (sort keys %proto) {
    is prototype("AE::$f"), $proto{$f}, "AE::$f has prototype ($proto{$f})";
}

subtest 'AE::io: 0 watches readability, 1 writability' => sub {
    socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die;
    my @seen;
    my $cv = AE::cv;
    my $w;
    $w = AE::io $x, 1, sub { push @seen, 'w'; undef $w; syswrite $y, 'hi' };
    my $r = AE::io $x, 0, sub { push @seen, 'r'; sysread $x, my $buf, 10; $cv->send($buf) };
    is recv_within($cv, 2, 'read'), 'hi', 'read watcher got the data';
    is "@seen", 'w r', 'write watcher first (writable at once), then read watcher';
    isa_ok $r, 'AnyEvent::Impl::Rust::io';
};

subtest 'AE::timer: after and interval' => sub {
    my @ticks;
    my $cv = AE::cv;
    my $once = AE::timer 0.01, 0, sub { push @ticks, 'once' };
    my $rep = AE::timer 0.02, 0.01, sub { push @ticks, 'rep'; $cv->send if @ticks == 4 };
    recv_within($cv, 2, 'ticks');
    is "@ticks", 'once rep rep rep', 'one-shot once, repeating timer repeated';
};

subtest 'AE::signal, AE::child, AE::idle' => sub {
    my $cv = AE::cv;
    my $s = AE::signal HUP => sub { $cv->send('HUP') };
    kill HUP => $$;
    is recv_within($cv, 2, 'HUP'), 'HUP', 'signal watcher by bare name';

    my $pid = fork // die;
    POSIX::_exit(9) unless $pid;
    my $ccv = AE::cv;
    my $c = AE::child $pid, sub { $ccv->send(@_) };
    my ($p, $st) = recv_within($ccv, 2, 'child');
    is_deeply [$p, $st >> 8], [$pid, 9], 'child watcher';

    my $icv = AE::cv;
    my $i = AE::idle sub { $icv->send('idle') };
    is recv_within($icv, 2, 'idle'), 'idle', 'idle watcher';
};

subtest 'AE::cv, AE::now, AE::now_update, AE::time, AE::postpone' => sub {
    my $cv = AE::cv;
    isa_ok $cv, 'AnyEvent::CondVar';
    my $with = AE::cv { $_[0]{called}++ };
    $with->send;
    is $with->{called}, 1, 'AE::cv BLOCK is the callback';
    cmp_ok abs(AE::time - time), '<', 2, 'AE::time is epoch seconds (time() truncates)';
    my $now = AE::now;
    my $end = AE::time + 0.01;
    1 while AE::time < $end;
    if (AnyEvent::detect() =~ /::(?:Rust|Perl)$/) {
        is AE::now, $now, 'AE::now is cached';
    } else {
        # a foreign loop runs ours as one of its sources: outside our callbacks the loop time
        # is the current time, as AnyEvent 7.17's time under those loops
        cmp_ok AE::now, '>=', $end, 'AE::now outside our callbacks is the current time (foreign loop)';
    }
    AE::now_update;
    cmp_ok AE::now, '>=', $end, 'AE::now_update refreshes it';
    my $ran = 0;
    AE::postpone { $ran++; $cv->send };
    is $ran, 0, 'AE::postpone defers';
    recv_within($cv, 2, 'postponed');
    is $ran, 1, 'and runs it from the loop';
};

subtest 'AE::log' => sub {
    # More in t/AnyEvent/Log/ (fatal messages end the program, so they are tested there).
    my @warn;
    local $SIG{__WARN__} = sub { push @warn, @_ };
    AE::log error => 'careful %d', 42;
    AE::log debug => 'not shown';
    is scalar @warn, 1, 'error printed, debug (above the default level 4) suppressed';
    like $warn[0], qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [-+]\d{4} error main: careful 42\n\z/,
        'in AnyEvent::Log\'s format, with sprintf arguments';
    my $line = __LINE__ + 1;
    ok !eval { AE::log bogus => 'x'; 1 }, 'an unknown level name croaks';
    like $@, qr/^bogus: not a valid logging level, caught at \Q$0\E line $line\.$/, 'naming the level, at the caller';
};

done_testing;
