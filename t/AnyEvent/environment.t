# AE_xxx environment variables stand for PERL_ANYEVENT_xxx; under taint mode neither is used.
# Each case runs a fresh perl, since AnyEvent reads the environment when it is loaded.
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest ();    # fails the run on warnings from lib/

# Runs CODE in a child perl with AnyEvent loaded and ENV set (only AE_/PERL_ANYEVENT_ variables
# from ENV; the test's own ones are removed), returns its output.
sub run_with_env {
    my ($env, $code, @perl_flags) = @_;
    local %ENV = %ENV;
    delete @ENV{grep /^(?:AE_|PERL_ANYEVENT_)/, keys %ENV};
    @ENV{keys %$env} = values %$env;
    my @inc = map { "-I$_" } grep { !ref } @INC;
    open my $out, '-|', $^X, @perl_flags, @inc, '-MAnyEvent', '-e', $code or die "cannot run perl: $!";
    local $/;
    my $got = <$out>;
    close $out;
    is $?, 0, 'the child perl exited cleanly' or diag "exit status $?";
    return $got;
}

my $show = 'print join ",", $AnyEvent::VERBOSE, join("/", sort { $AnyEvent::PROTOCOL{$b} <=> $AnyEvent::PROTOCOL{$a} } keys %AnyEvent::PROTOCOL), $ENV{PERL_ANYEVENT_VERBOSE} // "undef"';

is run_with_env({}, $show), '4,ipv4/ipv6,undef', 'defaults without any variable';

is run_with_env({ AE_VERBOSE => 7, AE_PROTOCOLS => 'ipv6,ipv4' }, $show), '7,ipv6/ipv4,7',
    'AE_VERBOSE and AE_PROTOCOLS are used, and copied to PERL_ANYEVENT_VERBOSE';

is run_with_env({ AE_VERBOSE => 7, PERL_ANYEVENT_VERBOSE => 2 }, $show), '2,ipv4/ipv6,2',
    'PERL_ANYEVENT_VERBOSE wins over AE_VERBOSE';

is run_with_env({ AE_VERBOSE => 7, PERL_ANYEVENT_VERBOSE => '' }, $show), '4,ipv4/ipv6,',
    'an empty PERL_ANYEVENT_VERBOSE masks AE_VERBOSE';

is run_with_env({ AE_PROTOCOLS => 'ipv6' }, 'require AnyEvent::Socket; print join ",", sort keys %AnyEvent::PROTOCOL'),
    'ipv6', 'AE_PROTOCOLS restricts the protocols as PERL_ANYEVENT_PROTOCOLS does';

is run_with_env({ AE_MAX_FORKS => 3 }, 'require AnyEvent::Util; print $AnyEvent::Util::MAX_FORKS'), '3',
    'AE_ variables reach the other modules (AnyEvent::Util reads PERL_ANYEVENT_MAX_FORKS)';

is run_with_env({ AE_VERBOSE => 7, PERL_ANYEVENT_PROTOCOLS => 'ipv6' },
                'print join ",", $AnyEvent::VERBOSE, join("/", sort keys %AnyEvent::PROTOCOL), exists $ENV{PERL_ANYEVENT_PROTOCOLS} ? "present" : "removed", exists $ENV{PERL_ANYEVENT_VERBOSE} && !defined $ENV{PERL_ANYEVENT_VERBOSE} ? "undef" : "other"',
                '-T'),
    '4,ipv4/ipv6,removed,undef', 'under taint mode the variables are ignored: removed, or undef when an AE_ one exists';

done_testing;
