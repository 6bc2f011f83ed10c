# AnyEvent's global functions and variables: $MODEL, detect, post_detect (block, guard return,
# @post_detect), postpone, fh_block/fh_unblock, $MAX_SIGNAL_LATENCY, and their prototypes.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use Fcntl qw(F_GETFL O_NONBLOCK O_APPEND);
use AnyEvent;

ok !defined $AnyEvent::MODEL, '$AnyEvent::MODEL is undef until the model is detected (as in 7.17)';
my $pending = 0;
AnyEvent::post_detect { $pending++ };
is $pending, 0, 'post_detect before detection waits for it';
{
    my $guard = AnyEvent::post_detect { $pending += 10 };
    ok ref $guard, 'post_detect before detection returns a guard in non-void context';
}
is AnyEvent::detect(), 'AnyEvent::Impl::Rust', 'detect: no other loop is loaded, our own loop runs';
is $AnyEvent::MODEL, 'AnyEvent::Impl::Rust', '$AnyEvent::MODEL names it';
is $pending, 1, 'the waiting post_detect block ran at detection; the one whose guard was dropped did not';

watchdog(20);

subtest 'prototypes as in AnyEvent 7.17' => sub {
    my %want = (detect => '', post_detect => '&', postpone => '&', log => '$$;@',
                fh_block => '$', fh_unblock => '$');
    for my $name (sort keys %want) {
        is prototype("AnyEvent::$name"), $want{$name}, "AnyEvent::$name ($want{$name})";
    }
};

subtest 'post_detect runs the block at once and returns undef' => sub {
    my $ran = 0;
    my $scalar = AnyEvent::post_detect { $ran++ };
    is $ran, 1, 'the block ran before post_detect returned';
    ok !defined $scalar, 'scalar context: undef (the "hook ran at once" value)';
    my @list = AnyEvent::post_detect { $ran++ };
    is_deeply \@list, [undef], 'list context: (undef), as AnyEvent returns';
    my $w;
    my $guard = AnyEvent::post_detect { $w = AE::timer 10, 0, sub { } };
    $w ||= $guard;
    ok ref $w, 'the documented "$WATCHER ||= $guard" idiom keeps the watcher made in the block';
};

subtest '@AnyEvent::post_detect filled before loading is run at detection' => sub {
    my @inc = map { "-I$_" } grep { !ref } @INC;
    my $code = 'BEGIN { push @AnyEvent::post_detect, sub { print "hook:", defined $AnyEvent::MODEL ? "model" : "none" } } use AnyEvent; print "loaded,"; my $t = AE::timer 1, 0, sub { }; print ",after"';
    my $out = do { open my $p, '-|', $^X, @inc, '-e', $code or die $!; local $/; <$p> };
    is $out, 'loaded,hook:model,after', 'the hook ran once, at the first watcher, after $AnyEvent::MODEL was set';
};

subtest 'postpone runs after the caller returns, and returns nothing' => sub {
    my @order;
    my $cv = AE::cv;
    my @ret = AnyEvent::postpone { push @order, 'postponed'; $cv->send };
    push @order, 'returned';
    is_deeply \@ret, [], 'postpone returns the empty list';
    $cv->recv;
    is_deeply \@order, [qw(returned postponed)], 'the block ran from the loop, later';
};

subtest 'fh_block and fh_unblock' => sub {
    pipe my $r, my $w or die "pipe: $!";
    fcntl $w, Fcntl::F_SETFL(), O_APPEND or die "fcntl: $!";
    ok AnyEvent::fh_unblock $w, 'fh_unblock returns true';
    my $flags = fcntl $w, F_GETFL, 0;
    ok $flags & O_NONBLOCK, 'the handle is non-blocking';
    ok $flags & O_APPEND, 'other status flags are kept';
    ok AnyEvent::fh_block $w, 'fh_block returns true';
    ok !(fcntl($w, F_GETFL, 0) & O_NONBLOCK), 'the handle blocks again';
    close $r;
    close $w;
};

subtest '$AnyEvent::MAX_SIGNAL_LATENCY' => sub {
    is $AnyEvent::MAX_SIGNAL_LATENCY, ($ENV{PERL_ANYEVENT_MAX_SIGNAL_LATENCY} || 10), 'defaults to 10 (or the environment)';
    my @inc = map { "-I$_" } grep { !ref } @INC;
    local $ENV{PERL_ANYEVENT_MAX_SIGNAL_LATENCY} = 2.5;
    my $out = do { open my $p, '-|', $^X, @inc, '-MAnyEvent', '-e', 'print $AnyEvent::MAX_SIGNAL_LATENCY' or die $!; local $/; <$p> };
    is $out, '2.5', 'PERL_ANYEVENT_MAX_SIGNAL_LATENCY sets it';
};

subtest 'platform constants' => sub {
    is AnyEvent::WIN32(), 0, 'AnyEvent::WIN32 is false here';
    is AnyEvent::CYGWIN(), 0, 'AnyEvent::CYGWIN is false here';
    is AnyEvent::TAINT(), 0, 'AnyEvent::TAINT is false without -T';
    is AnyEvent::F_SETFL(), Fcntl::F_SETFL(), 'F_SETFL as Fcntl has it';
    is AnyEvent::F_SETFD(), Fcntl::F_SETFD(), 'F_SETFD as Fcntl has it';
    is AnyEvent::FD_CLOEXEC(), Fcntl::FD_CLOEXEC(), 'FD_CLOEXEC as Fcntl has it';
    is prototype('AnyEvent::WIN32'), '', 'constants take no arguments (usable as barewords)';
    pipe my $r, my $w or die "pipe: $!";
    ok fcntl($w, AnyEvent::F_SETFL(), AnyEvent::O_NONBLOCK()), 'F_SETFL with O_NONBLOCK sets the flag';
    ok fcntl($w, F_GETFL, 0) & O_NONBLOCK, 'the handle is non-blocking';
};

done_testing;
