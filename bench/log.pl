#!/usr/bin/perl
# AE::log at a disabled level (debug, with the default level 4): microseconds per call, numeric
# and named levels, with and without sprintf arguments, before and after AnyEvent::Log is
# loaded (AnyEvent 7.17 loads it for the first named level). Run with compare.pl:
#   perl ../shared/bench/compare.pl . 5 bench/log.pl 2000000
use strict;
use warnings;
use Time::HiRes qw(time);
use AnyEvent;

my $n = shift || 2_000_000;
my %us;
my $bench = sub {
    my ($name, $code) = @_;
    my $t = time;
    $code->();
    $us{$name} = (time - $t) / $n * 1e6;
};
$bench->(num_unloaded => sub { for (1 .. $n) { AE::log 8 => 'x' } });
$bench->(named        => sub { for (1 .. $n) { AE::log debug => 'x' } });
$bench->(named_args   => sub { for (1 .. $n) { AE::log debug => 'x %s', $_ } });
$bench->(num_loaded   => sub { for (1 .. $n) { AE::log 8 => 'x' } });
$bench->(empty_loop   => sub { for (1 .. $n) { } });
print STDERR "model=$AnyEvent::MODEL ", join(' ', map { sprintf '%s=%.4f', $_, $us{$_} } sort keys %us), "\n";
