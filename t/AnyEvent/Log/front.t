# AE::log / AnyEvent::log, the front of AnyEvent::Log: AnyEvent::Log is loaded only for the
# first message that is logged; disabled levels return 0 at once; the 7.17 output format;
# fatal messages end the program.
use strict;
use lib "t/lib";
use warnings;
use Test::More;
use AETest ();
use AnyEvent;
use AETest::Perl qw(run_perl);

AETest::watchdog(60);

my $stamp = qr/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [-+]\d{4}/;

subtest 'a program that logs nothing does not load AnyEvent::Log' => sub {
    my ($out, $err, $status) = run_perl({}, q{
        use AnyEvent;
        my $r = join ",", AE::log(debug => "x"), AE::log(9 => "y"), AnyEvent::log(info => "z"),
            AE::log(warn => sub { die "not called" });
        print "$r ", (exists $INC{"AnyEvent/Log.pm"} ? "loaded" : "not loaded"), " $AnyEvent::VERBOSE";
    });
    is $out, '0,0,0,0 not loaded 4', 'levels above the default 4 return 0 without loading it';
    is $err, '', 'and print nothing';
    is $status, 0;
};

subtest 'the first message logged loads it' => sub {
    my ($out, $err) = run_perl({}, q{
        use AnyEvent;
        my $r = AE::log(error => "disk %s is %d%% full", "sda", 99);
        print "$r ", (exists $INC{"AnyEvent/Log.pm"} ? "loaded" : "not loaded"), " $AnyEvent::VERBOSE";
    });
    is $out, '1 loaded 9', 'returns 1; $AnyEvent::VERBOSE is 9 afterwards, as in 7.17';
    like $err, qr/^$stamp error main: disk sda is 99% full\n\z/, 'printed in the 7.17 format';
};

subtest 'PERL_ANYEVENT_VERBOSE sets the level' => sub {
    my ($out, $err) = run_perl({ PERL_ANYEVENT_VERBOSE => 8 }, q{
        use AnyEvent;
        print AE::log(debug => "dbg"), AE::log(trace => "trc"), AE::log(8 => "num");
        package Some::Module; AE::log(note => "from a module\nsecond line");
    });
    is $out, '101';
    like $err, qr/^$stamp debug main: dbg\n$stamp debug main: num\n$stamp note  Some::Module: from a module\n$stamp \+ second line\n\z/,
        'debug shown, trace not; multi-line messages continue with " + "';

    ($out, $err) = run_perl({ PERL_ANYEVENT_VERBOSE => 0 }, q{
        use AnyEvent; print AE::log(alert => "a"), AE::log(critical => "c");
    });
    is "$out$err", '00', 'PERL_ANYEVENT_VERBOSE=0: nothing at all';
};

subtest '$AnyEvent::VERBOSE decides until AnyEvent::Log is loaded' => sub {
    my ($out, $err) = run_perl({}, q{
        use AnyEvent;
        { local $AnyEvent::VERBOSE = 2; print AE::log(error => "hidden") }
        print exists $INC{"AnyEvent/Log.pm"} ? "loaded" : "not loaded";
    });
    is $out, '0not loaded';
    is $err, '';
};

subtest 'names, aliases and numbers' => sub {
    my ($out, $err) = run_perl({ PERL_ANYEVENT_VERBOSE => 9 }, q{
        use AnyEvent;
        AE::log $_ => $_ for qw(alert critical crit error err die warn warning note notice info debug trace 2 3 4 5 6 7 8 9);
    });
    my @got = map { /^$stamp (\w+) +main: (\w+)$/ ? "$1=$2" : "bad: $_" } split /\n/, $err;
    is_deeply \@got, [qw(alert=alert crit=critical crit=crit error=error error=err error=die warn=warn
        warn=warning note=note note=notice info=info debug=debug trace=trace alert=2 crit=3 error=4
        warn=5 note=6 info=7 debug=8 trace=9)], 'every name and number maps to its level';
};

subtest 'bad levels croak at the caller' => sub {
    for my $bad ('bogus', 0, 10, -1, '', undef) {
        my $name = $bad // 'undef';
        my $line = __LINE__ + 1;
        ok !eval { AE::log($bad, 'x'); 1 }, "level '$name' croaks";
        like $@, qr/^\Q$name\E: not a valid logging level, caught at \Q$0\E line $line\.$/, 'naming the level';
    }
};

subtest '$! and $@ are kept' => sub {
    my ($out) = run_perl({}, q{
        use AnyEvent;
        $! = 2; $@ = "kept";
        AE::log error => sub { $! = 5; $@ = "changed"; "msg" };
        print 0 + $!, " $@";
    });
    is $out, '2 kept';
};

subtest 'fatal ends the program through fatal_exit' => sub {
    my ($out, $err, $status) = run_perl({ PERL_ANYEVENT_VERBOSE => 0 }, q{
        use AnyEvent; $| = 1; print "before"; AE::log fatal => "the end"; print "after";
    });
    is $out, 'before', 'fatal does not return';
    is $status >> 8, 1, 'exit status 1, even when the message itself is filtered out';
    is $err, '', 'not printed at level 0';

    ($out, $err, $status) = run_perl({}, q{
        use AnyEvent; AE::log emerg => "gone";
    });
    like $err, qr/^$stamp fatal main: gone\n\z/, 'printed otherwise';
    is $status >> 8, 1;

    ($out, $err, $status) = run_perl({}, q{
        use AnyEvent; use AnyEvent::Log;
        no warnings "redefine";
        *AnyEvent::Log::fatal_exit = sub { print "custom exit"; exit 7 };
        AE::log exit => "bye";
    });
    is $out, 'custom exit', 'fatal_exit can be redefined';
    is $status >> 8, 7;
};

subtest 'AE::log is AnyEvent::log is AnyEvent::Log::log' => sub {
    require AnyEvent::Log;
    is \&AE::log, \&AnyEvent::log, 'AE::log';
    is \&AnyEvent::Log::log, \&AnyEvent::log, 'AnyEvent::Log::log';
    is \&AE::logger, \&AnyEvent::Log::logger, 'AE::logger';
    is \&AnyEvent::logger, \&AnyEvent::Log::logger, 'AnyEvent::logger';
    is prototype('AE::log'), '$$;@', 'prototype $$;@';
};

done_testing;
